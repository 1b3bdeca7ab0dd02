//! `gittix-bench`: the GitTix load suite. `scripts/bench` runs it in both modes and writes the
//! report; BENCHMARKS.md says what each scenario does and how to read the numbers.

mod client;
mod counters;
mod faults;
mod fixtures;
mod load;
mod memory;
mod plots;
mod references;
mod report;
mod scenarios;
mod soak;
mod stats;
mod suite;
mod target;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::suite::{Sizes, SuiteReport};
use crate::target::{Mode, Target};

/// The GitTix load suite.
#[derive(Debug, Parser)]
#[command(name = "gittix-bench")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs every scenario against one GitTix and writes RESULTS/<mode>.json. Exits non-zero
    /// when a correctness counter is not zero.
    Run {
        #[arg(long, value_enum)]
        mode: Mode,
        /// Small sizes: checks the correctness counters, measures nothing worth quoting.
        #[arg(long)]
        smoke: bool,
        /// Embedded mode: the gittix binary to start (default: beside this one).
        #[arg(long)]
        gittix: Option<PathBuf>,
        /// Embedded mode: how long an order holds its ticket (distributed mode: the cluster's).
        #[arg(long, default_value_t = 30)]
        lock_seconds: u64,
        #[arg(long, default_value = "target/bench")]
        results: PathBuf,
    },
    /// Writes the plots and the generated part of the markdown report from RESULTS/*.json.
    Report {
        #[arg(long, default_value = "target/bench")]
        results: PathBuf,
        #[arg(long, default_value = "BENCHMARKS.md")]
        markdown: PathBuf,
        #[arg(long, default_value = "docs/benchmarks")]
        plots: PathBuf,
    },
    /// The fault suite, inside scripts/cluster: a purchase load through each fault in turn, then
    /// the invariants. Writes the report to REPORT; exits non-zero when an invariant fails.
    Faults {
        #[arg(long, default_value = "target/faults/report.md")]
        report: PathBuf,
    },
    /// The soak: an embedded GitTix with a short bus retention under a steady purchase load,
    /// the tables that only remember sampled throughout. Writes the report to REPORT; exits
    /// non-zero when a table kept a row past its retention.
    Soak {
        /// The gittix binary to start (default: beside this one).
        #[arg(long)]
        gittix: Option<PathBuf>,
        /// BUS_RETENTION_SECONDS for the run.
        #[arg(long, default_value_t = 30)]
        retention_seconds: u64,
        /// How long the load runs.
        #[arg(long, default_value_t = 240)]
        seconds: u64,
        #[arg(long, default_value = "target/soak/report.md")]
        report: PathBuf,
    },
    /// The bare axum handler of the HTTP ceiling, as a process of its own (used by `run`).
    #[command(hide = true)]
    BareAxum,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Run {
            mode,
            smoke,
            gittix,
            lock_seconds,
            results,
        } => {
            let scratch = std::env::temp_dir()
                .join(format!("gittix-bench-{}", uuid::Uuid::new_v4().simple()));
            std::fs::create_dir_all(&scratch)?;
            let target = match mode {
                Mode::Embedded => {
                    let gittix = match gittix {
                        Some(path) => path,
                        None => std::env::current_exe()?.with_file_name("gittix"),
                    };
                    Target::start_embedded(&gittix, scratch, Duration::from_secs(lock_seconds))
                        .await?
                }
                Mode::Distributed => Target::distributed(scratch).await?,
            };
            let sizes = if smoke { Sizes::smoke() } else { Sizes::full() };
            let outcome = suite::run(&target, sizes, smoke).await;
            target.stop();
            let report = outcome?;
            std::fs::create_dir_all(&results)?;
            let path = results.join(format!("{}.json", mode.name()));
            std::fs::write(&path, serde_json::to_vec_pretty(&report)?)
                .with_context(|| format!("writing {}", path.display()))?;
            anyhow::ensure!(
                report.counters.all_zero() && report.expiry.not_expired == 0,
                "correctness failed in {} mode: {:?}, {} orders not expired",
                mode.name(),
                report.counters,
                report.expiry.not_expired
            );
            Ok(())
        }
        Command::Report {
            results,
            markdown,
            plots,
        } => {
            let mut reports: Vec<SuiteReport> = Vec::new();
            for mode in [Mode::Embedded, Mode::Distributed] {
                let path = results.join(format!("{}.json", mode.name()));
                if let Ok(bytes) = std::fs::read(&path) {
                    reports.push(
                        serde_json::from_slice(&bytes)
                            .with_context(|| format!("reading {}", path.display()))?,
                    );
                }
            }
            anyhow::ensure!(!reports.is_empty(), "no results in {}", results.display());
            report::write(&reports, &markdown, &plots)?;
            println!(
                "wrote {} and the plots in {}",
                markdown.display(),
                plots.display()
            );
            Ok(())
        }
        Command::Faults { report } => faults::run(&report).await,
        Command::Soak {
            gittix,
            retention_seconds,
            seconds,
            report,
        } => {
            let gittix = match gittix {
                Some(path) => path,
                None => std::env::current_exe()?.with_file_name("gittix"),
            };
            let retention = Duration::from_secs(retention_seconds);
            soak::run(&gittix, retention, Duration::from_secs(seconds), &report).await
        }
        Command::BareAxum => references::serve_bare_axum().await,
    }
}
