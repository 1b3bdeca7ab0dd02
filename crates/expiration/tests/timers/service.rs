//! The expiration service with real time, on each store and the embedded bus.

use std::time::{Duration, Instant};

use gittix_expiration::build;
use gittix_shared::domain::OrderStatus;
use gittix_shared::events::{
    DeliveryScheduled, OrderCreated, OrderedTicket, PayoutScheduled, TicketDelivered,
};
use gittix_shared::service::Platform;
use gittix_shared::time::{iso8601, unix_millis};
use gittix_testing::{eventually, publish_event, EventLog, TestPlatform, TestService, Topology};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::{store_tests, TestTimers};

fn order_expiring_at(id: &str, at_ms: i64) -> OrderCreated {
    OrderCreated {
        id: id.into(),
        version: 0,
        status: OrderStatus::Created,
        user_id: "buyer".into(),
        expires_at: iso8601(at_ms),
        ticket: OrderedTicket {
            id: "ticket".into(),
            price: 1000,
            version: Some(0),
        },
        total: None,
    }
}

/// The service built on `store`, as the binary builds it, and served.
async fn serve(store: &TestTimers, platform: &Platform) -> TestService {
    let service = build(&store.config, store.store(), platform).await.unwrap();
    TestService::serve(service, platform).await
}

store_tests! {
    async fn an_order_expires_within_a_second_of_its_time(kind) {
        let store = TestTimers::new(kind).await;
        let test = TestPlatform::new(Topology::Embedded).await;
        let bus = test.platform.bus.as_ref();
        let _service = serve(&store, &test.platform).await;
        let mut expired = EventLog::watch(bus, &["order:expired"]).await;

        let expires_at = unix_millis() + 1_500;
        publish_event(bus, &order_expiring_at("o-1", expires_at)).await;
        let (subject, data) = expired.next().await;
        let fired_at = unix_millis();
        assert_eq!((subject.as_str(), data), ("order:expired", json!({"orderId": "o-1"})));
        assert!(fired_at >= expires_at, "fired {} ms early", expires_at - fired_at);
        assert!(fired_at - expires_at < 1_000, "fired {} ms late", fired_at - expires_at);
        expired.expect_none(Duration::from_millis(700)).await;
        assert_eq!(store.timers.next_due().await.unwrap(), None);
    }

    async fn pending_timers_fire_after_the_service_restarts(kind) {
        let store = TestTimers::new(kind).await;
        let test = TestPlatform::new(Topology::Embedded).await;
        let bus = test.platform.bus.as_ref();
        let mut expired = EventLog::watch(bus, &["order:expired"]).await;
        let first = serve(&store, &test.platform).await;
        publish_event(bus, &order_expiring_at("o-1", unix_millis() + 1_000)).await;
        publish_event(bus, &order_expiring_at("o-2", unix_millis() - 60_000)).await;
        let (_, data) = expired.next().await;
        assert_eq!(data, json!({"orderId": "o-2"}), "a timer already late fires at once");
        // The service stops before o-1 is due.
        test.platform.shutdown.cancel();
        first.stopped().await;
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        let started = Instant::now();
        // The restarted process: the same bus and store, a shutdown of its own.
        let restarted = Platform {
            shutdown: CancellationToken::new(),
            ..test.platform.clone()
        };
        let _stop_at_the_end = restarted.shutdown.clone().drop_guard();
        let _second = serve(&store, &restarted).await;
        let (_, data) = expired.next().await;
        assert_eq!(data, json!({"orderId": "o-1"}), "a late timer is never dropped");
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    async fn a_delivery_deadline_fires_delivery_due_unless_the_ticket_was_delivered(kind) {
        let store = TestTimers::new(kind).await;
        let test = TestPlatform::new(Topology::Embedded).await;
        let bus = test.platform.bus.as_ref();
        let _service = serve(&store, &test.platform).await;
        let mut due = EventLog::watch(bus, &["delivery:due", "order:expired"]).await;
        let scheduled = |ticket: &str, order: &str, due_at: i64| DeliveryScheduled { ticket_id: ticket.into(), order_id: order.into(), due_at };

        let due_at = unix_millis() + 1_000;
        publish_event(bus, &scheduled("t-1", "o-1", due_at)).await;
        // Scheduled twice (a redelivery): one timer.
        publish_event(bus, &scheduled("t-1", "o-1", due_at)).await;
        publish_event(bus, &scheduled("t-2", "o-2", due_at)).await;
        eventually("both deadlines stored", || async {
            (store.timers.due(i64::MAX, 10).await.unwrap().len() == 2).then_some(())
        })
        .await;
        // t-2 is delivered in time: its deadline is cleared.
        let delivered = TicketDelivered { id: "t-2".into(), order_id: "o-2".into(), buyer_id: "b".into(), seller_id: "s".into(), event_starts_at: None, at_sale: false };
        publish_event(bus, &delivered).await;
        let (subject, data) = due.next().await;
        let fired_at = unix_millis();
        assert_eq!((subject.as_str(), data), ("delivery:due", json!({"ticketId": "t-1", "orderId": "o-1"})));
        assert!(fired_at >= due_at && fired_at - due_at < 1_000, "fired {} ms from its time", fired_at - due_at);
        due.expect_none(Duration::from_millis(700)).await;
        assert_eq!(store.timers.next_due().await.unwrap(), None);
    }

    async fn a_scheduled_payout_fires_payout_due_once_at_its_release_time(kind) {
        let store = TestTimers::new(kind).await;
        let test = TestPlatform::new(Topology::Embedded).await;
        let bus = test.platform.bus.as_ref();
        let _service = serve(&store, &test.platform).await;
        let mut due = EventLog::watch(bus, &["payout:due", "order:expired", "delivery:due"]).await;
        let release_at = unix_millis() + 1_000;
        let scheduled = PayoutScheduled { id: "p-1".into(), order_id: "o-1".into(), seller_id: "s".into(), amount: 1_800, release_at };
        publish_event(bus, &scheduled).await;
        // A redelivery keeps one timer.
        publish_event(bus, &scheduled).await;
        let (subject, data) = due.next().await;
        let fired_at = unix_millis();
        assert_eq!((subject.as_str(), data), ("payout:due", json!({"id": "p-1"})));
        assert!(fired_at >= release_at && fired_at - release_at < 1_000, "fired {} ms from its time", fired_at - release_at);
        due.expect_none(Duration::from_millis(700)).await;
        assert_eq!(store.timers.next_due().await.unwrap(), None);
    }
}
