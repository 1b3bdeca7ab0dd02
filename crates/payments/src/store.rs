//! Charges and the orders replica, on SQLite or PostgreSQL through one code path.

use gittix_shared::db::{is_unique_violation, Db};
use gittix_shared::domain::OrderStatus;
use gittix_shared::events::{
    ChargeAuthorized, ChargeCreated, ChargeFailed, ChargeRefunded, ChargeRequiresAction,
    ChargeStarted,
};
use gittix_shared::fees::FeeRate;
use gittix_shared::replica::{check_version, VersionCheck};
use gittix_shared::time::unix_millis;
use gittix_shared::{inbox, outbox};

/// An order as the replica holds it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReplicaOrder {
    pub id: String,
    pub user_id: String,
    pub status: OrderStatus,
    pub price_cents: i64,
    /// What the buyer pays on top of the price, fixed by orders when the order was made.
    pub buyer_fee_cents: i64,
    pub expires_at: i64,
    pub version: i64,
}

impl ReplicaOrder {
    /// What a payment for the order charges: its total.
    pub fn total_cents(&self) -> i64 {
        self.price_cents + self.buyer_fee_cents
    }
}

gittix_shared::wire_enum! {
    /// Where a payment attempt stands.
    pub enum ChargeStatus {
        /// Sent to the provider, outcome not known yet.
        Created = "created",
        /// The card asks for 3-D Secure; the buyer has the challenge.
        RequiresAction = "requires_action",
        /// The money is held on the card, to be captured once the order is complete (or
        /// released if it is cancelled).
        Authorized = "authorized",
        /// The card was declined.
        Failed = "failed",
        /// The card was charged: captured after the order completed.
        Completed = "completed",
        /// The charge was refunded (by GitTix, or in Stripe's dashboard).
        Refunded = "refunded",
    }
}

/// A payment attempt.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Charge {
    pub id: String,
    pub order_id: String,
    pub attempt: i64,
    pub status: ChargeStatus,
    pub amount: i64,
    pub token: String,
    pub idempotency_key: String,
    /// The PaymentIntent's id.
    pub stripe_id: Option<String>,
    pub stripe_refund_id: Option<String>,
    /// What the buyer's browser needs to answer a 3-D Secure challenge.
    pub client_secret: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Why a failed attempt failed, for the buyer.
    pub failure_reason: Option<String>,
    /// The charge (`ch_...`) a captured intent made: the seller's transfer names it.
    pub stripe_charge_id: Option<String>,
}

const CHARGE_COLUMNS: &str =
    "id, order_id, attempt, status, amount, token, idempotency_key, stripe_id, stripe_refund_id, client_secret, created_at, failure_reason, stripe_charge_id";

/// The statuses of an attempt in flight, as SQL.
const IN_FLIGHT: &str = "('created', 'requires_action', 'authorized')";

/// A change to a replicated order.
pub enum OrderChange {
    Created(ReplicaOrder),
    /// A later version with a new status (`awaiting:payment`, `cancelled` or `complete`).
    /// `seller_fee`, given with `complete`, fixes the sale's seller fee at this rate.
    Status {
        id: String,
        version: i64,
        status: OrderStatus,
        seller_fee: Option<FeeRate>,
    },
}

#[derive(Clone)]
pub struct PaymentStore {
    db: Db,
}

impl PaymentStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    pub async fn order(&self, id: &str) -> Result<Option<ReplicaOrder>, sqlx::Error> {
        sqlx::query_as("SELECT id, user_id, status, price_cents, buyer_fee_cents, expires_at, version FROM orders WHERE id = $1")
            .bind(id)
            .fetch_optional(self.db.pool())
            .await
    }

    /// Applies an order event to the replica in version order.
    pub async fn apply_order(
        &self,
        event_id: &str,
        change: OrderChange,
    ) -> Result<VersionCheck, sqlx::Error> {
        let mut tx = self.db.pool().begin().await?;
        if !inbox::record(&mut tx, event_id).await? {
            return Ok(VersionCheck::AlreadyApplied);
        }
        let (id, version) = match &change {
            OrderChange::Created(order) => (order.id.clone(), order.version),
            OrderChange::Status { id, version, .. } => (id.clone(), *version),
        };
        let held: Option<(i64, i64)> =
            sqlx::query_as("SELECT version, price_cents FROM orders WHERE id = $1")
                .bind(&id)
                .fetch_optional(&mut *tx)
                .await?;
        // Orders publishes every version of an order, so each must be the next one.
        let check = check_version(held.map(|(version, _)| version), version);
        if check != VersionCheck::Apply {
            return Ok(check);
        }
        match change {
            OrderChange::Created(order) => {
                sqlx::query(
                    "INSERT INTO orders (id, user_id, status, price_cents, buyer_fee_cents, expires_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&order.id)
                .bind(&order.user_id)
                .bind(order.status)
                .bind(order.price_cents)
                .bind(order.buyer_fee_cents)
                .bind(order.expires_at)
                .bind(order.version)
                .execute(&mut *tx)
                .await?;
            }
            OrderChange::Status {
                id,
                version,
                status,
                seller_fee,
            } => {
                // The sale's terms are fixed once: the price from order:created, the seller fee
                // when it completes.
                let fee = seller_fee
                    .zip(held)
                    .map(|(rate, (_, price))| rate.of(price));
                sqlx::query(
                    "UPDATE orders SET status = $2, version = $3,                      seller_fee_cents = COALESCE(seller_fee_cents, $4) WHERE id = $1",
                )
                .bind(&id)
                .bind(status)
                .bind(version)
                .bind(fee)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(check)
    }

    /// Claims the order's next attempt number and records the attempt, in flight, before its
    /// card is sent anywhere. `None` when the database refuses the claim: another attempt is in
    /// flight or has succeeded (the partial unique index `charges_one_live_per_order`), a
    /// concurrent payment took the same number (`UNIQUE (order_id, attempt)`), or the order has
    /// used all `MAX_DECLINED_ATTEMPTS` numbers (the CHECK `charges_attempt_within_cap`).
    ///
    /// The decline cap is race-free because the database settles it, not this code: a number
    /// must lie in 1..=3 and be unique per order, so no interleaving of concurrent payments can
    /// record a fourth attempt (migrations/*/0102_decline_cap.sql). Reading the highest number
    /// and inserting the next is not atomic, and need not be: a stale read makes the insert
    /// collide and the payment is refused; it never adds a row past the cap.
    pub async fn start_attempt(
        &self,
        order: &ReplicaOrder,
        token: &str,
    ) -> Result<Option<Charge>, sqlx::Error> {
        let last: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(attempt), 0) FROM charges WHERE order_id = $1")
                .bind(&order.id)
                .fetch_one(self.db.pool())
                .await?;
        let attempt = last + 1;
        let charge = Charge {
            id: uuid::Uuid::now_v7().to_string(),
            order_id: order.id.clone(),
            attempt,
            status: ChargeStatus::Created,
            amount: order.total_cents(),
            token: token.to_owned(),
            idempotency_key: format!("gittix-charge-{}-{attempt}", order.id),
            stripe_id: None,
            stripe_refund_id: None,
            client_secret: None,
            created_at: unix_millis(),
            failure_reason: None,
            stripe_charge_id: None,
        };
        let now = charge.created_at;
        let mut tx = self.db.pool().begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO charges (id, order_id, attempt, status, amount, token, idempotency_key, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        )
        .bind(&charge.id)
        .bind(&charge.order_id)
        .bind(charge.attempt)
        .bind(charge.status)
        .bind(charge.amount)
        .bind(&charge.token)
        .bind(&charge.idempotency_key)
        .bind(now)
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => {
                let event = ChargeStarted {
                    id: charge.id.clone(),
                    order_id: charge.order_id.clone(),
                    attempt: charge.attempt,
                };
                outbox::enqueue(&mut tx, &event).await?;
                outbox::commit(tx, &self.db).await?;
                Ok(Some(charge))
            }
            // The only CHECK this insert can fail is the cap's: its status is always `created`.
            Err(error) if is_unique_violation(&error) || is_check_violation(&error) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The card asks for 3-D Secure: records the intent and the challenge's secret, with
    /// `charge:requires-action`, which tells orders the attempt now waits for the buyer.
    pub async fn requires_action(
        &self,
        charge: &Charge,
        intent_id: &str,
        client_secret: &str,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.db.pool().begin().await?;
        let updated = sqlx::query(
            "UPDATE charges SET status = $2, stripe_id = $3, client_secret = $4, updated_at = $5 \
             WHERE id = $1 AND status = $6",
        )
        .bind(&charge.id)
        .bind(ChargeStatus::RequiresAction)
        .bind(intent_id)
        .bind(client_secret)
        .bind(unix_millis())
        .bind(ChargeStatus::Created)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 1 {
            let event = ChargeRequiresAction {
                id: charge.id.clone(),
                order_id: charge.order_id.clone(),
                attempt: charge.attempt,
            };
            outbox::enqueue(&mut tx, &event).await?;
        }
        outbox::commit(tx, &self.db).await
    }

    /// The money is held: records it and `charge:authorized`, which asks orders to complete
    /// the order.
    pub async fn authorized(&self, charge: &Charge, intent_id: &str) -> Result<(), sqlx::Error> {
        let mut tx = self.db.pool().begin().await?;
        let updated = sqlx::query(
            "UPDATE charges SET status = $2, stripe_id = $3, updated_at = $4 \
             WHERE id = $1 AND status IN ($5, $6)",
        )
        .bind(&charge.id)
        .bind(ChargeStatus::Authorized)
        .bind(intent_id)
        .bind(unix_millis())
        .bind(ChargeStatus::Created)
        .bind(ChargeStatus::RequiresAction)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 1 {
            let event = ChargeAuthorized {
                id: charge.id.clone(),
                order_id: charge.order_id.clone(),
                attempt: charge.attempt,
                amount: charge.amount,
                stripe_id: intent_id.to_owned(),
            };
            outbox::enqueue(&mut tx, &event).await?;
        }
        outbox::commit(tx, &self.db).await
    }

    /// The held money was captured for the completed order: records it and `charge:created`.
    pub async fn complete(
        &self,
        charge: &Charge,
        intent_id: &str,
        stripe_charge_id: Option<&str>,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.db.pool().begin().await?;
        let updated = sqlx::query(
            "UPDATE charges SET status = $2, stripe_id = $3, updated_at = $4, stripe_charge_id = $6 \
             WHERE id = $1 AND status = $5",
        )
        .bind(&charge.id)
        .bind(ChargeStatus::Completed)
        .bind(intent_id)
        .bind(unix_millis())
        .bind(ChargeStatus::Authorized)
        .bind(stripe_charge_id)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 1 {
            let event = ChargeCreated {
                id: charge.id.clone(),
                order_id: charge.order_id.clone(),
                amount: charge.amount,
                stripe_id: intent_id.to_owned(),
            };
            outbox::enqueue(&mut tx, &event).await?;
        }
        outbox::commit(tx, &self.db).await
    }

    /// The attempt ended without paying (declined, a failed challenge, or its hold released
    /// because the order ended): records it and `charge:failed`.
    pub async fn fail(&self, charge: &Charge, reason: &str) -> Result<(), sqlx::Error> {
        let mut tx = self.db.pool().begin().await?;
        let updated = sqlx::query(&format!(
            "UPDATE charges SET status = $2, failure_reason = $3, updated_at = $4 \
             WHERE id = $1 AND status IN {IN_FLIGHT}"
        ))
        .bind(&charge.id)
        .bind(ChargeStatus::Failed)
        .bind(reason)
        .bind(unix_millis())
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 1 {
            let event = ChargeFailed {
                id: charge.id.clone(),
                order_id: charge.order_id.clone(),
                attempt: charge.attempt,
                reason: reason.to_owned(),
            };
            outbox::enqueue(&mut tx, &event).await?;
        }
        outbox::commit(tx, &self.db).await
    }

    /// The charge was refunded: records the refund id and `charge:refunded`.
    pub async fn refunded(&self, charge: &Charge, refund_id: &str) -> Result<(), sqlx::Error> {
        let mut tx = self.db.pool().begin().await?;
        let updated = sqlx::query(
            "UPDATE charges SET status = $2, stripe_refund_id = $3, updated_at = $4 WHERE id = $1 AND status = $5",
        )
        .bind(&charge.id)
        .bind(ChargeStatus::Refunded)
        .bind(refund_id)
        .bind(unix_millis())
        .bind(ChargeStatus::Completed)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 1 {
            // The seller is paid nothing of a refunded sale.
            crate::payouts::store::sale_refunded(&mut tx, &charge.order_id).await?;
            let event = ChargeRefunded {
                id: charge.id.clone(),
                order_id: charge.order_id.clone(),
                stripe_refund_id: refund_id.to_owned(),
            };
            outbox::enqueue(&mut tx, &event).await?;
        }
        outbox::commit(tx, &self.db).await
    }

    pub async fn charges_of(&self, order_id: &str) -> Result<Vec<Charge>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {CHARGE_COLUMNS} FROM charges WHERE order_id = $1 ORDER BY attempt"
        ))
        .bind(order_id)
        .fetch_all(self.db.pool())
        .await
    }

    /// Attempts in flight (outcome unknown, waiting for a challenge, or holding money) last
    /// touched `age_ms` ago or more, oldest first.
    pub async fn in_flight(&self, age_ms: i64) -> Result<Vec<Charge>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {CHARGE_COLUMNS} FROM charges WHERE status IN {IN_FLIGHT} AND updated_at <= $1 \
             AND abandoned_at IS NULL ORDER BY updated_at LIMIT 100"
        ))
        .bind(unix_millis() - age_ms)
        .fetch_all(self.db.pool())
        .await
    }

    /// Attempts still in flight that began at or before `began_by` (unix ms) and were not given
    /// up on yet, oldest first.
    pub async fn overdue(&self, began_by: i64) -> Result<Vec<Charge>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {CHARGE_COLUMNS} FROM charges WHERE status IN {IN_FLIGHT} AND created_at <= $1 \
             AND abandoned_at IS NULL ORDER BY created_at LIMIT 100"
        ))
        .bind(began_by)
        .fetch_all(self.db.pool())
        .await
    }

    /// Reconciliation gives up on an attempt: true for the one caller that marked it.
    pub async fn abandon(&self, id: &str) -> Result<bool, sqlx::Error> {
        let marked = sqlx::query(&format!(
            "UPDATE charges SET abandoned_at = $2 WHERE id = $1 AND abandoned_at IS NULL \
             AND status IN {IN_FLIGHT}"
        ))
        .bind(id)
        .bind(unix_millis())
        .execute(self.db.pool())
        .await?;
        Ok(marked.rows_affected() == 1)
    }

    /// Takes an attempt in flight for reconciliation: true for exactly one caller, so two
    /// replicas never settle the same attempt at once.
    pub async fn claim_in_flight(&self, charge: &Charge, age_ms: i64) -> Result<bool, sqlx::Error> {
        let now = unix_millis();
        let claimed = sqlx::query(
            "UPDATE charges SET updated_at = $2 WHERE id = $1 AND status = $3 AND updated_at <= $4",
        )
        .bind(&charge.id)
        .bind(now)
        .bind(charge.status)
        .bind(now - age_ms)
        .execute(self.db.pool())
        .await?;
        Ok(claimed.rows_affected() == 1)
    }

    /// Marks a refund attempt that failed, so the sweep tries the others first next time.
    pub async fn touch(&self, id: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE charges SET updated_at = $2 WHERE id = $1")
            .bind(id)
            .bind(unix_millis())
            .execute(self.db.pool())
            .await
            .map(drop)
    }

    /// `ticket:undelivered` for `order_id`: its payment is to be refunded. False when the
    /// replica does not know the order yet (try again later).
    pub async fn mark_undelivered(
        &self,
        event_id: &str,
        order_id: &str,
    ) -> Result<bool, sqlx::Error> {
        let mut tx = self.db.pool().begin().await?;
        if !inbox::record(&mut tx, event_id).await? {
            return Ok(true);
        }
        let marked = sqlx::query(
            "UPDATE orders SET undelivered_at = COALESCE(undelivered_at, $2) WHERE id = $1",
        )
        .bind(order_id)
        .bind(gittix_shared::time::unix_millis())
        .execute(&mut *tx)
        .await?;
        if marked.rows_affected() == 0 {
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Successful charges of cancelled orders, and of orders whose ticket was never delivered:
    /// each must be refunded.
    pub async fn to_refund(&self) -> Result<Vec<Charge>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {} FROM charges c JOIN orders o ON o.id = c.order_id \
             WHERE c.status = $1 AND (o.status = $2 OR o.undelivered_at IS NOT NULL) \
             ORDER BY c.updated_at LIMIT 100",
            CHARGE_COLUMNS
                .split(", ")
                .map(|c| format!("c.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .bind(ChargeStatus::Completed)
        .bind(OrderStatus::Cancelled)
        .fetch_all(self.db.pool())
        .await
    }
}

/// True when the error is a CHECK constraint refusing a row.
fn is_check_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_check_violation())
}

impl PaymentStore {
    /// Remembers a Stripe webhook event; false when it was seen before.
    pub async fn record_webhook_event(&self, id: &str, kind: &str) -> Result<bool, sqlx::Error> {
        let inserted = sqlx::query(
            "INSERT INTO webhook_events (id, type, received_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(kind)
        .bind(unix_millis())
        .execute(self.db.pool())
        .await?;
        Ok(inserted.rows_affected() == 1)
    }

    pub async fn webhook_event_seen(&self, id: &str) -> Result<bool, sqlx::Error> {
        let found: Option<String> =
            sqlx::query_scalar("SELECT id FROM webhook_events WHERE id = $1")
                .bind(id)
                .fetch_optional(self.db.pool())
                .await?;
        Ok(found.is_some())
    }

    pub async fn charge_by_id(&self, id: &str) -> Result<Option<Charge>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {CHARGE_COLUMNS} FROM charges WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.db.pool())
        .await
    }

    pub async fn charge_by_stripe_id(
        &self,
        stripe_id: &str,
    ) -> Result<Option<Charge>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {CHARGE_COLUMNS} FROM charges WHERE stripe_id = $1"
        ))
        .bind(stripe_id)
        .fetch_optional(self.db.pool())
        .await
    }

    /// Records (or updates) a dispute Stripe reported on one of our charges.
    pub async fn record_dispute(
        &self,
        id: &str,
        stripe_charge_id: &str,
        reason: &str,
        status: &str,
        amount: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO disputes (id, stripe_charge_id, reason, status, amount, received_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (id) DO UPDATE SET status = excluded.status",
        )
        .bind(id)
        .bind(stripe_charge_id)
        .bind(reason)
        .bind(status)
        .bind(amount)
        .bind(unix_millis())
        .execute(self.db.pool())
        .await
        .map(drop)
    }
}
