//! Helpers for integration tests (feature `testing`): a fresh database per test on either
//! backend, an app served on port 0, and a private PostgreSQL a test may stop and restart.
//!
//! The PostgreSQL tests need the server the README test command starts: it exports
//! `GITTIX_TEST_POSTGRES_URL`, and for private servers `GITTIX_TEST_PG_BIN` (the folder holding
//! `initdb` and `pg_ctl`) and `GITTIX_TEST_PG_USER` (who runs them when the tests run as root).
//! Without them these helpers panic: a missing server is a failure, never a skipped test.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;

use axum::Router;
use sqlx::{Connection, Executor};
use tempfile::TempDir;
use tokio::net::TcpListener;

use crate::db::{Backend, Db, PoolSettings};

pub const POSTGRES_URL_VAR: &str = "GITTIX_TEST_POSTGRES_URL";

/// Every backend, for tests that must hold on each.
pub const BACKENDS: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

fn required_var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests with the README test command (scripts/test), which starts the servers they need")
    })
}

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
            let server = required_var(POSTGRES_URL_VAR);
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

/// An app listening on a free loopback port for the rest of the test.
pub struct TestServer {
    pub address: SocketAddr,
}

impl TestServer {
    pub async fn spawn(app: Router) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding port 0");
        let address = listener.local_addr().expect("local address");
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .expect("test server failed");
        });
        Self { address }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }
}

/// The `name=value` pair of the session cookie a response sets, if any.
pub fn session_cookie(response: &reqwest::Response) -> Option<String> {
    set_cookie_headers(response)
        .into_iter()
        .find(|c| c.starts_with(&format!("{}=", crate::session::SESSION_COOKIE)))
        .map(|c| c.split(';').next().unwrap_or_default().to_owned())
}

/// Every `Set-Cookie` header of a response, whole.
pub fn set_cookie_headers(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect()
}

/// A PostgreSQL server of the test's own, in a temporary directory, that it may stop and start.
pub struct PrivatePostgres {
    dir: TempDir,
    bin: PathBuf,
    run_as: Option<String>,
    port: u16,
}

impl PrivatePostgres {
    pub fn start() -> Self {
        let bin = PathBuf::from(required_var("GITTIX_TEST_PG_BIN"));
        let run_as = std::env::var("GITTIX_TEST_PG_USER")
            .ok()
            .filter(|u| !u.is_empty());
        let dir = tempfile::Builder::new()
            .prefix("gittix-pg")
            .tempdir()
            .expect("temporary directory");
        if let Some(user) = &run_as {
            run(Command::new("chown").arg(user).arg(dir.path()));
        }
        let port = free_port();
        let server = Self {
            dir,
            bin,
            run_as,
            port,
        };
        run(&mut server.command(
            "initdb",
            &[
                "-D",
                &server.data_dir(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        ));
        server.start_again();
        server
    }

    /// The server's URL without a database, as [`create_postgres_database`] takes it.
    pub fn server_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}", self.port)
    }

    /// Stops the server, closing every connection ("fast" shutdown).
    pub fn stop(&self) {
        run(&mut self.command(
            "pg_ctl",
            &["-D", &self.data_dir(), "-m", "fast", "-w", "stop"],
        ));
    }

    pub fn start_again(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            self.port,
            self.data_dir()
        );
        let log = self.dir.path().join("server.log").display().to_string();
        run(&mut self.command(
            "pg_ctl",
            &[
                "-D",
                &self.data_dir(),
                "-o",
                &options,
                "-l",
                &log,
                "-w",
                "start",
            ],
        ));
    }

    fn data_dir(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn command(&self, program: &str, args: &[&str]) -> Command {
        let program = self.bin.join(program);
        match &self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(program).args(args);
                command
            }
            None => {
                let mut command = Command::new(program);
                command.args(args);
                command
            }
        }
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self
            .command(
                "pg_ctl",
                &["-D", &self.data_dir(), "-m", "immediate", "stop"],
            )
            .output();
    }
}

fn run(command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("running {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A token signed with `key` that expired a minute ago.
pub fn expired_token(key: &[u8], id: &str, email: &str) -> String {
    let now = crate::time::unix_seconds();
    let payload = crate::session::UserPayload {
        id: id.to_owned(),
        email: email.to_owned(),
        iat: now - 3600,
        exp: now - 60,
    };
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &payload,
        &jsonwebtoken::EncodingKey::from_secret(key),
    )
    .expect("encoding a token")
}

/// Defines each test once per backend: `name::sqlite` and `name::postgres`.
///
/// ```ignore
/// backend_tests! {
///     async fn signup_succeeds(backend) { let app = TestApp::spawn(backend).await; ... }
/// }
/// ```
#[macro_export]
macro_rules! backend_tests {
    ($( $(#[$meta:meta])* async fn $name:ident($backend:ident) $body:block )*) => {
        $(
            $(#[$meta])*
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn run($backend: $crate::db::Backend) $body

                #[::tokio::test]
                async fn sqlite() {
                    run($crate::db::Backend::Sqlite).await
                }

                #[::tokio::test]
                async fn postgres() {
                    run($crate::db::Backend::Postgres).await
                }
            }
        )*
    };
}

pub const NATS_URL_VAR: &str = "GITTIX_TEST_NATS_URL";

/// The bus adapters, for tests that must hold on each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BusKind {
    Embedded,
    JetStream,
}

/// A bus of the test's own: a fresh SQLite log, or a fresh stream under a unique subject prefix
/// on the test command's NATS server.
pub struct TestBus {
    pub bus: std::sync::Arc<dyn crate::bus::Bus>,
    dir: Option<TempDir>,
}

impl TestBus {
    pub async fn new(kind: BusKind) -> Self {
        match kind {
            BusKind::Embedded => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let bus = crate::bus::embedded::EmbeddedBus::open(&dir.path().join("bus.db"))
                    .await
                    .expect("opening the embedded bus");
                Self {
                    bus: std::sync::Arc::new(bus),
                    dir: Some(dir),
                }
            }
            BusKind::JetStream => {
                let url = required_var(NATS_URL_VAR);
                Self::jetstream(&url).await
            }
        }
    }

    /// A fresh stream on the NATS server at `url`.
    pub async fn jetstream(url: &str) -> Self {
        let bus = crate::bus::jetstream::JetStreamBus::connect(jetstream_test_settings(url))
            .await
            .expect("connecting to NATS");
        Self {
            bus: std::sync::Arc::new(bus),
            dir: None,
        }
    }

    /// For the embedded bus: the same log opened again, as a restarted process would.
    pub async fn reopen(&self) -> std::sync::Arc<dyn crate::bus::Bus> {
        let dir = self
            .dir
            .as_ref()
            .expect("only the embedded bus is reopened");
        let bus = crate::bus::embedded::EmbeddedBus::open(&dir.path().join("bus.db"))
            .await
            .expect("reopening the embedded bus");
        std::sync::Arc::new(bus)
    }
}

/// Settings for a stream no other test shares.
pub fn jetstream_test_settings(url: &str) -> crate::bus::jetstream::JetStreamSettings {
    let unique = uuid::Uuid::new_v4().simple().to_string();
    crate::bus::jetstream::JetStreamSettings {
        stream: format!("TEST_{unique}"),
        subject_prefix: format!("test{unique}."),
        max_age: std::time::Duration::from_secs(3600),
        ..crate::bus::jetstream::JetStreamSettings::new(url)
    }
}

/// Defines each test once per bus adapter: `name::embedded` and `name::jetstream`.
#[macro_export]
macro_rules! bus_tests {
    ($( $(#[$meta:meta])* async fn $name:ident($kind:ident) $body:block )*) => {
        $(
            $(#[$meta])*
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn run($kind: $crate::testing::BusKind) $body

                #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn embedded() {
                    run($crate::testing::BusKind::Embedded).await
                }

                #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn jetstream() {
                    run($crate::testing::BusKind::JetStream).await
                }
            }
        )*
    };
}

/// A server process of the test's own on a free loopback port, its files in a temporary
/// directory that outlives a restart, so a test may stop it and start it again.
struct PrivateServer {
    dir: TempDir,
    port: u16,
    program: String,
    arguments: fn(&std::path::Path, u16) -> Vec<String>,
    child: std::process::Child,
}

impl PrivateServer {
    /// Starts `program` (or the one `program_var` names) with `arguments(dir, port)`.
    fn start(
        program_var: &str,
        program: &str,
        arguments: fn(&std::path::Path, u16) -> Vec<String>,
    ) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let port = free_port();
        let program = std::env::var(program_var).unwrap_or_else(|_| program.to_owned());
        let child = spawn_listening(&program, &arguments(dir.path(), port), port);
        Self {
            dir,
            port,
            program,
            arguments,
            child,
        }
    }

    /// Stops the server the way an orchestrator would (SIGTERM), and waits for it to exit.
    fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }

    fn start_again(&mut self) {
        self.child = spawn_listening(
            &self.program,
            &(self.arguments)(self.dir.path(), self.port),
            self.port,
        );
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port on 127.0.0.1 that nothing listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Starts `program` and waits until it accepts connections on `port`.
fn spawn_listening(program: &str, arguments: &[String], port: u16) -> std::process::Child {
    let child = Command::new(program)
        .args(arguments)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {program} (run the tests with scripts/test): {e}"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "{program} did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child
}

/// A NATS server with JetStream of the test's own; its file storage survives a restart.
pub struct PrivateNats(PrivateServer);

impl PrivateNats {
    pub fn start() -> Self {
        Self(PrivateServer::start(
            "GITTIX_TEST_NATS_BIN",
            "nats-server",
            |dir, port| {
                let storage = dir.join("jetstream").display().to_string();
                [
                    "-a",
                    "127.0.0.1",
                    "-p",
                    &port.to_string(),
                    "-js",
                    "-sd",
                    &storage,
                ]
                .map(String::from)
                .to_vec()
            },
        ))
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.0.port)
    }

    pub fn stop(&mut self) {
        self.0.stop();
    }

    pub fn start_again(&mut self) {
        self.0.start_again();
    }
}

/// The two ways GitTix runs, as tests exercise them: SQLite with the embedded bus, and
/// PostgreSQL with JetStream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topology {
    Embedded,
    Distributed,
}

impl Topology {
    pub fn backend(self) -> Backend {
        match self {
            Self::Embedded => Backend::Sqlite,
            Self::Distributed => Backend::Postgres,
        }
    }

    pub fn bus(self) -> BusKind {
        match self {
            Self::Embedded => BusKind::Embedded,
            Self::Distributed => BusKind::JetStream,
        }
    }
}

/// Defines each test once per topology: `name::embedded` and `name::distributed`.
#[macro_export]
macro_rules! topology_tests {
    ($( $(#[$meta:meta])* async fn $name:ident($topology:ident) $body:block )*) => {
        $(
            $(#[$meta])*
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn run($topology: $crate::testing::Topology) $body

                #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn embedded() {
                    run($crate::testing::Topology::Embedded).await
                }

                #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn distributed() {
                    run($crate::testing::Topology::Distributed).await
                }
            }
        )*
    };
}

/// The session key of test apps.
pub const TEST_JWT_KEY: &[u8] = b"test-key-test-key-test-key-test-key!";

pub fn test_sessions() -> crate::session::Sessions {
    crate::session::Sessions::new(TEST_JWT_KEY, std::time::Duration::from_secs(3600), false)
}

/// A signed-in user of a test: their id and the `Cookie` header value that signs them in.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: String,
    pub cookie: String,
}

impl TestUser {
    pub fn new(sessions: &crate::session::Sessions) -> Self {
        let id = uuid::Uuid::now_v7().to_string();
        let token = sessions
            .issue(&id, &format!("{id}@test.io"))
            .expect("issuing a token");
        Self {
            id,
            cookie: format!("{}={token}", crate::session::SESSION_COOKIE),
        }
    }
}

/// Watches events on a bus from a consumer group of its own.
pub struct EventLog {
    subscription: Box<dyn crate::bus::Subscription>,
}

impl EventLog {
    pub async fn watch(bus: &dyn crate::bus::Bus, subjects: &[&str]) -> Self {
        let group = format!("observer-{}", uuid::Uuid::new_v4().simple());
        let subjects: Vec<String> = subjects.iter().map(|s| (*s).to_owned()).collect();
        let subscription = bus
            .subscribe(&group, &subjects, &crate::bus::DeliverySettings::default())
            .await
            .expect("subscribing an observer");
        Self { subscription }
    }

    /// The next event (subject and JSON data), failing the test after ten seconds.
    pub async fn next(&mut self) -> (String, serde_json::Value) {
        let delivery =
            tokio::time::timeout(std::time::Duration::from_secs(10), self.subscription.next())
                .await
                .expect("no event arrived")
                .expect("the observer's subscription failed");
        let message = delivery.message.clone();
        delivery.ack().await.expect("acknowledging");
        let data = serde_json::from_slice(&message.payload).expect("a JSON event");
        (message.subject, data)
    }

    /// Fails the test if an event arrives within `window`.
    pub async fn expect_none(&mut self, window: std::time::Duration) {
        if let Ok(Ok(delivery)) = tokio::time::timeout(window, self.subscription.next()).await {
            panic!(
                "unexpected event {}: {}",
                delivery.message.subject,
                String::from_utf8_lossy(&delivery.message.payload)
            );
        }
    }
}

/// Polls `check` every 20 ms until it returns `Some`, failing the test after ten seconds.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Publishes `event` on `bus` with a fresh id, as its owning service's relay would; returns the id.
pub async fn publish_event<E: crate::events::Event>(
    bus: &dyn crate::bus::Bus,
    event: &E,
) -> String {
    let id = uuid::Uuid::now_v7().to_string();
    let payload = serde_json::to_vec(event).expect("serializing an event");
    bus.publish(&crate::bus::Message::new(id.clone(), E::SUBJECT, payload))
        .await
        .expect("publishing an event");
    id
}

/// Listener settings for tests: the defaults, with short retry delays.
pub fn quick_listener_settings() -> crate::listener::ListenerSettings {
    crate::listener::ListenerSettings {
        first_retry_delay: std::time::Duration::from_millis(20),
        max_retry_delay: std::time::Duration::from_millis(200),
        max_deliveries: 50,
        ..crate::listener::ListenerSettings::default()
    }
}

pub const REDIS_URL_VAR: &str = "GITTIX_TEST_REDIS_URL";

/// The Redis server the test command started.
pub fn redis_url() -> String {
    required_var(REDIS_URL_VAR)
}

/// A Redis server of the test's own with append-only persistence, written on every command, so
/// a restart keeps everything.
pub struct PrivateRedis(PrivateServer);

impl PrivateRedis {
    pub fn start() -> Self {
        Self(PrivateServer::start(
            "GITTIX_TEST_REDIS_BIN",
            "redis-server",
            |dir, port| {
                let dir = dir.display().to_string();
                let port = port.to_string();
                let args = [
                    "--bind",
                    "127.0.0.1",
                    "--port",
                    &port,
                    "--save",
                    "",
                    "--appendonly",
                    "yes",
                ];
                args.iter()
                    .chain(&["--appendfsync", "always", "--dir", &dir])
                    .map(|a| (*a).to_owned())
                    .collect()
            },
        ))
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.0.port)
    }

    /// Stops the server with SIGTERM (it writes its append-only file first) and waits for it.
    pub fn stop(&mut self) {
        self.0.stop();
    }

    pub fn start_again(&mut self) {
        self.0.start_again();
    }
}

pub const STRIPE_URL_VAR: &str = "GITTIX_TEST_STRIPE_URL";

/// The Stripe-compatible server the test command started.
pub fn stripe_url() -> String {
    required_var(STRIPE_URL_VAR)
}
