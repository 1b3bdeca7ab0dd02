//! Tables that only remember (which events were applied, which webhooks handled, which orders
//! ended, which cooldowns run) are pruned on a schedule, so they stay bounded however long a
//! service runs. Each rule deletes the rows whose time column is older than its retention; the
//! retentions are documented in docs/operations.md ("What grows, and what is pruned").

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::db::Db;
use crate::time::unix_millis;

/// How long the bus keeps a message (JetStream's `max_age`, the embedded log's retention): no
/// event older than this can be delivered again, so a memory of it is no longer needed.
pub const BUS_RETENTION: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// The inbox keeps event ids a day longer than the bus keeps the events.
pub const INBOX_RETENTION: Duration = Duration::from_secs(8 * 24 * 60 * 60);

/// How often the rules run.
const EVERY: Duration = Duration::from_secs(60 * 60);

/// Rows of `table` whose `column` (unix ms) is more than `keep` in the past are deleted.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    pub table: &'static str,
    pub column: &'static str,
    pub keep: Duration,
}

impl Retention {
    /// The inbox of every service that consumes events.
    pub const INBOX: Retention = Retention {
        table: "inbox",
        column: "applied_at",
        keep: INBOX_RETENTION,
    };
}

/// Applies each rule once; returns the rows deleted per rule.
pub async fn prune(db: &Db, rules: &[Retention]) -> sqlx::Result<Vec<u64>> {
    let mut deleted = Vec::with_capacity(rules.len());
    for rule in rules {
        let keep = i64::try_from(rule.keep.as_millis()).unwrap_or(i64::MAX);
        let cutoff = unix_millis().saturating_sub(keep);
        let sql = format!("DELETE FROM {} WHERE {} < $1", rule.table, rule.column);
        let result = sqlx::query(&sql).bind(cutoff).execute(db.pool()).await?;
        deleted.push(result.rows_affected());
    }
    Ok(deleted)
}

/// Runs [`prune`] every hour (and once at start) until `shutdown`; a failure is logged and
/// tried again at the next round.
pub fn spawn(db: Db, rules: Vec<Retention>, shutdown: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = shutdown.cancelled() => return,
            }
            match prune(&db, &rules).await {
                Ok(deleted) => {
                    for (rule, rows) in rules.iter().zip(deleted) {
                        if rows > 0 {
                            tracing::info!(table = rule.table, rows, "pruned");
                        }
                    }
                }
                Err(error) => tracing::warn!(%error, "pruning failed; trying again in an hour"),
            }
        }
    })
}
