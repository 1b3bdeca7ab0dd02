//! Firing due timers: publish each one's event (`order:expired`, `delivery:due`, `payout:due`), then forget
//! the timer. The message id is derived from the timer's key, so firing twice (a crash between
//! publish and forget, or two replicas) is dropped by the bus; and the services receiving them
//! change nothing the second time.

use std::sync::Arc;
use std::time::Duration;

use gittix_shared::bus::Bus;
use gittix_shared::time::unix_millis;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::timer_kind::TimerKind;
use crate::timers::Timers;

/// Where "now" comes from: the wall clock in service, tokio's (pausable) clock in unit tests.
pub trait Clock: Send + Sync + 'static {
    fn now_ms(&self) -> i64;
}

#[derive(Debug, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        unix_millis()
    }
}

/// The longest the loop sleeps without looking: a safety net for timers scheduled by another
/// replica of the service, which cannot wake this one.
const LONGEST_SLEEP: Duration = Duration::from_secs(1);
const BATCH: usize = 100;
/// The pause after a round that failed.
const RETRY_DELAY: Duration = Duration::from_millis(500);

/// Fires due timers until `shutdown` fires; it then stops between two rounds, so a round's
/// timers are published and forgotten together.
pub(crate) async fn fire_forever(
    timers: Arc<dyn Timers>,
    bus: Arc<dyn Bus>,
    scheduled: Arc<Notify>,
    clock: impl Clock,
    shutdown: CancellationToken,
) {
    while !shutdown.is_cancelled() {
        // Register for wake-ups before looking, so a timer scheduled meanwhile is not missed.
        let woken = scheduled.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let wait = match fire_due(timers.as_ref(), bus.as_ref(), &clock).await {
            Ok(fired) if fired > 0 => continue,
            Ok(_) => until_next_due(timers.as_ref(), &clock).await,
            Err(error) => {
                tracing::warn!(
                    error = format!("{error:#}"),
                    "could not fire timers; retrying"
                );
                RETRY_DELAY
            }
        };
        tokio::select! {
            () = &mut woken => {}
            () = tokio::time::sleep(wait) => {}
            () = shutdown.cancelled() => {}
        }
    }
}

/// How long to sleep before the earliest stored timer is due, at most [`LONGEST_SLEEP`].
async fn until_next_due(timers: &dyn Timers, clock: &impl Clock) -> Duration {
    match timers.next_due().await {
        Ok(Some(due_at)) => {
            Duration::from_millis(u64::try_from(due_at - clock.now_ms()).unwrap_or(0))
                .min(LONGEST_SLEEP)
        }
        Ok(None) => LONGEST_SLEEP,
        Err(error) => {
            tracing::warn!(error = format!("{error:#}"), "cannot read the timers");
            LONGEST_SLEEP
        }
    }
}

/// Fires every timer due now; returns how many it fired.
async fn fire_due(timers: &dyn Timers, bus: &dyn Bus, clock: &impl Clock) -> anyhow::Result<usize> {
    let now = clock.now_ms();
    let due = timers.due(now, BATCH).await?;
    let kinds: Vec<Option<TimerKind>> = due.iter().map(|t| TimerKind::from_key(&t.key)).collect();
    // Published together (one write of the embedded log for the lot), then forgotten: a crash in
    // between publishes the same ids again, which the bus drops.
    let messages = kinds
        .iter()
        .flatten()
        .map(|kind| kind.message(now))
        .collect::<anyhow::Result<Vec<_>>>()?;
    bus.publish_all(&messages).await?;
    for (timer, kind) in due.iter().zip(&kinds) {
        timers.remove(&timer.key).await?;
        #[allow(clippy::cast_precision_loss)]
        let late_seconds = (now - timer.due_at).max(0) as f64 / 1000.0;
        match kind {
            Some(TimerKind::OrderLock { order_id }) => {
                metrics::histogram!("gittix_expiration_lateness_seconds").record(late_seconds);
                tracing::info!(order_id, late_seconds, "order expired");
            }
            Some(TimerKind::Delivery {
                ticket_id,
                order_id,
            }) => {
                tracing::info!(
                    ticket_id,
                    order_id,
                    late_seconds,
                    "delivery deadline passed"
                );
            }
            Some(TimerKind::Payout { payout_id }) => {
                tracing::info!(payout_id, late_seconds, "payout release time came");
            }
            None => tracing::error!(key = %timer.key, "a timer of no known kind was dropped"),
        }
    }
    Ok(due.len())
}

#[cfg(test)]
mod tests {
    //! The loop's timing, in paused time: an in-memory timer store and a bus that records what
    //! is published stand in for the real adapters, which have their own conformance suites.

    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use async_trait::async_trait;
    use gittix_shared::bus::{header, DeliverySettings, Message, Subscription};
    use tokio::time::Instant;

    use super::*;
    use crate::timers::DueTimer;

    #[derive(Default)]
    struct MemoryTimers(Mutex<BTreeMap<String, i64>>);

    #[async_trait]
    impl Timers for MemoryTimers {
        async fn schedule(&self, order_id: &str, due_at: i64) -> anyhow::Result<()> {
            self.0.lock().unwrap().insert(order_id.to_owned(), due_at);
            Ok(())
        }
        async fn due(&self, now: i64, limit: usize) -> anyhow::Result<Vec<DueTimer>> {
            let mut due: Vec<DueTimer> = self
                .0
                .lock()
                .unwrap()
                .iter()
                .filter(|(_, at)| **at <= now)
                .map(|(id, at)| DueTimer {
                    key: id.clone(),
                    due_at: *at,
                })
                .collect();
            due.sort_by_key(|t| t.due_at);
            due.truncate(limit);
            Ok(due)
        }
        async fn next_due(&self) -> anyhow::Result<Option<i64>> {
            Ok(self.0.lock().unwrap().values().min().copied())
        }
        async fn remove(&self, order_id: &str) -> anyhow::Result<()> {
            self.0.lock().unwrap().remove(order_id);
            Ok(())
        }
        async fn ping(&self) -> anyhow::Result<()> {
            Ok(())
        }
    }

    /// Records each publish with the (paused) time it happened at.
    struct RecordingBus(Mutex<Vec<(String, i64)>>, PausedClock);

    #[async_trait]
    impl Bus for RecordingBus {
        async fn publish(&self, message: &Message) -> anyhow::Result<()> {
            let now = self.1.now_ms();
            assert_eq!(
                message.header(header::OCCURRED_AT),
                Some(now.to_string().as_str()),
                "order:expired says when it happened"
            );
            self.0.lock().unwrap().push((message.id.clone(), now));
            Ok(())
        }
        async fn subscribe(
            &self,
            _: &str,
            _: &[String],
            _: &DeliverySettings,
        ) -> anyhow::Result<Box<dyn Subscription>> {
            anyhow::bail!("not used")
        }
        async fn ping(&self) -> anyhow::Result<()> {
            Ok(())
        }
    }

    /// Milliseconds of tokio's clock since the test started.
    #[derive(Clone, Copy)]
    struct PausedClock(Instant);

    impl Clock for PausedClock {
        fn now_ms(&self) -> i64 {
            i64::try_from(self.0.elapsed().as_millis()).unwrap()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn timers_fire_at_their_time_in_order_and_once() {
        let clock = PausedClock(Instant::now());
        let timers = Arc::new(MemoryTimers::default());
        let bus = Arc::new(RecordingBus(Mutex::default(), clock));
        let scheduled = Arc::new(Notify::new());
        let shutdown = CancellationToken::new();
        timers.schedule("late", 15 * 60 * 1000).await.unwrap();
        timers.schedule("soon", 5_000).await.unwrap();
        let firing = tokio::spawn(fire_forever(
            timers.clone(),
            bus.clone(),
            scheduled.clone(),
            clock,
            shutdown.clone(),
        ));

        // Scheduled while the loop sleeps towards "soon": it must wake for the earlier timer.
        tokio::time::sleep(Duration::from_millis(100)).await;
        timers.schedule("sooner", 2_000).await.unwrap();
        scheduled.notify_one();

        tokio::time::sleep(Duration::from_secs(16 * 60)).await;
        shutdown.cancel();
        firing.await.expect("the loop stops on shutdown");
        let fired = bus.0.lock().unwrap().clone();
        let ids: Vec<&str> = fired.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "order-expired.sooner",
                "order-expired.soon",
                "order-expired.late"
            ]
        );
        for ((_, at), due) in fired.iter().zip([2_000, 5_000, 15 * 60 * 1000]) {
            assert!((due..due + 50).contains(at), "fired at {at} for {due}");
        }
        assert!(
            timers.0.lock().unwrap().is_empty(),
            "fired timers are forgotten"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_timer_already_late_fires_at_once() {
        let clock = PausedClock(Instant::now());
        let timers = Arc::new(MemoryTimers::default());
        let bus = Arc::new(RecordingBus(Mutex::default(), clock));
        tokio::time::sleep(Duration::from_secs(10)).await;
        timers.schedule("overdue", 1_000).await.unwrap();
        let before = clock.now_ms();
        let shutdown = CancellationToken::new();
        let firing = tokio::spawn(fire_forever(
            timers.clone(),
            bus.clone(),
            Arc::new(Notify::new()),
            clock,
            shutdown.clone(),
        ));
        tokio::time::sleep(Duration::from_millis(10)).await;
        shutdown.cancel();
        firing.await.expect("the loop stops on shutdown");
        let fired = bus.0.lock().unwrap().clone();
        assert_eq!(fired.len(), 1, "a late timer is never dropped");
        assert!(fired[0].1 - before < 10);
    }
}
