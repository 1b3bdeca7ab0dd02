//! Servers of a test's own (PostgreSQL, NATS, Redis) in temporary directories, which the test
//! may stop and start again to see what an outage does. They are started by [`launch`], as the
//! scripts' servers are (through the `gittix-dev` binary).

pub mod launch;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

pub use launch::free_port;
use launch::{Postgres, Server, StopMode};

/// How long a server may take to accept connections.
const START_PATIENCE: Duration = Duration::from_secs(10);

/// A PostgreSQL server of the test's own, in a temporary directory, that it may stop and start.
pub struct PrivatePostgres {
    // Dropped after the server is stopped (fields drop after `drop`).
    _dir: TempDir,
    server: Postgres,
    port: u16,
}

impl PrivatePostgres {
    pub fn start() -> Self {
        let bin = Server::Postgres
            .installed()
            .unwrap_or_else(|e| panic!("{e}"));
        let dir = tempfile::Builder::new()
            .prefix("gittix-pg")
            .tempdir()
            .expect("temporary directory");
        let server = Postgres::new(bin, dir.path().to_owned()).unwrap_or_else(|e| panic!("{e}"));
        server.init().unwrap_or_else(|e| panic!("{e}"));
        let postgres = Self {
            _dir: dir,
            server,
            port: free_port(),
        };
        postgres.start_again();
        postgres
    }

    /// The server's URL without a database, as [`crate::create_postgres_database`] takes it.
    pub fn server_url(&self) -> String {
        format!("postgres://postgres@{}:{}", launch::HOST, self.port)
    }

    /// Stops the server, closing every connection ("fast" shutdown).
    pub fn stop(&self) {
        self.server
            .stop(StopMode::Fast)
            .unwrap_or_else(|e| panic!("{e}"));
    }

    pub fn start_again(&self) {
        let log = self.server.dir.join("server.log");
        self.server
            .start(self.port, &log, false)
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        // Stopped already, if the test stopped it last.
        let _ = self.server.stop(StopMode::Immediate);
    }
}

/// A server process of the test's own on a free loopback port, its files in a temporary
/// directory that outlives a restart, so a test may stop it and start it again.
struct PrivateServer {
    dir: TempDir,
    port: u16,
    program: PathBuf,
    command: fn(&Path, &Path, u16) -> Command,
    child: Child,
}

impl PrivateServer {
    /// Starts `server` with `command(program, files, port)`.
    fn start(server: Server, command: fn(&Path, &Path, u16) -> Command) -> Self {
        let program = server.installed().unwrap_or_else(|e| panic!("{e}"));
        let dir = tempfile::tempdir().expect("temporary directory");
        let port = free_port();
        let child = Self::spawn(&program, dir.path(), port, command);
        Self {
            dir,
            port,
            program,
            command,
            child,
        }
    }

    /// Starts the server, its output in `server.log` in its directory and its files in `data/`,
    /// and waits until it accepts connections.
    fn spawn(
        program: &Path,
        dir: &Path,
        port: u16,
        command: fn(&Path, &Path, u16) -> Command,
    ) -> Child {
        let log = File::options()
            .create(true)
            .append(true)
            .open(dir.join("server.log"))
            .expect("the server's log");
        let mut command = command(program, &dir.join("data"), port);
        let mut child = command
            .stdout(log.try_clone().expect("the server's log"))
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {command:?}: {e}"));
        if !launch::wait_for_port(port, START_PATIENCE) {
            let _ = child.kill();
            let _ = child.wait();
            let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
            panic!("{command:?} did not start:\n{log}");
        }
        child
    }

    /// Stops the server the way an orchestrator would (SIGTERM), and waits for it to exit.
    fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }

    /// Sends the server a signal by name (`STOP`, `CONT`).
    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("running kill");
        assert!(status.success(), "kill -{name} failed");
    }

    fn start_again(&mut self) {
        self.child = Self::spawn(&self.program, self.dir.path(), self.port, self.command);
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A NATS server with JetStream of the test's own; its file storage survives a restart.
pub struct PrivateNats(PrivateServer);

impl PrivateNats {
    pub fn start() -> Self {
        Self(PrivateServer::start(Server::Nats, launch::nats_command))
    }

    pub fn url(&self) -> String {
        format!("nats://{}:{}", launch::HOST, self.0.port)
    }

    pub fn stop(&mut self) {
        self.0.stop();
    }

    pub fn start_again(&mut self) {
        self.0.start_again();
    }

    /// Freezes the server (SIGSTOP): its connections stay open and nothing answers, as with a
    /// server that hangs or a network that drops packets.
    pub fn freeze(&self) {
        self.0.signal("STOP");
    }

    pub fn thaw(&self) {
        self.0.signal("CONT");
    }
}

/// A Redis server of the test's own with an append-only file, so a restart keeps everything.
pub struct PrivateRedis(PrivateServer);

impl PrivateRedis {
    pub fn start() -> Self {
        Self(PrivateServer::start(Server::Redis, |program, dir, port| {
            launch::redis_command(program, dir, port).unwrap_or_else(|e| panic!("{e}"))
        }))
    }

    pub fn url(&self) -> String {
        format!("redis://{}:{}", launch::HOST, self.0.port)
    }

    /// Stops the server with SIGTERM (it writes its append-only file first) and waits for it.
    pub fn stop(&mut self) {
        self.0.stop();
    }

    pub fn start_again(&mut self) {
        self.0.start_again();
    }
}
