//! The tickets table, on SQLite or PostgreSQL through one code path. Every change bumps the
//! ticket's version and writes its event in the same transaction.

use std::sync::Arc;

use gittix_shared::db::Db;
use gittix_shared::domain::TicketStatus;
use gittix_shared::error::DomainResult;
use gittix_shared::events::OrderCreated;
use gittix_shared::time::unix_millis;
use gittix_shared::{inbox, outbox};
use sqlx::{Any, Transaction};

use crate::config::DeliveryRules;
use crate::event_store::event_for_ticket;
use crate::for_sale_cache::ForSaleCache;
use crate::refusal::Refusal;
use crate::rules::ValidTicket;
use crate::ticket::{Ticket, COLUMNS};

/// What an order event did to a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Done,
    /// Another order still holds the ticket; try again once its end has been seen.
    NotYet,
}

/// What a seller's conditional change (only their own ticket, only while for sale) did.
enum SellerChange {
    /// Applied, with `ticket:updated` recorded.
    Made(Ticket),
    /// Nothing matched: the ticket as it is, no longer for sale or somebody else's.
    Unmatched(Ticket),
}

impl SellerChange {
    /// The change made, or why not: another seller's ticket for sale, or `not_for_sale` of the
    /// status it has now.
    fn made(self, not_for_sale: fn(TicketStatus) -> Refusal) -> DomainResult<Ticket, Refusal> {
        match self {
            Self::Made(ticket) => Ok(ticket),
            Self::Unmatched(current) if current.status == TicketStatus::ForSale => {
                Err(Refusal::SomeoneElses.into())
            }
            Self::Unmatched(current) => Err(not_for_sale(current.status).into()),
        }
    }
}

#[derive(Clone)]
pub struct TicketStore {
    db: Db,
    for_sale: Arc<ForSaleCache>,
    pub(crate) delivery: DeliveryRules,
}

impl TicketStore {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            for_sale: Arc::new(ForSaleCache::disabled()),
            delivery: crate::TicketsConfig::default().delivery_rules(),
        }
    }

    /// Sold tickets must be delivered by the deadline `rules` give.
    pub(crate) fn with_delivery_rules(self, delivery: DeliveryRules) -> Self {
        Self { delivery, ..self }
    }

    /// Keeps the answer of the original list route between changes: only for a process that is
    /// the only writer of this database (see `for_sale_cache`).
    pub fn caching_for_sale(self) -> Self {
        Self {
            for_sale: Arc::new(ForSaleCache::enabled()),
            ..self
        }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn for_sale(&self) -> &ForSaleCache {
        &self.for_sale
    }

    /// Commits a change to tickets with its events: the one way this store commits one.
    pub(crate) async fn commit(&self, tx: Transaction<'_, Any>) -> sqlx::Result<()> {
        outbox::commit(tx, &self.db).await?;
        self.for_sale.changed();
        Ok(())
    }

    /// Lists a new ticket for sale (for the event `event_id` names, when given) and records
    /// `ticket:created`.
    pub async fn create(
        &self,
        user_id: &str,
        valid: &ValidTicket,
        event_id: Option<&str>,
    ) -> sqlx::Result<Ticket> {
        let mut tx = self.db.pool().begin().await?;
        let event = match event_id {
            Some(id) => event_for_ticket(&mut tx, &self.db, id).await?,
            None => None,
        };
        let event = event.as_ref();
        let label = |text: &Option<String>| text.clone().filter(|t| !t.is_empty());
        let ticket = Ticket {
            id: uuid::Uuid::now_v7().to_string(),
            title: valid.title.clone(),
            price_cents: valid.price_cents,
            user_id: user_id.to_owned(),
            version: 0,
            status: TicketStatus::ForSale,
            order_id: None,
            terms_version: 0,
            section: label(&valid.section),
            seat_row: label(&valid.row),
            seat: label(&valid.seat),
            face_value_cents: valid.face_value_cents,
            event_id: event.map(|e| e.id.clone()),
            event_name: event.map(|e| e.name.clone()),
            event_venue: event.map(|e| e.venue.clone()),
            event_city: event.map(|e| e.city.clone()),
            event_starts_at: event.map(|e| e.starts_at),
            buyer_id: None,
            delivery: None,
            delivery_due_at: None,
        };
        let now = unix_millis();
        sqlx::query(
            "INSERT INTO tickets (id, title, title_key, price_cents, user_id, version, status, created_at, updated_at, \
             section, seat_row, seat, face_value_cents, event_id, event_name, event_venue, event_city, event_starts_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
        )
        .bind(&ticket.id)
        .bind(&ticket.title)
        .bind(ticket.title.to_lowercase())
        .bind(ticket.price_cents)
        .bind(&ticket.user_id)
        .bind(ticket.version)
        .bind(ticket.status)
        .bind(now)
        .bind(&ticket.section)
        .bind(&ticket.seat_row)
        .bind(&ticket.seat)
        .bind(ticket.face_value_cents)
        .bind(&ticket.event_id)
        .bind(&ticket.event_name)
        .bind(&ticket.event_venue)
        .bind(&ticket.event_city)
        .bind(ticket.event_starts_at)
        .execute(&mut *tx)
        .await?;
        outbox::enqueue(&mut tx, &ticket.created_event()).await?;
        self.commit(tx).await?;
        Ok(ticket)
    }

    pub async fn find(&self, id: &str) -> sqlx::Result<Option<Ticket>> {
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM tickets WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await
    }

    /// Every ticket `seller` listed, newest first, each with whether its file is uploaded.
    pub async fn listed_by(&self, seller: &str) -> sqlx::Result<Vec<(Ticket, bool)>> {
        self.with_files("user_id", seller).await
    }

    /// Every ticket `buyer` holds or bought, newest first, each with whether its file is
    /// uploaded.
    pub async fn bought_by(&self, buyer: &str) -> sqlx::Result<Vec<(Ticket, bool)>> {
        self.with_files("buyer_id", buyer).await
    }

    async fn with_files(&self, column: &str, user: &str) -> sqlx::Result<Vec<(Ticket, bool)>> {
        let rows: Vec<WithFile> = sqlx::query_as(&format!(
            "SELECT {COLUMNS}, (SELECT count(*) FROM ticket_files f WHERE f.ticket_id = tickets.id) AS files \
             FROM tickets WHERE {column} = $1 ORDER BY id DESC"
        ))
        .bind(user)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.into_iter().map(|r| (r.ticket, r.files > 0)).collect())
    }

    /// The seller changes the terms of a ticket that is for sale to `edited` (every field, as
    /// merged with the ticket's current ones by the route). Its event's details are copied from
    /// the event itself, in the same transaction.
    pub async fn edit(
        &self,
        id: &str,
        seller: &str,
        edited: &Ticket,
    ) -> DomainResult<Ticket, Refusal> {
        let mut tx = self.db.pool().begin().await?;
        let event = match &edited.event_id {
            Some(event_id) => event_for_ticket(&mut tx, &self.db, event_id).await?,
            None => None,
        };
        let sql = format!(
            "UPDATE tickets SET title = $4, title_key = $5, price_cents = $6, version = version + 1, \
             terms_version = version + 1, updated_at = $7, section = $8, seat_row = $9, seat = $10, \
             face_value_cents = $11, event_id = $12, event_name = $13, event_venue = $14, event_city = $15, \
             event_starts_at = $16 \
             WHERE id = $1 AND user_id = $2 AND status = $3 RETURNING {COLUMNS}"
        );
        let query = sqlx::query_as(&sql)
            .bind(id)
            .bind(seller)
            .bind(TicketStatus::ForSale)
            .bind(&edited.title)
            .bind(edited.title.to_lowercase())
            .bind(edited.price_cents)
            .bind(unix_millis())
            .bind(&edited.section)
            .bind(&edited.seat_row)
            .bind(&edited.seat)
            .bind(edited.face_value_cents)
            .bind(event.as_ref().map(|e| e.id.clone()))
            .bind(event.as_ref().map(|e| e.name.clone()))
            .bind(event.as_ref().map(|e| e.venue.clone()))
            .bind(event.as_ref().map(|e| e.city.clone()))
            .bind(event.as_ref().map(|e| e.starts_at));
        self.seller_change(tx, id, query)
            .await?
            .made(Refusal::NotEditable)
    }

    /// The seller takes a ticket that is for sale off the market. Withdrawing it again changes
    /// nothing and is no refusal.
    pub async fn withdraw(&self, id: &str, seller: &str) -> DomainResult<(), Refusal> {
        let sql = format!(
            "UPDATE tickets SET status = $4, version = version + 1, terms_version = version + 1, \
             updated_at = $5 WHERE id = $1 AND user_id = $2 AND status = $3 RETURNING {COLUMNS}"
        );
        let query = sqlx::query_as(&sql)
            .bind(id)
            .bind(seller)
            .bind(TicketStatus::ForSale)
            .bind(TicketStatus::Withdrawn)
            .bind(unix_millis());
        let tx = self.db.pool().begin().await?;
        match self.seller_change(tx, id, query).await? {
            SellerChange::Unmatched(current) if current.status == TicketStatus::Withdrawn => {
                if current.user_id == seller {
                    Ok(())
                } else {
                    Err(Refusal::SomeoneElses.into())
                }
            }
            change => change.made(Refusal::NotWithdrawable).map(drop),
        }
    }

    /// Runs a seller's conditional update in `tx` and records `ticket:updated`; when nothing
    /// matched, returns the ticket as it is.
    async fn seller_change<'q>(
        &self,
        mut tx: Transaction<'static, Any>,
        id: &str,
        update: sqlx::query::QueryAs<'q, Any, Ticket, sqlx::any::AnyArguments<'q>>,
    ) -> DomainResult<SellerChange, Refusal> {
        let Some(ticket) = update.fetch_optional(&mut *tx).await? else {
            drop(tx);
            let current = self.find(id).await?.ok_or(Refusal::NoSuchTicket)?;
            return Ok(SellerChange::Unmatched(current));
        };
        outbox::enqueue(&mut tx, &ticket.updated_event()).await?;
        self.commit(tx).await?;
        Ok(SellerChange::Made(ticket))
    }

    /// Reads the ticket and locks it until `tx` ends, so order events for one ticket handled at
    /// the same moment (by several workers or replicas) apply one after the other.
    pub(crate) async fn find_locked(
        &self,
        tx: &mut Transaction<'_, Any>,
        id: &str,
    ) -> sqlx::Result<Option<Ticket>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM tickets WHERE id = $1{}",
            self.db.lock_rows()
        );
        sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&mut **tx)
            .await
    }

    /// Opens the transaction of an order event: records the event in the inbox (`None` when it
    /// was applied before) and locks the ticket, so every later read in the transaction, such as
    /// `ended_orders`, sees what concurrent handlers of the same ticket committed.
    pub(crate) async fn begin_order_event(
        &self,
        event_id: &str,
        ticket_id: &str,
    ) -> sqlx::Result<Option<(Transaction<'static, Any>, Option<Ticket>)>> {
        let mut tx = self.db.pool().begin().await?;
        if !inbox::record(&mut tx, event_id).await? {
            return Ok(None);
        }
        let ticket = self.find_locked(&mut tx, ticket_id).await?;
        Ok(Some((tx, ticket)))
    }

    /// `order:created`: the tickets service, which owns the ticket, confirms the reservation
    /// by holding the ticket for the order (`ticket:updated`, status `reserved`, which orders
    /// turns into `awaiting:payment`), but only at the terms the order was made at: the ticket is
    /// for sale and the seller has not changed it since the version the order saw. Otherwise it
    /// refuses by changing nothing; orders cancels such an order when its replica sees the
    /// seller's change (`ticket_changed`), so both services reach the same verdict from the same
    /// versions. A ticket held by another order waits until that order's end has been seen
    /// (orders allows one active order per ticket, so the other one has ended).
    pub async fn reserve(&self, event_id: &str, order: &OrderCreated) -> sqlx::Result<Applied> {
        let (ticket_id, order_id) = (order.ticket.id.as_str(), order.id.as_str());
        let Some((mut tx, ticket)) = self.begin_order_event(event_id, ticket_id).await? else {
            return Ok(Applied::Done);
        };
        // Locked first: a cancellation of this order that committed while we waited is seen.
        if order_has_ended(&mut tx, order_id).await? {
            tx.commit().await?;
            return Ok(Applied::Done);
        }
        let Some(ticket) = ticket else {
            tracing::error!(
                ticket_id,
                order_id,
                "order:created for a ticket this service never listed"
            );
            tx.commit().await?;
            return Ok(Applied::Done);
        };
        match ticket.status {
            TicketStatus::ForSale if at_the_terms_of(&ticket, order) => {}
            TicketStatus::Reserved if ticket.order_id.as_deref() == Some(order_id) => {
                // Confirmed before (a redelivery whose inbox entry was lost with a rollback).
                tx.commit().await?;
                return Ok(Applied::Done);
            }
            TicketStatus::Reserved => return Ok(Applied::NotYet),
            status => {
                tracing::info!(
                    ticket_id,
                    order_id,
                    status = status.as_str(),
                    "reservation refused: the seller changed or withdrew the ticket first"
                );
                tx.commit().await?;
                return Ok(Applied::Done);
            }
        }
        let holder = Holder {
            order_id,
            buyer_id: &order.user_id,
        };
        set_holder(&mut tx, ticket_id, TicketStatus::Reserved, Some(holder)).await?;
        self.commit(tx).await?;
        Ok(Applied::Done)
    }

    /// `order:cancelled`: the ticket is for sale again, if that order is the one holding it.
    pub async fn release(
        &self,
        event_id: &str,
        ticket_id: &str,
        order_id: &str,
    ) -> sqlx::Result<()> {
        let Some((mut tx, ticket)) = self.begin_order_event(event_id, ticket_id).await? else {
            return Ok(());
        };
        mark_ended(&mut tx, order_id).await?;
        let holds = ticket.is_some_and(|t| {
            t.status == TicketStatus::Reserved && t.order_id.as_deref() == Some(order_id)
        });
        if holds {
            set_holder(&mut tx, ticket_id, TicketStatus::ForSale, None).await?;
        }
        self.commit(tx).await?;
        Ok(())
    }

    /// `order:completed`: the ticket is sold to that order. Only a confirmed order can be paid,
    /// so the completed order is the one this service reserved the ticket for; a withdrawn ticket
    /// is never overwritten (that would sell what the seller took back), only reported. A ticket
    /// whose file is uploaded is delivered at once; otherwise its deadline starts
    /// (`delivery:scheduled`, a timer of the expiration service).
    pub async fn sell(
        &self,
        event_id: &str,
        ticket_id: &str,
        order_id: &str,
        buyer_id: Option<&str>,
    ) -> sqlx::Result<()> {
        let Some((mut tx, ticket)) = self.begin_order_event(event_id, ticket_id).await? else {
            return Ok(());
        };
        mark_ended(&mut tx, order_id).await?;
        match ticket {
            Some(t) if t.status == TicketStatus::Sold => {
                if t.order_id.as_deref() != Some(order_id) {
                    tracing::error!(ticket_id, order_id, sold_to = ?t.order_id, "a second order completed for a sold ticket");
                }
            }
            Some(t) if t.status == TicketStatus::Withdrawn => {
                tracing::error!(
                    ticket_id,
                    order_id,
                    "order:completed for a withdrawn ticket"
                );
            }
            Some(t) => {
                let buyer_id = buyer_id.or(t.buyer_id.as_deref()).unwrap_or_default();
                self.deliver_on_sale(&mut tx, &t, order_id, buyer_id)
                    .await?;
            }
            None => tracing::error!(ticket_id, order_id, "order:completed for an unknown ticket"),
        }
        self.commit(tx).await?;
        Ok(())
    }
}

/// A row of [`COLUMNS`] with how many files its ticket has (none or one).
#[derive(sqlx::FromRow)]
struct WithFile {
    #[sqlx(flatten)]
    ticket: Ticket,
    files: i64,
}

/// The order holding a ticket, and its buyer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Holder<'a> {
    pub order_id: &'a str,
    pub buyer_id: &'a str,
}

/// Whether `order` was made at the ticket's current terms: no seller change since the version it
/// saw. An order from an older publisher carries no version; its price must still match.
fn at_the_terms_of(ticket: &Ticket, order: &OrderCreated) -> bool {
    match order.ticket.version {
        Some(seen) => ticket.terms_version <= seen,
        None => ticket.price_cents == order.ticket.price,
    }
}

/// Moves the ticket to `status` held by `holder` (none: for sale again), bumps its version,
/// records `ticket:updated`.
async fn set_holder(
    tx: &mut Transaction<'_, Any>,
    ticket_id: &str,
    status: TicketStatus,
    holder: Option<Holder<'_>>,
) -> sqlx::Result<()> {
    let ticket: Ticket = sqlx::query_as(&format!(
        "UPDATE tickets SET status = $2, order_id = $3, buyer_id = $4, version = version + 1, updated_at = $5 \
         WHERE id = $1 RETURNING {COLUMNS}"
    ))
    .bind(ticket_id)
    .bind(status)
    .bind(holder.map(|h| h.order_id))
    .bind(holder.map(|h| h.buyer_id))
    .bind(unix_millis())
    .fetch_one(&mut **tx)
    .await?;
    outbox::enqueue(tx, &ticket.updated_event()).await?;
    Ok(())
}

async fn mark_ended(tx: &mut Transaction<'_, Any>, order_id: &str) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO ended_orders (order_id, ended_at) VALUES ($1, $2) ON CONFLICT (order_id) DO NOTHING")
        .bind(order_id)
        .bind(unix_millis())
        .execute(&mut **tx)
        .await
        .map(drop)
}

async fn order_has_ended(tx: &mut Transaction<'_, Any>, order_id: &str) -> sqlx::Result<bool> {
    let found: Option<String> =
        sqlx::query_scalar("SELECT order_id FROM ended_orders WHERE order_id = $1")
            .bind(order_id)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(found.is_some())
}

#[cfg(test)]
mod tests {
    use gittix_shared::db::Backend;
    use gittix_testing::fresh_database;

    use super::*;

    /// The creation and the cancellation of one order, handled at the same moment by two workers,
    /// must never leave the ticket reserved by the cancelled order. (PostgreSQL: two connections
    /// really run at once; SQLite's single connection serializes them anyway.)
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reserve_and_release_of_one_order_at_once_leave_the_ticket_for_sale() {
        let database = fresh_database(Backend::Postgres).await;
        database.db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = TicketStore::new(database.db.clone());
        for round in 0..50 {
            let ticket = store.create("seller", &seat(1000), None).await.unwrap();
            let order = format!("order-{round}");
            let (created, cancelled) = (format!("created-{round}"), format!("cancelled-{round}"));
            let event = order_created(&order, &ticket);
            let (reserved, released) = tokio::join!(
                store.reserve(&created, &event),
                store.release(&cancelled, &ticket.id, &order),
            );
            assert_eq!(reserved.unwrap(), Applied::Done);
            released.unwrap();
            let now = store.find(&ticket.id).await.unwrap().unwrap();
            assert_eq!(now.status, TicketStatus::ForSale, "round {round}: {now:?}");
        }
    }

    fn seat(price_cents: i64) -> ValidTicket {
        ValidTicket {
            title: "Seat".into(),
            price_cents,
            ..ValidTicket::default()
        }
    }

    fn order_created(order_id: &str, ticket: &Ticket) -> OrderCreated {
        OrderCreated {
            id: order_id.to_owned(),
            version: 0,
            status: gittix_shared::domain::OrderStatus::Created,
            user_id: "buyer".to_owned(),
            expires_at: "2100-01-01T00:00:00.000Z".to_owned(),
            ticket: gittix_shared::events::OrderedTicket {
                id: ticket.id.clone(),
                price: ticket.price_cents,
                version: Some(ticket.version),
            },
            total: None,
        }
    }

    /// What a reservation must match is the seller's terms, not the version: bumps made by a
    /// reservation and its release refuse nobody, an edit or a withdrawal since the order's
    /// version refuses it. (SQLite: the rule is in Rust, one code path for both backends.)
    #[tokio::test]
    async fn a_reservation_is_confirmed_only_at_the_terms_it_was_made_at() {
        let database = fresh_database(Backend::Sqlite).await;
        database.db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = TicketStore::new(database.db.clone());
        let listed = store.create("seller", &seat(1000), None).await.unwrap();

        // Reserved and released by a first order: the version moves on, the terms do not.
        store
            .reserve("e1", &order_created("first", &listed))
            .await
            .unwrap();
        store.release("e2", &listed.id, "first").await.unwrap();
        let released = store.find(&listed.id).await.unwrap().unwrap();
        assert_eq!(released.version, 2);
        // A buyer whose replica still shows version 0 is served.
        store
            .reserve("e3", &order_created("second", &listed))
            .await
            .unwrap();
        let held = store.find(&listed.id).await.unwrap().unwrap();
        assert_eq!(
            (held.status, held.order_id.as_deref()),
            (TicketStatus::Reserved, Some("second"))
        );
        store.release("e4", &listed.id, "second").await.unwrap();

        // The seller changes the price: an order made at any version before it is refused.
        let before_edit = store.find(&listed.id).await.unwrap().unwrap();
        let edited = store
            .edit(
                &listed.id,
                "seller",
                &Ticket {
                    price_cents: 5000,
                    ..before_edit.clone()
                },
            )
            .await
            .unwrap();
        assert_eq!(edited.terms_version, edited.version);
        store
            .reserve("e5", &order_created("stale", &before_edit))
            .await
            .unwrap();
        let refused = store.find(&listed.id).await.unwrap().unwrap();
        assert_eq!(
            (refused.status, refused.version),
            (TicketStatus::ForSale, edited.version)
        );
        // At the new terms it is served.
        store
            .reserve("e6", &order_created("fresh", &edited))
            .await
            .unwrap();
        let held = store.find(&listed.id).await.unwrap().unwrap();
        assert_eq!(held.order_id.as_deref(), Some("fresh"));
        store.release("e7", &listed.id, "fresh").await.unwrap();

        // Withdrawn: refused, and a completion can never sell it.
        let before_withdrawal = store.find(&listed.id).await.unwrap().unwrap();
        store.withdraw(&listed.id, "seller").await.unwrap();
        store
            .reserve("e8", &order_created("late", &before_withdrawal))
            .await
            .unwrap();
        store.sell("e9", &listed.id, "late", None).await.unwrap();
        let withdrawn = store.find(&listed.id).await.unwrap().unwrap();
        assert_eq!(
            (withdrawn.status, withdrawn.order_id),
            (TicketStatus::Withdrawn, None)
        );
    }
}
