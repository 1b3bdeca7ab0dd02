//! One run of the whole suite against one GitTix, in the order that lets each scenario find the
//! data it needs, and that keeps the events one scenario leaves behind out of the next one's
//! measurements: the references, sign-in, sign-up, browsing 1,000 tickets, selling up to the
//! big catalogue, the filtered query over it, the events (their catalogue, an event's page, a
//! ticket's file), propagation, the funnel, the flash sales, expiry, reserving; then the
//! correctness counters once every order has ended.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::counters::{settle_and_count, Counters};
use crate::fixtures::{self, sign_up, sign_up_many};
use crate::load::Plan;
use crate::memory::{ProcessMemory, Sampler};
use crate::references;
use crate::scenarios::buying::{self, Propagation};
use crate::scenarios::expiry::{self, Expiry};
use crate::scenarios::flash_sale::{self, FlashRound};
use crate::scenarios::{self, http_reads};
use crate::stats::Run;
use crate::target::{Mode, Target};

/// How big each scenario is: the full suite, or the smoke run CI does for the counters.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sizes {
    pub clients: usize,
    pub timed: Duration,
    pub browse_tickets: usize,
    pub catalogue: usize,
    pub reserve_buyers: usize,
    pub propagation_rounds: usize,
    pub funnel_clients: usize,
    pub funnel_operations: u64,
    pub flash_buyers: usize,
    pub flash_tickets: usize,
    pub race_buyers: usize,
    pub flash_rounds: usize,
    pub expiring_orders: usize,
    /// Upcoming events in the catalogue, and the tickets of the one whose page is read.
    #[serde(default)]
    pub events: usize,
    #[serde(default)]
    pub event_tickets: usize,
}

impl Sizes {
    pub fn full() -> Self {
        Self {
            clients: 32,
            timed: Duration::from_secs(5),
            browse_tickets: 1_000,
            catalogue: 100_000,
            reserve_buyers: 32,
            propagation_rounds: 20,
            funnel_clients: 16,
            funnel_operations: 2_000,
            flash_buyers: 1_000,
            flash_tickets: 100,
            race_buyers: 200,
            flash_rounds: 5,
            expiring_orders: 10_000,
            events: 10_000,
            event_tickets: 1_000,
        }
    }

    pub fn smoke() -> Self {
        Self {
            clients: 8,
            timed: Duration::from_millis(500),
            browse_tickets: 50,
            catalogue: 400,
            reserve_buyers: 8,
            propagation_rounds: 2,
            funnel_clients: 4,
            funnel_operations: 12,
            flash_buyers: 60,
            flash_tickets: 6,
            race_buyers: 30,
            flash_rounds: 2,
            expiring_orders: 40,
            events: 100,
            event_tickets: 50,
        }
    }
}

/// A measured load, by name.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Scenario {
    pub name: String,
    pub run: Run,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct References {
    /// GET on a bare axum handler: the HTTP ceiling.
    pub http_ceiling: Run,
    /// Reserve's writes straight to the database.
    pub database_ceiling: Run,
    /// argon2id hashes per second on every core.
    pub argon2_per_s: f64,
}

/// Everything one run measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SuiteReport {
    pub mode: Mode,
    /// The commit measured and when the run ended (UTC), as `git` and `date` said then.
    #[serde(default)]
    pub commit: String,
    #[serde(default)]
    pub finished_at: String,
    pub smoke: bool,
    pub sizes: Sizes,
    pub references: References,
    pub scenarios: Vec<Scenario>,
    /// How long after the last sale the orders replica held every ticket sold.
    pub replica_catch_up_s: f64,
    pub propagation: Vec<Propagation>,
    pub flash_sales: Vec<FlashRound>,
    pub expiry: Expiry,
    pub memory: Vec<ProcessMemory>,
    pub counters: Counters,
}

impl SuiteReport {
    pub fn scenario(&self, name: &str) -> Option<&Run> {
        self.scenarios
            .iter()
            .find(|s| s.name == name)
            .map(|s| &s.run)
    }
}

/// Prints a benchmark's one-line JSON summary as it finishes.
fn summary(mode: Mode, name: &str, run: &Run) {
    println!(
        "{}",
        serde_json::json!({
            "bench": name,
            "mode": mode.name(),
            "clients": run.clients,
            "operations": run.latency.count,
            "throughput_per_s": (run.throughput() * 10.0).round() / 10.0,
            "p50_ms": run.latency.p50_ms,
            "p99_ms": run.latency.p99_ms,
            "max_ms": run.latency.max_ms,
            "errors": run.errors,
        })
    );
}

pub async fn run(target: &Target, sizes: Sizes, smoke: bool) -> anyhow::Result<SuiteReport> {
    let mode = target.mode;
    let http = &target.http;
    let mut scenarios = Vec::new();
    let mut record = |name: &str, run: Run| {
        summary(mode, name, &run);
        scenarios.push(Scenario {
            name: name.to_owned(),
            run,
        });
    };
    // Idle: started, ready, nothing asked yet.
    tokio::time::sleep(Duration::from_secs(if smoke { 0 } else { 2 })).await;
    let memory = Sampler::start(&target.processes);

    let http_ceiling = references::http_ceiling(sizes.clients, sizes.timed).await?;
    summary(mode, "reference: bare axum GET", &http_ceiling);
    let reference_db =
        references::reference_database(target.postgres_url.as_deref(), &target.scratch).await?;
    let database_ceiling =
        references::database_ceiling(reference_db, sizes.clients, sizes.timed).await?;
    summary(
        mode,
        "reference: reserve's writes, no HTTP",
        &database_ceiling,
    );
    let argon2_per_s = references::argon2_ceiling(sizes.timed.max(Duration::from_secs(1))).await?;
    println!(
        "{}",
        serde_json::json!({"bench": "reference: argon2id hashes", "mode": mode.name(), "per_s": argon2_per_s})
    );

    let seller = sign_up(http, "seller").await?;
    let buyers = sign_up_many(http, "buyer", sizes.flash_buyers.max(sizes.race_buyers)).await?;
    let reserve_buyers = &buyers[..sizes.reserve_buyers];
    record(
        "sign-in check",
        http_reads::sign_in_check(http, &seller, Plan::timed(sizes.clients, sizes.timed)).await,
    );
    // Each sign-up is an argon2 hash on the server's hashing threads (one per core): more
    // clients only queue.
    record(
        "sign up",
        sign_up_load(http, Plan::timed(8, sizes.timed)).await,
    );

    let first =
        fixtures::tickets_for_sale(http, &seller, &target.databases, sizes.browse_tickets).await?;
    record(
        "browse all for sale",
        http_reads::browse_all(
            http,
            sizes.browse_tickets,
            Plan::timed(sizes.clients, sizes.timed),
        )
        .await,
    );
    let (sell_run, more) = fixtures::sell(
        http,
        &seller,
        Plan::operations(sizes.clients, (sizes.catalogue - first.len()) as u64),
    )
    .await;
    fixtures::fail_on_errors(&sell_run, "selling the catalogue")?;
    record("sell", sell_run);
    let catching_up = std::time::Instant::now();
    fixtures::wait_for_replica(&target.databases, &more).await?;
    let replica_catch_up_s = catching_up.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({"bench": "orders replica catch-up after sell", "mode": mode.name(), "tickets": more.len(), "seconds_after_the_last_sale": replica_catch_up_s})
    );
    record(
        "browse filtered page",
        http_reads::browse_filtered(http, Plan::timed(sizes.clients, sizes.timed)).await,
    );

    // The events catalogue, an event's page, and a ticket's file up and down.
    let (create_run, events) = scenarios::events::create(
        http,
        &seller,
        Plan::operations(sizes.clients, sizes.events as u64),
    )
    .await;
    fixtures::fail_on_errors(&create_run, "creating the events")?;
    record("create events", create_run);
    record(
        "browse upcoming events",
        scenarios::events::browse_upcoming(
            http,
            events.len(),
            Plan::timed(sizes.clients, sizes.timed),
        )
        .await,
    );
    record(
        "search upcoming events",
        scenarios::events::search_upcoming(http, Plan::timed(sizes.clients, sizes.timed)).await,
    );
    let (seats_run, seats) = scenarios::events::sell_for(
        http,
        &seller,
        &events[0],
        Plan::operations(16, sizes.event_tickets as u64),
    )
    .await;
    fixtures::fail_on_errors(&seats_run, "listing an event's tickets")?;
    record(
        "an event's tickets",
        scenarios::events::event_tickets(
            http,
            &events[0],
            seats.len(),
            Plan::timed(sizes.clients, sizes.timed),
        )
        .await,
    );
    let file_clients = 8;
    let with_files = &seats[..file_clients.min(seats.len())];
    record(
        "upload a 1 MB ticket file",
        scenarios::events::upload(
            http,
            &seller,
            with_files,
            Plan::timed(file_clients, sizes.timed),
        )
        .await,
    );
    record(
        "download a 1 MB ticket file",
        scenarios::events::download(
            http,
            &seller,
            with_files,
            Plan::timed(file_clients, sizes.timed),
        )
        .await,
    );

    let mut pool = first;
    pool.extend(more);
    let mut take = |n: usize| pool.split_off(pool.len().saturating_sub(n));
    let for_expiry = take(sizes.expiring_orders);
    // The 16 reservations in flight; then one at a time, a quarter as many samples.
    let (in_flight, one_at_a_time_rounds) = (16, 4 * sizes.propagation_rounds);
    let in_flight_tickets = take(in_flight * sizes.propagation_rounds);
    let one_at_a_time_tickets = take(one_at_a_time_rounds);
    let for_reserve = std::mem::take(&mut pool);

    let propagation = vec![
        buying::propagation(
            http,
            reserve_buyers,
            in_flight_tickets,
            in_flight,
            sizes.propagation_rounds,
        )
        .await?,
        buying::propagation(
            http,
            reserve_buyers,
            one_at_a_time_tickets,
            1,
            one_at_a_time_rounds,
        )
        .await?,
    ];
    for p in &propagation {
        println!(
            "{}",
            serde_json::json!({
                "bench": format!("propagation, {} in flight", p.in_flight), "mode": mode.name(),
                "reserved_p50_ms": p.reserved.p50_ms, "reserved_p99_ms": p.reserved.p99_ms,
                "completed_p50_ms": p.completed.p50_ms, "completed_p99_ms": p.completed.p99_ms,
            })
        );
    }

    let funnel = buying::funnel(
        http,
        &seller,
        Plan::bounded(sizes.funnel_clients, sizes.funnel_operations, sizes.timed),
    )
    .await;
    record("full funnel", funnel);

    let mut flash_sales = Vec::new();
    for (buyer_count, ticket_count) in [
        (sizes.flash_buyers, sizes.flash_tickets),
        (sizes.race_buyers, 1),
    ] {
        for _ in 0..sizes.flash_rounds {
            let tickets =
                fixtures::tickets_for_sale(http, &seller, &target.databases, ticket_count).await?;
            let round = flash_sale::round(http, &buyers[..buyer_count], &tickets).await;
            println!(
                "{}",
                serde_json::json!({
                    "bench": format!("flash sale, {buyer_count} buyers for {ticket_count}"), "mode": mode.name(),
                    "winners": round.winners, "tickets_without_exactly_one_winner": round.tickets_without_exactly_one_winner,
                    "refused": round.refused, "errors": round.errors, "p99_ms": round.latency.p99_ms,
                })
            );
            flash_sales.push(round);
        }
    }

    let expiry = expiry::unpaid_orders(
        http,
        &target.databases,
        reserve_buyers,
        for_expiry,
        target.lock_window,
    )
    .await?;
    println!(
        "{}",
        serde_json::json!({
            "bench": "expiry", "mode": mode.name(), "orders": expiry.orders, "pending_at_peak": expiry.pending_at_peak,
            "late_p50_ms": expiry.lateness.p50_ms, "late_p99_ms": expiry.lateness.p99_ms,
            "late_max_ms": expiry.lateness.max_ms, "not_expired": expiry.not_expired,
        })
    );

    // Last, so the orders it leaves expire while the counters wait, not under another scenario.
    record(
        "reserve",
        buying::reserve(
            http,
            reserve_buyers,
            for_reserve,
            Plan::timed(sizes.clients, sizes.timed),
        )
        .await,
    );

    let mut counters = settle_and_count(
        &target.databases,
        target.lock_window + Duration::from_secs(60),
    )
    .await?;
    counters.flash_sale_tickets_without_one_winner = flash_sales
        .iter()
        .map(|r| r.tickets_without_exactly_one_winner)
        .sum();
    println!(
        "{}",
        serde_json::json!({"bench": "correctness counters", "mode": mode.name(), "counters": counters})
    );
    Ok(SuiteReport {
        mode,
        commit: command_output("git", &["rev-parse", "--short", "HEAD"]),
        finished_at: command_output("date", &["-u", "+%Y-%m-%d %H:%M"]),
        smoke,
        sizes,
        references: References {
            http_ceiling,
            database_ceiling,
            argon2_per_s,
        },
        scenarios,
        replica_catch_up_s,
        propagation,
        flash_sales,
        expiry,
        memory: memory.finish(),
        counters,
    })
}

/// POST /api/users/signup, one new account per request.
async fn sign_up_load(http: &crate::client::Http, plan: Plan) -> Run {
    let http = http.clone();
    crate::load::drive(plan, move |_, _| {
        let http = http.clone();
        async move { sign_up(&http, "sign-up").await.map(drop) }
    })
    .await
}

/// What `program args` printed, trimmed; empty when it cannot run.
pub fn command_output(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}
