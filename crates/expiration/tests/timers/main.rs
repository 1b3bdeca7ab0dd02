//! The timer-store conformance suite, against the SQL store (SQLite) and Redis, and the
//! expiration service on each, with real time.

mod service;
mod store;

use std::sync::Arc;

use gittix_expiration::timers::redis::RedisTimers;
use gittix_expiration::timers::sql::SqlTimers;
use gittix_expiration::timers::Timers;
use gittix_expiration::MIGRATIONS;
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
    _dir: Option<TempDir>,
}

impl TestTimers {
    pub async fn new(kind: StoreKind) -> Self {
        match kind {
            StoreKind::Sql => {
                let dir = tempfile::tempdir().unwrap();
                let timers = sql_timers(&dir.path().join("expiration.db")).await;
                Self {
                    timers,
                    _dir: Some(dir),
                }
            }
            StoreKind::Redis => {
                let key = format!("test:timers:{}", uuid_like());
                let timers = RedisTimers::connect(&gittix_testing::redis_url(), key)
                    .await
                    .unwrap();
                Self {
                    timers: Arc::new(timers),
                    _dir: None,
                }
            }
        }
    }
}

pub async fn sql_timers(path: &std::path::Path) -> Arc<dyn Timers> {
    let db = Db::open_sqlite_file(path).unwrap();
    db.migrate(&MIGRATIONS).await.unwrap();
    Arc::new(SqlTimers::new(db))
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
