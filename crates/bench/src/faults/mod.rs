//! The fault suite: a purchase load runs against the local cluster (`scripts/cluster`) while
//! each fault in turn is injected and taken away; then the invariants are read from the
//! services' databases and JetStream. `scripts/faults` runs it and prints the report.

mod checks;
mod cluster;
mod emails;
mod proxy;
pub(crate) mod purchases;
mod revocation;
mod stand_in;
mod webhooks;

use std::fmt::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;

use self::checks::Check;
use self::cluster::{argument, Cluster};
use self::proxy::{Behaviour, FaultyStripe};
use self::purchases::{Challenges, Load, Tally};
use self::stand_in::StandIn;
use self::webhooks::{Delivery, FaultyWebhooks};
use crate::client::Http;
use crate::fixtures::sign_up_many;
use crate::target::Target;

/// How long a stopped server stays stopped, and a failing Stripe fails.
const OUTAGE: Duration = Duration::from_secs(10);
/// How soon after a killed process is back the work it had in flight must be done (issue 16).
const RESUME_WITHIN: Duration = Duration::from_secs(5);
/// How long payments waits for Stripe in this suite before the outcome counts as unknown.
const STRIPE_TIMEOUT_SECONDS: u64 = 3;

#[derive(Debug, Clone, Copy)]
enum Fault {
    /// SIGKILL, then started again at once; several at once are processes that share nothing.
    Kill(&'static [&'static str]),
    /// SIGTERM, then started again at once.
    RestartNats,
    /// Stopped as a crash would (`pg_ctl -m immediate`), started after [`OUTAGE`].
    StopPostgres,
    /// Servers stopped with a signal each, all started after [`OUTAGE`]: Redis by SIGKILL, the
    /// SMTP server by SIGTERM (it finishes the conversations under way, as a mail server
    /// stopped for maintenance does; its Maildir stays). Two at once: nothing uses both.
    StopServers(&'static [(&'static str, &'static str)]),
    /// The Stripe stand-in answers 500, or nothing, or refuses captures, for [`OUTAGE`].
    Stripe(Behaviour),
    /// The Stripe stand-in's webhooks are lost, delivered twice, or reordered for [`OUTAGE`].
    Webhooks(Delivery),
    /// SIGKILL; a session is signed out while the process is down; started again.
    RevokeWhileDown(&'static str),
}

const FAULTS: [Fault; 19] = [
    Fault::Kill(&["auth"]),
    Fault::Kill(&["tickets-1"]),
    Fault::Kill(&["tickets-2"]),
    Fault::Kill(&["orders-1"]),
    Fault::Kill(&["orders-2"]),
    Fault::Kill(&["expiration"]),
    Fault::Kill(&["payments"]),
    Fault::Kill(&["web", "notifications"]),
    Fault::Kill(&["nats"]),
    Fault::RestartNats,
    Fault::StopPostgres,
    Fault::StopServers(&[("redis", "KILL"), ("smtp", "TERM")]),
    Fault::Stripe(Behaviour::Error),
    Fault::Stripe(Behaviour::Silent),
    Fault::Stripe(Behaviour::CapturesFail),
    Fault::Webhooks(Delivery::Lost),
    Fault::Webhooks(Delivery::Duplicated),
    Fault::Webhooks(Delivery::Reordered),
    Fault::RevokeWhileDown("orders-2"),
];

impl Fault {
    fn describe(self) -> String {
        match self {
            Self::Kill([name]) => format!("kill -9 {name}, then start it again"),
            Self::Kill(names) => format!("kill -9 {}, then start them again", names.join(" and ")),
            Self::RestartNats => "restart NATS (SIGTERM, start again)".to_owned(),
            Self::StopPostgres => format!(
                "stop PostgreSQL (every service's database, orders' too) as a crash would, for {} s",
                OUTAGE.as_secs()
            ),
            Self::StopServers(servers) => {
                let stops: Vec<String> = servers
                    .iter()
                    .map(|(server, signal)| match (*server, *signal) {
                        ("redis", "KILL") => "kill -9 Redis".to_owned(),
                        ("smtp", "TERM") => "stop the SMTP server (SIGTERM)".to_owned(),
                        (server, signal) => format!("stop {server} (SIG{signal})"),
                    })
                    .collect();
                format!(
                    "{}, start them after {} s",
                    stops.join(" and "),
                    OUTAGE.as_secs()
                )
            }
            Self::Stripe(Behaviour::Error) => {
                format!("the Stripe stand-in answers 500 for {} s", OUTAGE.as_secs())
            }
            Self::Stripe(Behaviour::CapturesFail) => format!(
                "the Stripe stand-in refuses every capture (500) for {} s, so paid orders' money waits held",
                OUTAGE.as_secs()
            ),
            Self::Stripe(_) => format!(
                "the Stripe stand-in answers nothing for {} s (payments gives up after {STRIPE_TIMEOUT_SECONDS} s)",
                OUTAGE.as_secs()
            ),
            Self::Webhooks(Delivery::Lost) => format!(
                "the Stripe stand-in's webhooks are lost for {} s",
                OUTAGE.as_secs()
            ),
            Self::Webhooks(Delivery::Duplicated) => format!(
                "the Stripe stand-in's webhooks are delivered twice for {} s",
                OUTAGE.as_secs()
            ),
            Self::Webhooks(_) => format!(
                "the Stripe stand-in's webhooks are held and delivered newest first for {} s",
                OUTAGE.as_secs()
            ),
            Self::RevokeWhileDown(name) => format!(
                "kill -9 {name}, sign a session out while it is down, then start it again"
            ),
        }
    }

    /// Injects the fault and takes it away again, returning when the process or server is
    /// back (or the fault is over), with the checks of the fault's own, if it has any.
    async fn inject(self, rig: &Rig, gateway: &Http) -> anyhow::Result<Vec<Check>> {
        let back = Duration::from_secs(60);
        match self {
            Self::RevokeWhileDown(name) => {
                let check =
                    revocation::revoked_while_down(&rig.cluster, gateway, name, back).await?;
                Ok(vec![check])
            }
            Self::Webhooks(delivery) => {
                let before = rig.webhooks.deliveries();
                rig.webhooks.set(delivery);
                tokio::time::sleep(OUTAGE).await;
                rig.webhooks.set(Delivery::Forward);
                rig.webhooks.flush().await;
                Ok(vec![checks::webhooks_answered(
                    before,
                    rig.webhooks.deliveries(),
                )])
            }
            _ => {
                self.inject_outage(&rig.cluster, &rig.stripe, back).await?;
                Ok(Vec::new())
            }
        }
    }

    async fn inject_outage(
        self,
        cluster: &Cluster,
        stripe: &FaultyStripe,
        back: Duration,
    ) -> anyhow::Result<()> {
        match self {
            Self::Kill(names) => {
                for name in names {
                    cluster.signal(name, "KILL").await?;
                }
                for name in names {
                    cluster.start(name)?;
                }
                for name in names {
                    cluster.wait_ready(name, back).await?;
                }
                Ok(())
            }
            Self::RestartNats => {
                cluster.signal("nats", "TERM").await?;
                cluster.start("nats")?;
                cluster.wait_ready("nats", back).await
            }
            Self::StopPostgres => {
                cluster.postgres("stop")?;
                tokio::time::sleep(OUTAGE).await;
                cluster.postgres("start")
            }
            Self::StopServers(servers) => {
                for (server, signal) in servers {
                    cluster.signal(server, signal).await?;
                }
                tokio::time::sleep(OUTAGE).await;
                for (server, _) in servers {
                    cluster.start(server)?;
                }
                for (server, _) in servers {
                    cluster.wait_ready(server, back).await?;
                }
                Ok(())
            }
            Self::Stripe(behaviour) => {
                stripe.set(behaviour);
                tokio::time::sleep(OUTAGE).await;
                stripe.set(Behaviour::Forward);
                Ok(())
            }
            Self::RevokeWhileDown(_) | Self::Webhooks(_) => unreachable!("inject runs it"),
        }
    }
}

/// What the suite works the cluster with: its processes, the proxy in front of the Stripe
/// stand-in, the relay of the stand-in's webhooks, and the stand-in itself.
struct Rig {
    cluster: Cluster,
    stripe: FaultyStripe,
    webhooks: FaultyWebhooks,
    stand_in: StandIn,
}

struct Outcome {
    fault: Fault,
    took: Duration,
    tally: Tally,
    /// Payments accepted after the fault was taken away: the system came back.
    paid_after: usize,
    checks: Vec<Check>,
}

pub async fn run(report_path: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let cluster = Cluster::from_env()?;
    let nats_url =
        std::env::var("GITTIX_E2E_NATS_URL").context("GITTIX_E2E_NATS_URL is not set")?;
    let maildir: std::path::PathBuf = std::env::var("GITTIX_E2E_SMTP_MAILDIR")
        .context("GITTIX_E2E_SMTP_MAILDIR is not set")?
        .into();
    let scratch =
        std::env::temp_dir().join(format!("gittix-faults-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&scratch)?;
    let target = Target::distributed(scratch).await?;
    let stripe = reroute_payments(&cluster).await?;
    let stand_in = StandIn::new(
        &std::env::var("GITTIX_E2E_STRIPE_URL").context("GITTIX_E2E_STRIPE_URL is not set")?,
    );
    let webhooks = webhooks::start(&format!("{}/api/payments/webhook", target.http.base())).await?;
    let secret = std::env::var("GITTIX_E2E_WEBHOOK_SECRET")
        .context("GITTIX_E2E_WEBHOOK_SECRET is not set")?;
    stand_in.send_webhooks_to(&webhooks.url, &secret).await?;
    let rig = Rig {
        cluster,
        stripe,
        webhooks,
        stand_in,
    };
    let challenges = Challenges::StandIn(rig.stand_in.clone());
    let sellers = sign_up_many(&target.http, "fault-seller", 4).await?;
    let buyers = sign_up_many(&target.http, "fault-buyer", 8).await?;
    // Long enough for every abandoned order to expire, and for unknown charges to settle.
    let patience = target.lock_window + Duration::from_secs(90);

    let mut outcomes = Vec::new();
    // Emails the SMTP server holds twice, with one Message-ID: only a kill of notifications
    // between the server's acceptance and its record may add one (docs/email.md).
    let mut sent_twice = 0;
    for fault in FAULTS {
        println!("fault: {}", fault.describe());
        let began = Instant::now();
        let load = Load::start(&target.http, &sellers, &buyers, &challenges);
        tokio::time::sleep(Duration::from_secs(3)).await;
        let own_checks = fault
            .inject(&rig, &target.http)
            .await
            .with_context(|| fault.describe())?;
        let restored = Instant::now();
        // The load goes on after the fault: purchases must succeed again. Meanwhile, how long
        // the work in flight took to resume: every order paid before now, complete.
        let paid_before = load.paid_before(restored);
        let (resumed, ()) = tokio::join!(
            completed_within(&target.databases, &paid_before, Duration::from_secs(30)),
            tokio::time::sleep(Duration::from_secs(5)),
        );
        let tally = load.stop().await;
        let paid_after = tally.paid_at.iter().filter(|at| **at > restored).count();
        let mut checks = own_checks;
        checks.extend(checks::all(&target.databases, &nats_url, patience).await?);
        checks.extend(checks::deliveries(&target.databases, patience).await?);
        checks.push(checks::ledger(&target.databases, patience).await?);
        let killed_mid_send =
            matches!(fault, Fault::Kill(names) if names.contains(&"notifications"));
        let (email_checks, twice) = emails::emails(
            &target.databases,
            &maildir,
            patience,
            sent_twice,
            killed_mid_send,
        )
        .await?;
        sent_twice = twice;
        checks.extend(email_checks);
        checks.push(checks::stripe_agrees(&rig.stand_in, &target.databases).await?);
        if let Fault::Kill(_) | Fault::RevokeWhileDown(_) = fault {
            checks.push(checks::resumed_in_time(
                resumed?,
                paid_before.len(),
                RESUME_WITHIN,
            ));
        }
        for check in &checks {
            println!(
                "  {} {}: {}",
                if check.held { "ok  " } else { "FAIL" },
                check.name,
                check.detail
            );
        }
        println!("  payments accepted after the fault: {paid_after}");
        outcomes.push(Outcome {
            fault,
            took: began.elapsed(),
            tally,
            paid_after,
            checks,
        });
    }
    let report = render(&outcomes, started.elapsed());
    if let Some(parent) = report_path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(report_path, &report)
        .with_context(|| format!("writing {}", report_path.display()))?;
    println!("\n{report}");
    let failed: Vec<String> = outcomes
        .iter()
        .filter(|o| o.paid_after == 0 || o.checks.iter().any(|c| !c.held))
        .map(|o| o.fault.describe())
        .collect();
    anyhow::ensure!(
        failed.is_empty(),
        "invariants failed after: {}",
        failed.join("; ")
    );
    Ok(())
}

/// How long until every one of `orders` is complete in the orders service, polled every 100 ms;
/// `None` if they are not within `limit`.
async fn completed_within(
    databases: &crate::target::Databases,
    orders: &[String],
    limit: Duration,
) -> anyhow::Result<Option<Duration>> {
    let started = Instant::now();
    loop {
        let complete: Vec<String> =
            sqlx::query_scalar("SELECT id FROM orders WHERE status = 'complete'")
                .fetch_all(databases.orders.pool())
                .await?;
        let complete: std::collections::HashSet<String> = complete.into_iter().collect();
        if orders.iter().all(|order| complete.contains(order)) {
            return Ok(Some(started.elapsed()));
        }
        if started.elapsed() > limit {
            return Ok(None);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Restarts payments with its Stripe calls going through the fault proxy, and a short timeout.
async fn reroute_payments(cluster: &Cluster) -> anyhow::Result<FaultyStripe> {
    let command = cluster.command("payments")?;
    let upstream = argument(&command, "STRIPE_API_BASE=")
        .context("payments' command sets no STRIPE_API_BASE")?
        .to_owned();
    let stripe = proxy::start(&upstream).await?;
    let command = command
        .replace(
            &format!("STRIPE_API_BASE={upstream}"),
            &format!("STRIPE_API_BASE={}", stripe.url),
        )
        .replacen(
            "env -i ",
            &format!("env -i STRIPE_TIMEOUT_SECONDS={STRIPE_TIMEOUT_SECONDS} "),
            1,
        );
    cluster.set_command("payments", &command)?;
    cluster.signal("payments", "TERM").await?;
    cluster.start("payments")?;
    cluster
        .wait_ready("payments", Duration::from_secs(60))
        .await?;
    Ok(stripe)
}

fn render(outcomes: &[Outcome], took: Duration) -> String {
    let mut report = String::new();
    let _ = writeln!(
        report,
        "# Fault suite report\n\nThe purchase load (8 buyers, each listing a ticket through one of 4 sellers, \
         then reserving it and paying, paying with a declined card, paying with a card that asks for \
         3-D Secure and completing the check at once or just as the order's lock ends, cancelling or \
         walking away) ran through every fault; each fault began 3 s into its load, which went on 5 s \
         after the fault was taken away. Then every invariant was read from the services' databases, \
         JetStream and the Stripe stand-in, over everything the suite had done so far. The buyers \
         completed {} 3-D Secure checks at once and {} as the lock ended. Every other seller uploaded \
         the ticket's file as they listed it, and one in four of the others once the buyer had paid \
         (by card at once); each such buyer downloaded the file after paying ({} files, each the \
         seller's byte for byte). The other sales were never delivered, so their buyers were \
         refunded at the deadline (about 11 s here). The whole run took {} s.\n",
        outcomes.iter().map(|o| o.tally.challenges_in_time).sum::<u64>(),
        outcomes.iter().map(|o| o.tally.challenges_late).sum::<u64>(),
        outcomes.iter().map(|o| o.tally.downloaded).sum::<u64>(),
        took.as_secs()
    );
    let _ = writeln!(
        report,
        "| fault | took (with the checks) | purchases begun | payments accepted (after the fault) | answers other than expected | invariants |\n|---|---|---|---|---|---|"
    );
    for outcome in outcomes {
        let unexpected: Vec<String> = outcome
            .tally
            .unexpected
            .iter()
            .map(|(what, n)| format!("{what}: {n}"))
            .collect();
        let held = outcome.checks.iter().filter(|c| c.held).count();
        let _ = writeln!(
            report,
            "| {} | {} s | {} | {} ({}) | {} | {held} of {} held |",
            outcome.fault.describe(),
            outcome.took.as_secs(),
            outcome.tally.begun,
            outcome.tally.paid,
            outcome.paid_after,
            if unexpected.is_empty() {
                "none".to_owned()
            } else {
                unexpected.join(", ")
            },
            outcome.checks.len(),
        );
    }
    let _ = writeln!(report, "\n## Invariants, after each fault\n");
    for outcome in outcomes {
        let _ = writeln!(report, "{}:\n", outcome.fault.describe());
        for check in &outcome.checks {
            let _ = writeln!(
                report,
                "- {} {}: {}",
                if check.held { "held:" } else { "**FAILED:**" },
                check.name,
                check.detail
            );
        }
        let _ = writeln!(
            report,
            "- {} payments were accepted after the fault was taken away\n",
            outcome.paid_after
        );
    }
    report
}
