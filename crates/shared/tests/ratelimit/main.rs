//! The rate-limit port's conformance suite: the in-process limiter and the Redis one behave
//! alike, so either can serve a service (issue #17).

use std::sync::Arc;
use std::time::Duration;

use gittix_shared::ratelimit::{Decision, Limit, Limiter, LocalLimiter, RedisLimiter};

/// Each test once per adapter: `name::local` and `name::redis`.
macro_rules! limiter_tests {
    ($( async fn $name:ident($limiter:ident) $body:block )*) => {
        $(
            mod $name {
                use super::*;

                async fn run($limiter: Arc<dyn Limiter>) $body

                #[tokio::test]
                async fn local() {
                    run(Arc::new(LocalLimiter::default())).await
                }

                #[tokio::test]
                async fn redis() {
                    run(redis_limiter().await).await
                }
            }
        )*
    };
}

/// A limiter on the test's Redis, under a prefix of its own.
async fn redis_limiter() -> Arc<dyn Limiter> {
    let prefix = format!("test:limits:{}:", uuid::Uuid::now_v7());
    Arc::new(
        RedisLimiter::connect(&gittix_testing::redis_url(), prefix)
            .await
            .unwrap(),
    )
}

async fn hits(limiter: &dyn Limiter, key: &str, limit: Limit, n: usize) -> Vec<Decision> {
    let mut decisions = Vec::new();
    for _ in 0..n {
        decisions.push(limiter.hit(key, limit).await.unwrap());
    }
    decisions
}

fn allowed(decisions: &[Decision]) -> usize {
    decisions
        .iter()
        .filter(|d| **d == Decision::Allowed)
        .count()
}

limiter_tests! {
    async fn a_burst_takes_the_whole_budget_and_no_more(limiter) {
        let limit = Limit { max: 5, per: Duration::from_secs(60) };
        let decisions = hits(limiter.as_ref(), "k", limit, 8).await;
        assert_eq!(allowed(&decisions[..5]), 5, "{decisions:?}");
        for decision in &decisions[5..] {
            let Decision::Refused { retry_after } = decision else { panic!("{decisions:?}") };
            // One hit comes back every 12 s.
            assert!(*retry_after > Duration::from_secs(10) && *retry_after <= Duration::from_secs(12), "{retry_after:?}");
        }
    }

    async fn the_budget_refills_evenly(limiter) {
        let limit = Limit { max: 2, per: Duration::from_millis(400) };
        assert_eq!(allowed(&hits(limiter.as_ref(), "k", limit, 3).await), 2);
        tokio::time::sleep(Duration::from_millis(250)).await;
        // One interval (200 ms) has passed: one more hit, not two.
        assert_eq!(allowed(&hits(limiter.as_ref(), "k", limit, 2).await), 1);
        tokio::time::sleep(Duration::from_millis(450)).await;
        assert_eq!(allowed(&hits(limiter.as_ref(), "k", limit, 3).await), 2);
    }

    async fn keys_have_budgets_of_their_own(limiter) {
        let limit = Limit::per_minute(1);
        assert_eq!(limiter.hit("a", limit).await.unwrap(), Decision::Allowed);
        assert!(matches!(limiter.hit("a", limit).await.unwrap(), Decision::Refused { .. }));
        assert_eq!(limiter.hit("b", limit).await.unwrap(), Decision::Allowed);
    }

    async fn concurrent_hits_never_exceed_the_budget(limiter) {
        let limit = Limit::per_minute(10);
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let limiter = limiter.clone();
                tokio::spawn(async move { limiter.hit("shared", limit).await.unwrap() })
            })
            .collect();
        let mut decisions = Vec::new();
        for task in tasks {
            decisions.push(task.await.unwrap());
        }
        assert_eq!(allowed(&decisions), 10);
    }
}

/// Two limiters on one Redis share one budget, as two replicas of a service do.
#[tokio::test]
async fn replicas_on_one_redis_share_one_budget() {
    let prefix = format!("test:limits:{}:", uuid::Uuid::now_v7());
    let url = gittix_testing::redis_url();
    let first = RedisLimiter::connect(&url, prefix.clone()).await.unwrap();
    let second = RedisLimiter::connect(&url, prefix).await.unwrap();
    let limit = Limit::per_minute(4);
    let mut decisions = Vec::new();
    for n in 0..8 {
        let replica: &dyn Limiter = if n % 2 == 0 { &first } else { &second };
        decisions.push(replica.hit("client", limit).await.unwrap());
    }
    assert_eq!(allowed(&decisions), 4, "{decisions:?}");
}

/// Found by the fault suite: after Redis restarted, the first hit of each process failed (500)
/// on the broken connection. The limiter tries once more on a fresh one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_hit_after_a_redis_restart_is_counted() {
    let mut redis = gittix_testing::PrivateRedis::start();
    let limiter = RedisLimiter::connect(&redis.url(), "restart:")
        .await
        .unwrap();
    let limit = Limit::per_minute(2);
    assert_eq!(limiter.hit("k", limit).await.unwrap(), Decision::Allowed);
    redis.stop();
    redis.start_again();
    assert_eq!(
        limiter.hit("k", limit).await.unwrap(),
        Decision::Allowed,
        "the first hit after the restart"
    );
    // Redis kept the count (append-only file): the budget of 2 is spent.
    assert!(matches!(
        limiter.hit("k", limit).await.unwrap(),
        Decision::Refused { .. }
    ));
}
