use std::sync::Arc;

use gittix_expiration::timers::redis::RedisTimers;
use gittix_expiration::timers::{DueTimer, Timers};
use gittix_testing::PrivateRedis;

use crate::{sql_timers, store_tests, TestTimers};

fn due(key: &str, due_at: i64) -> DueTimer {
    DueTimer {
        key: key.into(),
        due_at,
    }
}

store_tests! {
    async fn due_timers_come_earliest_first_and_stay_until_removed(kind) {
        let store = TestTimers::new(kind).await;
        let timers = store.timers.as_ref();
        assert_eq!(timers.next_due().await.unwrap(), None);
        timers.schedule("a", 1_000).await.unwrap();
        timers.schedule("b", 500).await.unwrap();
        timers.schedule("c", 5_000).await.unwrap();
        assert_eq!(timers.next_due().await.unwrap(), Some(500));
        assert_eq!(timers.due(1_000, 10).await.unwrap(), [due("b", 500), due("a", 1_000)]);
        assert_eq!(timers.due(1_000, 1).await.unwrap(), [due("b", 500)], "at most `limit`");
        assert_eq!(timers.due(1_000, 10).await.unwrap().len(), 2, "not removed by reading");
        timers.remove("b").await.unwrap();
        assert_eq!(timers.due(1_000, 10).await.unwrap(), [due("a", 1_000)]);
        assert_eq!(timers.due(499, 10).await.unwrap(), []);
    }

    async fn scheduling_an_order_again_moves_its_timer(kind) {
        let store = TestTimers::new(kind).await;
        let timers = store.timers.as_ref();
        timers.schedule("a", 1_000).await.unwrap();
        timers.schedule("a", 9_000).await.unwrap();
        assert_eq!(timers.due(5_000, 10).await.unwrap(), []);
        assert_eq!(timers.due(9_000, 10).await.unwrap(), [due("a", 9_000)]);
        timers.remove("a").await.unwrap();
        timers.remove("a").await.unwrap(); // removing twice is harmless
        assert_eq!(timers.next_due().await.unwrap(), None);
    }
}

#[tokio::test]
async fn sql_timers_survive_a_restart_of_the_process() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("expiration.db");
    let timers = sql_timers(&path).await;
    timers.schedule("kept", 1_000).await.unwrap();
    drop(timers);
    let reopened: Arc<dyn Timers> = sql_timers(&path).await;
    assert_eq!(reopened.due(1_000, 10).await.unwrap(), [due("kept", 1_000)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_timers_survive_a_restart_of_redis() {
    let mut redis = PrivateRedis::start();
    let timers = RedisTimers::connect(&redis.url(), "timers").await.unwrap();
    timers.schedule("kept", 1_000).await.unwrap();
    redis.stop();
    redis.start_again();
    // The same client reconnects by itself; the timer was persisted.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let found = loop {
        match timers.due(1_000, 10).await {
            Ok(found) => break found,
            Err(_) if std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await
            }
            Err(error) => panic!("Redis did not come back: {error}"),
        }
    };
    assert_eq!(found, [due("kept", 1_000)]);
}
