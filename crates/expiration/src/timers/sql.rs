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
    async fn schedule(&self, order_id: &str, due_at: i64) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO timers (order_id, due_at) VALUES ($1, $2) \
             ON CONFLICT (order_id) DO UPDATE SET due_at = excluded.due_at",
        )
        .bind(order_id)
        .bind(due_at)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    async fn due(&self, now: i64, limit: usize) -> anyhow::Result<Vec<DueTimer>> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT order_id, due_at FROM timers WHERE due_at <= $1 ORDER BY due_at, order_id LIMIT $2")
                .bind(now)
                .bind(i64::try_from(limit).unwrap_or(i64::MAX))
                .fetch_all(self.db.pool())
                .await?;
        Ok(rows
            .into_iter()
            .map(|(order_id, due_at)| DueTimer { order_id, due_at })
            .collect())
    }

    async fn next_due(&self) -> anyhow::Result<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT MIN(due_at) FROM timers")
            .fetch_one(self.db.pool())
            .await?)
    }

    async fn remove(&self, order_id: &str) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM timers WHERE order_id = $1")
            .bind(order_id)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    async fn ping(&self) -> anyhow::Result<()> {
        Ok(self.db.ping().await?)
    }
}
