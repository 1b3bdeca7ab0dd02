//! The outbox relay: publishes a service's outbox to the bus in order, with the event id as the
//! message id, and deletes the events once the bus has stored them.
//!
//! It wakes as soon as a transaction with events commits (through [`crate::outbox::commit`]),
//! and also polls, slowly, for events committed by other replicas of the service or left by a
//! process that died between its commit and the publish. A crash after the publish and before
//! the delete publishes the event again on restart; the bus drops it by its id.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::bus::Bus;
use crate::db::Db;
use crate::outbox;

#[derive(Debug, Clone)]
pub struct RelaySettings {
    /// How often to look for events without being woken.
    pub poll_interval: Duration,
    /// Events read per round.
    pub batch: i64,
}

impl Default for RelaySettings {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(1),
            batch: 100,
        }
    }
}

/// Starts relaying `db`'s outbox to `bus` until `shutdown` fires. The relay stops between two
/// rounds, never inside one, then publishes what the outbox still holds (for at most five
/// seconds), so a clean shutdown leaves no event behind.
pub fn spawn(
    db: Db,
    bus: Arc<dyn Bus>,
    settings: RelaySettings,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut failures = 0u32;
        while !shutdown.is_cancelled() {
            // Register for the wake-up before reading, so a commit in between is not missed.
            let committed = db.outbox_signal().notified();
            tokio::pin!(committed);
            committed.as_mut().enable();
            let pause = match publish_pending(&db, bus.as_ref(), settings.batch).await {
                Ok(published) if published > 0 => {
                    failures = 0;
                    continue;
                }
                Ok(_) => {
                    failures = 0;
                    settings.poll_interval
                }
                Err(error) => {
                    failures = failures.saturating_add(1);
                    // At most 800 ms: once the bus or the database is back, the backlog goes out
                    // within a second (the fault suite requires work to resume within 5 s).
                    let backoff = Duration::from_millis(100 * 2u64.pow(failures.min(3)));
                    tracing::warn!(
                        error = format!("{error:#}"),
                        ?backoff,
                        "outbox relay failed; retrying"
                    );
                    tokio::time::sleep(backoff).await;
                    continue;
                }
            };
            tokio::select! {
                () = &mut committed => {}
                () = tokio::time::sleep(pause) => {}
                () = shutdown.cancelled() => {}
            }
        }
        flush(&db, bus.as_ref(), Duration::from_secs(5)).await;
    })
}

/// Publishes up to `batch` pending events in order; returns how many it published.
pub async fn publish_pending(db: &Db, bus: &dyn Bus, batch: i64) -> anyhow::Result<usize> {
    let events = {
        let mut conn = db.pool().acquire().await?;
        outbox::pending(&mut conn, batch).await?
    };
    crate::metrics::outbox_lag(events.first().map(|e| e.occurred_at));
    // A backlog goes out as one batch and is deleted in one statement: two writes, not two per
    // event. A crash in between publishes the batch again, and the bus drops it by id.
    let messages = events
        .iter()
        .map(outbox::PendingEvent::to_message)
        .collect::<Result<Vec<_>, _>>()?;
    bus.publish_all(&messages).await?;
    let positions: Vec<i64> = events.iter().map(|e| e.position).collect();
    outbox::remove(db, &positions).await?;
    for event in &events {
        crate::metrics::published(&event.subject);
    }
    Ok(events.len())
}

/// Publishes what is left in the outbox, for a clean shutdown; gives up after `deadline`
/// (whatever remains goes out at the next start).
pub async fn flush(db: &Db, bus: &dyn Bus, deadline: Duration) {
    let flushing = async {
        loop {
            match publish_pending(db, bus, 100).await {
                Ok(0) => return,
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(error = format!("{error:#}"), "could not flush the outbox");
                    return;
                }
            }
        }
    };
    if tokio::time::timeout(deadline, flushing).await.is_err() {
        tracing::warn!("outbox not flushed in time; the rest goes out at the next start");
    }
}
