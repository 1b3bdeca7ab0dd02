//! Timers in a Redis sorted set: member = the timer's key, score = due time in ms. Durable as far as
//! Redis persists (run it with `appendonly yes`); the connection manager reconnects by itself.

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use redis::AsyncCommands;

use super::{DueTimer, Timers};

pub struct RedisTimers {
    connection: ConnectionManager,
    key: String,
}

impl RedisTimers {
    /// Connects to `url`, keeping the timers in the sorted set `key`.
    pub async fn connect(url: &str, key: impl Into<String>) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)?;
        let connection = ConnectionManager::new(client).await?;
        Ok(Self {
            connection,
            key: key.into(),
        })
    }
}

#[async_trait]
impl Timers for RedisTimers {
    async fn schedule(&self, key: &str, due_at: i64) -> anyhow::Result<()> {
        let mut connection = self.connection.clone();
        let _: i64 = connection.zadd(&self.key, key, due_at).await?;
        Ok(())
    }

    async fn due(&self, now: i64, limit: usize) -> anyhow::Result<Vec<DueTimer>> {
        let mut connection = self.connection.clone();
        let limit = isize::try_from(limit).unwrap_or(isize::MAX);
        let due: Vec<(String, i64)> = connection
            .zrangebyscore_limit_withscores(&self.key, "-inf", now, 0, limit)
            .await?;
        Ok(due
            .into_iter()
            .map(|(key, due_at)| DueTimer { key, due_at })
            .collect())
    }

    async fn next_due(&self) -> anyhow::Result<Option<i64>> {
        let mut connection = self.connection.clone();
        let first: Vec<(String, i64)> = connection.zrange_withscores(&self.key, 0, 0).await?;
        Ok(first.first().map(|(_, due_at)| *due_at))
    }

    async fn remove(&self, key: &str) -> anyhow::Result<()> {
        let mut connection = self.connection.clone();
        let _: i64 = connection.zrem(&self.key, key).await?;
        Ok(())
    }

    async fn ping(&self) -> anyhow::Result<()> {
        let mut connection = self.connection.clone();
        let _: String = redis::cmd("PING").query_async(&mut connection).await?;
        Ok(())
    }
}
