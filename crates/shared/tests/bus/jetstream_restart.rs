//! Restarting the NATS server loses nothing: stored messages stay, clients reconnect by themselves.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use gittix_shared::bus::Bus;
use gittix_testing::{PrivateNats, TestBus};

use crate::helpers::*;

async fn publish_retrying(bus: &dyn Bus, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match bus.publish(&message(id, "thing:happened", id)).await {
            Ok(()) => return,
            Err(error) if Instant::now() < deadline => {
                eprintln!("publish {id} failed while NATS restarts: {error}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(error) => panic!("publish {id} never succeeded: {error}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarting_the_nats_server_loses_nothing() {
    let mut nats = PrivateNats::start();
    let test = TestBus::jetstream(&nats.url()).await;
    let settings = ack_wait(Duration::from_secs(2));
    let mut sub = test
        .bus
        .subscribe("g", &subjects(&["thing:happened"]), &settings)
        .await
        .unwrap();
    for id in ["before-1", "before-2", "before-3"] {
        publish_retrying(test.bus.as_ref(), id).await;
    }
    let first = receive(&mut sub, Duration::from_secs(10)).await;
    assert_eq!(first.message.id, "before-1");
    first.ack().await.unwrap();

    nats.stop();
    nats.start_again();
    for id in ["after-1", "after-2"] {
        publish_retrying(test.bus.as_ref(), id).await;
    }

    let mut seen = BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.len() < 4 {
        assert!(Instant::now() < deadline, "only got {seen:?}");
        let delivery = receive(&mut sub, Duration::from_secs(30)).await;
        assert_ne!(
            delivery.message.id, "before-1",
            "an acknowledged message came back"
        );
        seen.insert(delivery.message.id.clone());
        delivery.ack().await.unwrap();
    }
    let expected: BTreeSet<String> = ["before-2", "before-3", "after-1", "after-2"]
        .map(String::from)
        .into();
    assert_eq!(seen, expected);
}

/// A publish that the server never acknowledges (the server was killed with the message on the
/// wire) fails soon, so the relay sends it again to the server that took its place. With the
/// client's default of 5 s, work in flight resumed only 5 s after a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_nobody_acknowledges_gives_up_within_the_reply_wait() {
    let nats = PrivateNats::start();
    let test = TestBus::jetstream(&nats.url()).await;
    publish_retrying(test.bus.as_ref(), "warm-up").await;

    nats.freeze();
    let began = Instant::now();
    let outcome = tokio::time::timeout(
        Duration::from_secs(20),
        test.bus.publish(&message("lost", "thing:happened", "lost")),
    )
    .await
    .expect("the publish returned");
    let waited = began.elapsed();
    nats.thaw();

    assert!(outcome.is_err(), "a frozen server acknowledged a publish");
    // The wait is 2 s; the bound leaves room for a slow machine and stays under the 5 s default.
    assert!(
        waited < Duration::from_millis(4_500),
        "the publish waited {waited:?} for an acknowledgement"
    );
}
