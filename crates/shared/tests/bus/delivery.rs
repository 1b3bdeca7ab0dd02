//! Publishing, consumer groups and acknowledgements, straight on the `Bus` trait.

use std::time::{Duration, Instant};

use gittix_testing::bus_tests;
use gittix_testing::TestBus;

use crate::helpers::*;

const WAIT: Duration = Duration::from_secs(10);

bus_tests! {
    async fn duplicate_message_ids_are_delivered_once(kind) {
        let test = TestBus::new(kind).await;
        let bus = &test.bus;
        bus.publish(&message("m-1", "thing:happened", "first")).await.unwrap();
        bus.publish(&message("m-1", "thing:happened", "first again")).await.unwrap();
        bus.publish(&message("m-2", "thing:happened", "second")).await.unwrap();
        let mut sub = bus.subscribe("group-a", &subjects(&["thing:happened"]), &ack_wait(Duration::from_secs(30))).await.unwrap();
        let first = receive(&mut sub, WAIT).await;
        assert_eq!((first.message.id.as_str(), first.message.payload.as_slice()), ("m-1", b"first".as_slice()));
        first.ack().await.unwrap();
        let second = receive(&mut sub, WAIT).await;
        assert_eq!(second.message.id, "m-2");
        second.ack().await.unwrap();
        assert_quiet(&mut sub, Duration::from_millis(700)).await;
    }

    async fn a_batch_is_delivered_in_order_without_its_duplicates(kind) {
        let test = TestBus::new(kind).await;
        let bus = &test.bus;
        bus.publish(&message("m-1", "thing:happened", "first")).await.unwrap();
        let batch = [
            message("m-1", "thing:happened", "first again"),
            message("m-2", "thing:happened", "second"),
            message("m-3", "thing:happened", "third"),
            message("m-2", "thing:happened", "second again"),
        ];
        bus.publish_all(&batch).await.unwrap();
        let mut sub = bus.subscribe("group-a", &subjects(&["thing:happened"]), &ack_wait(Duration::from_secs(30))).await.unwrap();
        for (id, payload) in [("m-1", "first"), ("m-2", "second"), ("m-3", "third")] {
            let got = receive(&mut sub, WAIT).await;
            assert_eq!((got.message.id.as_str(), got.message.payload.as_slice()), (id, payload.as_bytes()));
            got.ack().await.unwrap();
        }
        assert_quiet(&mut sub, Duration::from_millis(700)).await;
    }

    async fn a_group_is_caught_up_once_it_acknowledged_what_was_published(kind) {
        let test = TestBus::new(kind).await;
        let bus = &test.bus;
        let settings = ack_wait(Duration::from_secs(30));
        let mut empty = bus.subscribe("nothing-yet", &subjects(&["thing:happened"]), &settings).await.unwrap();
        assert!(empty.caught_up().await.unwrap(), "nothing was published");
        bus.publish(&message("m-1", "thing:happened", "")).await.unwrap();
        bus.publish(&message("m-2", "other:thing", "")).await.unwrap();
        let mut sub = bus.subscribe("reader", &subjects(&["thing:happened"]), &settings).await.unwrap();
        assert!(!sub.caught_up().await.unwrap(), "m-1 is owed");
        let got = receive(&mut sub, WAIT).await;
        assert!(!sub.caught_up().await.unwrap(), "m-1 is delivered, not yet acknowledged");
        got.ack().await.unwrap();
        // JetStream counts the acknowledgement a moment after confirming it.
        let started = Instant::now();
        while !sub.caught_up().await.unwrap() {
            assert!(started.elapsed() < WAIT, "still not caught up after the ack");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Another subject's message is not this group's to read.
        bus.publish(&message("m-3", "other:thing", "")).await.unwrap();
        assert!(sub.caught_up().await.unwrap());
    }

    async fn headers_and_subject_travel_with_the_message(kind) {
        let test = TestBus::new(kind).await;
        let mut sent = message("m-1", "thing:happened", "{}");
        sent.headers.insert("x-request-id".into(), "req-42".into());
        test.bus.publish(&sent).await.unwrap();
        let mut sub = test.bus.subscribe("g", &subjects(&["thing:happened"]), &ack_wait(Duration::from_secs(30))).await.unwrap();
        let got = receive(&mut sub, WAIT).await;
        assert_eq!(got.message, sent);
        assert_eq!(got.attempt, 1);
    }

    async fn a_group_gets_only_its_subjects_and_every_group_gets_them_all(kind) {
        let test = TestBus::new(kind).await;
        for (id, subject) in [("a1", "a:x"), ("b1", "b:x"), ("a2", "a:x")] {
            test.bus.publish(&message(id, subject, "")).await.unwrap();
        }
        for group in ["first", "second"] {
            let mut sub = test.bus.subscribe(group, &subjects(&["a:x"]), &ack_wait(Duration::from_secs(30))).await.unwrap();
            let mut ids = Vec::new();
            for _ in 0..2 {
                let d = receive(&mut sub, WAIT).await;
                ids.push(d.message.id.clone());
                d.ack().await.unwrap();
            }
            ids.sort();
            assert_eq!(ids, ["a1", "a2"], "group {group}");
            assert_quiet(&mut sub, Duration::from_millis(500)).await;
        }
    }

    async fn a_delivery_never_acknowledged_comes_back_after_the_ack_wait(kind) {
        let test = TestBus::new(kind).await;
        test.bus.publish(&message("m-1", "thing:happened", "")).await.unwrap();
        let settings = ack_wait(Duration::from_secs(1));
        // A member takes the message and dies before acknowledging it.
        let mut doomed = test.bus.subscribe("g", &subjects(&["thing:happened"]), &settings).await.unwrap();
        let taken = receive(&mut doomed, WAIT).await;
        let taken_at = Instant::now();
        assert_eq!(taken.attempt, 1);
        drop(taken);
        drop(doomed);
        // Another member of the group gets it again once the ack wait is over.
        let mut survivor = test.bus.subscribe("g", &subjects(&["thing:happened"]), &settings).await.unwrap();
        let again = receive(&mut survivor, WAIT).await;
        assert_eq!((again.message.id.as_str(), again.attempt), ("m-1", 2));
        assert!(taken_at.elapsed() >= Duration::from_millis(900), "redelivered too early: {:?}", taken_at.elapsed());
        again.ack().await.unwrap();
        assert_quiet(&mut survivor, Duration::from_millis(1500)).await;
    }

    async fn a_nak_with_delay_is_redelivered_no_sooner_than_the_delay(kind) {
        let test = TestBus::new(kind).await;
        test.bus.publish(&message("m-1", "thing:happened", "")).await.unwrap();
        let mut sub = test.bus.subscribe("g", &subjects(&["thing:happened"]), &ack_wait(Duration::from_secs(30))).await.unwrap();
        let first = receive(&mut sub, WAIT).await;
        let delay = Duration::from_millis(800);
        let naked_at = Instant::now();
        first.nak(delay).await.unwrap();
        let again = receive(&mut sub, WAIT).await;
        assert!(naked_at.elapsed() >= delay, "redelivered after {:?}", naked_at.elapsed());
        assert_eq!((again.message.id.as_str(), again.attempt), ("m-1", 2));
        again.ack().await.unwrap();
    }

    async fn a_delayed_message_does_not_hold_back_the_ones_behind_it(kind) {
        let test = TestBus::new(kind).await;
        test.bus.publish(&message("slow", "thing:happened", "")).await.unwrap();
        test.bus.publish(&message("next", "thing:happened", "")).await.unwrap();
        let mut sub = test.bus.subscribe("g", &subjects(&["thing:happened"]), &ack_wait(Duration::from_secs(30))).await.unwrap();
        let slow = receive(&mut sub, WAIT).await;
        assert_eq!(slow.message.id, "slow");
        slow.nak(Duration::from_secs(5)).await.unwrap();
        let next = receive(&mut sub, Duration::from_secs(3)).await;
        assert_eq!(next.message.id, "next");
        next.ack().await.unwrap();
    }

    async fn a_terminated_message_is_not_delivered_again(kind) {
        let test = TestBus::new(kind).await;
        test.bus.publish(&message("m-1", "thing:happened", "")).await.unwrap();
        let mut sub = test.bus.subscribe("g", &subjects(&["thing:happened"]), &ack_wait(Duration::from_secs(1))).await.unwrap();
        receive(&mut sub, WAIT).await.term().await.unwrap();
        assert_quiet(&mut sub, Duration::from_millis(2000)).await;
    }

    async fn messages_published_before_a_group_exists_reach_it(kind) {
        let test = TestBus::new(kind).await;
        test.bus.publish(&message("early", "thing:happened", "")).await.unwrap();
        let mut late = test.bus.subscribe("late-group", &subjects(&["thing:happened"]), &ack_wait(Duration::from_secs(30))).await.unwrap();
        assert_eq!(receive(&mut late, WAIT).await.message.id, "early");
    }
}

#[tokio::test]
async fn the_embedded_log_survives_a_restart_of_the_process() {
    let test = TestBus::new(gittix_testing::BusKind::Embedded).await;
    test.bus
        .publish(&message("kept", "thing:happened", ""))
        .await
        .unwrap();
    let settings = ack_wait(Duration::from_secs(1));
    let mut sub = test
        .bus
        .subscribe("g", &subjects(&["thing:happened"]), &settings)
        .await
        .unwrap();
    let taken = receive(&mut sub, WAIT).await;
    drop((taken, sub));
    // A new process opens the same file: the unacknowledged message is still owed.
    let reopened = test.reopen().await;
    let mut sub = reopened
        .subscribe("g", &subjects(&["thing:happened"]), &settings)
        .await
        .unwrap();
    let again = receive(&mut sub, WAIT).await;
    assert_eq!((again.message.id.as_str(), again.attempt), ("kept", 2));
    again.ack().await.unwrap();
    reopened
        .publish(&message("kept", "thing:happened", ""))
        .await
        .unwrap();
    assert_quiet(&mut sub, Duration::from_millis(1500)).await;
}

/// An embedded log in a fresh directory, with one group per `(name, subject)`.
async fn embedded_log_with_groups<const N: usize>(
    groups: [(&str, &str); N],
) -> (
    tempfile::TempDir,
    gittix_shared::bus::embedded::EmbeddedBus,
    [Box<dyn gittix_shared::bus::Subscription>; N],
) {
    use gittix_shared::bus::Bus;
    let dir = tempfile::tempdir().unwrap();
    let bus = gittix_shared::bus::embedded::EmbeddedBus::open(&dir.path().join("bus.db"))
        .await
        .unwrap();
    let settings = ack_wait(Duration::from_secs(30));
    let mut subscriptions = Vec::new();
    for (name, subject) in groups {
        subscriptions.push(
            bus.subscribe(name, &subjects(&[subject]), &settings)
                .await
                .unwrap(),
        );
    }
    let subscriptions = subscriptions
        .try_into()
        .unwrap_or_else(|_| unreachable!("N groups"));
    (dir, bus, subscriptions)
}

/// m-1 and m-2 on `thing:happened`.
async fn publish_two(bus: &gittix_shared::bus::embedded::EmbeddedBus) {
    use gittix_shared::bus::Bus;
    for id in ["m-1", "m-2"] {
        bus.publish(&message(id, "thing:happened", ""))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn pruning_the_embedded_log_keeps_whatever_a_group_still_owes() {
    let (_dir, bus, [mut fast, mut slow]) =
        embedded_log_with_groups([("fast", "thing:happened"), ("slow", "thing:happened")]).await;
    publish_two(&bus).await;
    for _ in 0..2 {
        receive(&mut fast, WAIT).await.ack().await.unwrap();
    }
    // "slow" has taken m-1 but not settled it, and has not looked at m-2 yet.
    let unsettled = receive(&mut slow, WAIT).await;
    assert_eq!(
        bus.prune(Duration::ZERO).await.unwrap(),
        0,
        "slow still owes both"
    );
    unsettled.ack().await.unwrap();
    assert_eq!(
        bus.prune(Duration::ZERO).await.unwrap(),
        1,
        "m-1 is settled everywhere; m-2 is still owed to slow"
    );
    receive(&mut slow, WAIT).await.ack().await.unwrap();
    assert_eq!(
        bus.prune(Duration::from_secs(3600)).await.unwrap(),
        0,
        "too recent to prune"
    );
    assert_eq!(bus.prune(Duration::ZERO).await.unwrap(), 1);
    // Nothing is delivered again after pruning.
    assert_quiet(&mut fast, Duration::from_millis(300)).await;
}

/// Found by the soak (`gittix-bench soak`): a group whose subjects see no message (every
/// process's reader of `session:revoked`, most of the time) never moved its cursor, and so held
/// back the pruning of every other subject's messages for ever.
#[tokio::test]
async fn a_group_on_a_quiet_subject_does_not_hold_back_pruning() {
    use gittix_shared::bus::Bus;
    let (_dir, bus, [_quiet, mut busy]) =
        embedded_log_with_groups([("quiet", "session:revoked"), ("busy", "thing:happened")]).await;
    publish_two(&bus).await;
    bus.publish(&message("nobody-reads-this", "other:thing", ""))
        .await
        .unwrap();
    for _ in 0..2 {
        receive(&mut busy, WAIT).await.ack().await.unwrap();
    }
    assert_eq!(
        bus.prune(Duration::ZERO).await.unwrap(),
        3,
        "every message is settled by every group that reads its subject"
    );
    // A revocation published now still reaches the quiet group.
    bus.publish(&message("r-1", "session:revoked", ""))
        .await
        .unwrap();
    assert_eq!(bus.prune(Duration::ZERO).await.unwrap(), 0, "owed to quiet");
}

#[tokio::test]
async fn a_jetstream_message_published_without_an_id_is_still_delivered_with_one() {
    use gittix_shared::bus::jetstream::JetStreamBus;
    use gittix_shared::bus::Bus;
    use gittix_testing::{jetstream_test_settings, NATS_URL_VAR};
    let settings =
        jetstream_test_settings(&std::env::var(NATS_URL_VAR).expect("run through scripts/test"));
    let bus = JetStreamBus::connect(settings.clone()).await.unwrap();
    let mut sub = bus
        .subscribe(
            "g",
            &subjects(&["thing:happened"]),
            &ack_wait(Duration::from_secs(30)),
        )
        .await
        .unwrap();
    // Published by hand (say, an operator re-publishing a dead letter) with no Nats-Msg-Id.
    let client = async_nats::connect(&settings.url).await.unwrap();
    let context = async_nats::jetstream::new(client);
    let subject = format!("{}thing:happened", settings.subject_prefix);
    context
        .publish(subject, "{}".into())
        .await
        .unwrap()
        .await
        .unwrap();
    let delivery = receive(&mut sub, WAIT).await;
    assert!(
        delivery.message.id.starts_with("stream-sequence-"),
        "{}",
        delivery.message.id
    );
    delivery.ack().await.unwrap();
    assert_quiet(&mut sub, Duration::from_millis(500)).await;
}
