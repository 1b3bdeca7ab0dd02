//! Storage shared by every service: one connection pool over SQLite (embedded) or PostgreSQL
//! (distributed), chosen by URL, so each store is one code path for both.
//!
//! Queries use `$1`-style parameters and portable column types (text ids, integer cents, integer
//! millisecond timestamps); where the dialects differ (identity columns) each service keeps one
//! migration folder per backend.

use std::borrow::Cow;
use std::path::Path;
use std::sync::{Arc, Once};
use std::time::Duration;

use anyhow::Context;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, ConnectOptions, Executor};
use tokio::sync::Notify;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            anyhow::bail!("unsupported database URL (expected sqlite: or postgres://)")
        }
    }
}

#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(3),
        }
    }
}

/// Creates `path` (and its directory) empty with mode 0600 if it does not exist, and sets 0600
/// if it does.
fn make_private(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        // A handle may be opened before the process that fills the file has made its
        // directory (the bench opens the embedded databases before GitTix starts).
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| anyhow::anyhow!("creating {}: {e}", parent.display()))?;
        }
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| anyhow::anyhow!("opening {}: {e}", path.display()))?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| anyhow::anyhow!("making {} private: {e}", path.display()))?;
    }
    Ok(())
}

/// A service's schema for both backends.
pub struct Migrations {
    pub sqlite: Migrator,
    pub postgres: Migrator,
}

/// The [`Migrations`] of the calling crate: `migrations/sqlite` and `migrations/postgres` beside
/// its `Cargo.toml`, embedded at compile time.
#[macro_export]
macro_rules! crate_migrations {
    () => {
        $crate::db::Migrations {
            sqlite: ::sqlx::migrate!("migrations/sqlite"),
            postgres: ::sqlx::migrate!("migrations/postgres"),
        }
    };
}

/// Tables of the shared machinery (the outbox), applied before each service's own migrations.
/// Their versions stay below 100; services number theirs from 100.
static SHARED_MIGRATIONS: Migrations = crate_migrations!();

/// A service's database.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// Signalled when a transaction that wrote outbox events commits; the relay waits on it.
    outbox_signal: Arc<Notify>,
}

impl Db {
    /// Connects lazily: a database that is down at start-up makes requests answer 503 until it
    /// is back, rather than stopping the service.
    pub fn connect_lazy(url: &str, settings: &PoolSettings) -> anyhow::Result<Self> {
        static DRIVERS: Once = Once::new();
        DRIVERS.call_once(sqlx::any::install_default_drivers);
        let backend = Backend::of_url(url)?;
        let options: AnyConnectOptions = url
            .parse::<AnyConnectOptions>()
            .context("parsing the database URL")?
            .log_statements(tracing::log::LevelFilter::Trace);
        let pool_options = AnyPoolOptions::new()
            .acquire_timeout(settings.acquire_timeout)
            .test_before_acquire(true);
        let pool = match backend {
            Backend::Postgres => pool_options.max_connections(settings.max_connections),
            // One connection: SQLite has one writer at a time, and a single connection rules out
            // "database is locked" failures when two transactions both try to upgrade to writing.
            Backend::Sqlite => pool_options.max_connections(1).after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                         PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;",
                    )
                    .await?;
                    Ok(())
                })
            }),
        }
        .connect_lazy_with(options);
        Ok(Self {
            pool,
            backend,
            outbox_signal: Arc::default(),
        })
    }

    /// Opens (creating if needed) the SQLite file at `path`.
    ///
    /// The file is readable by its owner alone (0600), created so if it is new: it holds
    /// password hashes, orders and charges. SQLite gives its `-wal` and `-shm` files the
    /// database file's permissions.
    pub fn open_sqlite_file(path: &Path) -> anyhow::Result<Self> {
        make_private(path)?;
        let url = format!("sqlite://{}?mode=rwc", path.display());
        Self::connect_lazy(&url, &PoolSettings::default())
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The clause that locks the rows a `SELECT` reads until the transaction ends: `FOR UPDATE` on
    /// PostgreSQL; nothing on SQLite, where the single connection already serializes transactions.
    pub fn lock_rows(&self) -> &'static str {
        match self.backend {
            Backend::Postgres => " FOR UPDATE",
            Backend::Sqlite => "",
        }
    }

    /// The clause that keeps the rows a `SELECT` reads from changing until the transaction ends,
    /// while other readers may still read them: `FOR SHARE` on PostgreSQL; nothing on SQLite.
    pub fn share_rows(&self) -> &'static str {
        match self.backend {
            Backend::Postgres => " FOR SHARE",
            Backend::Sqlite => "",
        }
    }

    pub fn outbox_signal(&self) -> &Notify {
        &self.outbox_signal
    }

    /// Applies the shared tables and then the service's own migrations, in version order.
    pub async fn migrate(&self, service: &Migrations) -> anyhow::Result<()> {
        let (shared, own) = match self.backend {
            Backend::Sqlite => (&SHARED_MIGRATIONS.sqlite, &service.sqlite),
            Backend::Postgres => (&SHARED_MIGRATIONS.postgres, &service.postgres),
        };
        let mut migrations: Vec<_> = shared.iter().chain(own.iter()).cloned().collect();
        migrations.sort_by_key(|m| m.version);
        let migrator = Migrator {
            migrations: Cow::Owned(migrations),
            ..Migrator::DEFAULT
        };
        migrator
            .run(&self.pool)
            .await
            .context("applying database migrations")
    }

    /// Succeeds when the database answers a query now.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        self.pool.execute("SELECT 1").await.map(drop)
    }
}

/// True when the error means "the database cannot be reached" rather than "the query is wrong".
pub fn is_connection_error(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // PostgreSQL's classes 08 (connection exception), 57P (shut down, starting up) and 53300
        // (too many connections).
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || code.starts_with("57P") || code == "53300"
        }),
        _ => false,
    }
}

/// True when the error is a unique constraint refusing a duplicate.
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}
