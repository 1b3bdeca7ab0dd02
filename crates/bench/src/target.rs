//! The GitTix under load: one embedded `gittix` process this bench starts in a fresh data
//! directory, or the local distributed cluster (`scripts/cluster`) it runs inside.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use gittix_shared::db::{Db, PoolSettings};
use serde::{Deserialize, Serialize};

use crate::client::Http;

/// `MAX_HELD_TICKETS` and the rate limits for the benchmarks (and `scripts/bench` gives the
/// cluster the same): high enough never to be reached.
pub const UNLIMITED: &str = "1000000";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Embedded,
    Distributed,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Self::Embedded => "embedded",
            Self::Distributed => "distributed",
        }
    }
}

/// Read access to the services' databases, for waiting on replicas and for the correctness
/// counters: the bench checks what was stored, not only what the API answered.
pub struct Databases {
    pub tickets: Db,
    pub orders: Db,
    pub payments: Db,
    pub notifications: Db,
}

pub struct Target {
    pub mode: Mode,
    pub http: Http,
    /// (name, pid) of every process serving GitTix, for the memory readings.
    pub processes: Vec<(String, u32)>,
    pub databases: Databases,
    /// How long an order holds its ticket in this GitTix.
    pub lock_window: Duration,
    /// The PostgreSQL server of the cluster (distributed mode), without a database name.
    pub postgres_url: Option<String>,
    /// A scratch directory for this run, removed at the end.
    pub scratch: PathBuf,
    embedded: Option<Child>,
}

impl Target {
    /// Starts `gittix` (embedded mode) with a fresh data directory under `scratch`.
    pub async fn start_embedded(
        gittix: &Path,
        scratch: PathBuf,
        lock_window: Duration,
    ) -> anyhow::Result<Self> {
        Self::start_embedded_with(gittix, scratch, lock_window, &[]).await
    }

    /// As [`start_embedded`](Self::start_embedded), with more settings in its environment.
    pub async fn start_embedded_with(
        gittix: &Path,
        scratch: PathBuf,
        lock_window: Duration,
        settings: &[(&str, String)],
    ) -> anyhow::Result<Self> {
        let data = scratch.join("data");
        let stdout_path = scratch.join("gittix.stdout");
        let child = Command::new(gittix)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOST", "127.0.0.1")
            .env("PORT", "0")
            .env("DATA_DIR", &data)
            .env("ORDER_LOCK_SECONDS", lock_window.as_secs().to_string())
            // The bench measures throughput: a buyer per client reserves and pays for thousands
            // of tickets, and the expiry scenario's tickets are taken again. The limits are the
            // services' suites' to test.
            .env("MAX_HELD_TICKETS", UNLIMITED)
            .env("REHOLD_COOLDOWN_SECONDS", "0")
            .env("ORDERS_PER_USER_PER_MINUTE", UNLIMITED)
            .env("PAYMENTS_PER_USER_PER_MINUTE", UNLIMITED)
            // Every simulated user signs up and pays from 127.0.0.1.
            .env("SIGNUPS_PER_CLIENT_PER_MINUTE", UNLIMITED)
            .env("PAYMENTS_PER_CLIENT_PER_MINUTE", UNLIMITED)
            .envs(settings.iter().map(|(name, value)| (*name, value.as_str())))
            .stdout(std::fs::File::create(&stdout_path)?)
            .stderr(std::fs::File::create(scratch.join("gittix.log"))?)
            .stdin(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", gittix.display()))?;
        let pid = child.id();
        let mut target = Self {
            mode: Mode::Embedded,
            http: Http::new("http://127.0.0.1:1"),
            processes: vec![("gittix".to_owned(), pid)],
            databases: Databases {
                tickets: Db::open_sqlite_file(&data.join("tickets.db"))?,
                orders: Db::open_sqlite_file(&data.join("orders.db"))?,
                payments: Db::open_sqlite_file(&data.join("payments.db"))?,
                notifications: Db::open_sqlite_file(&data.join("notifications.db"))?,
            },
            lock_window,
            postgres_url: None,
            scratch,
            embedded: Some(child),
        };
        let base = wait_for_address(&stdout_path, target.embedded.as_mut().expect("just set"))?;
        target.http = Http::new(&base);
        wait_until_ready(&target.http, Duration::from_secs(30)).await?;
        Ok(target)
    }

    /// The cluster `scripts/cluster` started, described by the variables it exports.
    pub async fn distributed(scratch: PathBuf) -> anyhow::Result<Self> {
        let var = |name: &str| {
            std::env::var(name).with_context(|| {
                format!("{name} is not set: run distributed mode inside scripts/cluster")
            })
        };
        let base = var("GITTIX_E2E_BASE_URL")?;
        let cluster_dir = PathBuf::from(var("GITTIX_E2E_CLUSTER_DIR")?);
        let postgres = var("GITTIX_E2E_POSTGRES_URL")?;
        let lock_window = Duration::from_secs(var("GITTIX_E2E_LOCK_SECONDS")?.parse()?);
        let db =
            |name: &str| Db::connect_lazy(&format!("{postgres}/{name}"), &PoolSettings::default());
        let http = Http::new(&base);
        // Through the gateway the operations routes answer 404: wait for an API instead.
        wait_until_answering(&http, "/api/tickets", Duration::from_secs(30)).await?;
        Ok(Self {
            mode: Mode::Distributed,
            http,
            processes: cluster_processes(&cluster_dir.join("pids"))?,
            databases: Databases {
                tickets: db("tickets")?,
                orders: db("orders")?,
                payments: db("payments")?,
                notifications: db("notifications")?,
            },
            lock_window,
            postgres_url: Some(postgres),
            scratch,
            embedded: None,
        })
    }

    /// Stops the embedded process (SIGTERM, as a user would) and removes the scratch directory.
    pub fn stop(mut self) {
        if let Some(mut child) = self.embedded.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        // A bench that fails half-way must not leave GitTix running.
        if let Some(child) = self.embedded.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The address gittix prints when it listens ("GitTix listening on http://…").
fn wait_for_address(stdout: &Path, child: &mut Child) -> anyhow::Result<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let text = std::fs::read_to_string(stdout).unwrap_or_default();
        if let Some(address) = text
            .lines()
            .find_map(|line| line.split_once(" listening on ").map(|(_, a)| a.trim()))
        {
            return Ok(address.to_owned());
        }
        if let Some(status) = child.try_wait()? {
            anyhow::bail!("gittix exited at start-up ({status}): {text}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    anyhow::bail!("gittix did not say where it listens within 30 s")
}

/// Waits up to `patience` for `/readyz` on `http` (a process, not the gateway) to answer 200.
pub async fn wait_until_ready(http: &Http, patience: Duration) -> anyhow::Result<()> {
    wait_until_answering(http, "/readyz", patience).await
}

/// Waits up to `patience` for `path` on `http` to answer 2xx.
pub async fn wait_until_answering(
    http: &Http,
    path: &str,
    patience: Duration,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + patience;
    loop {
        match http.get(path, None).await {
            Ok(reply) if reply.status.is_success() => return Ok(()),
            _ if Instant::now() > deadline => anyhow::bail!("{} is not ready", http.base()),
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// The processes of the cluster, from its `pids/<name>.pid` files.
fn cluster_processes(pids: &Path) -> anyhow::Result<Vec<(String, u32)>> {
    let mut processes = Vec::new();
    for entry in std::fs::read_dir(pids).with_context(|| format!("reading {}", pids.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "pid") {
            let name = path
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let pid = std::fs::read_to_string(&path)?.trim().parse()?;
            processes.push((name, pid));
        }
    }
    processes.sort();
    Ok(processes)
}
