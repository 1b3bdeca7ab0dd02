//! The original's list route (`GET /api/tickets` with no parameters: every ticket for sale, in
//! one answer) kept serialized between changes, for a process that is the only writer of its
//! tickets table (embedded mode). Building the answer reads every ticket for sale and writes them
//! as JSON (a thousand tickets: milliseconds, and SQLite's one connection is busy meanwhile);
//! most requests find nothing changed since the last one.
//!
//! Exact, not a time-to-live: every committed change bumps a generation, and an answer built
//! under an older generation is never served. With other writers (replicas sharing a PostgreSQL
//! database) their changes would not bump it, so there the cache stays off.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use tokio::sync::Mutex;

#[derive(Debug, Default)]
pub struct ForSaleCache {
    enabled: bool,
    generation: AtomicU64,
    /// The last answer and the generation it was built under. Held while an answer is built, so
    /// requests arriving meanwhile wait for it instead of all building their own.
    answer: Mutex<Option<(u64, Bytes)>>,
}

impl ForSaleCache {
    pub fn enabled() -> Self {
        Self {
            enabled: true,
            ..Self::default()
        }
    }

    pub fn disabled() -> Self {
        Self::default()
    }

    /// Called after every committed change to the tickets table.
    pub fn changed(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The cached answer, or a new one from `build`.
    pub async fn get_or_build<F, Fut, E>(&self, build: F) -> Result<Bytes, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Bytes, E>>,
    {
        if !self.enabled {
            return build().await;
        }
        let mut answer = self.answer.lock().await;
        // Read before building: a change committed while the answer is built bumps the
        // generation past this one, so the answer is rebuilt on the next request.
        let generation = self.generation.load(Ordering::Acquire);
        if let Some((built_under, body)) = answer.as_ref() {
            if *built_under == generation {
                return Ok(body.clone());
            }
        }
        let body = build().await?;
        *answer = Some((generation, body.clone()));
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    async fn answer(cache: &ForSaleCache, builds: &AtomicUsize) -> Bytes {
        cache
            .get_or_build(|| async {
                let n = builds.fetch_add(1, Ordering::SeqCst);
                Ok::<_, ()>(Bytes::from(format!("answer {n}")))
            })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn an_answer_is_served_until_the_next_change() {
        let (cache, builds) = (ForSaleCache::enabled(), AtomicUsize::new(0));
        assert_eq!(answer(&cache, &builds).await, "answer 0");
        assert_eq!(answer(&cache, &builds).await, "answer 0");
        cache.changed();
        assert_eq!(answer(&cache, &builds).await, "answer 1");
        assert_eq!(builds.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_change_during_a_build_is_not_hidden_by_it() {
        let cache = ForSaleCache::enabled();
        let first = cache
            .get_or_build(|| async {
                // A change commits after the build read the table.
                cache.changed();
                Ok::<_, ()>(Bytes::from("before the change"))
            })
            .await
            .unwrap();
        assert_eq!(first, "before the change");
        let second = cache
            .get_or_build(|| async { Ok::<_, ()>(Bytes::from("after the change")) })
            .await
            .unwrap();
        assert_eq!(second, "after the change");
    }

    #[tokio::test]
    async fn a_disabled_cache_builds_every_time() {
        let (cache, builds) = (ForSaleCache::disabled(), AtomicUsize::new(0));
        answer(&cache, &builds).await;
        answer(&cache, &builds).await;
        assert_eq!(builds.load(Ordering::SeqCst), 2);
    }
}
