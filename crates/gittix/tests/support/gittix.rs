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
    /// Everything it has logged (to stdout) so far, after the line saying where it listens.
    #[allow(dead_code, reason = "not every test binary reads the log")]
    pub log: Arc<Mutex<String>>,
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
            .stderr(Stdio::null())
            .spawn()
            .expect("starting gittix");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let base_url = loop {
            let line = lines
                .next()
                .expect("gittix exited before listening")
                .unwrap();
            if let Some((_, url)) = line.split_once("listening on ") {
                break url.trim().to_owned();
            }
        };
        // Keep reading stdout (the log) so the process never blocks on a full pipe.
        let log = Arc::new(Mutex::new(String::new()));
        let kept = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let mut kept = kept.lock().unwrap();
                kept.push_str(&line);
                kept.push('\n');
            }
        });
        Self {
            child,
            base_url,
            log,
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

    /// Sends SIGTERM and returns whether the process then exited cleanly.
    #[allow(dead_code, reason = "not every test binary stops gittix by hand")]
    pub fn terminate(mut self) -> bool {
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
