//! A `gittix` process started the way a user starts it, for the tests that need the real binary.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A running `gittix` process and the address it printed. Killed when dropped, so a failing
/// test leaves no process behind.
pub struct Gittix {
    child: Child,
    pub base_url: String,
    /// Everything it has written so far, stdout (the log) and stderr.
    log: Arc<Mutex<String>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

/// Copies each line `from` yields into `log` (and into `first`, until it is dropped).
fn keep_lines<R: std::io::Read + Send + 'static>(
    from: R,
    log: Arc<Mutex<String>>,
    first: Option<std::sync::mpsc::Sender<String>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines().map_while(Result::ok) {
            {
                let mut log = log.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
            if let Some(first) = &first {
                let _ = first.send(line);
            }
        }
    })
}

impl Gittix {
    /// Starts `gittix args...` in `cwd` with a clean environment plus `env`, on a free port.
    pub fn start(args: &[&str], env: &[(&str, &str)], cwd: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_gittix"))
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("PORT", "0")
            .env("LOG_FORMAT", "text")
            .envs(env.iter().copied())
            .current_dir(cwd)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting gittix");
        // Both pipes are read to the end, so the process never blocks on a full one.
        let log = Arc::new(Mutex::new(String::new()));
        let (lines, stdout_lines) = std::sync::mpsc::channel();
        let readers = vec![
            keep_lines(child.stdout.take().unwrap(), log.clone(), Some(lines)),
            keep_lines(child.stderr.take().unwrap(), log.clone(), None),
        ];
        let base_url = loop {
            let line = stdout_lines.recv().expect("gittix exited before listening");
            if let Some((_, url)) = line.split_once("listening on ") {
                break url.trim().to_owned();
            }
        };
        Self {
            child,
            base_url,
            log,
            readers,
        }
    }

    /// The largest resident set the process has had, in MiB (VmHWM).
    #[allow(dead_code, reason = "not every test binary reads the memory")]
    pub fn peak_resident_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kib: f64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc/<pid>/status");
        kib / 1024.0
    }

    /// Sends SIGTERM and returns whether the process then exited cleanly, with everything it
    /// wrote from its start to its exit.
    #[allow(dead_code, reason = "not every test binary reads the log")]
    pub fn terminate_and_read_log(mut self) -> (bool, String) {
        let stopped = self.stop();
        if !stopped {
            // The pipes close only when it has gone.
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        let log = self.log.lock().unwrap().clone();
        (stopped, log)
    }

    /// Sends SIGTERM and returns whether the process then exited cleanly.
    #[allow(dead_code, reason = "not every test binary stops gittix by hand")]
    pub fn terminate(mut self) -> bool {
        self.stop()
    }

    fn stop(&mut self) -> bool {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        for _ in 0..100 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }
}

impl Drop for Gittix {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
