//! The event catalogue: every message between services as a Rust type with its subject.
//!
//! Subjects keep the original system's names. Money is integer cents; versions are the owner's
//! record version, so replicas can apply updates in order.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A message one service publishes and others may consume.
pub trait Event: Serialize + DeserializeOwned + Send + Sync + 'static {
    const SUBJECT: &'static str;
}

/// A user signed up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserCreated {
    pub id: String,
    pub email: String,
    pub version: i64,
}

impl Event for UserCreated {
    const SUBJECT: &'static str = "user:created";
}

/// A user changed their email or password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserUpdated {
    pub id: String,
    pub email: String,
    pub version: i64,
}

impl Event for UserUpdated {
    const SUBJECT: &'static str = "user:updated";
}

/// A seller listed a ticket. `price` is in cents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketCreated {
    pub id: String,
    pub version: i64,
    pub title: String,
    pub price: i64,
    pub user_id: String,
}

impl Event for TicketCreated {
    const SUBJECT: &'static str = "ticket:created";
}

/// Any change to a ticket: edited, reserved, released, sold or withdrawn. `price` is in cents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketUpdated {
    pub id: String,
    pub version: i64,
    pub title: String,
    pub price: i64,
    pub user_id: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
}

impl Event for TicketUpdated {
    const SUBJECT: &'static str = "ticket:updated";
}

/// The ticket as order events carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderedTicket {
    pub id: String,
    /// The price the order fixed, in cents.
    pub price: i64,
}

/// A ticket reference in order events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketRef {
    pub id: String,
}

/// A buyer reserved a ticket. `expires_at` is ISO-8601 UTC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderCreated {
    pub id: String,
    pub version: i64,
    pub status: String,
    pub user_id: String,
    pub expires_at: String,
    pub ticket: OrderedTicket,
}

impl Event for OrderCreated {
    const SUBJECT: &'static str = "order:created";
}

/// An order ended without a sale; `reason` is `cancelled` (by the buyer), `expired` or
/// `payment_failed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCancelled {
    pub id: String,
    pub version: i64,
    pub ticket: TicketRef,
    pub reason: String,
}

impl Event for OrderCancelled {
    const SUBJECT: &'static str = "order:cancelled";
}

/// An order was paid: the ticket is sold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCompleted {
    pub id: String,
    pub version: i64,
    pub ticket: TicketRef,
}

impl Event for OrderCompleted {
    const SUBJECT: &'static str = "order:completed";
}

/// An order's lock window ran out (published by expiration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderExpired {
    pub order_id: String,
}

impl Event for OrderExpired {
    const SUBJECT: &'static str = "order:expired";
}

/// A payment succeeded. `amount` is in cents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChargeCreated {
    pub id: String,
    pub order_id: String,
    pub amount: i64,
    pub stripe_id: String,
}

impl Event for ChargeCreated {
    const SUBJECT: &'static str = "charge:created";
}

/// A payment attempt was declined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChargeFailed {
    pub id: String,
    pub order_id: String,
    pub attempt: i64,
    pub reason: String,
}

impl Event for ChargeFailed {
    const SUBJECT: &'static str = "charge:failed";
}

/// A successful charge was refunded (its order ended without a sale).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChargeRefunded {
    pub id: String,
    pub order_id: String,
    pub stripe_refund_id: String,
}

impl Event for ChargeRefunded {
    const SUBJECT: &'static str = "charge:refunded";
}
