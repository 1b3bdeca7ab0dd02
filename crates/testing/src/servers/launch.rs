//! The one implementation that starts PostgreSQL, NATS with JetStream and Redis on 127.0.0.1 in
//! a private directory. The tests' private servers (the parent module) and the `gittix-dev`
//! binary, which the scripts call (`scripts/lib/servers.sh`), both use it: the programs are found,
//! the ports chosen and the arguments written here only.

use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Every server listens on this address only.
pub const HOST: &str = "127.0.0.1";

/// A failure, with what was run and what it printed.
pub type Result<T> = std::result::Result<T, String>;

/// A TCP port on 127.0.0.1 that nothing listens on, below the kernel's range of ephemeral ports
/// (32768 and up by default): a port in that range can be taken at any moment as the source port
/// of some outgoing connection, and a server binding it later fails.
pub fn free_port() -> u16 {
    let ephemeral = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let high = ephemeral.min(32000);
    let low = if high > 13000 { 12000 } else { 1024 };
    for _ in 0..10_000 {
        let port = low + (random() % u64::from(high - low)) as u16;
        if TcpListener::bind((HOST, port)).is_ok() {
            return port;
        }
    }
    panic!("no free port on {HOST} between {low} and {high}");
}

fn random() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    if let Ok(since) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        hasher.write_u128(since.as_nanos());
    }
    hasher.finish()
}

/// Waits up to `patience` until something accepts connections on 127.0.0.1:`port`.
pub fn wait_for_port(port: u16, patience: Duration) -> bool {
    let deadline = Instant::now() + patience;
    while TcpStream::connect((HOST, port)).is_err() {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

/// The servers this module starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Server {
    Postgres,
    Nats,
    Redis,
}

impl Server {
    /// The environment variable that names the program (PostgreSQL: its `bin` directory), as
    /// `scripts/test` sets it for the tests; when unset, the usual places are searched.
    pub fn variable(self) -> &'static str {
        match self {
            Self::Postgres => "GITTIX_TEST_PG_BIN",
            Self::Nats => "GITTIX_TEST_NATS_BIN",
            Self::Redis => "GITTIX_TEST_REDIS_BIN",
        }
    }

    /// Where the server is installed: for PostgreSQL the directory of `initdb`, `pg_ctl` and
    /// `createdb` (the newest of `/usr/lib/postgresql/*/bin`, else `pg_config --bindir`), for
    /// NATS and Redis the program (on the `PATH`, else in `/usr/sbin` or `/usr/bin`).
    pub fn find(self) -> Option<PathBuf> {
        if let Some(path) = std::env::var_os(self.variable()).filter(|p| !p.is_empty()) {
            return Some(path.into());
        }
        match self {
            Self::Postgres => find_postgres_bin(),
            Self::Nats => find_program("nats-server"),
            Self::Redis => find_program("redis-server"),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Postgres => "PostgreSQL",
            Self::Nats => "NATS (nats-server)",
            Self::Redis => "Redis (redis-server)",
        }
    }

    /// [`Self::find`], or a message saying what to install.
    pub fn installed(self) -> Result<PathBuf> {
        self.find().ok_or_else(|| {
            format!(
                "{} is not installed (run the tests with scripts/test, which installs it)",
                self.name()
            )
        })
    }
}

fn is_executable(path: &Path) -> bool {
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/usr/bin".into()])
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn find_postgres_bin() -> Option<PathBuf> {
    let mut versions: Vec<(Vec<u32>, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry
                .file_name()
                .to_str()?
                .split('.')
                .map(|part| part.parse().ok())
                .collect::<Option<Vec<u32>>>()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, bin)| is_executable(&bin.join("initdb")))
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    let output = Command::new("pg_config").arg("--bindir").output().ok()?;
    let bin = PathBuf::from(String::from_utf8(output.stdout).ok()?.trim());
    is_executable(&bin.join("initdb")).then_some(bin)
}

/// Runs `command`, failing with what it printed unless it succeeds.
pub fn run(command: &mut Command) -> Result<()> {
    let output = command
        .output()
        .map_err(|e| format!("running {command:?}: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "{command:?} failed ({}): {}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    ))
}

/// The user PostgreSQL runs as: none (this process's own) unless this runs as root, which
/// PostgreSQL refuses; then `postgres`, created if missing. `GITTIX_TEST_PG_USER`, when set,
/// says it instead (empty: none), as `scripts/test` tells the tests.
pub fn postgres_user() -> Result<Option<String>> {
    if let Ok(user) = std::env::var("GITTIX_TEST_PG_USER") {
        return Ok(Some(user).filter(|u| !u.is_empty()));
    }
    if !running_as_root() {
        return Ok(None);
    }
    let user = "postgres";
    let exists = Command::new("id")
        .args(["-u", user])
        .output()
        .is_ok_and(|o| o.status.success());
    if !exists {
        run(Command::new("useradd").args([
            "--system",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            user,
        ]))?;
    }
    Ok(Some(user.to_owned()))
}

/// Whether the effective user is root (`Uid:` in /proc/self/status: real, effective, ...).
fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("Uid:"))?;
            line.split_whitespace().nth(2).map(|uid| uid == "0")
        })
        .unwrap_or(false)
}

/// How PostgreSQL stops (pg_ctl's `-m`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum StopMode {
    /// Every connection closed, then a clean shutdown.
    Fast,
    /// At once, as a crash would: the next start recovers from the WAL.
    Immediate,
}

impl StopMode {
    fn as_str(self) -> &'static str {
        match self {
            Self::Fast => "fast",
            Self::Immediate => "immediate",
        }
    }
}

/// A PostgreSQL cluster in a private directory (`dir/data`, which is also where its Unix socket
/// goes), started and stopped with `pg_ctl`, as `user` when there is one.
pub struct Postgres {
    /// The directory of `initdb`, `pg_ctl` and `createdb`.
    pub bin: PathBuf,
    pub dir: PathBuf,
    pub user: Option<String>,
}

impl Postgres {
    pub fn new(bin: PathBuf, dir: PathBuf) -> Result<Self> {
        Ok(Self {
            bin,
            dir,
            user: postgres_user()?,
        })
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Creates the directory (owned by the server's user) and an empty cluster in it, whose
    /// superuser `postgres` needs no password on 127.0.0.1.
    pub fn init(&self) -> Result<()> {
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| format!("creating {}: {e}", self.dir.display()))?;
        self.give_to_user(&self.dir)?;
        let data = self.data_dir();
        run(self.pg_command("initdb").arg("-D").arg(&data).args([
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        ]))
    }

    /// The server's options: 127.0.0.1 only, 500 connections, and durability off unless
    /// `durable`. These databases are thrown away, and tests that kill processes kill GitTix, not
    /// the machine; `durable` keeps PostgreSQL's defaults (the benchmarks measure what a
    /// deployment would do, and the fault suite crashes PostgreSQL).
    pub fn options(&self, port: u16, durable: bool) -> String {
        let mut options = format!(
            "-p {port} -c listen_addresses={HOST} -k {}",
            self.data_dir().display()
        );
        if !durable {
            options.push_str(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        }
        options.push_str(" -c max_connections=500");
        options
    }

    /// Starts the server on `port`, logging to `log`, and waits until it accepts connections.
    pub fn start(&self, port: u16, log: &Path, durable: bool) -> Result<()> {
        if self.user.is_some() {
            // The server's user writes the log, wherever it is.
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .map_err(|e| format!("creating {}: {e}", log.display()))?;
            self.give_to_user(log)?;
        }
        run(self
            .pg_command("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .arg("-l")
            .arg(log)
            .args(["-w", "-o", &self.options(port, durable), "start"]))
    }

    /// Stops the server and waits until it is gone.
    pub fn stop(&self, mode: StopMode) -> Result<()> {
        run(self
            .pg_command("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .args(["-m", mode.as_str(), "-w", "stop"]))
    }

    /// Creates database `name` on the server at `port`.
    pub fn create_database(&self, port: u16, name: &str) -> Result<()> {
        run(self.pg_command("createdb").args([
            "-h",
            HOST,
            "-p",
            &port.to_string(),
            "-U",
            "postgres",
            name,
        ]))
    }

    /// `program` of PostgreSQL's, run as the server's user, in the private directory (the user
    /// may not be allowed into the current one).
    fn pg_command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        let mut command = match &self.user {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(program);
                command
            }
            None => Command::new(program),
        };
        command.current_dir(&self.dir);
        command
    }

    fn give_to_user(&self, path: &Path) -> Result<()> {
        match &self.user {
            Some(user) => run(Command::new("chown").arg(user).arg(path)),
            None => Ok(()),
        }
    }
}

/// nats-server with JetStream on 127.0.0.1:`port`, its file storage in `dir` (which survives a
/// restart). It logs to its standard error.
pub fn nats_command(program: &Path, dir: &Path, port: u16) -> Command {
    let mut command = Command::new(program);
    command
        .args(["-a", HOST, "-p", &port.to_string(), "-js", "-sd"])
        .arg(dir);
    command
}

/// redis-server on 127.0.0.1:`port`, in the foreground, with its files in `dir` (created if
/// missing): no snapshots, an append-only file, so a restart keeps everything. `appendfsync` stays
/// at Redis's default (once a second): Redis writes each command to the file before it answers, so
/// a killed Redis loses nothing; only the machine crashing could lose the last second. It logs to
/// its standard output.
pub fn redis_command(program: &Path, dir: &Path, port: u16) -> Result<Command> {
    std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let mut command = Command::new(program);
    command
        .args(["--bind", HOST, "--port", &port.to_string(), "--dir"])
        .arg(dir)
        .args(["--save", "", "--appendonly", "yes", "--daemonize", "no"]);
    Ok(command)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arguments(command: &Command) -> Vec<String> {
        command
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn free_ports_are_below_the_ephemeral_range_and_free() {
        for _ in 0..20 {
            let port = free_port();
            assert!((1024..32000).contains(&port), "{port}");
            TcpListener::bind((HOST, port)).expect("the port is free");
        }
    }

    #[test]
    fn postgres_is_durable_only_when_asked() {
        let server = Postgres {
            bin: "/pg/bin".into(),
            dir: "/private".into(),
            user: None,
        };
        assert_eq!(
            server.options(5433, false),
            "-p 5433 -c listen_addresses=127.0.0.1 -k /private/data -c fsync=off \
             -c synchronous_commit=off -c full_page_writes=off -c max_connections=500"
        );
        assert_eq!(
            server.options(5433, true),
            "-p 5433 -c listen_addresses=127.0.0.1 -k /private/data -c max_connections=500"
        );
    }

    #[test]
    fn nats_and_redis_listen_on_loopback_with_their_files_in_the_directory() {
        let nats = nats_command(Path::new("/bin/nats-server"), Path::new("/d"), 4222);
        assert_eq!(
            arguments(&nats),
            ["-a", "127.0.0.1", "-p", "4222", "-js", "-sd", "/d"]
        );
        let dir = tempfile::tempdir().unwrap();
        let files = dir.path().join("redis");
        let redis = redis_command(Path::new("/bin/redis-server"), &files, 6379).unwrap();
        assert!(files.is_dir());
        let files = files.display().to_string();
        assert_eq!(
            arguments(&redis),
            [
                "--bind",
                "127.0.0.1",
                "--port",
                "6379",
                "--dir",
                &files,
                "--save",
                "",
                "--appendonly",
                "yes",
                "--daemonize",
                "no"
            ]
        );
    }
}
