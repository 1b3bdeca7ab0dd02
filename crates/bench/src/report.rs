//! BENCHMARKS.md: the generated part, between two markers, from the runs' JSON results. The
//! prose outside the markers is the project's own and is kept.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;

use crate::plots;
use crate::stats::Run;
use crate::suite::{command_output, SuiteReport};
use crate::target::Mode;

pub const BEGIN: &str =
    "<!-- bench:begin (written by gittix-bench report; edits here are lost) -->";
pub const END: &str = "<!-- bench:end -->";

/// A target of the issue, and whether a run met it.
struct Check {
    what: String,
    measured: String,
    met: bool,
}

fn ms(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0} ms")
    } else {
        format!("{value:.2} ms")
    }
}

fn rate(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}/s")
    } else {
        format!("{value:.1}/s")
    }
}

fn ratio(numerator: f64, denominator: f64) -> f64 {
    if denominator > 0.0 {
        numerator / denominator
    } else {
        0.0
    }
}

/// The target that `run` reaches at least `minimum` of `reference`'s throughput.
fn share_of(what: String, run: &Run, reference: &Run, minimum: f64) -> Check {
    let share = ratio(run.throughput(), reference.throughput());
    Check {
        what,
        measured: format!(
            "{:.0}% ({} of {})",
            share * 100.0,
            rate(run.throughput()),
            rate(reference.throughput())
        ),
        met: share >= minimum,
    }
}

fn checks(report: &SuiteReport) -> Vec<Check> {
    let mut checks = Vec::new();
    let refs = &report.references;
    let mode = report.mode.name();
    if let Some(reserve) = report.scenario("reserve") {
        checks.push(share_of(
            format!("{mode}: reserve at least 50% of the database's rate for its writes"),
            reserve,
            &refs.database_ceiling,
            0.5,
        ));
        checks.push(Check {
            what: format!(
                "{mode}: reserve p99 under 20 ms at {} clients",
                reserve.clients
            ),
            measured: ms(reserve.latency.p99_ms),
            met: reserve.latency.p99_ms < 20.0,
        });
    }
    if let Some(check) = report.scenario("sign-in check") {
        checks.push(share_of(
            format!("{mode}: sign-in check at least 40% of the bare axum ceiling"),
            check,
            &refs.http_ceiling,
            0.4,
        ));
    }
    if let Some(browse) = report.scenario("browse all for sale") {
        checks.push(Check {
            what: format!(
                "{mode}: browse {} tickets at least 2,000 requests/s",
                report.sizes.browse_tickets
            ),
            measured: rate(browse.throughput()),
            met: browse.throughput() >= 2000.0,
        });
    }
    let bound = match report.mode {
        Mode::Embedded => 5.0,
        Mode::Distributed => 10.0,
    };
    if let Some(p) = report.propagation.iter().find(|p| p.in_flight == 16) {
        let worst = p.reserved.p99_ms.max(p.completed.p99_ms);
        checks.push(Check {
            what: format!("{mode}: propagation p99 under {bound} ms with 16 in flight"),
            measured: format!(
                "reserved {}, complete {}",
                ms(p.reserved.p99_ms),
                ms(p.completed.p99_ms)
            ),
            met: worst < bound,
        });
    }
    checks.push(Check {
        what: format!(
            "{mode}: expirations at most 1 s late at p99 with {} pending",
            report.expiry.orders
        ),
        measured: format!(
            "p99 {}, {} pending at peak, {} not expired",
            ms(report.expiry.lateness.p99_ms),
            report.expiry.pending_at_peak,
            report.expiry.not_expired
        ),
        met: report.expiry.lateness.p99_ms <= 1000.0 && report.expiry.not_expired == 0,
    });
    if report.mode == Mode::Embedded {
        let idle: f64 = report.memory.iter().map(|m| m.idle_mib).sum();
        let peak: f64 = report.memory.iter().map(|m| m.peak_mib).sum();
        checks.push(Check {
            what: "embedded: under 40 MiB resident idle and under 150 MiB at peak".to_owned(),
            measured: format!("{idle:.1} MiB idle, {peak:.1} MiB peak"),
            met: idle < 40.0 && peak < 150.0,
        });
    }
    let rounds = report.flash_sales.len();
    let clean = report
        .flash_sales
        .iter()
        .filter(|r| r.tickets_without_exactly_one_winner == 0 && r.errors == 0)
        .count();
    checks.push(Check {
        what: format!("{mode}: flash sale, exactly one winner per ticket, every round"),
        measured: format!("{clean} of {rounds} rounds"),
        met: clean == rounds && rounds > 0,
    });
    checks.push(Check {
        what: format!("{mode}: correctness counters all zero"),
        measured: if report.counters.all_zero() {
            "all zero".to_owned()
        } else {
            format!("{:?}", report.counters)
        },
        met: report.counters.all_zero(),
    });
    checks
}

fn run_row(out: &mut String, name: &str, run: &Run, against: Option<(f64, &str)>) {
    let share = against.map_or(String::from("—"), |(reference, label)| {
        format!(
            "{:.0}% of {label}",
            100.0 * ratio(run.throughput(), reference)
        )
    });
    let _ = writeln!(
        out,
        "| {name} | {} | {} | {} | {} | {} | {} | {} | {share} |",
        run.clients,
        run.latency.count,
        rate(run.throughput()),
        ms(run.latency.p50_ms),
        ms(run.latency.p99_ms),
        ms(run.latency.max_ms),
        run.errors
    );
}

const RUN_HEADER: &str = "| load | clients | operations | throughput | p50 | p99 | max | errors | ratio |\n|---|---|---|---|---|---|---|---|---|\n";

/// The reference each scenario is held against, if any.
fn reference_of(report: &SuiteReport, scenario: &str) -> Option<(f64, &'static str)> {
    let refs = &report.references;
    match scenario {
        "sign-in check"
        | "browse all for sale"
        | "browse filtered page"
        | "browse upcoming events"
        | "search upcoming events"
        | "an event's tickets"
        | "download a 1 MB ticket file" => Some((refs.http_ceiling.throughput(), "bare axum")),
        "reserve" => Some((refs.database_ceiling.throughput(), "the database")),
        "sign up" => Some((refs.argon2_per_s, "raw argon2id")),
        _ => None,
    }
}

fn mode_section(out: &mut String, report: &SuiteReport) {
    let mode = report.mode.name();
    let refs = &report.references;
    let _ = writeln!(out, "\n### {mode} mode\n");
    let _ = writeln!(
        out,
        "Orders hold their ticket for {} s in this run. Plots: \
         [latency by percentile](docs/benchmarks/{mode}-latency.svg), \
         [throughput over time](docs/benchmarks/{mode}-throughput.svg).\n",
        report.expiry.lock_window_s
    );
    let _ = writeln!(
        out,
        "![Latency by percentile, {mode}](docs/benchmarks/{mode}-latency.svg)\n"
    );
    let _ = writeln!(
        out,
        "![Throughput over time, {mode}](docs/benchmarks/{mode}-throughput.svg)\n"
    );
    let _ = writeln!(out, "Reference limits, measured in this run:\n");
    out.push_str(RUN_HEADER);
    run_row(
        out,
        "bare axum GET (HTTP ceiling)",
        &refs.http_ceiling,
        None,
    );
    run_row(
        out,
        "reserve's writes, no HTTP (database ceiling)",
        &refs.database_ceiling,
        None,
    );
    let _ = writeln!(
        out,
        "| raw argon2id hashing (sign-up ceiling) | every core | — | {} | — | — | — | — | — |",
        rate(refs.argon2_per_s)
    );
    for scenario in &report.scenarios {
        let _ = writeln!(out, "\n**{}**\n", scenario.name);
        out.push_str(RUN_HEADER);
        run_row(
            out,
            &scenario.name,
            &scenario.run,
            reference_of(report, &scenario.name),
        );
        if let Some(error) = &scenario.run.first_error {
            let _ = writeln!(out, "\nFirst error: `{}`", error.replace('`', "'"));
        }
    }
    let sold = report.scenario("sell").map_or(0, |run| run.latency.count);
    let _ = writeln!(
        out,
        "\n**Orders replica catch-up**: it held all {sold} tickets of the sell scenario {:.1} s after the last sale.",
        report.replica_catch_up_s
    );
    let _ = writeln!(out, "\n**Event propagation** (each look is {} ms apart, so a sample is rounded up to the next look)\n", report.propagation.first().map_or(1.0, |p| p.poll_interval_ms));
    let _ = writeln!(out, "| in flight | samples | reserved → ticket shows reserved: p50 / p99 / max | paid → order complete: p50 / p99 / max |\n|---|---|---|---|");
    for p in &report.propagation {
        let _ = writeln!(
            out,
            "| {} | {} | {} / {} / {} | {} / {} / {} |",
            p.in_flight,
            p.reserved.count,
            ms(p.reserved.p50_ms),
            ms(p.reserved.p99_ms),
            ms(p.reserved.max_ms),
            ms(p.completed.p50_ms),
            ms(p.completed.p99_ms),
            ms(p.completed.max_ms)
        );
    }
    let _ = writeln!(out, "\n**Flash sales** (all buyers released at once)\n");
    let _ = writeln!(out, "| buyers | tickets | winners | tickets without exactly one winner | refused | errors | p50 | p99 | max |\n|---|---|---|---|---|---|---|---|---|");
    for r in &report.flash_sales {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.buyers,
            r.tickets,
            r.winners,
            r.tickets_without_exactly_one_winner,
            r.refused,
            r.errors,
            ms(r.latency.p50_ms),
            ms(r.latency.p99_ms),
            ms(r.latency.max_ms)
        );
    }
    let e = &report.expiry;
    let _ = writeln!(
        out,
        "\n**Expiry**: {} orders left unpaid, made at {} ({} pending at peak); \
        lateness (order cancelled − its `expiresAt`): p50 {}, p99 {}, max {}; not expired: {}.",
        e.orders,
        rate(e.reserving.throughput()),
        e.pending_at_peak,
        ms(e.lateness.p50_ms),
        ms(e.lateness.p99_ms),
        ms(e.lateness.max_ms),
        e.not_expired
    );
    let _ = writeln!(
        out,
        "\n**Resident memory**\n\n| process | idle | peak |\n|---|---|---|"
    );
    for m in &report.memory {
        let _ = writeln!(
            out,
            "| {} | {:.1} MiB | {:.1} MiB |",
            m.name, m.idle_mib, m.peak_mib
        );
    }
    let c = &report.counters;
    let _ = writeln!(
        out,
        "\n**Correctness counters** (must all be 0)\n\n| counter | value |\n|---|---|"
    );
    for (name, value) in [
        (
            "tickets with more than one active or completed order",
            c.tickets_with_two_live_orders,
        ),
        (
            "orders not in a final state after the run",
            c.orders_not_final,
        ),
        (
            "charges without a completed order or a refund",
            c.charges_without_sale,
        ),
        (
            "tickets whose status disagrees with the orders",
            c.tickets_view_disagrees,
        ),
        (
            "flash-sale tickets without exactly one winner",
            c.flash_sale_tickets_without_one_winner,
        ),
        (
            "orders whose ledger does not balance (charged = refunded + paid out + held + fees)",
            c.ledger_unbalanced,
        ),
    ] {
        let _ = writeln!(out, "| {name} | {value} |");
    }
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|r| r.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("MemTotal:").map(|r| r.trim().to_owned()))
        })
        .unwrap_or_default();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "{cores} cores ({cpu}), {memory} of memory, Linux {}",
        kernel.trim()
    )
}

/// The generated section for `reports`.
pub fn section(reports: &[SuiteReport]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{BEGIN}\n");
    let _ = writeln!(out, "## Latest run\n");
    let first = reports.first();
    let _ = writeln!(
        out,
        "- machine: {}\n- commit measured: `{}`; {}\n- finished: {} (UTC)\n- command: `scripts/bench`, release build, loopback only",
        machine(),
        first.map_or("", |r| r.commit.as_str()),
        command_output("rustc", &["--version"]),
        reports.last().map_or("", |r| r.finished_at.as_str()),
    );
    let _ = writeln!(
        out,
        "\n### Against the targets\n\n| target | measured | met |\n|---|---|---|"
    );
    for report in reports {
        for check in checks(report) {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                check.what,
                check.measured,
                if check.met { "yes" } else { "**no**" }
            );
        }
    }
    for report in reports {
        mode_section(&mut out, report);
    }
    let _ = writeln!(out, "\n{END}");
    out
}

/// Writes the plots of every report under `plots_dir` and the section into `markdown`.
pub fn write(reports: &[SuiteReport], markdown: &Path, plots_dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(plots_dir)?;
    for report in reports {
        let mode = report.mode.name();
        plots::latency(report, &plots_dir.join(format!("{mode}-latency.svg")))?;
        plots::throughput(report, &plots_dir.join(format!("{mode}-throughput.svg")))?;
    }
    let existing = std::fs::read_to_string(markdown).unwrap_or_default();
    let generated = section(reports);
    let updated = match (existing.find(BEGIN), existing.find(END)) {
        (Some(begin), Some(end)) if begin < end => {
            format!(
                "{}{generated}{}",
                &existing[..begin],
                &existing[end + END.len()..].trim_start_matches('\n')
            )
        }
        _ => format!("{}\n{generated}", existing.trim_end()),
    };
    std::fs::write(markdown, updated).with_context(|| format!("writing {}", markdown.display()))
}
