//! The processes of the local cluster, as `scripts/cluster` left them in its directory:
//! `pids/<name>.pid` and `pids/<name>.command` for each server, `pids/postgres.stop` and
//! `pids/postgres.start` for PostgreSQL. Killing, restarting and waiting for each.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::client::Http;
use crate::target::wait_until_ready;

pub struct Cluster {
    dir: PathBuf,
}

impl Cluster {
    pub fn from_env() -> anyhow::Result<Self> {
        let dir = std::env::var("GITTIX_E2E_CLUSTER_DIR").context(
            "GITTIX_E2E_CLUSTER_DIR is not set: run the fault suite inside scripts/cluster",
        )?;
        Ok(Self { dir: dir.into() })
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.join("pids").join(name)
    }

    pub fn command(&self, name: &str) -> anyhow::Result<String> {
        let path = self.file(&format!("{name}.command"));
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
    }

    pub fn set_command(&self, name: &str, command: &str) -> anyhow::Result<()> {
        Ok(std::fs::write(
            self.file(&format!("{name}.command")),
            command,
        )?)
    }

    fn pid(&self, name: &str) -> anyhow::Result<String> {
        let path = self.file(&format!("{name}.pid"));
        Ok(std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?
            .trim()
            .to_owned())
    }

    /// Sends `signal` (`KILL`, `TERM`) to the process and waits until it is gone.
    pub async fn signal(&self, name: &str, signal: &str) -> anyhow::Result<()> {
        let pid = self.pid(name)?;
        run("kill", &[&format!("-{signal}"), &pid])?;
        let deadline = Instant::now() + Duration::from_secs(15);
        while alive(&pid) {
            anyhow::ensure!(Instant::now() < deadline, "{name} ({pid}) did not stop");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }

    /// Starts the process again from its recorded command line, logging to `logs/<name>.log`.
    pub fn start(&self, name: &str) -> anyhow::Result<()> {
        let command = self.command(name)?;
        let log = self.dir.join("logs").join(format!("{name}.log"));
        let output = Command::new("bash")
            .arg("-c")
            // The log's path as the script's $0, so no quoting can go wrong.
            .arg(format!("{command} >>\"$0\" 2>&1 </dev/null & echo $!"))
            .arg(&log)
            .output()
            .with_context(|| format!("starting {name}"))?;
        anyhow::ensure!(output.status.success(), "could not start {name}");
        std::fs::write(self.file(&format!("{name}.pid")), output.stdout)?;
        Ok(())
    }

    /// Runs `pids/postgres.stop` or `pids/postgres.start`.
    pub fn postgres(&self, action: &str) -> anyhow::Result<()> {
        let script = self.file(&format!("postgres.{action}"));
        let status = Command::new("bash")
            .arg(&script)
            .stdout(Stdio::null())
            .status()?;
        anyhow::ensure!(status.success(), "{} failed", script.display());
        Ok(())
    }

    /// Waits until the process answers again: `/readyz` for a GitTix service, the port for a
    /// server of another kind (its `PORT=`, `-p` or `--port` argument).
    pub async fn wait_ready(&self, name: &str, patience: Duration) -> anyhow::Result<()> {
        let command = self.command(name)?;
        let deadline = Instant::now() + patience;
        if let Some(port) = argument(&command, "PORT=") {
            let http = Http::new(&format!("http://127.0.0.1:{port}"));
            return wait_until_ready(&http, patience)
                .await
                .with_context(|| format!("{name} after its restart"));
        }
        let port = argument(&command, "-p ")
            .or_else(|| argument(&command, "--port "))
            .with_context(|| format!("no port in {name}'s command"))?;
        while tokio::net::TcpStream::connect(("127.0.0.1", port.parse::<u16>()?))
            .await
            .is_err()
        {
            anyhow::ensure!(Instant::now() < deadline, "{name} does not listen");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }
}

/// Whether the process runs. A process this suite restarted belongs to init once its shell has
/// exited; until init reaps it, a dead one is a zombie, which `kill -0` still finds.
fn alive(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name in parentheses: `1234 (name) S ...`.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X'])),
        Err(_) => false,
    }
}

/// The value after `flag` in a recorded command line (up to the next space).
pub fn argument<'a>(command: &'a str, flag: &str) -> Option<&'a str> {
    let start = command.find(flag)? + flag.len();
    command[start..].split_whitespace().next()
}

fn run(program: &str, args: &[&str]) -> anyhow::Result<()> {
    let status = Command::new(program).args(args).status()?;
    anyhow::ensure!(status.success(), "{program} {args:?} failed");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::argument;

    #[test]
    fn arguments_are_read_from_a_command_line() {
        let command =
            "env -i PORT=4100 STRIPE_API_BASE=http://127.0.0.1:9 /bin/gittix serve payments ";
        assert_eq!(argument(command, "PORT="), Some("4100"));
        assert_eq!(
            argument(command, "STRIPE_API_BASE="),
            Some("http://127.0.0.1:9")
        );
        assert_eq!(
            argument("/usr/sbin/nats-server -a 127.0.0.1 -p 4222 -js", "-p "),
            Some("4222")
        );
        assert_eq!(argument(command, "--port "), None);
    }
}
