//! Resident memory of the processes under test, from `/proc/<pid>/status`, sampled through the
//! whole run so the report can give each process's idle and peak size.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A process's resident set in KiB, or `None` once it has gone.
pub fn resident_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_vm_rss(&status)
}

fn parse_vm_rss(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ProcessMemory {
    pub name: String,
    pub idle_mib: f64,
    pub peak_mib: f64,
}

/// Samples every process every 100 ms until dropped, keeping each one's peak.
pub struct Sampler {
    idle: BTreeMap<String, u64>,
    peaks: Arc<Mutex<BTreeMap<String, u64>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Sampler {
    /// Reads the idle size of each process now, then starts sampling.
    pub fn start(processes: &[(String, u32)]) -> Self {
        let idle: BTreeMap<_, _> = processes
            .iter()
            .map(|(name, pid)| (name.clone(), resident_kib(*pid).unwrap_or(0)))
            .collect();
        let peaks = Arc::new(Mutex::new(idle.clone()));
        let processes = processes.to_vec();
        let task = tokio::spawn({
            let peaks = peaks.clone();
            async move {
                let mut tick = tokio::time::interval(Duration::from_millis(100));
                loop {
                    tick.tick().await;
                    let mut peaks = peaks.lock().expect("not poisoned");
                    for (name, pid) in &processes {
                        if let Some(kib) = resident_kib(*pid) {
                            let peak = peaks.entry(name.clone()).or_default();
                            *peak = (*peak).max(kib);
                        }
                    }
                }
            }
        });
        Self { idle, peaks, task }
    }

    pub fn finish(self) -> Vec<ProcessMemory> {
        self.task.abort();
        let peaks = self.peaks.lock().expect("not poisoned");
        self.idle
            .iter()
            .map(|(name, idle)| ProcessMemory {
                name: name.clone(),
                idle_mib: *idle as f64 / 1024.0,
                peak_mib: peaks.get(name).copied().unwrap_or(*idle) as f64 / 1024.0,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_vm_rss_in_kib() {
        let status = "Name:\tgittix\nVmPeak:\t  900 kB\nVmRSS:\t   12345 kB\nThreads:\t4\n";
        assert_eq!(parse_vm_rss(status), Some(12345));
        assert_eq!(parse_vm_rss("Name:\tx\n"), None);
    }

    #[test]
    fn this_process_has_a_resident_set() {
        let kib = resident_kib(std::process::id()).expect("this process exists");
        assert!(kib > 100, "{kib} KiB");
    }
}
