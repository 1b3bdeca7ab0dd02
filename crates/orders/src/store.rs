//! Orders and the ticket replica, on SQLite or PostgreSQL through one code path.

use std::time::Duration;

use gittix_shared::db::{is_unique_violation, Db};
use gittix_shared::domain::{
    CancelReason, Delivery, OrderStatus, TicketStatus, MAX_DECLINED_ATTEMPTS,
};
use gittix_shared::error::{DomainError, DomainResult};
use gittix_shared::events::{
    OrderCancelled, OrderCompleted, OrderConfirmed, OrderCreated, OrderedTicket, SaleTerms,
    TicketCreated, TicketRef, TicketUpdated,
};
use gittix_shared::fees::FeeRate;
use gittix_shared::replica::{check_version, VersionCheck};
use gittix_shared::time::{iso8601, parse_iso8601, unix_millis};
use gittix_shared::{inbox, outbox};

use crate::order::{Order, COLUMNS};
use crate::refusal::Refusal;

/// A ticket as the replica holds it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReplicaTicket {
    pub id: String,
    pub title: String,
    pub price_cents: i64,
    pub seller_id: String,
    pub status: TicketStatus,
    pub version: i64,
    /// From `ticket:updated`, not stored: the order the tickets service holds the ticket for.
    #[sqlx(skip)]
    pub holder: Option<String>,
    /// From `ticket:updated`, not stored: the version of the seller's last change of terms.
    #[sqlx(skip)]
    pub terms_version: Option<i64>,
    /// When its event starts (unix ms): sales close then.
    pub event_starts_at: Option<i64>,
    /// Once sold: whether its file reached the buyer.
    pub delivery: Option<Delivery>,
}

/// A start time as `ticket:*` events carry it (ISO-8601); one that cannot be read is none, and
/// logged: orders then takes orders for the ticket as for one without an event.
fn starts_at(terms: &SaleTerms, ticket_id: &str) -> Option<i64> {
    let text = terms.event_starts_at.as_deref()?;
    let parsed = parse_iso8601(text);
    if parsed.is_none() {
        tracing::error!(
            ticket_id,
            starts_at = text,
            "a ticket event with an unreadable eventStartsAt"
        );
    }
    parsed
}

impl From<TicketCreated> for ReplicaTicket {
    fn from(t: TicketCreated) -> Self {
        Self {
            title: t.title,
            price_cents: t.price,
            seller_id: t.user_id,
            status: TicketStatus::ForSale,
            version: t.version,
            holder: None,
            terms_version: None,
            event_starts_at: starts_at(&t.terms, &t.id),
            delivery: None,
            id: t.id,
        }
    }
}

impl From<TicketUpdated> for ReplicaTicket {
    fn from(t: TicketUpdated) -> Self {
        Self {
            title: t.title,
            price_cents: t.price,
            seller_id: t.user_id,
            status: t.status,
            version: t.version,
            holder: t.order_id,
            terms_version: t.terms_version,
            event_starts_at: starts_at(&t.terms, &t.id),
            delivery: t.delivery,
            id: t.id,
        }
    }
}

/// How long an order holds its ticket, and the limits on what one buyer may hold.
#[derive(Debug, Clone, Copy)]
pub struct HoldRules {
    pub lock_window: Duration,
    /// Unpaid orders one buyer may hold at once (`MAX_HELD_TICKETS`).
    pub max_held: i64,
    /// How long a buyer whose hold expired waits to take that ticket again.
    pub rehold_cooldown: Duration,
    /// How long past `expiresAt` a payment attempt started in time may hold the lock.
    pub payment_grace: Duration,
}

#[derive(Clone)]
pub struct OrderStore {
    db: Db,
    rules: HoldRules,
    /// What a buyer pays on top of the price; an order fixes it when it is made.
    buyer_fee: FeeRate,
}

impl OrderStore {
    pub fn new(db: Db, rules: HoldRules, buyer_fee: FeeRate) -> Self {
        Self {
            db,
            rules,
            buyer_fee,
        }
    }

    /// Reserves `ticket_id` for `buyer` and records `order:created`. The unique index over
    /// active orders decides between concurrent buyers: exactly one insert succeeds.
    ///
    /// The replica's row is read in the same transaction and kept from changing until it
    /// commits: a seller's change applied meanwhile then sees this order and cancels it, rather
    /// than slipping between the read and the insert and leaving an order nobody will confirm.
    pub async fn create(&self, buyer: &str, ticket_id: &str) -> DomainResult<Order, Refusal> {
        let mut tx = self.db.pool().begin().await?;
        let Some(ticket) = self.replica_ticket(&mut tx, ticket_id).await? else {
            return Err(DomainError::Refused(Refusal::NoSuchTicket));
        };
        match ticket.status {
            TicketStatus::Withdrawn => return Err(DomainError::Refused(Refusal::NoSuchTicket)),
            _ if ticket.seller_id == buyer => return Err(DomainError::Refused(Refusal::OwnTicket)),
            TicketStatus::Sold => return Err(DomainError::Refused(Refusal::AlreadyReserved)),
            TicketStatus::ForSale | TicketStatus::Reserved => {}
        }
        let now = unix_millis();
        if ticket
            .event_starts_at
            .is_some_and(|starts_at| starts_at <= now)
        {
            return Err(DomainError::Refused(Refusal::EventStarted));
        }
        self.take_hold(&mut tx, buyer, &ticket.id, now).await?;
        let window_ms = gittix_shared::time::millis(self.rules.lock_window);
        let order = Order {
            id: uuid::Uuid::now_v7().to_string(),
            user_id: buyer.to_owned(),
            status: OrderStatus::Created,
            expires_at: now.saturating_add(window_ms),
            version: 0,
            ticket_id: ticket.id,
            ticket_title: ticket.title,
            ticket_price_cents: ticket.price_cents,
            buyer_fee_cents: self.buyer_fee.of(ticket.price_cents),
            ticket_version: ticket.version,
            cancel_reason: None,
            delivery: None,
        };
        let inserted = sqlx::query(
            "INSERT INTO orders (id, user_id, status, expires_at, version, ticket_id, ticket_title, \
             ticket_price_cents, buyer_fee_cents, ticket_version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
        )
        .bind(&order.id)
        .bind(&order.user_id)
        .bind(order.status)
        .bind(order.expires_at)
        .bind(order.version)
        .bind(&order.ticket_id)
        .bind(&order.ticket_title)
        .bind(order.ticket_price_cents)
        .bind(order.buyer_fee_cents)
        .bind(order.ticket_version)
        .bind(now)
        .execute(&mut *tx)
        .await;
        match inserted {
            Err(error) if is_unique_violation(&error) => {
                return Err(DomainError::Refused(Refusal::AlreadyReserved))
            }
            other => other?,
        };
        let event = OrderCreated {
            id: order.id.clone(),
            version: order.version,
            status: order.status,
            user_id: order.user_id.clone(),
            expires_at: iso8601(order.expires_at),
            ticket: OrderedTicket {
                id: order.ticket_id.clone(),
                price: order.ticket_price_cents,
                version: Some(order.ticket_version),
            },
            total: Some(order.total_cents()),
        };
        outbox::enqueue(&mut tx, &event).await?;
        outbox::commit(tx, &self.db).await?;
        Ok(order)
    }

    /// Counts one more unpaid order of `buyer`, in the transaction that makes it: refused past
    /// the rules' maximum, or while the buyer's expired hold on `ticket_id` cools down. The
    /// counter's row is updated only when under the maximum, and concurrent orders of one buyer
    /// wait for each other on that row, so no interleaving exceeds it.
    async fn take_hold(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        buyer: &str,
        ticket_id: &str,
        now: i64,
    ) -> DomainResult<(), Refusal> {
        let cooling: Option<i64> = sqlx::query_scalar(
            "SELECT until FROM rehold_cooldowns WHERE user_id = $1 AND ticket_id = $2 AND until > $3",
        )
        .bind(buyer)
        .bind(ticket_id)
        .bind(now)
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(until) = cooling {
            let seconds = u64::try_from((until - now).div_euclid(1000) + 1).unwrap_or(1);
            return Err(DomainError::Refused(Refusal::CoolingDown { seconds }));
        }
        sqlx::query("INSERT INTO buyer_holds (user_id, held) VALUES ($1, 0) ON CONFLICT (user_id) DO NOTHING")
            .bind(buyer)
            .execute(&mut **tx)
            .await?;
        let counted =
            sqlx::query("UPDATE buyer_holds SET held = held + 1 WHERE user_id = $1 AND held < $2")
                .bind(buyer)
                .bind(self.rules.max_held)
                .execute(&mut **tx)
                .await?;
        if counted.rows_affected() == 0 {
            return Err(DomainError::Refused(Refusal::TooManyHeld {
                max: self.rules.max_held,
            }));
        }
        Ok(())
    }

    /// The order `id` if it is `user_id`'s.
    pub async fn find_for(&self, id: &str, user_id: &str) -> DomainResult<Order, Refusal> {
        match self.find(id).await? {
            None => Err(DomainError::Refused(Refusal::NoSuchOrder)),
            Some(order) if order.user_id != user_id => {
                Err(DomainError::Refused(Refusal::NotYourOrder))
            }
            Some(order) => Ok(order),
        }
    }

    async fn find(&self, id: &str) -> sqlx::Result<Option<Order>> {
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM orders WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await
    }

    /// The buyer's orders, oldest first.
    pub async fn list_for(&self, buyer: &str) -> sqlx::Result<Vec<Order>> {
        sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM orders WHERE user_id = $1 ORDER BY id"
        ))
        .bind(buyer)
        .fetch_all(self.db.pool())
        .await
    }

    /// The buyer `user_id` cancels the order `id` (reason `cancelled`). Cancelling a cancelled
    /// order changes nothing; a complete one is refused.
    pub async fn cancel_for(&self, id: &str, user_id: &str) -> DomainResult<(), Refusal> {
        self.find_for(id, user_id).await?;
        if self.cancel(id, CancelReason::Cancelled).await?.is_some() {
            return Ok(());
        }
        match self.find(id).await? {
            None => Err(DomainError::Refused(Refusal::NoSuchOrder)),
            Some(order) if order.status == OrderStatus::Complete => {
                Err(DomainError::Refused(Refusal::OrderComplete))
            }
            Some(_) => Ok(()),
        }
    }

    /// Cancels an order that is not complete, for `reason`, and records `order:cancelled`.
    /// Returns `None` when the order was already complete or cancelled (nothing changes). One
    /// conditional update, so a cancel racing a payment or an expiry has one outcome.
    pub async fn cancel(&self, id: &str, reason: CancelReason) -> sqlx::Result<Option<Order>> {
        self.cancel_where(id, reason, i64::MAX, i64::MAX).await
    }

    /// The lock window ended (`order:expired`): cancels the order unless a payment attempt that
    /// started in time is still in flight and the grace has not run out.
    pub async fn expire(&self, id: &str) -> sqlx::Result<Option<Order>> {
        self.cancel_where(id, CancelReason::Expired, i64::MAX, self.grace_cutoff())
            .await
    }

    /// Cancels the order as expired if its lock window has passed and no attempt holds it any
    /// longer: after an attempt resolved without paying, and for the sweep that ends the grace.
    async fn expire_if_due(&self, id: &str) -> sqlx::Result<Option<Order>> {
        self.cancel_where(
            id,
            CancelReason::Expired,
            unix_millis(),
            self.grace_cutoff(),
        )
        .await
    }

    /// Orders whose `expires_at` is at or before this have used up their payment grace.
    fn grace_cutoff(&self) -> i64 {
        let grace_ms = gittix_shared::time::millis(self.rules.payment_grace);
        unix_millis().saturating_sub(grace_ms)
    }

    /// Payments started attempt `attempt` for the order (`charge:started`).
    pub async fn payment_started(&self, id: &str, attempt: i64) -> sqlx::Result<()> {
        sqlx::query("UPDATE orders SET payment_started = $2 WHERE id = $1 AND payment_started < $2")
            .bind(id)
            .bind(attempt)
            .execute(self.db.pool())
            .await
            .map(drop)
    }

    /// Attempt `attempt` waits for the buyer's 3-D Secure answer (`charge:requires-action`): it
    /// no longer holds the lock, so an order past its `expiresAt` is cancelled now, and one
    /// still in its window when the window ends. An answer that comes in time still completes it.
    pub async fn payment_waits_for_buyer(&self, id: &str, attempt: i64) -> sqlx::Result<()> {
        self.attempt_released_the_lock(id, attempt).await?;
        self.expire_if_due(id).await.map(drop)
    }

    /// Attempts up to `attempt` no longer hold the order past its `expiresAt`.
    async fn attempt_released_the_lock(&self, id: &str, attempt: i64) -> sqlx::Result<()> {
        sqlx::query("UPDATE orders SET payment_settled = $2 WHERE id = $1 AND payment_settled < $2")
            .bind(id)
            .bind(attempt)
            .execute(self.db.pool())
            .await
            .map(drop)
    }

    /// Attempt `attempt` resolved without paying (`charge:failed`): the order is cancelled when
    /// it was the last attempt allowed, or when its lock window has passed and no other attempt
    /// holds it.
    pub async fn payment_failed(&self, id: &str, attempt: i64) -> sqlx::Result<()> {
        self.attempt_released_the_lock(id, attempt).await?;
        if attempt >= i64::from(MAX_DECLINED_ATTEMPTS) {
            self.cancel(id, CancelReason::PaymentFailed).await?;
        } else {
            self.expire_if_due(id).await?;
        }
        Ok(())
    }

    /// Cancels, as expired, every unpaid order whose lock window has passed and that no attempt
    /// holds any longer (its grace ran out, or its attempt failed after `expiresAt`), at most
    /// `limit`; returns how many. The safety net behind `order:expired`.
    pub async fn end_graces(&self, limit: i64) -> sqlx::Result<usize> {
        let due: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM orders WHERE status = $1 AND expires_at <= $2 \
             AND (payment_started <= payment_settled OR expires_at <= $3) ORDER BY expires_at LIMIT $4",
        )
        .bind(OrderStatus::AwaitingPayment)
        .bind(unix_millis())
        .bind(self.grace_cutoff())
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        let mut ended = 0;
        for id in due {
            if self.expire_if_due(&id).await?.is_some() {
                ended += 1;
            }
        }
        Ok(ended)
    }

    /// Cancels the order for `reason` if it is not final, its `expires_at` is at or before
    /// `due_by`, and either no payment attempt is in flight or `expires_at` is at or before
    /// `grace_cutoff`.
    async fn cancel_where(
        &self,
        id: &str,
        reason: CancelReason,
        due_by: i64,
        grace_cutoff: i64,
    ) -> sqlx::Result<Option<Order>> {
        let mut tx = self.db.pool().begin().await?;
        let cancelled: Option<Order> = sqlx::query_as(&format!(
            "UPDATE orders SET status = $4, cancel_reason = $5, version = version + 1, updated_at = $6 \
             WHERE id = $1 AND status IN ($2, $3) AND expires_at <= $7 \
             AND (payment_started <= payment_settled OR expires_at <= $8) RETURNING {COLUMNS}"
        ))
        .bind(id)
        // $2, $3: the statuses that are not final.
        .bind(OrderStatus::Created)
        .bind(OrderStatus::AwaitingPayment)
        .bind(OrderStatus::Cancelled)
        .bind(reason)
        .bind(unix_millis())
        .bind(due_by)
        .bind(grace_cutoff)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(order) = cancelled else {
            return Ok(None);
        };
        release_hold(&mut tx, &order.user_id).await?;
        if reason == CancelReason::Expired {
            let cooldown_ms = gittix_shared::time::millis(self.rules.rehold_cooldown);
            sqlx::query(
                "INSERT INTO rehold_cooldowns (user_id, ticket_id, until) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id, ticket_id) DO UPDATE SET until = excluded.until",
            )
            .bind(&order.user_id)
            .bind(&order.ticket_id)
            .bind(unix_millis().saturating_add(cooldown_ms))
            .execute(&mut *tx)
            .await?;
        }
        let event = OrderCancelled {
            id: order.id.clone(),
            version: order.version,
            ticket: TicketRef {
                id: order.ticket_id.clone(),
            },
            reason,
        };
        outbox::enqueue(&mut tx, &event).await?;
        outbox::commit(tx, &self.db).await?;
        Ok(Some(order))
    }

    /// Completes a paid order, which is `awaiting:payment` (only a confirmed order can be paid),
    /// and records `order:completed`. Returns `None` when the order was already cancelled (an
    /// expiry won the race: payments refunds) or complete. One conditional update decides
    /// between a payment and an expiry.
    pub async fn complete(&self, id: &str) -> sqlx::Result<Option<Order>> {
        let mut tx = self.db.pool().begin().await?;
        let completed = transition(
            &mut tx,
            id,
            OrderStatus::AwaitingPayment,
            OrderStatus::Complete,
        )
        .await?;
        let Some(order) = completed else {
            return Ok(None);
        };
        release_hold(&mut tx, &order.user_id).await?;
        let event = OrderCompleted {
            id: order.id.clone(),
            version: order.version,
            ticket: TicketRef {
                id: order.ticket_id.clone(),
            },
            user_id: Some(order.user_id.clone()),
            total: Some(order.total_cents()),
        };
        outbox::enqueue(&mut tx, &event).await?;
        outbox::commit(tx, &self.db).await?;
        Ok(Some(order))
    }

    async fn replica_ticket(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        id: &str,
    ) -> sqlx::Result<Option<ReplicaTicket>> {
        sqlx::query_as(&format!(
            "SELECT id, title, price_cents, seller_id, status, version, event_starts_at, delivery \
             FROM tickets WHERE id = $1{}",
            self.db.share_rows()
        ))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
    }

    /// Applies a `ticket:created` or `ticket:updated` to the replica when it is the next
    /// version; says "not yet" when a predecessor is missing.
    pub async fn apply_ticket(
        &self,
        event_id: &str,
        ticket: ReplicaTicket,
    ) -> anyhow::Result<VersionCheck> {
        let mut tx = self.db.pool().begin().await?;
        if !inbox::record(&mut tx, event_id).await? {
            return Ok(VersionCheck::AlreadyApplied);
        }
        let held: Option<i64> = sqlx::query_scalar("SELECT version FROM tickets WHERE id = $1")
            .bind(&ticket.id)
            .fetch_optional(&mut *tx)
            .await?;
        let check = check_version(held, ticket.version);
        match check {
            // Rolled back: the inbox must not remember an event that was not applied.
            VersionCheck::TooEarly => return Ok(check),
            VersionCheck::AlreadyApplied => {}
            VersionCheck::Apply => {
                sqlx::query(
                    "INSERT INTO tickets (id, title, price_cents, seller_id, status, version, event_starts_at, delivery) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                     ON CONFLICT (id) DO UPDATE SET title = excluded.title, price_cents = excluded.price_cents, \
                     seller_id = excluded.seller_id, status = excluded.status, version = excluded.version, \
                     event_starts_at = excluded.event_starts_at, delivery = excluded.delivery",
                )
                .bind(&ticket.id)
                .bind(&ticket.title)
                .bind(ticket.price_cents)
                .bind(&ticket.seller_id)
                .bind(ticket.status)
                .bind(ticket.version)
                .bind(ticket.event_starts_at)
                .bind(ticket.delivery)
                .execute(&mut *tx)
                .await?;
                if let Some(delivery) = ticket.delivery {
                    // The one complete order of a sold ticket shows how its delivery stands.
                    sqlx::query(
                        "UPDATE orders SET delivery = $2 WHERE ticket_id = $1 AND status = $3",
                    )
                    .bind(&ticket.id)
                    .bind(delivery)
                    .bind(OrderStatus::Complete)
                    .execute(&mut *tx)
                    .await?;
                }
                settle_reservations(&mut tx, &ticket).await?;
            }
        }
        outbox::commit(tx, &self.db).await?;
        Ok(check)
    }
}

/// One unpaid order of `buyer` less: it was paid or cancelled.
async fn release_hold(tx: &mut sqlx::Transaction<'_, sqlx::Any>, buyer: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE buyer_holds SET held = held - 1 WHERE user_id = $1 AND held > 0")
        .bind(buyer)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Moves order `id` from `from` to `to` (version + 1) when it is in `from`, and returns it; one
/// conditional update, so events racing for one order (a payment and an expiry) have one outcome.
async fn transition(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
    from: OrderStatus,
    to: OrderStatus,
) -> sqlx::Result<Option<Order>> {
    sqlx::query_as(&format!(
        "UPDATE orders SET status = $3, version = version + 1, updated_at = $4 \
         WHERE id = $1 AND status = $2 RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(from)
    .bind(to)
    .bind(unix_millis())
    .fetch_optional(&mut **tx)
    .await
}

/// What a ticket's new version says about the orders made for it, applied with the replica in
/// one transaction: the tickets service reserved it for an order (that order is confirmed and
/// may be paid), or the seller changed its terms (every unconfirmed order made from an older
/// version was made at other terms: the tickets service refused it, and it is cancelled here,
/// `ticket_changed`, before any money moves).
async fn settle_reservations(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    ticket: &ReplicaTicket,
) -> sqlx::Result<()> {
    if let (TicketStatus::Reserved, Some(holder)) = (ticket.status, &ticket.holder) {
        let confirmed = transition(
            tx,
            holder,
            OrderStatus::Created,
            OrderStatus::AwaitingPayment,
        )
        .await?;
        if let Some(order) = confirmed {
            let event = OrderConfirmed {
                id: order.id,
                version: order.version,
                ticket: TicketRef {
                    id: order.ticket_id,
                },
            };
            outbox::enqueue(tx, &event).await?;
        }
    }
    if let Some(terms_version) = ticket.terms_version {
        let refused: Vec<Order> = sqlx::query_as(&format!(
            "UPDATE orders SET status = $4, cancel_reason = $5, version = version + 1, updated_at = $6 \
             WHERE ticket_id = $1 AND status = $2 AND ticket_version < $3 RETURNING {COLUMNS}"
        ))
        .bind(&ticket.id)
        .bind(OrderStatus::Created)
        .bind(terms_version)
        .bind(OrderStatus::Cancelled)
        .bind(CancelReason::TicketChanged)
        .bind(unix_millis())
        .fetch_all(&mut **tx)
        .await?;
        for order in refused {
            release_hold(tx, &order.user_id).await?;
            let event = OrderCancelled {
                id: order.id,
                version: order.version,
                ticket: TicketRef {
                    id: order.ticket_id,
                },
                reason: CancelReason::TicketChanged,
            };
            outbox::enqueue(tx, &event).await?;
        }
    }
    Ok(())
}
