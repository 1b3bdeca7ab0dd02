//! Payouts in the payments database. Every change is one conditional update, so a payout moves
//! on once however many replicas, sweeps and events reach it at the same time; each change that
//! others must hear of is published through the outbox in the same transaction.

use gittix_shared::db::Db;
use gittix_shared::domain::OrderStatus;
use gittix_shared::events::{
    PayoutFailed, PayoutOutcome, PayoutPaid, PayoutReversed, PayoutScheduled,
};
use gittix_shared::time::unix_millis;
use gittix_shared::{inbox, outbox};
use sqlx::{Any, Transaction};

use crate::store::ChargeStatus;

gittix_shared::wire_enum! {
    /// Where a seller's payout stands (design, section 3).
    pub enum PayoutStatus {
        /// Waiting for its release time, the buyer's captured payment, or the seller's account.
        Held = "held",
        /// At the seller's Stripe account.
        Paid = "paid",
        /// A transfer failed; it is tried again after a backoff.
        Failed = "failed",
        /// The sale was refunded before release: nothing is paid.
        Cancelled = "cancelled",
        /// The sale was refunded after release: the transfer was taken back.
        Reversed = "reversed",
    }
}

/// A seller's payout, as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Payout {
    pub id: String,
    pub order_id: String,
    pub ticket_id: String,
    pub seller_id: String,
    /// The seller's share, in cents: the sale's price less the seller fee.
    pub amount: i64,
    /// What the platform keeps of the price, in cents.
    pub seller_fee: i64,
    pub status: PayoutStatus,
    /// Unix milliseconds.
    pub release_at: i64,
    pub next_attempt_at: i64,
    pub failures: i64,
    pub refusals: i64,
    pub failure_reason: Option<String>,
    pub stripe_transfer_id: Option<String>,
    pub reversal_wanted_at: Option<i64>,
    /// Since when a transfer may have been made without GitTix knowing (a try claimed whose
    /// answer never came): cleared once Stripe's answer is known.
    pub uncertain_since: Option<i64>,
    pub paid_at: Option<i64>,
    pub created_at: i64,
}

impl Payout {
    /// The idempotency key of this payout's next transfer: one per payout, renewed only after
    /// Stripe refused a transfer outright (it would replay the refusal to the old key). A
    /// transfer whose outcome is unknown is retried under the same key, so it is made once.
    pub fn transfer_key(&self) -> String {
        format!("gittix-payout-{}-{}", self.id, self.refusals)
    }

    /// What `payout:paid`, `payout:failed` and `payout:reversed` say of it.
    fn outcome(&self, transfer: Option<&str>, reason: Option<&str>) -> PayoutOutcome {
        PayoutOutcome {
            id: self.id.clone(),
            order_id: self.order_id.clone(),
            seller_id: self.seller_id.clone(),
            amount: self.amount,
            stripe_transfer_id: transfer.map(str::to_owned),
            reason: reason.map(str::to_owned),
        }
    }
}

const COLUMNS: &str = "id, order_id, ticket_id, seller_id, amount, seller_fee, status, release_at, \
    next_attempt_at, failures, refusals, failure_reason, stripe_transfer_id, reversal_wanted_at, uncertain_since, \
    paid_at, created_at";

/// Why a payout is still held while its seller's account cannot take it, in words for the seller.
pub const WAITING_FOR_ACCOUNT: &str =
    "Waiting for your payout account: finish setting it up on the Payouts page.";

/// A delivered sale, as the payout's scheduling needs it.
pub struct DeliveredSale<'a> {
    pub ticket_id: &'a str,
    pub order_id: &'a str,
    pub seller_id: &'a str,
}

/// What became of a reported delivery.
#[derive(Debug, PartialEq, Eq)]
pub enum Scheduling {
    /// Recorded (a payout, or nothing for a sale that was refunded or never delivered).
    Done,
    /// The replica does not show the order complete yet: try again later.
    OrderNotComplete,
}

#[derive(Clone)]
pub struct PayoutStore {
    db: Db,
}

impl PayoutStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// `ticket:delivered` (event `event_id`): the sale's payout, held until `release_at` for
    /// the seller's share of the order's price, with `payout:scheduled`; a sale already
    /// refunded gets a cancelled one (the seller sees why nothing comes), an undelivered one
    /// none.
    pub async fn schedule(
        &self,
        event_id: &str,
        sale: &DeliveredSale<'_>,
        release_at: impl FnOnce(i64) -> i64,
    ) -> sqlx::Result<Scheduling> {
        let mut tx = self.db.pool().begin().await?;
        if !inbox::record(&mut tx, event_id).await? {
            return Ok(Scheduling::Done);
        }
        // A refund of the sale waits for this transaction, and then finds its payout to cancel
        // (or this one sees the refund): see `lock_order`.
        lock_order(&mut tx, sale.order_id).await?;
        let order: Option<(OrderStatus, i64, Option<i64>, Option<i64>)> = sqlx::query_as(
            "SELECT status, price_cents, seller_fee_cents, undelivered_at FROM orders WHERE id = $1",
        )
        .bind(sale.order_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((OrderStatus::Complete, price, seller_fee, undelivered_at)) = order else {
            return Ok(Scheduling::OrderNotComplete);
        };
        if undelivered_at.is_some() {
            tx.commit().await?;
            return Ok(Scheduling::Done);
        }
        let refunded: i64 =
            sqlx::query_scalar("SELECT count(*) FROM charges WHERE order_id = $1 AND status = $2")
                .bind(sale.order_id)
                .bind(ChargeStatus::Refunded)
                .fetch_one(&mut *tx)
                .await?;
        let now = unix_millis();
        let seller_fee = seller_fee.unwrap_or(0);
        let payout = Payout {
            id: uuid::Uuid::now_v7().to_string(),
            order_id: sale.order_id.to_owned(),
            ticket_id: sale.ticket_id.to_owned(),
            seller_id: sale.seller_id.to_owned(),
            amount: price - seller_fee,
            seller_fee,
            status: if refunded > 0 {
                PayoutStatus::Cancelled
            } else {
                PayoutStatus::Held
            },
            release_at: release_at(now),
            next_attempt_at: 0,
            failures: 0,
            refusals: 0,
            failure_reason: None,
            stripe_transfer_id: None,
            reversal_wanted_at: None,
            uncertain_since: None,
            paid_at: None,
            created_at: now,
        };
        let inserted = sqlx::query(
            "INSERT INTO payouts (id, order_id, ticket_id, seller_id, amount, seller_fee, status, release_at, \
             next_attempt_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $9) \
             ON CONFLICT (order_id) DO NOTHING",
        )
        .bind(&payout.id)
        .bind(&payout.order_id)
        .bind(&payout.ticket_id)
        .bind(&payout.seller_id)
        .bind(payout.amount)
        .bind(payout.seller_fee)
        .bind(payout.status)
        .bind(payout.release_at)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 1 && payout.status == PayoutStatus::Held {
            let event = PayoutScheduled {
                id: payout.id.clone(),
                order_id: payout.order_id.clone(),
                seller_id: payout.seller_id.clone(),
                amount: payout.amount,
                release_at: payout.release_at,
            };
            outbox::enqueue(&mut tx, &event).await?;
        }
        outbox::commit(tx, &self.db).await?;
        Ok(Scheduling::Done)
    }

    pub async fn payout(&self, id: &str) -> sqlx::Result<Option<Payout>> {
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM payouts WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await
    }

    /// A seller's payouts, newest first.
    pub async fn of_seller(&self, seller_id: &str) -> sqlx::Result<Vec<Payout>> {
        sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM payouts WHERE seller_id = $1 ORDER BY created_at DESC, id DESC LIMIT 500"
        ))
        .bind(seller_id)
        .fetch_all(self.db.pool())
        .await
    }

    /// Payouts to pay that may be tried at `now`, oldest first.
    pub async fn due(&self, now: i64, limit: i64) -> sqlx::Result<Vec<Payout>> {
        self.sweepable("status IN ('held', 'failed')", now, limit)
            .await
    }

    /// Paid payouts of refunded sales whose reversal may be tried at `now`.
    pub async fn to_reverse(&self, now: i64, limit: i64) -> sqlx::Result<Vec<Payout>> {
        self.sweepable(
            "status = 'paid' AND reversal_wanted_at IS NOT NULL",
            now,
            limit,
        )
        .await
    }

    /// Cancelled payouts of refunded sales whose last transfer's outcome was never known, to be
    /// asked about at `now`.
    pub async fn to_resolve(&self, now: i64, limit: i64) -> sqlx::Result<Vec<Payout>> {
        self.sweepable(
            "status = 'cancelled' AND reversal_wanted_at IS NOT NULL",
            now,
            limit,
        )
        .await
    }

    /// The payouts `condition` selects that may be tried at `now`, by when they may be. The
    /// condition is a literal, the same as a partial index's of migration 0110, so that index
    /// serves the sweep (a bound status would not match it).
    async fn sweepable(
        &self,
        condition: &'static str,
        now: i64,
        limit: i64,
    ) -> sqlx::Result<Vec<Payout>> {
        sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM payouts WHERE {condition} AND next_attempt_at <= $1 \
             ORDER BY next_attempt_at LIMIT $2"
        ))
        .bind(now)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await
    }

    /// Takes the payout's next try for one caller until `until`: true for exactly one of any
    /// number of replicas, sweeps and `payout:due` events at once. A caller that dies holding it
    /// leaves it to be tried again at `until`, under the same idempotency key.
    ///
    /// A claim for a transfer marks the payout uncertain until Stripe's answer is recorded: a
    /// refund meanwhile then looks the transfer up rather than trusting that none was made. It
    /// also ends the wait for the account, so enabling the account cannot reset the claim.
    pub async fn claim(
        &self,
        payout: &Payout,
        now: i64,
        until: i64,
        for_transfer: bool,
    ) -> sqlx::Result<bool> {
        let claim = if for_transfer {
            sqlx::query(
                "UPDATE payouts SET next_attempt_at = $2, updated_at = $3, in_flight_until = $2, \
                 uncertain_since = COALESCE(uncertain_since, $3), \
                 failure_reason = CASE WHEN failure_reason = $6 THEN NULL ELSE failure_reason END \
                 WHERE id = $1 AND next_attempt_at <= $3 AND next_attempt_at = $4 AND status = $5",
            )
        } else {
            sqlx::query(
                "UPDATE payouts SET next_attempt_at = $2, updated_at = $3 \
                 WHERE id = $1 AND next_attempt_at <= $3 AND next_attempt_at = $4 AND status = $5",
            )
        };
        let claim = claim
            .bind(&payout.id)
            .bind(until)
            .bind(now)
            .bind(payout.next_attempt_at)
            .bind(payout.status);
        let claim = if for_transfer {
            claim.bind(WAITING_FOR_ACCOUNT)
        } else {
            claim
        };
        let claimed = claim.execute(self.db.pool()).await?;
        Ok(claimed.rows_affected() == 1)
    }

    /// The payout cannot be tried yet (`why`, for the seller): it stays held until `until`.
    pub async fn postpone(&self, id: &str, until: i64, why: &str) -> sqlx::Result<()> {
        sqlx::query(
            "UPDATE payouts SET next_attempt_at = $2, failure_reason = $3, updated_at = $4 \
             WHERE id = $1 AND status IN ($5, $6)",
        )
        .bind(id)
        .bind(until)
        .bind(why)
        .bind(unix_millis())
        .bind(PayoutStatus::Held)
        .bind(PayoutStatus::Failed)
        .execute(self.db.pool())
        .await
        .map(drop)
    }

    /// The transfer was made: the payout is paid, with `payout:paid`. If the sale was refunded
    /// while the transfer was under way (the payout was cancelled meanwhile), it is paid and
    /// at once due for reversal, so the seller keeps nothing of a refunded sale.
    pub async fn paid(&self, payout: &Payout, transfer_id: &str) -> sqlx::Result<()> {
        let now = unix_millis();
        let mut tx = self.db.pool().begin().await?;
        let updated = sqlx::query(
            "UPDATE payouts SET reversal_wanted_at = CASE WHEN status = $4 THEN $3 ELSE reversal_wanted_at END, \
             status = $2, stripe_transfer_id = $5, paid_at = $3, next_attempt_at = $3, failure_reason = NULL, \
             uncertain_since = NULL, in_flight_until = NULL, updated_at = $3 \
             WHERE id = $1 AND stripe_transfer_id IS NULL AND status IN ($6, $7, $4)",
        )
        .bind(&payout.id)
        .bind(PayoutStatus::Paid)
        .bind(now)
        .bind(PayoutStatus::Cancelled)
        .bind(transfer_id)
        .bind(PayoutStatus::Held)
        .bind(PayoutStatus::Failed)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 1 {
            outbox::enqueue(
                &mut tx,
                &PayoutPaid(payout.outcome(Some(transfer_id), None)),
            )
            .await?;
        }
        outbox::commit(tx, &self.db).await
    }

    /// A transfer failed (`reason`; `refused` when Stripe refused it outright, so the next try
    /// takes a new idempotency key): the payout is `failed` until `retry_at`, with
    /// `payout:failed`.
    pub async fn failed(
        &self,
        payout: &Payout,
        reason: &str,
        refused: bool,
        retry_at: i64,
    ) -> sqlx::Result<()> {
        let mut tx = self.db.pool().begin().await?;
        let updated = sqlx::query(
            "UPDATE payouts SET status = $2, failures = failures + 1, refusals = refusals + $3, \
             failure_reason = $4, next_attempt_at = $5, updated_at = $6, in_flight_until = NULL, \
             uncertain_since = CASE WHEN $3 = 1 THEN NULL ELSE uncertain_since END \
             WHERE id = $1 AND status IN ($7, $2) AND stripe_transfer_id IS NULL",
        )
        .bind(&payout.id)
        .bind(PayoutStatus::Failed)
        .bind(i64::from(refused))
        .bind(reason)
        .bind(retry_at)
        .bind(unix_millis())
        .bind(PayoutStatus::Held)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 1 {
            outbox::enqueue(&mut tx, &PayoutFailed(payout.outcome(None, Some(reason)))).await?;
        }
        outbox::commit(tx, &self.db).await
    }

    /// A reversal, or the lookup of a refunded sale's unknown transfer, failed (`reason`): the
    /// payout, still `status`, is tried again at `retry_at`.
    pub async fn try_again_at(
        &self,
        id: &str,
        status: PayoutStatus,
        reason: &str,
        retry_at: i64,
    ) -> sqlx::Result<()> {
        sqlx::query(
            "UPDATE payouts SET failures = failures + 1, failure_reason = $2, next_attempt_at = $3, updated_at = $4, \
             in_flight_until = NULL \
             WHERE id = $1 AND status = $5",
        )
        .bind(id)
        .bind(reason)
        .bind(retry_at)
        .bind(unix_millis())
        .bind(status)
        .execute(self.db.pool())
        .await
        .map(drop)
    }

    /// Stripe refused the transfer of a cancelled payout outright: none was ever made, and
    /// nothing is left to look up.
    pub async fn nothing_was_transferred(&self, id: &str) -> sqlx::Result<()> {
        sqlx::query(
            "UPDATE payouts SET uncertain_since = NULL, reversal_wanted_at = NULL, in_flight_until = NULL, updated_at = $2 \
             WHERE id = $1 AND status = $3 AND stripe_transfer_id IS NULL",
        )
        .bind(id)
        .bind(unix_millis())
        .bind(PayoutStatus::Cancelled)
        .execute(self.db.pool())
        .await
        .map(drop)
    }

    /// The sale of `order_id` turned out refunded while its payout waited: as a refund does.
    pub async fn sale_was_refunded(&self, order_id: &str) -> sqlx::Result<()> {
        let mut tx = self.db.pool().begin().await?;
        sale_refunded(&mut tx, order_id).await?;
        tx.commit().await
    }

    /// The transfer was taken back: the payout is reversed, with `payout:reversed`.
    pub async fn reversed(&self, payout: &Payout, reversal_id: &str) -> sqlx::Result<()> {
        let mut tx = self.db.pool().begin().await?;
        let updated = sqlx::query(
            "UPDATE payouts SET status = $2, stripe_reversal_id = $3, failure_reason = NULL, \
             uncertain_since = NULL, in_flight_until = NULL, updated_at = $4 \
             WHERE id = $1 AND status = $5",
        )
        .bind(&payout.id)
        .bind(PayoutStatus::Reversed)
        .bind(reversal_id)
        .bind(unix_millis())
        .bind(PayoutStatus::Paid)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 1 {
            let outcome = payout.outcome(payout.stripe_transfer_id.as_deref(), None);
            outbox::enqueue(&mut tx, &PayoutReversed(outcome)).await?;
        }
        outbox::commit(tx, &self.db).await
    }

    /// The seller's account can now be paid out to: their payouts waiting for it are tried at
    /// their release time (now, for those past it) rather than at the next look. Only payouts
    /// waiting for the account: a claimed try, or a failed one's backoff, is left as it is.
    pub async fn wake_seller(&self, stripe_account_id: &str) -> sqlx::Result<u64> {
        let woken = sqlx::query(
            "UPDATE payouts SET next_attempt_at = release_at \
             WHERE status = $1 AND failure_reason = $2 AND next_attempt_at > release_at AND seller_id IN \
             (SELECT user_id FROM seller_accounts WHERE stripe_account_id = $3)",
        )
        .bind(PayoutStatus::Held)
        .bind(WAITING_FOR_ACCOUNT)
        .bind(stripe_account_id)
        .execute(self.db.pool())
        .await?;
        Ok(woken.rows_affected())
    }
}

/// Takes the replica order's row lock for the rest of the transaction (a write that changes
/// nothing): scheduling a payout and refunding the sale both take it first, so on PostgreSQL
/// one waits for the other and then sees what it did (SQLite runs one writer at a time anyway).
async fn lock_order(tx: &mut Transaction<'static, Any>, order_id: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE orders SET version = version WHERE id = $1")
        .bind(order_id)
        .execute(&mut **tx)
        .await
        .map(drop)
}

/// The sale of `order_id` was refunded (in the refund's transaction): a payout not paid yet is
/// cancelled; a paid one is due for reversal. A cancelled one whose last transfer's outcome was
/// never known is due for a lookup (`reversal_wanted_at`): the transfer may have been made. The
/// lookup waits for a try still in flight to end (`in_flight_until`), and is otherwise at once.
pub(crate) async fn sale_refunded(
    tx: &mut Transaction<'static, Any>,
    order_id: &str,
) -> sqlx::Result<()> {
    lock_order(tx, order_id).await?;
    let now = unix_millis();
    sqlx::query(
        "UPDATE payouts SET status = $2, updated_at = $3, \
         reversal_wanted_at = CASE WHEN uncertain_since IS NULL THEN NULL ELSE $3 END, \
         next_attempt_at = CASE WHEN uncertain_since IS NULL THEN next_attempt_at ELSE COALESCE(in_flight_until, $3) END \
         WHERE order_id = $1 AND status IN ($4, $5)",
    )
        .bind(order_id)
        .bind(PayoutStatus::Cancelled)
        .bind(now)
        .bind(PayoutStatus::Held)
        .bind(PayoutStatus::Failed)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "UPDATE payouts SET reversal_wanted_at = $2, next_attempt_at = $2, updated_at = $2 \
         WHERE order_id = $1 AND status = $3 AND reversal_wanted_at IS NULL",
    )
    .bind(order_id)
    .bind(now)
    .bind(PayoutStatus::Paid)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
