//! Delivery: the seller's file for a ticket, handed to its buyer once sold. A ticket sold with
//! its file is delivered at once; one sold without it must be uploaded before its deadline (a
//! timer of the expiration service, `delivery:scheduled` / `delivery:due`), or it is
//! `undelivered` and payments refunds the buyer.

use gittix_shared::domain::{Delivery, TicketStatus};
use gittix_shared::error::DomainResult;
use gittix_shared::events::{DeliveryScheduled, TicketDelivered, TicketUndelivered};
use gittix_shared::outbox;
use gittix_shared::time::unix_millis;
use sqlx::{Any, Transaction};

use crate::file_rules::FileKind;
use crate::refusal::Refusal;
use crate::store::{Applied, TicketStore};
use crate::ticket::{Ticket, COLUMNS};

/// A ticket's file, as stored.
#[derive(Debug, sqlx::FromRow)]
pub struct TicketFile {
    pub content_type: String,
    pub body: Vec<u8>,
}

impl TicketStore {
    /// The sale of `ticket` to `order_id`: sold, and delivered at once when its file is
    /// uploaded, otherwise awaited until the deadline. Runs in the transaction of
    /// `order:completed`.
    pub(crate) async fn deliver_on_sale(
        &self,
        tx: &mut Transaction<'static, Any>,
        ticket: &Ticket,
        order_id: &str,
        buyer_id: &str,
    ) -> sqlx::Result<()> {
        let now = unix_millis();
        let has_file = has_file(tx, &ticket.id).await?;
        let (delivery, due_at) = if has_file {
            (Delivery::Delivered, None)
        } else {
            let due_at = self.delivery.deadline(now, ticket.event_starts_at);
            (Delivery::Awaiting, Some(due_at))
        };
        let sold: Ticket = sqlx::query_as(&format!(
            "UPDATE tickets SET status = $2, order_id = $3, buyer_id = $4, delivery = $5, \
             delivery_due_at = $6, version = version + 1, updated_at = $7 WHERE id = $1 RETURNING {COLUMNS}"
        ))
        .bind(&ticket.id)
        .bind(TicketStatus::Sold)
        .bind(order_id)
        .bind(buyer_id)
        .bind(delivery)
        .bind(due_at)
        .bind(now)
        .fetch_one(&mut **tx)
        .await?;
        outbox::enqueue(tx, &sold.updated_event()).await?;
        match due_at {
            None => {
                outbox::enqueue(tx, &delivered(&sold, true)).await?;
            }
            Some(due_at) => {
                let scheduled = DeliveryScheduled {
                    ticket_id: sold.id.clone(),
                    order_id: order_id.to_owned(),
                    due_at,
                };
                outbox::enqueue(tx, &scheduled).await?;
            }
        }
        Ok(())
    }

    /// Refuses an upload for a ticket that is not there (404) or not `seller`'s (401), before
    /// the route reads the file. [`Self::upload`] decides again, with the ticket locked.
    pub async fn may_upload(&self, id: &str, seller: &str) -> DomainResult<(), Refusal> {
        let ticket = self.find(id).await?.ok_or(Refusal::NoSuchTicket)?;
        if ticket.user_id != seller {
            return Err(Refusal::SomeoneElses.into());
        }
        Ok(())
    }

    /// The seller uploads the ticket's file (checked by the route): kept, replacing an earlier
    /// one, while the ticket is for sale or reserved; a sold ticket still awaited is delivered
    /// now. Refused once delivered, once the deadline has passed, and for a withdrawn ticket.
    pub async fn upload(
        &self,
        id: &str,
        seller: &str,
        kind: FileKind,
        body: &[u8],
    ) -> DomainResult<(), Refusal> {
        let mut tx = self.db().pool().begin().await?;
        let ticket = self
            .find_locked(&mut tx, id)
            .await?
            .ok_or(Refusal::NoSuchTicket)?;
        if ticket.user_id != seller {
            return Err(Refusal::SomeoneElses.into());
        }
        let now = unix_millis();
        match (ticket.status, ticket.delivery) {
            (TicketStatus::Withdrawn, _) => return Err(Refusal::Withdrawn.into()),
            (_, Some(Delivery::Delivered)) => return Err(Refusal::AlreadyDelivered.into()),
            (_, Some(Delivery::Undelivered)) => return Err(Refusal::DeadlinePassed.into()),
            // Due, the timer not fired yet: the deadline decides, not the timer's lateness.
            (_, Some(Delivery::Awaiting)) if ticket.delivery_due_at.is_some_and(|d| d <= now) => {
                return Err(Refusal::DeadlinePassed.into())
            }
            _ => {}
        }
        sqlx::query(
            "INSERT INTO ticket_files (ticket_id, content_type, body, uploaded_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (ticket_id) DO UPDATE SET content_type = excluded.content_type, \
             body = excluded.body, uploaded_at = excluded.uploaded_at",
        )
        .bind(id)
        .bind(kind.content_type())
        .bind(body)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if ticket.delivery == Some(Delivery::Awaiting) {
            let delivered_now = set_delivery(&mut tx, id, Delivery::Delivered).await?;
            outbox::enqueue(&mut tx, &delivered(&delivered_now, false)).await?;
        }
        self.commit(tx).await?;
        Ok(())
    }

    /// The ticket's file, if `user` may have it: its seller, or the buyer of its completed
    /// order once delivered. Nobody else learns whether it exists.
    pub async fn file_for(
        &self,
        id: &str,
        user: &str,
    ) -> sqlx::Result<Option<(Ticket, TicketFile)>> {
        let Some(ticket) = self.find(id).await? else {
            return Ok(None);
        };
        let buyer_may = ticket.status == TicketStatus::Sold
            && ticket.delivery == Some(Delivery::Delivered)
            && ticket.buyer_id.as_deref() == Some(user);
        if ticket.user_id != user && !buyer_may {
            return Ok(None);
        }
        let file: Option<TicketFile> =
            sqlx::query_as("SELECT content_type, body FROM ticket_files WHERE ticket_id = $1")
                .bind(id)
                .fetch_optional(self.db().pool())
                .await?;
        Ok(file.map(|file| (ticket, file)))
    }

    /// `delivery:due`: the deadline of the sale to `order_id` passed. Still awaited, the ticket
    /// is `undelivered` (payments refunds the buyer on `ticket:undelivered`); delivered in time,
    /// nothing changes. A timer that fired before the deadline by this service's clock (the
    /// expiration service's runs ahead) is "not yet": the event comes back later.
    pub async fn delivery_due(
        &self,
        event_id: &str,
        ticket_id: &str,
        order_id: &str,
    ) -> sqlx::Result<Applied> {
        let Some((mut tx, ticket)) = self.begin_order_event(event_id, ticket_id).await? else {
            return Ok(Applied::Done);
        };
        let awaited = ticket.filter(|t| {
            t.order_id.as_deref() == Some(order_id) && t.delivery == Some(Delivery::Awaiting)
        });
        if awaited
            .as_ref()
            .is_some_and(|t| t.delivery_due_at.is_some_and(|due| unix_millis() < due))
        {
            // Rolled back: the inbox must not remember an event that was not applied.
            return Ok(Applied::NotYet);
        }
        if awaited.is_some() {
            let missed = set_delivery(&mut tx, ticket_id, Delivery::Undelivered).await?;
            tracing::info!(
                ticket_id,
                order_id,
                "delivery deadline missed: the buyer is refunded"
            );
            outbox::enqueue(&mut tx, &undelivered(&missed)).await?;
        }
        self.commit(tx).await?;
        Ok(Applied::Done)
    }
}

async fn has_file(tx: &mut Transaction<'static, Any>, ticket_id: &str) -> sqlx::Result<bool> {
    let found: Option<String> =
        sqlx::query_scalar("SELECT ticket_id FROM ticket_files WHERE ticket_id = $1")
            .bind(ticket_id)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(found.is_some())
}

/// Moves a sold ticket's delivery on, bumps its version and records `ticket:updated`.
async fn set_delivery(
    tx: &mut Transaction<'static, Any>,
    ticket_id: &str,
    delivery: Delivery,
) -> sqlx::Result<Ticket> {
    let ticket: Ticket = sqlx::query_as(&format!(
        "UPDATE tickets SET delivery = $2, version = version + 1, updated_at = $3 WHERE id = $1 RETURNING {COLUMNS}"
    ))
    .bind(ticket_id)
    .bind(delivery)
    .bind(unix_millis())
    .fetch_one(&mut **tx)
    .await?;
    outbox::enqueue(tx, &ticket.updated_event()).await?;
    Ok(ticket)
}

fn delivered(ticket: &Ticket, at_sale: bool) -> TicketDelivered {
    TicketDelivered {
        id: ticket.id.clone(),
        order_id: ticket.order_id.clone().unwrap_or_default(),
        buyer_id: ticket.buyer_id.clone().unwrap_or_default(),
        seller_id: ticket.user_id.clone(),
        event_starts_at: ticket.event_starts_at.map(gittix_shared::time::iso8601),
        at_sale,
    }
}

fn undelivered(ticket: &Ticket) -> TicketUndelivered {
    TicketUndelivered {
        id: ticket.id.clone(),
        order_id: ticket.order_id.clone().unwrap_or_default(),
        buyer_id: ticket.buyer_id.clone().unwrap_or_default(),
        seller_id: ticket.user_id.clone(),
    }
}
