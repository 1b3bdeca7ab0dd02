//! A database of its own for each test, on either backend.

use gittix_shared::db::{Backend, Db, PoolSettings};
use sqlx::{Connection, Executor};
use tempfile::TempDir;

use crate::env::postgres_url;

/// Every backend, for tests that must hold on each.
pub const BACKENDS: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

/// A database of its own for one test; dropped with it (SQLite) or left in the throwaway server.
pub struct TestDatabase {
    pub db: Db,
    pub url: String,
    _dir: Option<TempDir>,
}

/// Creates an empty database on `backend`, pooled with `settings`.
pub async fn fresh_database_with(backend: Backend, settings: &PoolSettings) -> TestDatabase {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temporary directory");
            let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
            let db = Db::connect_lazy(&url, settings).expect("sqlite database");
            TestDatabase {
                db,
                url,
                _dir: Some(dir),
            }
        }
        Backend::Postgres => {
            let server = postgres_url();
            let url = create_postgres_database(&server).await;
            let db = Db::connect_lazy(&url, settings).expect("postgres database");
            TestDatabase {
                db,
                url,
                _dir: None,
            }
        }
    }
}

pub async fn fresh_database(backend: Backend) -> TestDatabase {
    fresh_database_with(backend, &PoolSettings::default()).await
}

/// Creates a uniquely named database on the server at `server_url` (no database path) and
/// returns its URL.
pub async fn create_postgres_database(server_url: &str) -> String {
    let server_url = server_url.trim_end_matches('/');
    let name = format!("gittix_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&format!("{server_url}/postgres"))
        .await
        .expect("connecting to the test PostgreSQL server");
    admin
        .execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
        .await
        .expect("creating a test database");
    format!("{server_url}/{name}")
}
