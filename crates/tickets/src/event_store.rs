//! The events table, on SQLite or PostgreSQL through one code path; each new event is announced
//! with `event:created` in the same transaction.

use gittix_shared::db::{is_unique_violation, Db};
use gittix_shared::domain::TicketStatus;
use gittix_shared::error::DomainResult;
use gittix_shared::outbox;
use gittix_shared::time::unix_millis;

use crate::event::{EventRow, EVENT_COLUMNS};
use crate::event_rules::ValidEvent;
use crate::refusal::Refusal;
use crate::store::TicketStore;
use crate::ticket::{Ticket, COLUMNS};
use sqlx::{Any, Transaction};

#[derive(Clone)]
pub struct EventStore {
    db: Db,
    /// The tickets table of the same database: an event's details are copied onto its tickets.
    tickets: TicketStore,
}

impl EventStore {
    pub fn new(tickets: TicketStore) -> Self {
        Self {
            db: tickets.db().clone(),
            tickets,
        }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Creates the event, unless one with the same name, venue and start exists (whatever the
    /// case of its words): the unique index decides, so two at once make one.
    pub async fn create(
        &self,
        creator: &str,
        valid: &ValidEvent,
    ) -> DomainResult<EventRow, Refusal> {
        let event = EventRow {
            id: uuid::Uuid::now_v7().to_string(),
            name: valid.name.clone(),
            venue: valid.venue.clone(),
            city: valid.city.clone(),
            starts_at: valid.starts_at,
            created_by: creator.to_owned(),
            version: 0,
            tickets_for_sale: 0,
            lowest_price_cents: None,
        };
        let now = unix_millis();
        let mut tx = self.db.pool().begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO events (id, name, venue, city, name_key, venue_key, city_key, starts_at, created_by, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
        )
        .bind(&event.id)
        .bind(&event.name)
        .bind(&event.venue)
        .bind(&event.city)
        .bind(event.name.to_lowercase())
        .bind(event.venue.to_lowercase())
        .bind(event.city.to_lowercase())
        .bind(event.starts_at)
        .bind(&event.created_by)
        .bind(event.version)
        .bind(now)
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => {}
            Err(error) if is_unique_violation(&error) => return Err(Refusal::EventExists.into()),
            Err(error) => return Err(error.into()),
        }
        outbox::enqueue(&mut tx, &event.created_event()).await?;
        outbox::commit(tx, &self.db).await?;
        Ok(event)
    }

    /// Its creator corrects the event, unless a ticket for it has sold (the sale stays as the
    /// buyer saw it) or the correction makes it another event that exists. One conditional
    /// update decides, so a sale landing at the same moment is never overwritten.
    pub async fn correct(
        &self,
        id: &str,
        editor: &str,
        valid: &ValidEvent,
    ) -> DomainResult<EventRow, Refusal> {
        let Some(current) = self.find(id).await? else {
            return Err(Refusal::NoSuchEvent.into());
        };
        if current.created_by != editor {
            return Err(Refusal::NotTheEventsCreator.into());
        }
        let mut tx = self.db.pool().begin().await?;
        // The event's tickets are locked first, in one order: a sale in progress (which holds
        // its ticket's row) commits before the check below reads, so the check sees it, and no
        // sale can start until the copies are rewritten.
        sqlx::query(&format!(
            "SELECT id FROM tickets WHERE event_id = $1 ORDER BY id{}",
            self.db.lock_rows()
        ))
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        let updated = sqlx::query(
            "UPDATE events SET name = $3, venue = $4, city = $5, name_key = $6, venue_key = $7, city_key = $8, \
             starts_at = $9, version = version + 1, updated_at = $10 \
             WHERE id = $1 AND created_by = $2 \
             AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.event_id = $1 AND t.status = $11)",
        )
        .bind(id)
        .bind(editor)
        .bind(&valid.name)
        .bind(&valid.venue)
        .bind(&valid.city)
        .bind(valid.name.to_lowercase())
        .bind(valid.venue.to_lowercase())
        .bind(valid.city.to_lowercase())
        .bind(valid.starts_at)
        .bind(unix_millis())
        .bind(TicketStatus::Sold)
        .execute(&mut *tx)
        .await;
        match updated {
            Ok(done) if done.rows_affected() == 1 => {}
            Ok(_) => return Err(Refusal::EventHasSales.into()),
            Err(error) if is_unique_violation(&error) => return Err(Refusal::EventExists.into()),
            Err(error) => return Err(error.into()),
        }
        let event: EventRow = sqlx::query_as(&format!(
            "SELECT {EVENT_COLUMNS} FROM events e WHERE e.id = $1"
        ))
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        outbox::enqueue(&mut tx, &event.updated_event()).await?;
        rewrite_copies(&mut tx, &event).await?;
        self.tickets.commit(tx).await?;
        Ok(event)
    }

    pub async fn find(&self, id: &str) -> sqlx::Result<Option<EventRow>> {
        sqlx::query_as(&format!(
            "SELECT {EVENT_COLUMNS} FROM events e WHERE e.id = $1"
        ))
        .bind(id)
        .fetch_optional(self.db.pool())
        .await
    }

    /// The event's tickets for sale, cheapest first (`tickets_by_event_status_and_price`); none
    /// once it has started.
    pub async fn tickets_for_sale(&self, id: &str) -> DomainResult<Vec<Ticket>, Refusal> {
        let event = self.find(id).await?.ok_or(Refusal::NoSuchEvent)?;
        if event.starts_at <= unix_millis() {
            return Ok(Vec::new());
        }
        Ok(sqlx::query_as(&tickets_for_sale_sql())
            .bind(id)
            .bind(TicketStatus::ForSale)
            .fetch_all(self.db.pool())
            .await?)
    }
}

/// An event's tickets for sale (`$1` the event, `$2` the status for sale), cheapest first:
/// read in order from `tickets_by_event_status_and_price` (`event_listing::plans`).
pub(crate) fn tickets_for_sale_sql() -> String {
    format!(
        "SELECT {COLUMNS} FROM tickets WHERE event_id = $1 AND status = $2 ORDER BY price_cents, id"
    )
}

/// Copies the corrected `event` onto each of its tickets, each with its version bumped and its
/// `ticket:updated` (orders must know a new start). Their terms are unchanged: no reservation is
/// refused for it.
async fn rewrite_copies(tx: &mut Transaction<'static, Any>, event: &EventRow) -> sqlx::Result<()> {
    let tickets: Vec<Ticket> = sqlx::query_as(&format!(
        "UPDATE tickets SET event_name = $2, event_venue = $3, event_city = $4, event_starts_at = $5, \
         version = version + 1, updated_at = $6 WHERE event_id = $1 RETURNING {COLUMNS}"
    ))
    .bind(&event.id)
    .bind(&event.name)
    .bind(&event.venue)
    .bind(&event.city)
    .bind(event.starts_at)
    .bind(unix_millis())
    .fetch_all(&mut **tx)
    .await?;
    for ticket in &tickets {
        outbox::enqueue(tx, &ticket.updated_event()).await?;
    }
    Ok(())
}

/// What a ticket copies of its event.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct EventCopy {
    pub id: String,
    pub name: String,
    pub venue: String,
    pub city: String,
    pub starts_at: i64,
}

/// The event a ticket is being listed or edited for, read in the ticket's transaction and kept
/// from changing until it commits: a correction of the event waits for the ticket, and then
/// rewrites its copy; or the ticket waits for the correction, and copies the corrected event.
pub(crate) async fn event_for_ticket(
    tx: &mut Transaction<'static, Any>,
    db: &Db,
    id: &str,
) -> sqlx::Result<Option<EventCopy>> {
    sqlx::query_as(&format!(
        "SELECT id, name, venue, city, starts_at FROM events WHERE id = $1{}",
        db.share_rows()
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
}
