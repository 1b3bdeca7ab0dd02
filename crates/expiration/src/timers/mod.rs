//! The timer store: one timer per key (what each is for: `timer_kind`), durable across restarts. Two adapters pass the same
//! conformance suite (`tests/timers`): [`sql::SqlTimers`] (embedded mode, SQLite) and
//! [`redis::RedisTimers`] (distributed mode, a Redis sorted set).

pub mod redis;
pub mod sql;

use async_trait::async_trait;

/// A timer that fell due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueTimer {
    /// What it is for (see `timer_kind`).
    pub key: String,
    /// When it was due, in milliseconds since the Unix epoch.
    pub due_at: i64,
}

#[async_trait]
pub trait Timers: Send + Sync + 'static {
    /// Sets the timer `key` to `due_at` (ms); scheduling the same key again moves it.
    async fn schedule(&self, key: &str, due_at: i64) -> anyhow::Result<()>;

    /// Timers due at or before `now` (ms), earliest first, at most `limit`. They stay stored
    /// until [`Timers::remove`], so a process that dies before firing them fires them later.
    async fn due(&self, now: i64, limit: usize) -> anyhow::Result<Vec<DueTimer>>;

    /// When the earliest stored timer falls due, if there is one.
    async fn next_due(&self) -> anyhow::Result<Option<i64>>;

    /// Forgets a fired timer.
    async fn remove(&self, key: &str) -> anyhow::Result<()>;

    /// Succeeds when the store answers now (for `/readyz`).
    async fn ping(&self) -> anyhow::Result<()>;
}
