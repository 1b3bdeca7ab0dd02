//! Tables that only remember (which events were applied, which webhooks handled, which orders
//! ended, which cooldowns run) are pruned on a schedule, so they stay bounded however long a
//! service runs. Each rule deletes the rows whose time column is older than its retention; the
//! retentions are documented in docs/operations.md ("What grows, and what is pruned").

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::db::Db;
use crate::time::unix_millis;

const HOUR: Duration = Duration::from_secs(60 * 60);
const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// How long the bus keeps a message (JetStream's `max_age`, the embedded log's retention,
/// `BUS_RETENTION_SECONDS`), and what follows from it: no event older than this can be
/// delivered again, so a memory of it is no longer needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retentions {
    pub bus: Duration,
}

impl Retentions {
    /// A week.
    pub const DEFAULT: Self = Self { bus: BUS_RETENTION };

    /// The inbox keeps event ids longer than the bus keeps the events: a day longer, or twice
    /// as long when the bus keeps less than a day.
    pub fn inbox(self) -> Duration {
        self.bus + self.bus.min(DAY)
    }

    /// How often the rules run: every hour, or ten times per bus retention when it is shorter
    /// than ten hours (so a row outlives its retention by a tenth of it at most).
    pub fn every(self) -> Duration {
        (self.bus / 10).clamp(Duration::from_secs(1), HOUR)
    }
}

impl Default for Retentions {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The bus's retention by default: a week.
pub const BUS_RETENTION: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// How long a rule keeps a row.
#[derive(Debug, Clone, Copy)]
pub enum Keep {
    /// As long as the inbox: the row remembers an event that the bus may still deliver.
    Inbox,
    /// This long, whatever the bus keeps.
    For(Duration),
}

/// Rows of `table` whose `column` (unix ms) is more than `keep` in the past are deleted.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    pub table: &'static str,
    pub column: &'static str,
    pub keep: Keep,
}

impl Retention {
    /// The inbox of every service that consumes events.
    pub const INBOX: Retention = Retention {
        table: "inbox",
        column: "applied_at",
        keep: Keep::Inbox,
    };

    /// How long this rule keeps a row under `retentions`.
    pub fn kept(self, retentions: Retentions) -> Duration {
        match self.keep {
            Keep::Inbox => retentions.inbox(),
            Keep::For(keep) => keep,
        }
    }
}

/// Applies each rule once under `retentions`; returns the rows deleted per rule.
pub async fn prune(db: &Db, rules: &[Retention], retentions: Retentions) -> sqlx::Result<Vec<u64>> {
    let mut deleted = Vec::with_capacity(rules.len());
    for rule in rules {
        let keep = i64::try_from(rule.kept(retentions).as_millis()).unwrap_or(i64::MAX);
        let cutoff = unix_millis().saturating_sub(keep);
        let sql = format!("DELETE FROM {} WHERE {} < $1", rule.table, rule.column);
        let result = sqlx::query(&sql).bind(cutoff).execute(db.pool()).await?;
        deleted.push(result.rows_affected());
    }
    Ok(deleted)
}

/// Runs [`prune`] every [`Retentions::every`] (and once at start) until `shutdown`; a failure
/// is logged and tried again at the next round.
pub fn spawn(
    db: Db,
    rules: Vec<Retention>,
    retentions: Retentions,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(retentions.every());
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = shutdown.cancelled() => return,
            }
            match prune(&db, &rules, retentions).await {
                Ok(deleted) => {
                    for (rule, rows) in rules.iter().zip(deleted) {
                        if rows > 0 {
                            tracing::info!(table = rule.table, rows, "pruned");
                        }
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "pruning failed; trying again at the next round")
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inbox_outlives_the_bus_and_pruning_keeps_pace_with_it() {
        let week = Retentions::DEFAULT;
        assert_eq!(week.inbox(), Duration::from_secs(8 * 24 * 60 * 60));
        assert_eq!(week.every(), HOUR);
        let minute = Retentions {
            bus: Duration::from_secs(60),
        };
        assert_eq!(minute.inbox(), Duration::from_secs(120));
        assert_eq!(minute.every(), Duration::from_secs(6));
        let tiny = Retentions {
            bus: Duration::from_millis(10),
        };
        assert_eq!(tiny.every(), Duration::from_secs(1));
    }
}
