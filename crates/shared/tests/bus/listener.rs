//! The listener on each adapter: dead letters, shared work, exactly-once effects, ordered replicas.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gittix_shared::bus::{dead_letter_subject, header, DeliverySettings};
use gittix_shared::db::Backend;
use gittix_shared::events::Event;
use gittix_shared::inbox;
use gittix_shared::listener::{Listener, ListenerSettings, Outcome};
use gittix_shared::replica::{check_version, VersionCheck};
use gittix_testing::bus_tests;
use gittix_testing::TestBus;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::helpers::*;

const WAIT: Duration = Duration::from_secs(15);

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Thing {
    n: i64,
}

impl Event for Thing {
    const SUBJECT: &'static str = "thing:happened";
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct RecordChanged {
    id: String,
    version: i64,
    value: String,
}

impl Event for RecordChanged {
    const SUBJECT: &'static str = "record:changed";
}

fn settings(max_deliveries: u32, workers: usize) -> ListenerSettings {
    ListenerSettings {
        delivery: DeliverySettings {
            ack_wait: Duration::from_secs(2),
            ..DeliverySettings::default()
        },
        max_deliveries,
        first_retry_delay: Duration::from_millis(50),
        max_retry_delay: Duration::from_millis(200),
        workers,
    }
}

fn thing(id: &str, n: i64) -> gittix_shared::bus::Message {
    message(
        id,
        Thing::SUBJECT,
        &serde_json::json!({ "n": n }).to_string(),
    )
}

bus_tests! {
    async fn a_message_that_always_fails_is_dead_lettered_after_n_deliveries_without_blocking_others(kind) {
        let test = TestBus::new(kind).await;
        let poison_attempts = Arc::new(AtomicU32::new(0));
        let (handled, mut handled_rx) = mpsc::unbounded_channel();
        let attempts = poison_attempts.clone();
        let listener = Listener::new(test.bus.clone(), "poison-group", settings(3, 1)).on::<Thing, _, _>(move |received| {
            let (attempts, handled) = (attempts.clone(), handled.clone());
            async move {
                if received.data.n == 0 {
                    attempts.fetch_add(1, Ordering::SeqCst);
                    anyhow::bail!("cannot digest zero");
                }
                handled.send(received.data.n).unwrap();
                Ok(Outcome::Done)
            }
        });
        let mut letters = test.bus.subscribe("dead-letter-reader", &[dead_letter_subject("poison-group")], &ack_wait(Duration::from_secs(30))).await.unwrap();
        let _workers = listener.start(CancellationToken::new()).await.unwrap();
        test.bus.publish(&thing("poison", 0)).await.unwrap();
        for n in 1..=3 {
            test.bus.publish(&thing(&format!("good-{n}"), n)).await.unwrap();
        }
        let mut good = Vec::new();
        for _ in 0..3 {
            good.push(tokio::time::timeout(WAIT, handled_rx.recv()).await.unwrap().unwrap());
        }
        good.sort_unstable();
        assert_eq!(good, [1, 2, 3], "the poison message must not block the others");

        let letter = receive(&mut letters, WAIT).await;
        assert_eq!(letter.message.id, "poison.dead.poison-group");
        assert_eq!(letter.message.header(header::DEAD_LETTER_ERROR), Some("cannot digest zero"));
        assert_eq!(letter.message.header(header::ORIGINAL_SUBJECT), Some("thing:happened"));
        assert_eq!(letter.message.header(header::DELIVERIES), Some("3"));
        assert_eq!(letter.message.payload, br#"{"n":0}"#);
        letter.ack().await.unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(poison_attempts.load(Ordering::SeqCst), 3, "delivered exactly max_deliveries times");
    }

    async fn a_message_never_settled_is_dead_lettered_without_running_it_again(kind) {
        let test = TestBus::new(kind).await;
        test.bus.publish(&thing("crasher", 7)).await.unwrap();
        // Three members take it and die before settling it (as a crashing handler would).
        for attempt in 1..=3 {
            let mut doomed = test.bus.subscribe("crash-group", &[Thing::SUBJECT.to_owned()], &ack_wait(Duration::from_millis(500))).await.unwrap();
            let delivery = receive(&mut doomed, WAIT).await;
            assert_eq!(delivery.attempt, attempt);
        }
        let ran = Arc::new(AtomicU32::new(0));
        let counter = ran.clone();
        let mut letters = test.bus.subscribe("reader", &[dead_letter_subject("crash-group")], &ack_wait(Duration::from_secs(30))).await.unwrap();
        let listener_settings = ListenerSettings { delivery: DeliverySettings { ack_wait: Duration::from_millis(500), ..DeliverySettings::default() }, ..settings(3, 1) };
        let _workers = Listener::new(test.bus.clone(), "crash-group", listener_settings)
            .on::<Thing, _, _>(move |_| {
                let counter = counter.clone();
                async move {
                    counter.fetch_add(1, Ordering::SeqCst);
                    Ok(Outcome::Done)
                }
            })
            .start(CancellationToken::new())
            .await
            .unwrap();
        let letter = receive(&mut letters, WAIT).await;
        assert_eq!(letter.message.header(header::DEAD_LETTER_ERROR), Some("not settled after 3 deliveries"));
        assert_eq!(ran.load(Ordering::SeqCst), 0);
    }

    async fn a_handler_slower_than_the_ack_wait_keeps_its_message(kind) {
        let test = TestBus::new(kind).await;
        let ran = Arc::new(AtomicU32::new(0));
        let counter = ran.clone();
        // A short ack wait and two members: without heartbeats the other member would be handed
        // the message while the first still works on it.
        let short = ListenerSettings { delivery: DeliverySettings { ack_wait: Duration::from_millis(400), ..DeliverySettings::default() }, ..settings(5, 2) };
        let _workers = Listener::new(test.bus.clone(), "slow", short)
            .on::<Thing, _, _>(move |_| {
                let counter = counter.clone();
                async move {
                    counter.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(1600)).await;
                    Ok(Outcome::Done)
                }
            })
            .start(CancellationToken::new())
            .await
            .unwrap();
        test.bus.publish(&message("slow-1", Thing::SUBJECT, r#"{"n":1}"#)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert_eq!(ran.load(Ordering::SeqCst), 1, "handled once, though it took four ack waits");
    }

    async fn on_shutdown_the_members_stop_taking_messages(kind) {
        let test = TestBus::new(kind).await;
        let (handled, mut handled_rx) = mpsc::unbounded_channel();
        let shutdown = CancellationToken::new();
        let workers = Listener::new(test.bus.clone(), "stopping", settings(5, 2))
            .on::<Thing, _, _>(move |event| {
                let handled = handled.clone();
                async move {
                    handled.send(event.data.n).unwrap();
                    Ok(Outcome::Done)
                }
            })
            .start(shutdown.clone())
            .await
            .unwrap();
        test.bus.publish(&message("before", Thing::SUBJECT, r#"{"n":1}"#)).await.unwrap();
        assert_eq!(tokio::time::timeout(WAIT, handled_rx.recv()).await.unwrap(), Some(1));
        shutdown.cancel();
        for worker in workers {
            tokio::time::timeout(WAIT, worker).await.expect("a member stopped").unwrap();
        }
        test.bus.publish(&message("after", Thing::SUBJECT, r#"{"n":2}"#)).await.unwrap();
        // Every member has ended, so nothing takes the second message; the handler's sender
        // went with them.
        assert_eq!(tokio::time::timeout(WAIT, handled_rx.recv()).await.unwrap(), None);
    }

    async fn an_undecodable_message_is_dead_lettered_at_once(kind) {
        let test = TestBus::new(kind).await;
        let mut letters = test.bus.subscribe("reader", &[dead_letter_subject("strict")], &ack_wait(Duration::from_secs(30))).await.unwrap();
        let _workers = Listener::new(test.bus.clone(), "strict", settings(5, 1))
            .on::<Thing, _, _>(|_| async { Ok(Outcome::Done) })
            .start(CancellationToken::new())
            .await
            .unwrap();
        test.bus.publish(&message("garbled", Thing::SUBJECT, "not json")).await.unwrap();
        let letter = receive(&mut letters, WAIT).await;
        let error = letter.message.header(header::DEAD_LETTER_ERROR).unwrap();
        assert!(error.starts_with("undecodable payload"), "{error}");
        assert_eq!(letter.message.header(header::DELIVERIES), Some("1"));
    }

    async fn members_of_one_group_share_the_work_and_apply_each_message_once(kind) {
        let test = TestBus::new(kind).await;
        let database = service_database(Backend::Sqlite).await;
        let db = database.db.clone();
        let mut replicas = Vec::new();
        for worker in 0..2i64 {
            let db = db.clone();
            let listener = Listener::new(test.bus.clone(), "workers", settings(5, 1)).on::<Thing, _, _>(move |received| {
                let db = db.clone();
                async move {
                    let mut tx = db.pool().begin().await?;
                    if inbox::record(&mut tx, &received.id).await? {
                        sqlx::query("INSERT INTO applied (event_id, worker) VALUES ($1, $2)")
                            .bind(&received.id)
                            .bind(worker)
                            .execute(&mut *tx)
                            .await?;
                    }
                    tx.commit().await?;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    Ok(Outcome::Done)
                }
            });
            replicas.push(listener.start(CancellationToken::new()).await.unwrap());
        }
        let total = 60;
        for n in 0..total {
            test.bus.publish(&thing(&format!("t-{n}"), n + 1)).await.unwrap();
        }
        // A redelivered copy of one event changes nothing.
        test.bus.publish(&thing("t-0", 1)).await.unwrap();
        let deadline = tokio::time::Instant::now() + WAIT;
        while count(&db, "SELECT COUNT(*) FROM applied").await < total {
            assert!(tokio::time::Instant::now() < deadline, "not every message was applied");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(count(&db, "SELECT COUNT(*) FROM applied").await, total);
        assert_eq!(count(&db, "SELECT COUNT(DISTINCT event_id) FROM applied").await, total);
        for worker in 0..2 {
            let share = count(&db, &format!("SELECT COUNT(*) FROM applied WHERE worker = {worker}")).await;
            assert!(share > 0, "worker {worker} got no share");
        }
    }

    async fn a_record_update_that_arrives_early_is_applied_after_its_predecessor(kind) {
        let test = TestBus::new(kind).await;
        let database = service_database(Backend::Sqlite).await;
        let db = database.db.clone();
        let applied_order = Arc::new(Mutex::new(Vec::new()));
        let order = applied_order.clone();
        let handler_db = db.clone();
        let _workers = Listener::new(test.bus.clone(), "replica", settings(10, 1))
            .on::<RecordChanged, _, _>(move |received| {
                let (db, order) = (handler_db.clone(), order.clone());
                async move {
                    let record = received.data;
                    let mut tx = db.pool().begin().await?;
                    let held: Option<i64> = sqlx::query_scalar("SELECT version FROM records WHERE id = $1")
                        .bind(&record.id)
                        .fetch_optional(&mut *tx)
                        .await?;
                    match check_version(held, record.version) {
                        VersionCheck::TooEarly => return Ok(Outcome::NotYet),
                        VersionCheck::AlreadyApplied => return Ok(Outcome::Done),
                        VersionCheck::Apply => {}
                    }
                    sqlx::query(
                        "INSERT INTO records (id, version, value) VALUES ($1, $2, $3) \
                         ON CONFLICT (id) DO UPDATE SET version = excluded.version, value = excluded.value",
                    )
                    .bind(&record.id)
                    .bind(record.version)
                    .bind(&record.value)
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    order.lock().unwrap().push(record.version);
                    Ok(Outcome::Done)
                }
            })
            .start(CancellationToken::new())
            .await
            .unwrap();
        let change = |version: i64, value: &str| {
            let data = serde_json::json!({"id": "r1", "version": version, "value": value});
            message(&format!("r1-v{version}"), RecordChanged::SUBJECT, &data.to_string())
        };
        test.bus.publish(&change(1, "renamed")).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(applied_order.lock().unwrap().is_empty(), "version 1 must wait for version 0");
        test.bus.publish(&change(0, "created")).await.unwrap();
        let deadline = tokio::time::Instant::now() + WAIT;
        while applied_order.lock().unwrap().len() < 2 {
            assert!(tokio::time::Instant::now() < deadline, "the early update was never applied");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(*applied_order.lock().unwrap(), [0, 1]);
        let value: String = sqlx::query_scalar("SELECT value FROM records WHERE id = 'r1'").fetch_one(db.pool()).await.unwrap();
        assert_eq!(value, "renamed");
    }
}
