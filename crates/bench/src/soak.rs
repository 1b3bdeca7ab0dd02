//! The soak: an embedded GitTix with a short bus retention (`BUS_RETENTION_SECONDS`) under the
//! fault suite's steady purchase load, while the tables that only remember are sampled. Each
//! must stay bounded: at every sample, no row is older than its retention plus one pruning
//! round (a short slack for the sample itself), so its size levels off once the load has run
//! for its retention. `scripts/bench` runs it after the embedded suite (briefly with `--smoke`)
//! and writes the report.

use std::fmt::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use gittix_shared::db::Db;
use gittix_shared::pruning::Retentions;
use gittix_shared::time::unix_millis;

use crate::faults::purchases::{Challenges, Load};
use crate::fixtures::sign_up_many;
use crate::target::Target;

/// What a row may outlive its retention by when sampled: the sample's own queries, and a
/// pruning round that is running.
const SLACK: Duration = Duration::from_secs(2);

/// One table that only remembers: its database file, name, time column (unix ms), and how long
/// it keeps a row under `retentions`.
struct Remembering {
    file: &'static str,
    table: &'static str,
    column: &'static str,
    kept: fn(Retentions) -> Duration,
}

/// Expiration is not here: its handlers are idempotent by themselves and record no inbox.
const TABLES: [Remembering; 5] = [
    Remembering {
        file: "bus.db",
        table: "bus_messages",
        column: "published_at",
        kept: |r| r.bus,
    },
    Remembering {
        file: "tickets.db",
        table: "inbox",
        column: "applied_at",
        kept: Retentions::inbox,
    },
    Remembering {
        file: "tickets.db",
        table: "ended_orders",
        column: "ended_at",
        kept: Retentions::inbox,
    },
    Remembering {
        file: "orders.db",
        table: "inbox",
        column: "applied_at",
        kept: Retentions::inbox,
    },
    Remembering {
        file: "payments.db",
        table: "inbox",
        column: "applied_at",
        kept: Retentions::inbox,
    },
];

/// One reading of one table.
#[derive(Debug, Clone, Copy)]
struct Reading {
    rows: i64,
    /// How old its oldest row is.
    oldest: Option<Duration>,
}

pub async fn run(
    gittix: &Path,
    retention: Duration,
    length: Duration,
    report_path: &Path,
) -> anyhow::Result<()> {
    let retentions = Retentions { bus: retention };
    let scratch =
        std::env::temp_dir().join(format!("gittix-soak-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&scratch)?;
    let settings = [("BUS_RETENTION_SECONDS", retention.as_secs().to_string())];
    let target =
        Target::start_embedded_with(gittix, scratch.clone(), Duration::from_secs(10), &settings)
            .await?;
    let outcome = soak(&target, &scratch.join("data"), length).await;
    target.stop();
    let (samples, took) = outcome?;
    let (report, failures) = render(&samples, retentions, took);
    if let Some(parent) = report_path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(report_path, &report)
        .with_context(|| format!("writing {}", report_path.display()))?;
    println!("{report}");
    anyhow::ensure!(
        failures.is_empty(),
        "tables kept rows past their retention: {}",
        failures.join("; ")
    );
    Ok(())
}

/// Runs the load for `length`, sampling every table every tenth of it.
async fn soak(
    target: &Target,
    data: &Path,
    length: Duration,
) -> anyhow::Result<(Vec<(Duration, Vec<Reading>)>, Duration)> {
    // The services' databases are open already (the target's); the bus log is not.
    let bus = Db::open_sqlite_file(&data.join("bus.db"))?;
    let database = |file: &str| match file {
        "bus.db" => &bus,
        "tickets.db" => &target.databases.tickets,
        "orders.db" => &target.databases.orders,
        "payments.db" => &target.databases.payments,
        other => unreachable!("no table of the soak is in {other}"),
    };
    let sellers = sign_up_many(&target.http, "soak-seller", 4).await?;
    let buyers = sign_up_many(&target.http, "soak-buyer", 8).await?;
    let started = Instant::now();
    let load = Load::start(&target.http, &sellers, &buyers, &Challenges::Simulator);
    let mut samples = Vec::new();
    let every = length / 10;
    loop {
        tokio::time::sleep(every).await;
        let mut readings = Vec::new();
        for table in &TABLES {
            readings.push(read(database(table.file), table).await?);
        }
        samples.push((started.elapsed(), readings));
        if started.elapsed() >= length {
            break;
        }
    }
    let tally = load.stop().await;
    anyhow::ensure!(tally.paid > 0, "the load paid for nothing: {tally:?}");
    Ok((samples, started.elapsed()))
}

async fn read(db: &Db, table: &Remembering) -> anyhow::Result<Reading> {
    let sql = format!(
        "SELECT COUNT(*), MIN({}) FROM {}",
        table.column, table.table
    );
    let (rows, oldest): (i64, Option<i64>) = sqlx::query_as(&sql)
        .fetch_one(db.pool())
        .await
        .with_context(|| format!("reading {} of {}", table.table, table.file))?;
    let oldest =
        oldest.map(|at| Duration::from_millis(u64::try_from(unix_millis() - at).unwrap_or(0)));
    Ok(Reading { rows, oldest })
}

/// The report, and the tables that kept a row past their retention.
fn render(
    samples: &[(Duration, Vec<Reading>)],
    retentions: Retentions,
    took: Duration,
) -> (String, Vec<String>) {
    let mut report = String::new();
    let _ = writeln!(
        report,
        "# Soak report\n\nAn embedded GitTix with `BUS_RETENTION_SECONDS={}` (the inbox and \
         ended orders keep {} s, pruned every {} s) under the fault suite's purchase load (8 \
         buyers, 4 sellers) for {} s. Rows in each table that only remembers, sampled every \
         tenth of the run; a table holds when no row was ever older than its retention plus one \
         pruning round and {} s.\n",
        retentions.bus.as_secs(),
        retentions.inbox().as_secs(),
        retentions.every().as_secs(),
        took.as_secs(),
        SLACK.as_secs()
    );
    let mut header = "| at |".to_owned();
    let mut rule = "|---|".to_owned();
    for table in &TABLES {
        let _ = write!(
            header,
            " {} `{}` |",
            table.file.trim_end_matches(".db"),
            table.table
        );
        rule.push_str("---|");
    }
    let _ = writeln!(report, "{header}\n{rule}");
    for (at, readings) in samples {
        let mut line = format!("| {} s |", at.as_secs());
        for reading in readings {
            let _ = write!(line, " {} |", reading.rows);
        }
        let _ = writeln!(report, "{line}");
    }
    let _ = writeln!(
        report,
        "\n| table | kept | oldest row seen | largest | last | holds |\n|---|---|---|---|---|---|"
    );
    let mut failures = Vec::new();
    for (i, table) in TABLES.iter().enumerate() {
        let kept = (table.kept)(retentions);
        let bound = kept + retentions.every() + SLACK;
        let oldest = samples
            .iter()
            .filter_map(|(_, readings)| readings[i].oldest)
            .max()
            .unwrap_or_default();
        let largest = samples.iter().map(|(_, r)| r[i].rows).max().unwrap_or(0);
        let last = samples.last().map_or(0, |(_, r)| r[i].rows);
        let holds = oldest <= bound;
        let name = format!("{} `{}`", table.file.trim_end_matches(".db"), table.table);
        if !holds {
            failures.push(format!(
                "{name}: a row {} s old, bound {} s",
                oldest.as_secs(),
                bound.as_secs()
            ));
        }
        let _ = writeln!(
            report,
            "| {name} | {} s | {:.1} s | {largest} | {last} | {} |",
            kept.as_secs(),
            oldest.as_secs_f64(),
            if holds { "yes" } else { "**no**" }
        );
    }
    (report, failures)
}
