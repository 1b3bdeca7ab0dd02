//! The original's list route (`GET /api/tickets` with no parameters: every ticket for sale, in
//! one answer) kept serialized between changes, for a process that is the only writer of its
//! tickets table (embedded mode). Building the answer reads every ticket for sale and writes them
//! as JSON (a thousand tickets: milliseconds, and SQLite's one connection is busy meanwhile);
//! most requests find nothing changed since the last one.
//!
//! Exact, not a time-to-live: every committed change bumps a generation, and an answer built
//! under an older generation is never served. Time changes the answer too: a ticket leaves the
//! list when its event starts, so an answer is served only until the earliest start among its
//! tickets' events. With other writers (replicas sharing a PostgreSQL database) their changes
//! would not bump the generation, so there the cache stays off.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use tokio::sync::Mutex;

#[derive(Debug, Default)]
pub struct ForSaleCache {
    enabled: bool,
    generation: AtomicU64,
    /// The last answer. Held while an answer is built, so requests arriving meanwhile wait for
    /// it instead of all building their own.
    answer: Mutex<Option<Answer>>,
}

/// An answer, the generation it was built under, and until when (unix ms) it holds.
#[derive(Debug)]
struct Answer {
    generation: u64,
    until: Option<i64>,
    body: Bytes,
}

/// What a build returns: the answer, and the time (unix ms) it stops being right whatever
/// changes, if there is one.
pub type Built = (Bytes, Option<i64>);

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

    /// The cached answer at `now` (unix ms), or a new one from `build`.
    pub async fn get_or_build<F, Fut, E>(&self, now: i64, build: F) -> Result<Bytes, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Built, E>>,
    {
        if !self.enabled {
            return build().await.map(|(body, _)| body);
        }
        let mut answer = self.answer.lock().await;
        // Read before building: a change committed while the answer is built bumps the
        // generation past this one, so the answer is rebuilt on the next request.
        let generation = self.generation.load(Ordering::Acquire);
        if let Some(kept) = answer.as_ref() {
            if kept.generation == generation && kept.until.is_none_or(|until| now < until) {
                return Ok(kept.body.clone());
            }
        }
        let (body, until) = build().await?;
        *answer = Some(Answer {
            generation,
            until,
            body: body.clone(),
        });
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    async fn answer(cache: &ForSaleCache, builds: &AtomicUsize) -> Bytes {
        answer_at(cache, builds, 0, None).await
    }

    /// The answer at `now`, built (when it is) as one that holds until `until`.
    async fn answer_at(
        cache: &ForSaleCache,
        builds: &AtomicUsize,
        now: i64,
        until: Option<i64>,
    ) -> Bytes {
        cache
            .get_or_build(now, || async {
                let n = builds.fetch_add(1, Ordering::SeqCst);
                Ok::<_, ()>((Bytes::from(format!("answer {n}")), until))
            })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn an_answer_is_not_served_once_an_event_in_it_has_started() {
        let (cache, builds) = (ForSaleCache::enabled(), AtomicUsize::new(0));
        assert_eq!(answer_at(&cache, &builds, 100, Some(200)).await, "answer 0");
        assert_eq!(answer_at(&cache, &builds, 199, None).await, "answer 0");
        assert_eq!(answer_at(&cache, &builds, 200, None).await, "answer 1");
        assert_eq!(answer_at(&cache, &builds, 10_000, None).await, "answer 1");
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
            .get_or_build(0, || async {
                // A change commits after the build read the table.
                cache.changed();
                Ok::<_, ()>((Bytes::from("before the change"), None))
            })
            .await
            .unwrap();
        assert_eq!(first, "before the change");
        let second = cache
            .get_or_build(0, || async {
                Ok::<_, ()>((Bytes::from("after the change"), None))
            })
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
