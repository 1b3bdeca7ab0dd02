//! The expiration service with real time, on each store and the embedded bus.

use std::time::{Duration, Instant};

use gittix_expiration::ExpirationService;
use gittix_shared::events::{OrderCreated, OrderedTicket};
use gittix_testing::{publish_event, quick_listener_settings, BusKind, EventLog, TestBus};
use gittix_shared::time::{iso8601, unix_millis};
use serde_json::json;

use crate::{store_tests, TestTimers};

fn order_expiring_at(id: &str, at_ms: i64) -> OrderCreated {
    OrderCreated {
        id: id.into(),
        version: 0,
        status: "created".into(),
        user_id: "buyer".into(),
        expires_at: iso8601(at_ms),
        ticket: OrderedTicket {
            id: "ticket".into(),
            price: 1000,
        },
    }
}

store_tests! {
    async fn an_order_expires_within_a_second_of_its_time(kind) {
        let store = TestTimers::new(kind).await;
        let bus = TestBus::new(BusKind::Embedded).await;
        let service = ExpirationService::new(store.timers.clone(), bus.bus.clone());
        let _listener = service.listener(quick_listener_settings()).start().await.unwrap();
        let _firing = service.spawn_firing();
        let mut expired = EventLog::watch(bus.bus.as_ref(), &["order:expired"]).await;

        let expires_at = unix_millis() + 1_500;
        publish_event(bus.bus.as_ref(), &order_expiring_at("o-1", expires_at)).await;
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
        let bus = TestBus::new(BusKind::Embedded).await;
        let mut expired = EventLog::watch(bus.bus.as_ref(), &["order:expired"]).await;
        let first = ExpirationService::new(store.timers.clone(), bus.bus.clone());
        let listener = first.listener(quick_listener_settings()).start().await.unwrap();
        let firing = first.spawn_firing();
        publish_event(bus.bus.as_ref(), &order_expiring_at("o-1", unix_millis() + 1_000)).await;
        publish_event(bus.bus.as_ref(), &order_expiring_at("o-2", unix_millis() - 60_000)).await;
        let (_, data) = expired.next().await;
        assert_eq!(data, json!({"orderId": "o-2"}), "a timer already late fires at once");
        // The service stops before o-1 is due.
        for task in listener.into_iter().chain([firing]) {
            task.abort();
        }
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        let started = Instant::now();
        let second = ExpirationService::new(store.timers.clone(), bus.bus.clone());
        let _firing = second.spawn_firing();
        let (_, data) = expired.next().await;
        assert_eq!(data, json!({"orderId": "o-1"}), "a late timer is never dropped");
        assert!(started.elapsed() < Duration::from_secs(1));
    }
}
