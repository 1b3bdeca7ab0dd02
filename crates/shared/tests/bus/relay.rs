//! The outbox relay, on each database backend, to the embedded bus and to JetStream.

use std::time::Duration;

use gittix_shared::bus::Bus;
use gittix_shared::db::Db;
use gittix_shared::events::{Event, UserCreated};
use gittix_shared::outbox;
use gittix_shared::relay::{self, RelaySettings};
use gittix_testing::backend_tests;
use gittix_testing::{BusKind, TestBus};
use tokio_util::sync::CancellationToken;

use crate::helpers::*;

const WAIT: Duration = Duration::from_secs(10);

async fn commit_events(db: &Db, emails: &[&str]) {
    let mut tx = db.pool().begin().await.unwrap();
    for (i, email) in emails.iter().enumerate() {
        let event = UserCreated {
            id: format!("u{i}"),
            email: (*email).to_owned(),
            version: 0,
        };
        outbox::enqueue(&mut tx, &event).await.unwrap();
    }
    outbox::commit(tx, db).await.unwrap();
}

async fn outbox_size(db: &Db) -> i64 {
    count(db, "SELECT COUNT(*) FROM outbox").await
}

async fn user_emails_received(bus: &dyn Bus, n: usize) -> Vec<String> {
    let mut sub = bus
        .subscribe(
            "observer",
            &[UserCreated::SUBJECT.to_owned()],
            &ack_wait(Duration::from_secs(30)),
        )
        .await
        .unwrap();
    let mut emails = Vec::new();
    for _ in 0..n {
        let delivery = receive(&mut sub, WAIT).await;
        let event: UserCreated = serde_json::from_slice(&delivery.message.payload).unwrap();
        emails.push(event.email);
        delivery.ack().await.unwrap();
    }
    assert_quiet(&mut sub, Duration::from_millis(700)).await;
    emails
}

backend_tests! {
    async fn events_left_by_a_process_that_died_before_publishing_go_out_when_a_relay_starts(backend) {
        let database = service_database(backend).await;
        let test_bus = TestBus::new(BusKind::Embedded).await;
        // Committed, and then the process died: no relay ever ran.
        commit_events(&database.db, &["a@x.io", "b@x.io", "c@x.io"]).await;
        assert_eq!(outbox_size(&database.db).await, 3);
        let _relay = relay::spawn(database.db.clone(), test_bus.bus.clone(), RelaySettings::default(), CancellationToken::new());
        assert_eq!(user_emails_received(test_bus.bus.as_ref(), 3).await, ["a@x.io", "b@x.io", "c@x.io"]);
        assert_eq!(outbox_size(&database.db).await, 0);
    }

    async fn the_relay_wakes_on_commit_rather_than_polling(backend) {
        let database = service_database(backend).await;
        let test_bus = TestBus::new(BusKind::Embedded).await;
        let settings = RelaySettings { poll_interval: Duration::from_secs(3600), ..RelaySettings::default() };
        let _relay = relay::spawn(database.db.clone(), test_bus.bus.clone(), settings, CancellationToken::new());
        tokio::time::sleep(Duration::from_millis(300)).await; // the relay is now idle, waiting
        commit_events(&database.db, &["woken@x.io"]).await;
        // Well within the hour-long poll: only the commit can have woken it.
        assert_eq!(user_emails_received(test_bus.bus.as_ref(), 1).await, ["woken@x.io"]);
    }

    async fn on_shutdown_the_relay_publishes_what_is_left_and_ends(backend) {
        let database = service_database(backend).await;
        let test_bus = TestBus::new(BusKind::Embedded).await;
        commit_events(&database.db, &["left@x.io", "over@x.io"]).await;
        let shutdown = CancellationToken::new();
        shutdown.cancel();
        // Shut down before its first round: only the flush on the way out can publish these.
        let relay = relay::spawn(database.db.clone(), test_bus.bus.clone(), RelaySettings::default(), shutdown);
        tokio::time::timeout(WAIT, relay).await.expect("the relay ended").unwrap();
        assert_eq!(outbox_size(&database.db).await, 0);
        assert_eq!(user_emails_received(test_bus.bus.as_ref(), 2).await, ["left@x.io", "over@x.io"]);
    }

    async fn an_event_published_again_after_a_crash_is_delivered_once(backend) {
        let database = service_database(backend).await;
        let test_bus = TestBus::new(BusKind::Embedded).await;
        commit_events(&database.db, &["once@x.io"]).await;
        // The previous relay published it and died before deleting it from the outbox.
        let mut conn = database.db.pool().acquire().await.unwrap();
        let pending = outbox::pending(&mut conn, 10).await.unwrap();
        drop(conn);
        test_bus.bus.publish(&pending[0].to_message().unwrap()).await.unwrap();
        let _relay = relay::spawn(database.db.clone(), test_bus.bus.clone(), RelaySettings::default(), CancellationToken::new());
        assert_eq!(user_emails_received(test_bus.bus.as_ref(), 1).await, ["once@x.io"]);
    }
}

#[tokio::test]
async fn the_relay_publishes_to_jetstream_in_order() {
    let database = service_database(gittix_shared::db::Backend::Postgres).await;
    let test_bus = TestBus::new(BusKind::JetStream).await;
    commit_events(&database.db, &["1@x.io", "2@x.io", "3@x.io"]).await;
    let _relay = relay::spawn(
        database.db.clone(),
        test_bus.bus.clone(),
        RelaySettings::default(),
        CancellationToken::new(),
    );
    assert_eq!(
        user_emails_received(test_bus.bus.as_ref(), 3).await,
        ["1@x.io", "2@x.io", "3@x.io"]
    );
}
