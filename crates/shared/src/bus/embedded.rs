//! The embedded bus: a durable message log in its own SQLite file, with JetStream's semantics.
//!
//! Publishing appends to `bus_messages` (a repeated message id is dropped by a unique index).
//! Each consumer group has a cursor into the log; a member copies new messages on the group's
//! subjects into `bus_pending`, then claims the oldest ones that are due (a few at a time) by
//! pushing their `visible_at` forward by the ack wait. An ack deletes the pending row; an
//! unacknowledged claim simply becomes due again, which is the redelivery. Everything is in SQLite, so a restart of
//! the process loses nothing.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::Row;
use tokio::sync::Notify;

use super::{Acknowledge, Bus, Delivery, DeliverySettings, GroupStart, Message, Subscription};
use crate::db::Db;
use crate::time::unix_millis;

static MIGRATOR: Migrator = sqlx::migrate!("migrations/embedded_bus");

/// How long an idle member sleeps before looking again even without a wake-up; only a safety net,
/// since publishes and naks wake members directly.
const IDLE_RECHECK: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct EmbeddedBus {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    /// Wakes waiting members when a message is published or becomes due early.
    activity: Notify,
}

impl EmbeddedBus {
    /// Opens (creating if needed) the bus log in the SQLite file at `path`.
    pub async fn open(path: &Path) -> anyhow::Result<Self> {
        Self::on(Db::open_sqlite_file(path)?).await
    }

    /// Uses `db` (a SQLite database of its own) as the log.
    pub async fn on(db: Db) -> anyhow::Result<Self> {
        MIGRATOR.run(db.pool()).await?;
        forget_transient_groups(&db).await?;
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                activity: Notify::new(),
            }),
        })
    }
}

#[async_trait]
impl Bus for EmbeddedBus {
    async fn publish(&self, message: &Message) -> anyhow::Result<()> {
        self.publish_all(std::slice::from_ref(message)).await
    }

    /// One transaction for all of them: one sync of the log file, however many there are.
    async fn publish_all(&self, messages: &[Message]) -> anyhow::Result<()> {
        let mut tx = self.inner.db.pool().begin().await?;
        for message in messages {
            sqlx::query(
                "INSERT INTO bus_messages (msg_id, subject, payload, headers, published_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (msg_id) DO NOTHING",
            )
            .bind(&message.id)
            .bind(&message.subject)
            .bind(message.payload.clone())
            .bind(serde_json::to_string(&message.headers)?)
            .bind(unix_millis())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.inner.activity.notify_waiters();
        Ok(())
    }

    async fn subscribe(
        &self,
        group: &str,
        subjects: &[String],
        settings: &DeliverySettings,
    ) -> anyhow::Result<Box<dyn Subscription>> {
        let mut tx = self.inner.db.pool().begin().await?;
        let since = match settings.start {
            GroupStart::Beginning => i64::MIN,
            GroupStart::PublishedSince(at) => at,
        };
        sqlx::query(
            "INSERT INTO bus_groups (name, cursor, transient) VALUES ($1, \
             (SELECT COALESCE(MAX(seq), 0) FROM bus_messages WHERE published_at < $2), $3) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(group)
        .bind(since)
        .bind(settings.forget_when_idle.is_some())
        .execute(&mut *tx)
        .await?;
        for subject in subjects {
            sqlx::query(
                "INSERT INTO bus_group_subjects (grp, subject) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(group)
            .bind(subject)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Box::new(EmbeddedSubscription {
            inner: self.inner.clone(),
            group: group.to_owned(),
            ack_wait: settings.ack_wait,
            claimed: VecDeque::new(),
        }))
    }

    async fn ping(&self) -> anyhow::Result<()> {
        Ok(self.inner.db.ping().await?)
    }
}

/// Drops the groups of one process that an earlier run of it left: this log belongs to one
/// process, so none of their members is alive. Kept, their cursors would hold back pruning.
async fn forget_transient_groups(db: &Db) -> anyhow::Result<()> {
    let mut tx = db.pool().begin().await?;
    for table in ["bus_pending", "bus_group_subjects"] {
        sqlx::query(&format!(
            "DELETE FROM {table} WHERE grp IN (SELECT name FROM bus_groups WHERE transient)"
        ))
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query("DELETE FROM bus_groups WHERE transient")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The messages on group `$1`'s subjects past its cursor. Subject by subject along
/// `bus_messages_by_subject` (`CROSS JOIN` keeps SQLite from choosing the other order), so the
/// cost does not grow with the messages of other subjects past the cursor.
const NEW_MESSAGES: &str = "bus_group_subjects s CROSS JOIN bus_messages m \
     ON m.subject = s.subject AND m.seq > (SELECT cursor FROM bus_groups WHERE name = $1) \
     WHERE s.grp = $1";

/// The oldest `$3` deliveries of group `$1` due at `$2`. `+p.visible_at`: SQLite then walks the
/// primary key (group, seq) in order and stops at the first due rows, rather than sorting every
/// due row of a backlog by seq for each claim.
const DUE_DELIVERIES: &str =
    "SELECT p.seq, p.deliveries, m.msg_id, m.subject, m.payload, m.headers \
     FROM bus_pending p JOIN bus_messages m ON m.seq = p.seq \
     WHERE p.grp = $1 AND +p.visible_at <= $2 ORDER BY p.seq LIMIT $3";

/// Deliveries a member claims in one transaction, when that many are due.
const CLAIM_BATCH: i64 = 8;

struct EmbeddedSubscription {
    inner: Arc<Inner>,
    group: String,
    ack_wait: Duration,
    /// Claimed and not yet handed out, each with the time (ms) its claim runs out. Their ack
    /// wait runs from the claim: a member that dies with some here lets them come back like any
    /// unacknowledged delivery, and one whose claim ran out while it waited here is dropped
    /// (it is due again, to any member) rather than handled a second time.
    claimed: VecDeque<(i64, Delivery)>,
}

enum Claim {
    Delivered(Vec<(i64, Delivery)>),
    /// Nothing due now; the earliest pending delivery falls due at this time (ms), if any.
    NothingDue(Option<i64>),
}

impl EmbeddedSubscription {
    async fn claim(&self) -> anyhow::Result<Claim> {
        let now = unix_millis();
        // Every publish wakes every member of every group. Most find nothing for them, and must
        // find that out with a read: a write transaction here would cost each of them a sync
        // of the log file, a dozen per published message.
        if !self.has_work(now).await? {
            return Ok(Claim::NothingDue(self.next_due().await?));
        }
        let mut tx = self.inner.db.pool().begin().await?;
        sqlx::query(&format!(
            "INSERT INTO bus_pending (grp, seq, deliveries, visible_at) \
             SELECT $1, m.seq, 0, 0 FROM {NEW_MESSAGES}"
        ))
        .bind(&self.group)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE bus_groups SET cursor = (SELECT COALESCE(MAX(seq), 0) FROM bus_messages) \
             WHERE name = $1",
        )
        .bind(&self.group)
        .execute(&mut *tx)
        .await?;
        let due = sqlx::query(DUE_DELIVERIES)
            .bind(&self.group)
            .bind(now)
            .bind(CLAIM_BATCH)
            .fetch_all(&mut *tx)
            .await?;
        if due.is_empty() {
            tx.commit().await?;
            return Ok(Claim::NothingDue(self.next_due().await?));
        }
        let ack_wait_ms = i64::try_from(self.ack_wait.as_millis()).unwrap_or(i64::MAX);
        let mut deliveries = Vec::with_capacity(due.len());
        for row in due {
            let seq: i64 = row.try_get("seq")?;
            let attempt = row.try_get::<i64, _>("deliveries")? + 1;
            sqlx::query(
                "UPDATE bus_pending SET deliveries = $3, visible_at = $4 WHERE grp = $1 AND seq = $2",
            )
            .bind(&self.group)
            .bind(seq)
            .bind(attempt)
            .bind(now.saturating_add(ack_wait_ms))
            .execute(&mut *tx)
            .await?;
            let message = Message {
                id: row.try_get("msg_id")?,
                subject: row.try_get("subject")?,
                payload: row.try_get("payload")?,
                headers: serde_json::from_str(&row.try_get::<String, _>("headers")?)?,
            };
            let acknowledger = EmbeddedAck {
                inner: self.inner.clone(),
                group: self.group.clone(),
                seq,
                ack_wait_ms,
            };
            let claimed_until = now.saturating_add(ack_wait_ms);
            deliveries.push((
                claimed_until,
                Delivery::new(
                    message,
                    u32::try_from(attempt).unwrap_or(u32::MAX),
                    Box::new(acknowledger),
                ),
            ));
        }
        tx.commit().await?;
        Ok(Claim::Delivered(deliveries))
    }
}

impl EmbeddedSubscription {
    /// The next claimed delivery whose claim still holds.
    fn take_claimed(&mut self) -> Option<Delivery> {
        let now = unix_millis();
        while let Some((claimed_until, delivery)) = self.claimed.pop_front() {
            if claimed_until > now {
                return Some(delivery);
            }
        }
        None
    }

    /// Whether the log holds a message on the group's subjects past its cursor, or a delivery of
    /// the group is due at `now` (ms).
    async fn has_work(&self, now: i64) -> anyhow::Result<bool> {
        // An integer, not a boolean: sqlx's `Any` driver reads SQLite's answer as one.
        let work: i64 = sqlx::query_scalar(&format!(
            "SELECT CASE WHEN EXISTS (SELECT 1 FROM {NEW_MESSAGES}) \
             OR EXISTS (SELECT 1 FROM bus_pending WHERE grp = $1 AND visible_at <= $2) \
             THEN 1 ELSE 0 END"
        ))
        .bind(&self.group)
        .bind(now)
        .fetch_one(self.inner.db.pool())
        .await?;
        Ok(work == 1)
    }

    /// When the group's earliest pending delivery falls due (ms), if it has one.
    async fn next_due(&self) -> anyhow::Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT MIN(visible_at) FROM bus_pending WHERE grp = $1")
                .bind(&self.group)
                .fetch_one(self.inner.db.pool())
                .await?,
        )
    }
}

#[async_trait]
impl Subscription for EmbeddedSubscription {
    async fn caught_up(&mut self) -> anyhow::Result<bool> {
        // Work due at any time: every pending delivery, unacknowledged ones too.
        Ok(self.claimed.is_empty() && !self.has_work(i64::MAX).await?)
    }

    async fn next(&mut self) -> anyhow::Result<Delivery> {
        loop {
            if let Some(delivery) = self.take_claimed() {
                return Ok(delivery);
            }
            // Register for wake-ups before looking, so a publish between the look and the wait
            // is not missed.
            let activity = self.inner.activity.notified();
            tokio::pin!(activity);
            activity.as_mut().enable();
            let wait = match self.claim().await? {
                Claim::Delivered(deliveries) => {
                    self.claimed.extend(deliveries);
                    continue;
                }
                Claim::NothingDue(Some(due_at)) => {
                    let ms = u64::try_from(due_at - unix_millis()).unwrap_or(0);
                    Duration::from_millis(ms).min(IDLE_RECHECK)
                }
                Claim::NothingDue(None) => IDLE_RECHECK,
            };
            tokio::select! {
                () = &mut activity => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }
}

struct EmbeddedAck {
    inner: Arc<Inner>,
    group: String,
    seq: i64,
    ack_wait_ms: i64,
}

impl EmbeddedAck {
    async fn forget(&self) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM bus_pending WHERE grp = $1 AND seq = $2")
            .bind(&self.group)
            .bind(self.seq)
            .execute(self.inner.db.pool())
            .await?;
        Ok(())
    }
}

#[async_trait]
impl Acknowledge for EmbeddedAck {
    async fn ack(&self) -> anyhow::Result<()> {
        self.forget().await
    }

    async fn nak(&self, delay: Duration) -> anyhow::Result<()> {
        let delay_ms = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
        sqlx::query("UPDATE bus_pending SET visible_at = $3 WHERE grp = $1 AND seq = $2")
            .bind(&self.group)
            .bind(self.seq)
            .bind(unix_millis().saturating_add(delay_ms))
            .execute(self.inner.db.pool())
            .await?;
        // Members may be sleeping until a later due time; let them recompute.
        self.inner.activity.notify_waiters();
        Ok(())
    }

    async fn term(&self) -> anyhow::Result<()> {
        self.forget().await
    }

    async fn in_progress(&self) -> anyhow::Result<()> {
        sqlx::query("UPDATE bus_pending SET visible_at = $3 WHERE grp = $1 AND seq = $2")
            .bind(&self.group)
            .bind(self.seq)
            .bind(unix_millis().saturating_add(self.ack_wait_ms))
            .execute(self.inner.db.pool())
            .await?;
        Ok(())
    }
}

impl EmbeddedBus {
    /// Deletes messages older than `retention` that every consumer group reading their
    /// subject has consumed and settled. Ids of deleted messages are forgotten, so the
    /// duplicate window is `retention` (JetStream's is far shorter). Returns how many messages
    /// were deleted.
    pub async fn prune(&self, retention: Duration) -> anyhow::Result<u64> {
        let cutoff = unix_millis() - i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
        // A message may go once every group that reads its subject has copied it (its cursor
        // is past it) and settled it (no pending delivery). Only those groups: a group whose
        // subjects are quiet never moves its cursor, and must not hold back other subjects.
        let deleted = sqlx::query(
            "DELETE FROM bus_messages WHERE published_at < $1 \
             AND NOT EXISTS (SELECT 1 FROM bus_group_subjects s JOIN bus_groups g ON g.name = s.grp \
                             WHERE s.subject = bus_messages.subject AND g.cursor < bus_messages.seq) \
             AND NOT EXISTS (SELECT 1 FROM bus_pending p WHERE p.seq = bus_messages.seq)",
        )
        .bind(cutoff)
        .execute(self.inner.db.pool())
        .await?;
        Ok(deleted.rows_affected())
    }

    /// Prunes every [`Retentions::every`](crate::pruning::Retentions::every), keeping the bus
    /// retention of history, until the handle is aborted.
    pub fn spawn_pruning(
        &self,
        retentions: crate::pruning::Retentions,
    ) -> tokio::task::JoinHandle<()> {
        let bus = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(retentions.every());
            loop {
                tick.tick().await;
                match bus.prune(retentions.bus).await {
                    Ok(0) => {}
                    Ok(deleted) => tracing::info!(deleted, "pruned the embedded bus log"),
                    Err(error) => tracing::warn!(%error, "could not prune the embedded bus log"),
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    //! The log's queries must not grow with its length: their plans, as SQLite makes them for
    //! the real schema without statistics (nothing runs ANALYZE).

    use super::*;

    async fn plan(query: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let bus = EmbeddedBus::open(&dir.path().join("bus.db")).await.unwrap();
        let rows: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(&format!("EXPLAIN QUERY PLAN {query}"))
                .bind("some-group")
                .bind(0_i64)
                .bind(CLAIM_BATCH)
                .fetch_all(bus.inner.db.pool())
                .await
                .unwrap();
        rows.into_iter()
            .map(|row| row.3)
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[tokio::test]
    async fn new_messages_are_found_by_subject_not_by_reading_the_log() {
        let plan = plan(&format!("SELECT 1 FROM {NEW_MESSAGES}")).await;
        assert!(
            plan.contains("bus_messages_by_subject (subject=? AND seq>?)"),
            "{plan}"
        );
    }

    #[tokio::test]
    async fn due_deliveries_are_read_in_order_without_sorting_the_backlog() {
        let plan = plan(DUE_DELIVERIES).await;
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
        assert!(
            plan.contains("sqlite_autoindex_bus_pending_1 (grp=?)"),
            "{plan}"
        );
    }
}
