//! Expiry: many orders left unpaid at once. Each is cancelled by `order:expired` when its lock
//! window ends; how late that happens is read from the orders database afterwards (the time
//! the order became cancelled against its `expiresAt`), so it covers the timer firing and the
//! event reaching orders, not only the timer.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::client::Http;
use crate::fixtures::{self, Account};
use crate::load::Plan;
use crate::scenarios::buying::reserve;
use crate::stats::{Distribution, Run};
use crate::target::Databases;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Expiry {
    pub orders: u64,
    /// Orders still waiting for their timer when the last one was made.
    pub pending_at_peak: u64,
    pub lock_window_s: f64,
    /// Making the orders.
    pub reserving: Run,
    /// Cancelled `updated_at` minus `expires_at`.
    pub lateness: Distribution,
    /// Orders of the scenario not cancelled as expired within the wait: must be 0.
    pub not_expired: u64,
}

pub async fn unpaid_orders(
    http: &Http,
    databases: &Databases,
    buyers: &[Account],
    tickets: Vec<String>,
    lock_window: Duration,
) -> anyhow::Result<Expiry> {
    let orders = tickets.len() as u64;
    let from = gittix_shared::time::unix_millis();
    let reserving = reserve(http, buyers, tickets, Plan::operations(32, orders)).await;
    fixtures::fail_on_errors(&reserving, "reserving the orders left to expire")?;
    let to = gittix_shared::time::unix_millis();
    let pending_at_peak = count(databases, from, to, "status = 'created'").await?;
    let deadline = Instant::now() + lock_window + Duration::from_secs(120);
    while count(databases, from, to, "status <> 'cancelled'").await? > 0
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let late: Vec<(i64,)> = sqlx::query_as(
        "SELECT updated_at - expires_at FROM orders \
         WHERE created_at BETWEEN $1 AND $2 AND status = 'cancelled' AND cancel_reason = 'expired'",
    )
    .bind(from)
    .bind(to)
    .fetch_all(databases.orders.pool())
    .await?;
    Ok(Expiry {
        orders,
        pending_at_peak,
        lock_window_s: lock_window.as_secs_f64(),
        reserving,
        not_expired: orders - late.len() as u64,
        lateness: Distribution::of_millis(late.into_iter().map(|(ms,)| ms as f64)),
    })
}

async fn count(databases: &Databases, from: i64, to: i64, condition: &str) -> anyhow::Result<u64> {
    let (n,): (i64,) = sqlx::query_as(&format!(
        "SELECT count(*) FROM orders WHERE created_at BETWEEN $1 AND $2 AND {condition}"
    ))
    .bind(from)
    .bind(to)
    .fetch_one(databases.orders.pool())
    .await?;
    Ok(n as u64)
}
