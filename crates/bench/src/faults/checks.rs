//! What must hold after a fault, once every order has had time to end: read from the services'
//! own databases and from JetStream, not from what the API answered.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use gittix_shared::bus::dead_letter_subject;
use gittix_shared::bus::jetstream::JetStreamSettings;
use gittix_shared::db::Db;

use super::stand_in::StandIn;
use super::webhooks::Deliveries;
use crate::counters::{count, settle_and_count};
use crate::target::Databases;

/// One invariant and whether it held.
#[derive(Debug, Clone)]
pub struct Check {
    pub name: &'static str,
    pub held: bool,
    pub detail: String,
}

impl Check {
    fn zero(name: &'static str, found: u64) -> Self {
        Self {
            name,
            held: found == 0,
            detail: format!("{found} found"),
        }
    }
}

pub async fn all(
    databases: &Databases,
    nats_url: &str,
    patience: Duration,
) -> anyhow::Result<Vec<Check>> {
    let counters = settle_and_count(databases, patience).await?;
    let mut checks = vec![
        Check::zero("every order is complete or cancelled", counters.orders_not_final),
        Check::zero("no ticket has two live orders", counters.tickets_with_two_live_orders),
        Check::zero(
            "every captured payment belongs to a completed order or was refunded; no hold is left uncaptured and unreleased",
            counters.charges_without_sale,
        ),
        Check::zero(
            "tickets' statuses agree with the orders (sold to the completed order, none left reserved)",
            counters.tickets_view_disagrees,
        ),
    ];
    // The replicas are read once their events have had time to arrive.
    checks.push(
        agreeing(
            "the orders service's copy of each ticket has the tickets service's version",
            &databases.tickets,
            "SELECT id, CAST(version AS TEXT) FROM tickets",
            &databases.orders,
            "SELECT id, CAST(version AS TEXT) FROM tickets",
        )
        .await?,
    );
    checks.push(
        agreeing(
            "the payments service's copy of each order has the orders service's status",
            &databases.orders,
            "SELECT id, status FROM orders",
            &databases.payments,
            "SELECT id, status FROM orders",
        )
        .await?,
    );
    checks.push(one_price_per_sale(databases).await?);
    checks.push(withdrawn_tickets_unsold(databases).await?);
    checks.extend(dead_letters(nats_url).await?);
    Ok(checks)
}

/// The orders paid before a killed process was back were all complete within `limit` of it.
pub fn resumed_in_time(took: Option<Duration>, orders: usize, limit: Duration) -> Check {
    let name = "every order paid before the restart completed within 5 s of it";
    match took {
        Some(took) => Check {
            name,
            held: took <= limit,
            detail: format!(
                "{orders} orders, all complete {:.1} s after the restart",
                took.as_secs_f64()
            ),
        },
        None => Check {
            name,
            held: false,
            detail: format!("{orders} orders, not all complete 30 s after the restart"),
        },
    }
}

/// Stripe's side, read from the stand-in itself: no card's money is left held (an intent still
/// `requires_capture`) or waiting on a check (`requires_action`) once every order has ended; every
/// captured intent belongs to a completed order or was refunded; and every payment GitTix
/// records as captured is captured at Stripe.
pub async fn stripe_agrees(stand_in: &StandIn, databases: &Databases) -> anyhow::Result<Check> {
    let intents = stand_in.payment_intents().await?;
    let complete: std::collections::HashSet<String> =
        sqlx::query_scalar("SELECT id FROM orders WHERE status = 'complete'")
            .fetch_all(databases.orders.pool())
            .await?
            .into_iter()
            .collect();
    let recorded: HashMap<String, String> =
        sqlx::query_as("SELECT stripe_id, status FROM charges WHERE stripe_id IS NOT NULL")
            .fetch_all(databases.payments.pool())
            .await?
            .into_iter()
            .collect();
    let mut wrong = Vec::new();
    let mut captured_at_stripe = std::collections::HashSet::new();
    for intent in &intents {
        let (Some(id), Some(status)) = (intent["id"].as_str(), intent["status"].as_str()) else {
            continue;
        };
        let order = intent["metadata"]["gittix_order_id"]
            .as_str()
            .unwrap_or_default();
        let refunded = recorded.get(id).is_some_and(|s| s == "refunded");
        let fine = match status {
            "requires_capture" | "requires_action" | "processing" => false,
            "succeeded" => {
                captured_at_stripe.insert(id.to_owned());
                complete.contains(order) || refunded
            }
            _ => true,
        };
        if !fine {
            wrong.push(format!("{id} {status} (order {order})"));
        }
    }
    for (id, status) in &recorded {
        if (status == "completed" || status == "refunded") && !captured_at_stripe.contains(id) {
            wrong.push(format!("{id} recorded {status}, not captured at Stripe"));
        }
    }
    let mut check = Check::zero(
        "at Stripe: no hold or open check is left, every captured payment's order completed (or it was refunded), every recorded capture happened",
        wrong.len() as u64,
    );
    check.detail += &format!(" among {} payment intents", intents.len());
    if let Some(example) = wrong.first() {
        check.detail += &format!(" (e.g. {example})");
    }
    Ok(check)
}

/// While the webhooks were lost, doubled or reordered, payments answered every one it was sent
/// without a server error (a 4xx asks Stripe to send it again later).
pub fn webhooks_answered(before: Deliveries, after: Deliveries) -> Check {
    let failed = after.failed - before.failed;
    let mut check = Check::zero(
        "payments answered every webhook delivered without a server error",
        failed,
    );
    check.detail += &format!(
        " ({} sent by the stand-in, {} lost, {} delivered)",
        after.received - before.received,
        after.lost - before.lost,
        after.delivered - before.delivered
    );
    check
}

/// Every sold ticket's price equals its order's price, its order's buyer fee is the cluster's
/// rate of that price (`GITTIX_E2E_BUYER_FEE_PERCENT`), and its charge's amount the order's
/// total: the sale has one price in every record (design, sections 5 and 8). The charge is the
/// captured one, or for a sale never delivered the refunded one.
async fn one_price_per_sale(databases: &Databases) -> anyhow::Result<Check> {
    let buyer_fee: gittix_shared::fees::FeeRate = std::env::var("GITTIX_E2E_BUYER_FEE_PERCENT")
        .unwrap_or_else(|_| "0".to_owned())
        .parse()
        .map_err(|e: String| anyhow::anyhow!(e))?;
    let sold: Vec<(String, Option<String>, i64, Option<String>)> = sqlx::query_as(
        "SELECT id, order_id, price_cents, delivery FROM tickets WHERE status = 'sold'",
    )
    .fetch_all(databases.tickets.pool())
    .await?;
    // Each complete order's (price, fee, total).
    let ordered: HashMap<String, (i64, i64, i64)> = sqlx::query_as(
        "SELECT id, ticket_price_cents, buyer_fee_cents FROM orders WHERE status = 'complete'",
    )
    .fetch_all(databases.orders.pool())
    .await?
    .into_iter()
    .map(|(id, price, fee): (String, i64, i64)| (id, (price, fee, price + fee)))
    .collect();
    let charges = async |status: &str| -> anyhow::Result<HashMap<String, i64>> {
        Ok(
            sqlx::query_as("SELECT order_id, amount FROM charges WHERE status = $1")
                .bind(status)
                .fetch_all(databases.payments.pool())
                .await?
                .into_iter()
                .collect(),
        )
    };
    let (captured, refunded) = (charges("completed").await?, charges("refunded").await?);
    // An undelivered sale's refund may still be under way (its deadline can pass while the
    // checks read): its charge is the captured one until then. That it is refunded is the
    // deliveries check's.
    let charged_for = |order: &str, delivery: &Option<String>| match delivery.as_deref() {
        Some("undelivered") => refunded.get(order).or_else(|| captured.get(order)),
        _ => captured.get(order),
    };
    let differing: Vec<&(String, Option<String>, i64, Option<String>)> = sold
        .iter()
        .filter(|(_, order, price, delivery)| {
            let order = order.as_deref().unwrap_or_default();
            match ordered.get(order) {
                Some((ordered_price, fee, total)) => {
                    ordered_price != price
                        || *fee != buyer_fee.of(*price)
                        || charged_for(order, delivery) != Some(total)
                }
                None => true,
            }
        })
        .collect();
    let mut check = Check::zero(
        "every sold ticket's price equals its order's price, its buyer fee the rate of it, and its charge the order's total",
        differing.len() as u64,
    );
    if let Some((ticket, order, price, delivery)) = differing.first() {
        let order = order.as_deref().unwrap_or_default();
        check.detail += &format!(
            " (e.g. ticket {ticket} at {price}: order {:?}, charge {:?})",
            ordered.get(order),
            charged_for(order, delivery)
        );
    }
    Ok(check)
}

/// The ledger (design, section 8), read once every deadline has passed and its refunds are made
/// ([`deliveries`] waits for that): for every order, charged = refunded + paid out + held + fees,
/// and nothing left moving.
pub async fn ledger(databases: &Databases, patience: Duration) -> anyhow::Result<Check> {
    let deadline = Instant::now() + patience;
    let mut ledger = gittix_payments::ledger::read(&databases.payments).await?;
    while ledger.unsettled().next().is_some() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        ledger = gittix_payments::ledger::read(&databases.payments).await?;
    }
    let wrong: Vec<_> = ledger.unbalanced().chain(ledger.unsettled()).collect();
    let mut check = Check::zero(
        "the ledger balances for every order, to the cent: charged = refunded + paid out + held + fees",
        wrong.len() as u64,
    );
    let total = ledger.total();
    check.detail += &format!(
        " ({} orders: {} charged, {} refunded, {} paid out, {} held, {} fees, in cents)",
        ledger.lines.len(),
        total.charged,
        total.refunded,
        total.paid_out,
        total.held,
        total.fees
    );
    if let Some(line) = wrong.first() {
        check.detail += &format!("; e.g. {line:?}");
    }
    Ok(check)
}

/// Delivery (design, section 5): once every deadline has passed, no sale still awaits its file;
/// every delivered ticket has its file, is held for the buyer of its completed order (the load
/// downloaded each one as that buyer, too), and its payment stands (captured, not refunded); and
/// every sale never delivered was refunded in full, with no captured payment left.
pub async fn deliveries(databases: &Databases, patience: Duration) -> anyhow::Result<Vec<Check>> {
    // The deadlines of the last sales fall after the load stopped: wait for them, and for the
    // refunds they cause, before reading.
    let deadline = Instant::now() + patience;
    let overdue_sql =
        "SELECT count(*) FROM tickets WHERE status = 'sold' AND delivery = 'awaiting'";
    let unrefunded = async || -> anyhow::Result<u64> {
        let undelivered: Vec<String> = sqlx::query_scalar(
            "SELECT order_id FROM tickets WHERE delivery = 'undelivered' AND order_id IS NOT NULL",
        )
        .fetch_all(databases.tickets.pool())
        .await?;
        let captured = captured_orders(databases).await?;
        Ok(undelivered.iter().filter(|o| captured.contains(*o)).count() as u64)
    };
    let (mut awaiting, mut not_refunded) = (0, 0);
    while Instant::now() < deadline {
        (awaiting, not_refunded) = (
            count(&databases.tickets, overdue_sql).await?,
            unrefunded().await?,
        );
        if awaiting == 0 && not_refunded == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let delivered: Vec<(String, Option<String>, Option<String>, i64)> = sqlx::query_as(
        "SELECT t.id, t.order_id, t.buyer_id, (SELECT count(*) FROM ticket_files f WHERE f.ticket_id = t.id) \
         FROM tickets t WHERE t.delivery = 'delivered'",
    )
    .fetch_all(databases.tickets.pool())
    .await?;
    let buyers: HashMap<String, String> =
        sqlx::query_as("SELECT id, user_id FROM orders WHERE status = 'complete'")
            .fetch_all(databases.orders.pool())
            .await?
            .into_iter()
            .collect();
    let captured = captured_orders(databases).await?;
    let unreadable = delivered
        .iter()
        .filter(|(_, order, buyer, files)| {
            let buyer_of_order = order.as_ref().and_then(|o| buyers.get(o));
            let paid = order.as_ref().is_some_and(|o| captured.contains(o));
            *files != 1 || buyer.is_none() || buyer_of_order != buyer.as_ref() || !paid
        })
        .count();
    let undelivered = count(
        &databases.tickets,
        "SELECT count(*) FROM tickets WHERE delivery = 'undelivered'",
    )
    .await?;
    let mut refunded = Check::zero(
        "every sale not delivered by its deadline was refunded in full",
        not_refunded,
    );
    refunded.detail += &format!(" ({undelivered} undelivered)");
    let mut readable = Check::zero(
        "every delivered ticket's file is kept for the buyer of its completed order, whose payment stands",
        unreadable as u64,
    );
    readable.detail += &format!(" ({} delivered)", delivered.len());
    Ok(vec![
        Check::zero("no sold ticket awaits its file past its deadline", awaiting),
        readable,
        refunded,
    ])
}

/// The orders whose payment is captured (and not refunded).
async fn captured_orders(
    databases: &Databases,
) -> anyhow::Result<std::collections::HashSet<String>> {
    Ok(
        sqlx::query_scalar("SELECT order_id FROM charges WHERE status = 'completed'")
            .fetch_all(databases.payments.pool())
            .await?
            .into_iter()
            .collect(),
    )
}

/// No order of a withdrawn ticket is active or complete: a withdrawal that wins leaves no order
/// behind, and one that loses does not happen.
async fn withdrawn_tickets_unsold(databases: &Databases) -> anyhow::Result<Check> {
    let withdrawn: Vec<String> =
        sqlx::query_scalar("SELECT id FROM tickets WHERE status = 'withdrawn'")
            .fetch_all(databases.tickets.pool())
            .await?;
    let live: Vec<String> =
        sqlx::query_scalar("SELECT ticket_id FROM orders WHERE status <> 'cancelled'")
            .fetch_all(databases.orders.pool())
            .await?;
    let live: std::collections::HashSet<String> = live.into_iter().collect();
    let found = withdrawn.iter().filter(|id| live.contains(*id)).count();
    Ok(Check::zero(
        "no order of a withdrawn ticket is active or complete",
        found as u64,
    ))
}

/// Rows (id, value) of `source` missing from `copy` or different there, waited for up to 30 s.
async fn agreeing(
    name: &'static str,
    source: &Db,
    source_sql: &str,
    copy: &Db,
    copy_sql: &str,
) -> anyhow::Result<Check> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let original: Vec<(String, String)> =
            sqlx::query_as(source_sql).fetch_all(source.pool()).await?;
        let copied: HashMap<String, String> = sqlx::query_as(copy_sql)
            .fetch_all(copy.pool())
            .await?
            .into_iter()
            .collect();
        let differing: Vec<&(String, String)> = original
            .iter()
            .filter(|(id, value)| copied.get(id) != Some(value))
            .collect();
        if differing.is_empty() || Instant::now() > deadline {
            let mut check = Check::zero(name, differing.len() as u64);
            check.detail = format!("{} of {} differ", differing.len(), original.len());
            if let Some((id, value)) = differing.first() {
                let copied = copied.get(id).map_or("nothing", String::as_str);
                check.detail += &format!(" (e.g. {id}: {value}, the copy has {copied})");
            }
            return Ok(check);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Every dead letter in JetStream, with the reason the listener gave (`gittix-error`). None is
/// expected: every fault here is far shorter than the retry budget.
async fn dead_letters(nats_url: &str) -> anyhow::Result<Vec<Check>> {
    let settings = JetStreamSettings::new(nats_url);
    let client = async_nats::connect(&settings.url).await?;
    let stream = async_nats::jetstream::new(client)
        .get_stream(&settings.stream)
        .await
        .map_err(|e| anyhow::anyhow!("the {} stream: {e}", settings.stream))?;
    let subjects = format!("{}{}", settings.subject_prefix, dead_letter_subject(">"));
    let consumer = stream
        .create_consumer(async_nats::jetstream::consumer::pull::OrderedConfig {
            filter_subject: subjects.clone(),
            ..Default::default()
        })
        .await
        .map_err(|e| anyhow::anyhow!("reading {subjects}: {e}"))?;
    let mut messages = consumer
        .messages()
        .await
        .map_err(|e| anyhow::anyhow!("reading {subjects}: {e}"))?;
    let (mut total, mut without_reason, mut reasons) = (0u64, 0u64, Vec::new());
    // An ordered consumer waits for more; a second without a message means there is none left.
    while let Ok(Some(message)) =
        tokio::time::timeout(Duration::from_secs(1), messages.next()).await
    {
        let message = message.map_err(|e| anyhow::anyhow!("reading {subjects}: {e}"))?;
        total += 1;
        match message.headers.as_ref().and_then(|h| h.get("gittix-error")) {
            Some(reason) => reasons.push(format!("{}: {}", message.subject, reason.as_str())),
            None => without_reason += 1,
        }
    }
    let mut no_dead_letters = Check::zero("no event was dead-lettered", total);
    if !reasons.is_empty() {
        no_dead_letters.detail += &format!(" ({})", reasons.join("; "));
    }
    Ok(vec![
        Check::zero("no dead letter lacks its reason", without_reason),
        no_dead_letters,
    ])
}
