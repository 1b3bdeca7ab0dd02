//! Servers of a test's own (PostgreSQL, NATS, Redis) in temporary directories, which the test
//! may stop and start again to see what an outage does.

use std::path::PathBuf;
use std::process::Command;

use tempfile::TempDir;

use crate::env::required_var;

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
pub fn free_port() -> u16 {
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
