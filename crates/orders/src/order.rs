//! An order, as stored and as the API shows it.

use gittix_shared::domain::{CancelReason, Delivery, OrderStatus};
use serde::Serialize;

/// An order as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Order {
    pub id: String,
    pub user_id: String,
    pub status: OrderStatus,
    pub expires_at: i64,
    pub version: i64,
    pub ticket_id: String,
    pub ticket_title: String,
    pub ticket_price_cents: i64,
    /// What the buyer pays on top of the price, fixed when the order was made.
    pub buyer_fee_cents: i64,
    pub ticket_version: i64,
    pub cancel_reason: Option<CancelReason>,
    /// Once complete: whether the ticket's file reached the buyer.
    pub delivery: Option<Delivery>,
}

/// The columns of [`Order`], for queries.
pub const COLUMNS: &str = "id, user_id, status, expires_at, version, ticket_id, ticket_title, \
    ticket_price_cents, buyer_fee_cents, ticket_version, cancel_reason, delivery";

impl Order {
    /// What the buyer pays: the ticket's price and the buyer fee.
    pub fn total_cents(&self) -> i64 {
        self.ticket_price_cents + self.buyer_fee_cents
    }
}

/// An order as the API shows it, with its ticket embedded (price in dollars).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Order)]
pub struct OrderJson {
    id: String,
    /// The buyer.
    user_id: String,
    /// `created`, `awaiting:payment`, `complete` or `cancelled`.
    #[schema(value_type = String, example = "created")]
    status: OrderStatus,
    /// When the reservation ends unless paid (ISO-8601, UTC).
    #[schema(format = DateTime)]
    expires_at: String,
    version: i64,
    ticket: TicketJson,
    /// What the buyer pays, in dollars: the ticket's price and the fees below.
    #[serde(serialize_with = "gittix_shared::money::serialize_dollars")]
    #[schema(value_type = f64, example = 21.99)]
    total: i64,
    fees: FeesJson,
    /// Why a cancelled order ended: `cancelled` (by the buyer), `expired`, `payment_failed`, or
    /// `ticket_changed` (the seller changed or withdrew the ticket before the reservation was
    /// confirmed; order again at the new terms).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "expired")]
    cancel_reason: Option<CancelReason>,
    /// Once complete: `awaiting` (the seller has not uploaded the ticket yet), `delivered` (its
    /// file can be downloaded from `/api/tickets/{id}/file`) or `undelivered` (the deadline
    /// passed; the payment is refunded).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "delivered")]
    delivery: Option<Delivery>,
}

/// What the buyer pays on top of the ticket's price, in dollars.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = OrderFees)]
struct FeesJson {
    /// The buyer fee (`BUYER_FEE_PERCENT` of the price when the order was made).
    #[serde(serialize_with = "gittix_shared::money::serialize_dollars")]
    #[schema(value_type = f64, example = 2)]
    buyer: i64,
}

/// The ticket as it was when the order was made.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = OrderedTicket)]
struct TicketJson {
    id: String,
    title: String,
    /// In dollars.
    #[serde(serialize_with = "gittix_shared::money::serialize_dollars")]
    #[schema(value_type = f64)]
    price: i64,
    version: i64,
}

impl From<Order> for OrderJson {
    fn from(order: Order) -> Self {
        Self {
            total: order.total_cents(),
            fees: FeesJson {
                buyer: order.buyer_fee_cents,
            },
            id: order.id,
            user_id: order.user_id,
            status: order.status,
            expires_at: gittix_shared::time::iso8601(order.expires_at),
            version: order.version,
            ticket: TicketJson {
                id: order.ticket_id,
                title: order.ticket_title,
                price: order.ticket_price_cents,
                version: order.ticket_version,
            },
            cancel_reason: order.cancel_reason,
            delivery: order
                .delivery
                .filter(|_| order.status == OrderStatus::Complete),
        }
    }
}
