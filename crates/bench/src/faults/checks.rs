//! What must hold after a fault, once every order has had time to end: read from the services'
//! own databases and from JetStream, not from what the API answered.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use gittix_shared::bus::dead_letter_subject;
use gittix_shared::bus::jetstream::JetStreamSettings;
use gittix_shared::db::Db;

use crate::counters::settle_and_count;
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
            "every successful charge belongs to a completed order or was refunded",
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
    checks.extend(dead_letters(nats_url).await?);
    Ok(checks)
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
