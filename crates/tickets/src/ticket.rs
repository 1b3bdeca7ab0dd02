//! A ticket as stored, and as the API shows it.

use gittix_shared::domain::{Delivery, TicketStatus};
use gittix_shared::events::{SaleTerms, TicketCreated, TicketUpdated};
use gittix_shared::fees::Fees;
use gittix_shared::money::{serialize_dollars, serialize_optional_dollars};
use gittix_shared::time::iso8601;
use serde::Serialize;

/// A ticket as stored (prices in cents). The API shows it as [`TicketJson`].
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Ticket {
    pub id: String,
    pub title: String,
    pub price_cents: i64,
    /// The seller.
    pub user_id: String,
    /// One more at every change; events carry it so replicas apply them in order.
    pub version: i64,
    pub status: TicketStatus,
    /// The order that holds or bought it.
    pub order_id: Option<String>,
    /// The version at which the seller last set the terms (listed, edited or withdrew it). A
    /// reservation made from an older version is refused (design, section 5); versions bumped by
    /// reservations, releases and deliveries leave it alone, so they refuse nobody.
    pub terms_version: i64,
    pub section: Option<String>,
    pub seat_row: Option<String>,
    pub seat: Option<String>,
    /// The price printed on the ticket.
    pub face_value_cents: Option<i64>,
    /// The event it is for, with that event's details as they are now (copied from `events`).
    pub event_id: Option<String>,
    pub event_name: Option<String>,
    pub event_venue: Option<String>,
    pub event_city: Option<String>,
    /// Unix milliseconds: sales close then.
    pub event_starts_at: Option<i64>,
    /// The buyer of the order that holds or bought it.
    pub buyer_id: Option<String>,
    /// Once sold: whether its file reached the buyer.
    pub delivery: Option<Delivery>,
    /// Unix milliseconds: the seller must deliver by then, or the buyer is refunded.
    pub delivery_due_at: Option<i64>,
}

/// The columns of [`Ticket`], for queries.
pub const COLUMNS: &str =
    "id, title, price_cents, user_id, version, status, order_id, terms_version, \
    section, seat_row, seat, face_value_cents, event_id, event_name, event_venue, event_city, \
    event_starts_at, buyer_id, delivery, delivery_due_at";

impl Ticket {
    fn sale_terms(&self) -> SaleTerms {
        SaleTerms {
            event_id: self.event_id.clone(),
            event_starts_at: self.event_starts_at.map(iso8601),
            face_value: self.face_value_cents,
        }
    }

    pub fn created_event(&self) -> TicketCreated {
        TicketCreated {
            id: self.id.clone(),
            version: self.version,
            title: self.title.clone(),
            price: self.price_cents,
            user_id: self.user_id.clone(),
            terms: self.sale_terms(),
        }
    }

    pub fn updated_event(&self) -> TicketUpdated {
        TicketUpdated {
            id: self.id.clone(),
            version: self.version,
            title: self.title.clone(),
            price: self.price_cents,
            user_id: self.user_id.clone(),
            status: self.status,
            order_id: self.order_id.clone(),
            terms_version: Some(self.terms_version),
            terms: self.sale_terms(),
            delivery: self.delivery,
        }
    }
}

/// A ticket on the wire: the original's fields, then what it gained (each only when set).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Ticket)]
pub struct TicketJson<'a> {
    id: &'a str,
    title: &'a str,
    /// What the seller asks, in dollars.
    #[serde(serialize_with = "serialize_dollars")]
    #[schema(value_type = f64, example = 19.99)]
    price: i64,
    /// The seller.
    user_id: &'a str,
    /// One more at every change.
    version: i64,
    /// `for_sale`, `reserved`, `sold` or `withdrawn`.
    #[schema(value_type = String, example = "for_sale")]
    status: TicketStatus,
    /// The order that holds or bought it.
    #[serde(skip_serializing_if = "Option::is_none")]
    order_id: Option<&'a str>,
    /// What a buyer pays, in dollars: the price plus the buyer fee (`BUYER_FEE_PERCENT`).
    #[serde(serialize_with = "serialize_dollars")]
    #[schema(value_type = f64, example = 19.99)]
    total_price: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    event_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    section: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    row: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seat: Option<&'a str>,
    /// The price printed on the ticket, in dollars.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_optional_dollars"
    )]
    #[schema(value_type = Option<f64>, example = 45)]
    face_value: Option<i64>,
    /// The event it is for.
    #[serde(skip_serializing_if = "Option::is_none")]
    event: Option<TicketEventJson<'a>>,
}

/// The event a ticket is for, as its ticket embeds it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = TicketEvent)]
pub struct TicketEventJson<'a> {
    id: &'a str,
    name: &'a str,
    venue: &'a str,
    city: &'a str,
    /// ISO-8601, UTC.
    #[schema(example = "2027-06-01T18:00:00.000Z")]
    starts_at: String,
}

/// Tickets as the API shows them, each with its total under `fees`.
pub fn tickets_json<'a>(tickets: &'a [Ticket], fees: &Fees) -> Vec<TicketJson<'a>> {
    tickets.iter().map(|t| TicketJson::new(t, fees)).collect()
}

impl<'a> TicketJson<'a> {
    /// The API shows every ticket this way, with what a buyer pays under `fees`; its delivery
    /// only to its seller and buyer ([`OwnTicketJson`]).
    pub fn new(ticket: &'a Ticket, fees: &Fees) -> Self {
        let event = match (
            &ticket.event_id,
            &ticket.event_name,
            &ticket.event_venue,
            &ticket.event_city,
            ticket.event_starts_at,
        ) {
            (Some(id), Some(name), Some(venue), Some(city), Some(starts_at)) => {
                Some(TicketEventJson {
                    id,
                    name,
                    venue,
                    city,
                    starts_at: iso8601(starts_at),
                })
            }
            _ => None,
        };
        Self {
            id: &ticket.id,
            title: &ticket.title,
            price: ticket.price_cents,
            user_id: &ticket.user_id,
            version: ticket.version,
            status: ticket.status,
            order_id: ticket.order_id.as_deref(),
            total_price: fees.total(ticket.price_cents),
            event_id: ticket.event_id.as_deref(),
            section: ticket.section.as_deref(),
            row: ticket.seat_row.as_deref(),
            seat: ticket.seat.as_deref(),
            face_value: ticket.face_value_cents,
            event,
        }
    }
}

/// A ticket as its seller or its buyer sees it: with its delivery once sold.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OwnTicket)]
pub struct OwnTicketJson<'a> {
    #[serde(flatten)]
    ticket: TicketJson<'a>,
    /// Once sold: `awaiting` (the seller must upload its file by `deliveryDueAt`),
    /// `delivered` (its buyer can download it) or `undelivered` (the buyer was refunded).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "awaiting")]
    delivery: Option<Delivery>,
    /// While awaited: the deadline (ISO-8601, UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    delivery_due_at: Option<String>,
    /// Whether its file has been uploaded (shown to the seller only).
    #[serde(skip_serializing_if = "Option::is_none")]
    has_file: Option<bool>,
}

impl<'a> OwnTicketJson<'a> {
    pub fn new(ticket: &'a Ticket, has_file: Option<bool>, fees: &Fees) -> Self {
        Self {
            ticket: TicketJson::new(ticket, fees),
            delivery: ticket.delivery,
            delivery_due_at: ticket
                .delivery_due_at
                .filter(|_| ticket.delivery == Some(Delivery::Awaiting))
                .map(iso8601),
            has_file,
        }
    }
}
