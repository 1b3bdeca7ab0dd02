//! Correctness after the run, read from the services' own databases once every order has had
//! time to end: each counter must be zero.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::target::Databases;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Tickets with more than one active or completed order.
    pub tickets_with_two_live_orders: u64,
    /// Orders still `created` or `awaiting:payment`.
    pub orders_not_final: u64,
    /// Captured payments whose order did not complete and that were not refunded, and attempts
    /// still in flight: outcome unknown, a challenge open, or money held and neither captured
    /// nor released.
    pub charges_without_sale: u64,
    /// Tickets sold in the tickets service that no completed order holds, completed orders whose
    /// ticket the tickets service does not show sold to that order, and tickets still reserved.
    pub tickets_view_disagrees: u64,
    /// Flash-sale tickets that did not get exactly one winner.
    pub flash_sale_tickets_without_one_winner: u64,
    /// Orders whose money does not balance (`charged = refunded + paid_out + held + fees`,
    /// design section 8), or is still moving after the run: read by the payments service's own
    /// [`gittix_payments::ledger`].
    #[serde(default)]
    pub ledger_unbalanced: u64,
}

impl Counters {
    pub fn all_zero(&self) -> bool {
        *self == Self::default()
    }
}

/// Waits (at most `patience`) until no order is open and no charge or reservation is pending,
/// then reads the counters.
pub async fn settle_and_count(
    databases: &Databases,
    patience: Duration,
) -> anyhow::Result<Counters> {
    let deadline = Instant::now() + patience;
    loop {
        let open = count(
            &databases.orders,
            "SELECT count(*) FROM orders WHERE status IN ('created', 'awaiting:payment')",
        )
        .await?
            + count(
                &databases.payments,
                "SELECT count(*) FROM charges WHERE status IN ('created', 'requires_action', 'authorized')",
            )
            .await?
            + count(
                &databases.tickets,
                "SELECT count(*) FROM tickets WHERE status = 'reserved'",
            )
            .await?
            + gittix_payments::ledger::read(&databases.payments)
                .await?
                .unsettled()
                .count() as u64;
        if open == 0 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let completed: HashSet<(String, String)> =
        sqlx::query_as("SELECT id, ticket_id FROM orders WHERE status = 'complete'")
            .fetch_all(databases.orders.pool())
            .await?
            .into_iter()
            .collect();
    let completed_orders: HashSet<&String> = completed.iter().map(|(order, _)| order).collect();
    let sold: HashSet<(String, String)> = sqlx::query_as(
        "SELECT order_id, id FROM tickets WHERE status = 'sold' AND order_id IS NOT NULL",
    )
    .fetch_all(databases.tickets.pool())
    .await?
    .into_iter()
    .collect();
    let charged: Vec<(String,)> =
        sqlx::query_as("SELECT order_id FROM charges WHERE status = 'completed'")
            .fetch_all(databases.payments.pool())
            .await?;
    Ok(Counters {
        tickets_with_two_live_orders: count(
            &databases.orders,
            "SELECT count(*) FROM (SELECT ticket_id FROM orders \
             WHERE status IN ('created', 'awaiting:payment', 'complete') \
             GROUP BY ticket_id HAVING count(*) > 1) AS doubled",
        )
        .await?,
        orders_not_final: count(
            &databases.orders,
            "SELECT count(*) FROM orders WHERE status IN ('created', 'awaiting:payment')",
        )
        .await?,
        charges_without_sale: charged
            .iter()
            .filter(|(order,)| !completed_orders.contains(order))
            .count() as u64
            + count(
                &databases.payments,
                "SELECT count(*) FROM charges WHERE status IN ('created', 'requires_action', 'authorized')",
            )
            .await?,
        tickets_view_disagrees: completed.symmetric_difference(&sold).count() as u64
            + count(
                &databases.tickets,
                "SELECT count(*) FROM tickets WHERE status = 'reserved'",
            )
            .await?
            + count(
                &databases.tickets,
                "SELECT count(*) FROM tickets WHERE status = 'sold' AND order_id IS NULL",
            )
            .await?,
        flash_sale_tickets_without_one_winner: 0,
        ledger_unbalanced: {
            let ledger = gittix_payments::ledger::read(&databases.payments).await?;
            for line in ledger.unbalanced().chain(ledger.unsettled()).take(5) {
                eprintln!("an order's ledger does not balance or is still moving: {line:?}");
            }
            (ledger.unbalanced().count() + ledger.unsettled().count()) as u64
        },
    })
}

/// The `count(*)` that `sql` selects.
pub(crate) async fn count(db: &gittix_shared::db::Db, sql: &str) -> anyhow::Result<u64> {
    let (n,): (i64,) = sqlx::query_as(sql).fetch_one(db.pool()).await?;
    Ok(n as u64)
}
