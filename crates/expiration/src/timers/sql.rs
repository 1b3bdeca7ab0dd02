//! Timers in a table of the expiration service's own database (SQLite in embedded mode).

use async_trait::async_trait;
use gittix_shared::db::Db;

use super::{DueTimer, Timers};

pub struct SqlTimers {
    db: Db,
}

impl SqlTimers {
    /// Uses `db`, already migrated with [`crate::MIGRATIONS`].
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

#[async_trait]
impl Timers for SqlTimers {
    async fn schedule(&self, key: &str, due_at: i64) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO timers (timer_key, due_at) VALUES ($1, $2) \
             ON CONFLICT (timer_key) DO UPDATE SET due_at = excluded.due_at",
        )
        .bind(key)
        .bind(due_at)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    async fn due(&self, now: i64, limit: usize) -> anyhow::Result<Vec<DueTimer>> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT timer_key, due_at FROM timers WHERE due_at <= $1 ORDER BY due_at, timer_key LIMIT $2")
                .bind(now)
                .bind(i64::try_from(limit).unwrap_or(i64::MAX))
                .fetch_all(self.db.pool())
                .await?;
        Ok(rows
            .into_iter()
            .map(|(key, due_at)| DueTimer { key, due_at })
            .collect())
    }

    async fn next_due(&self) -> anyhow::Result<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT MIN(due_at) FROM timers")
            .fetch_one(self.db.pool())
            .await?)
    }

    async fn remove(&self, key: &str) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM timers WHERE timer_key = $1")
            .bind(key)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    async fn ping(&self) -> anyhow::Result<()> {
        Ok(self.db.ping().await?)
    }
}
