//! The timer-store conformance suite, against the SQL store (SQLite) and Redis, and the
//! expiration service on each, with real time.

mod service;
mod store;

use std::sync::Arc;

use gittix_expiration::timers::redis::RedisTimers;
use gittix_expiration::timers::sql::SqlTimers;
use gittix_expiration::timers::Timers;
use gittix_expiration::{ExpirationConfig, TimerStore, MIGRATIONS};
use gittix_shared::db::Db;
use tempfile::TempDir;

#[derive(Debug, Clone, Copy)]
pub enum StoreKind {
    Sql,
    Redis,
}

/// A timer store of the test's own: a fresh SQLite file, or a fresh key on the test Redis.
pub struct TestTimers {
    pub timers: Arc<dyn Timers>,
    /// Settings naming the store's Redis key, for building the service on it.
    pub config: ExpirationConfig,
    db: Option<Db>,
    _dir: Option<TempDir>,
}

impl TestTimers {
    pub async fn new(kind: StoreKind) -> Self {
        match kind {
            StoreKind::Sql => {
                let dir = tempfile::tempdir().unwrap();
                let db = sql_db(&dir.path().join("expiration.db")).await;
                Self {
                    timers: Arc::new(SqlTimers::new(db.clone())),
                    config: ExpirationConfig::default(),
                    db: Some(db),
                    _dir: Some(dir),
                }
            }
            StoreKind::Redis => {
                let config = ExpirationConfig {
                    redis_url: gittix_testing::redis_url(),
                    redis_timers_key: format!("test:timers:{}", uuid_like()),
                };
                let timers =
                    RedisTimers::connect(&config.redis_url, config.redis_timers_key.clone())
                        .await
                        .unwrap();
                Self {
                    timers: Arc::new(timers),
                    config,
                    db: None,
                    _dir: None,
                }
            }
        }
    }

    /// The same store, as the service's `build` takes it.
    pub fn store(&self) -> TimerStore {
        match &self.db {
            Some(db) => TimerStore::Sql(db.clone()),
            None => TimerStore::Redis,
        }
    }
}

async fn sql_db(path: &std::path::Path) -> Db {
    let db = Db::open_sqlite_file(path).unwrap();
    db.migrate(&MIGRATIONS).await.unwrap();
    db
}

pub async fn sql_timers(path: &std::path::Path) -> Arc<dyn Timers> {
    Arc::new(SqlTimers::new(sql_db(path).await))
}

fn uuid_like() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

/// Defines each test once per timer store: `name::sql` and `name::redis`.
#[macro_export]
macro_rules! store_tests {
    ($( async fn $name:ident($kind:ident) $body:block )*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn run($kind: $crate::StoreKind) $body

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sql() {
                    run($crate::StoreKind::Sql).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn redis() {
                    run($crate::StoreKind::Redis).await
                }
            }
        )*
    };
}
