//! The event catalogue: every message between services as a Rust type with its subject.
//!
//! Subjects keep the original system's names. Money is integer cents; versions are the owner's
//! record version, so replicas can apply updates in order.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use crate::domain::{CancelReason, Delivery, OrderStatus, TicketStatus};

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

/// Sessions of a user ended: the one named `sid` (a sign-out), or every session issued before
/// `before` (unix milliseconds: a password change, sign-out everywhere). Every replica of every
/// service reads it and refuses those tokens from then on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionRevoked {
    pub user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<i64>,
}

impl Event for SessionRevoked {
    const SUBJECT: &'static str = "session:revoked";
}

/// Someone asked to reset the password of the account `user_id`: `token` is the single-use
/// secret of the link emailed to `email`, valid until `expires_at` (unix milliseconds). Only a
/// hash of it is kept by auth; the notifications service builds the link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordResetRequested {
    pub user_id: String,
    pub email: String,
    pub token: String,
    pub expires_at: i64,
}

impl Event for PasswordResetRequested {
    const SUBJECT: &'static str = "user:password-reset-requested";
}

/// The account `user_id` should confirm that it receives mail at `email`: `token` is the
/// secret of the verification link, valid until `expires_at` (unix milliseconds). `welcome` is
/// true for the link of a new account (its welcome email), false for one sent again or after
/// a change of address. Like a reset token, only a hash of it is kept by auth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationRequested {
    pub user_id: String,
    pub email: String,
    pub token: String,
    pub expires_at: i64,
    pub welcome: bool,
}

impl Event for VerificationRequested {
    const SUBJECT: &'static str = "user:verification-requested";
}

/// Someone created an event tickets can be listed for. `startsAt` is ISO-8601, UTC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventCreated {
    pub id: String,
    pub version: i64,
    pub name: String,
    pub venue: String,
    pub city: String,
    pub starts_at: String,
    pub created_by: String,
}

impl Event for EventCreated {
    const SUBJECT: &'static str = "event:created";
}

/// Its creator corrected an event (name, venue, city or start); `version` is one more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventUpdated {
    pub id: String,
    pub version: i64,
    pub name: String,
    pub venue: String,
    pub city: String,
    pub starts_at: String,
    pub created_by: String,
}

impl Event for EventUpdated {
    const SUBJECT: &'static str = "event:updated";
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
    #[serde(flatten)]
    pub terms: SaleTerms,
}

/// What `ticket:*` events carry beyond the original's fields, for orders and payments: the
/// event the ticket is for and when it starts (no order after that), and the printed price.
/// All absent for a ticket without an event, and in events of older publishers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SaleTerms {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// ISO-8601, UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_starts_at: Option<String>,
    /// The price printed on the ticket, in cents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub face_value: Option<i64>,
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
    pub status: TicketStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// The version at which the seller last set the terms (title, price, listed or withdrawn).
    /// Orders made from an older version were made at other terms: the tickets service refuses
    /// them and orders cancels them (`ticket_changed`). Absent from events of older publishers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terms_version: Option<i64>,
    #[serde(flatten)]
    pub terms: SaleTerms,
    /// Once sold: whether its file reached the buyer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<Delivery>,
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
    /// The ticket's version the order was made at (the orders replica's); the tickets service
    /// confirms the reservation only if the seller's terms have not changed since. Absent from
    /// events of older publishers, which are confirmed when the price still matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
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
    pub status: OrderStatus,
    pub user_id: String,
    pub expires_at: String,
    pub ticket: OrderedTicket,
    /// What the buyer pays in cents: the ticket's price and the buyer fee. Absent from events
    /// of publishers older than fees, whose total is the price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
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
    pub reason: CancelReason,
}

impl Event for OrderCancelled {
    const SUBJECT: &'static str = "order:cancelled";
}

/// The tickets service confirmed the reservation (the ticket is reserved for this order at the
/// terms it was made at): the order is `awaiting:payment` and may be paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderConfirmed {
    pub id: String,
    pub version: i64,
    pub ticket: TicketRef,
}

impl Event for OrderConfirmed {
    const SUBJECT: &'static str = "order:confirmed";
}

/// An order was paid: the ticket is sold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderCompleted {
    pub id: String,
    pub version: i64,
    pub ticket: TicketRef,
    /// The buyer. Absent from events of older publishers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// What the buyer paid in cents. Absent from events of older publishers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
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

/// A payment attempt began: its card went to the provider before the order's `expiresAt`, so it
/// holds the lock until it resolves (at most `PAYMENT_GRACE_SECONDS` past `expiresAt`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChargeStarted {
    pub id: String,
    pub order_id: String,
    pub attempt: i64,
}

impl Event for ChargeStarted {
    const SUBJECT: &'static str = "charge:started";
}

/// The card asks for 3-D Secure: attempt `attempt` waits for the buyer, and no longer holds the
/// lock past `expiresAt` (a challenge left open ends with the lock and charges nothing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChargeRequiresAction {
    pub id: String,
    pub order_id: String,
    pub attempt: i64,
}

impl Event for ChargeRequiresAction {
    const SUBJECT: &'static str = "charge:requires-action";
}

/// The card's money is held for the order (authorized, not captured): orders completes the
/// order if it can, and payments captures once it has; otherwise the hold is released.
/// `amount` is in cents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChargeAuthorized {
    pub id: String,
    pub order_id: String,
    pub attempt: i64,
    pub amount: i64,
    pub stripe_id: String,
}

impl Event for ChargeAuthorized {
    const SUBJECT: &'static str = "charge:authorized";
}

/// A payment succeeded: captured after its order completed. `amount` is in cents.
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

/// A sold ticket without its file: the seller must deliver it by `due_at` (unix milliseconds),
/// or the buyer is refunded. The expiration service keeps the timer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryScheduled {
    pub ticket_id: String,
    pub order_id: String,
    pub due_at: i64,
}

impl Event for DeliveryScheduled {
    const SUBJECT: &'static str = "delivery:scheduled";
}

/// A sold ticket's delivery deadline passed (published by expiration); the tickets service
/// decides whether it was delivered in time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryDue {
    pub ticket_id: String,
    pub order_id: String,
}

impl Event for DeliveryDue {
    const SUBJECT: &'static str = "delivery:due";
}

/// A sold ticket's file is the buyer's to download.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketDelivered {
    pub id: String,
    pub order_id: String,
    pub buyer_id: String,
    pub seller_id: String,
    /// When the ticket's event starts (ISO-8601, UTC): the seller's payout is released a hold
    /// after it. Absent for a ticket without an event, and from older publishers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_starts_at: Option<String>,
    /// Delivered by the sale itself (the seller had uploaded the file before), rather than by
    /// an upload after it: the seller's "sold" email then has no deadline to give.
    #[serde(default)]
    pub at_sale: bool,
}

impl Event for TicketDelivered {
    const SUBJECT: &'static str = "ticket:delivered";
}

/// A delivered sale's payout to its seller is held until `release_at` (unix milliseconds);
/// the expiration service keeps the timer that releases it. `amount` is the seller's share in
/// cents: the sale's price less the seller fee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PayoutScheduled {
    pub id: String,
    pub order_id: String,
    pub seller_id: String,
    pub amount: i64,
    pub release_at: i64,
}

impl Event for PayoutScheduled {
    const SUBJECT: &'static str = "payout:scheduled";
}

/// A payout's release time came (published by expiration); payments transfers it, once the
/// seller's account can take it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PayoutDue {
    pub id: String,
}

impl Event for PayoutDue {
    const SUBJECT: &'static str = "payout:due";
}

/// What `payout:paid`, `payout:failed` and `payout:reversed` carry: the payout, its sale, its
/// seller and amount (cents), the Stripe transfer once there is one, and why a transfer failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PayoutOutcome {
    pub id: String,
    pub order_id: String,
    pub seller_id: String,
    pub amount: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stripe_transfer_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The seller's share reached their Stripe account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PayoutPaid(pub PayoutOutcome);

impl Event for PayoutPaid {
    const SUBJECT: &'static str = "payout:paid";
}

/// A transfer to the seller failed; it is tried again later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PayoutFailed(pub PayoutOutcome);

impl Event for PayoutFailed {
    const SUBJECT: &'static str = "payout:failed";
}

/// The sale was refunded after its payout: the transfer was taken back from the seller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PayoutReversed(pub PayoutOutcome);

impl Event for PayoutReversed {
    const SUBJECT: &'static str = "payout:reversed";
}

/// A sold ticket's deadline passed without its file: the buyer is refunded in full and the
/// seller paid nothing; the order stays complete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketUndelivered {
    pub id: String,
    pub order_id: String,
    pub buyer_id: String,
    pub seller_id: String,
}

impl Event for TicketUndelivered {
    const SUBJECT: &'static str = "ticket:undelivered";
}

/// Properties of the wire format, over generated events: what a consumer decodes is what was
/// published; a field it does not know (a newer publisher) changes nothing; a missing field is
/// an error (the listener dead-letters it), never a silent default.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value;

    fn text() -> impl Strategy<Value = String> {
        any::<String>()
    }

    fn ticket_updated() -> impl Strategy<Value = TicketUpdated> {
        (
            text(),
            any::<i64>(),
            text(),
            any::<i64>(),
            text(),
            proptest::sample::select(TicketStatus::ALL),
            proptest::option::of(text()),
            proptest::option::of(any::<i64>()),
            (
                proptest::option::of(text()),
                proptest::option::of(text()),
                proptest::option::of(any::<i64>()),
            ),
            proptest::option::of(proptest::sample::select(Delivery::ALL)),
        )
            .prop_map(
                |(
                    id,
                    version,
                    title,
                    price,
                    user_id,
                    status,
                    order_id,
                    terms_version,
                    (event_id, event_starts_at, face_value),
                    delivery,
                )| {
                    TicketUpdated {
                        id,
                        version,
                        title,
                        price,
                        user_id,
                        status,
                        order_id,
                        terms_version,
                        terms: SaleTerms {
                            event_id,
                            event_starts_at,
                            face_value,
                        },
                        delivery,
                    }
                },
            )
    }

    fn order_created() -> impl Strategy<Value = OrderCreated> {
        (
            text(),
            any::<i64>(),
            proptest::sample::select(OrderStatus::ALL),
            text(),
            text(),
            text(),
            any::<i64>(),
            proptest::option::of(any::<i64>()),
            proptest::option::of(any::<i64>()),
        )
            .prop_map(
                |(
                    id,
                    version,
                    status,
                    user_id,
                    expires_at,
                    ticket_id,
                    price,
                    ticket_version,
                    total,
                )| {
                    OrderCreated {
                        id,
                        version,
                        status,
                        user_id,
                        expires_at,
                        ticket: OrderedTicket {
                            id: ticket_id,
                            price,
                            version: ticket_version,
                        },
                        total,
                    }
                },
            )
    }

    fn order_cancelled() -> impl Strategy<Value = OrderCancelled> {
        (
            text(),
            any::<i64>(),
            text(),
            proptest::sample::select(CancelReason::ALL),
        )
            .prop_map(|(id, version, ticket_id, reason)| OrderCancelled {
                id,
                version,
                ticket: TicketRef { id: ticket_id },
                reason,
            })
    }

    fn charge_created() -> impl Strategy<Value = ChargeCreated> {
        (text(), text(), any::<i64>(), text()).prop_map(|(id, order_id, amount, stripe_id)| {
            ChargeCreated {
                id,
                order_id,
                amount,
                stripe_id,
            }
        })
    }

    /// Extra keys are `x_...`: no field of an event has an underscore on the wire (camelCase).
    /// The three properties for one event (`optional`: the fields it may go without), as published (`serde_json::to_vec`) and consumed
    /// (`serde_json::from_slice`, as the listener does).
    fn wire_format_holds<E: Event + PartialEq + std::fmt::Debug>(
        event: &E,
        optional: &[&str],
        extra_key: &str,
        extra: &Value,
        dropped: prop::sample::Index,
    ) -> Result<(), TestCaseError> {
        let bytes = serde_json::to_vec(event).unwrap();
        prop_assert_eq!(&serde_json::from_slice::<E>(&bytes).unwrap(), event);

        let Value::Object(fields) = serde_json::from_slice::<Value>(&bytes).unwrap() else {
            return Err(TestCaseError::fail("an event is a JSON object"));
        };
        if !fields.contains_key(extra_key) {
            let mut newer = fields.clone();
            newer.insert(extra_key.to_owned(), extra.clone());
            let decoded = serde_json::from_value::<E>(Value::Object(newer));
            prop_assert_eq!(decoded.as_ref().ok(), Some(event));
        }

        let name = fields
            .keys()
            .nth(dropped.index(fields.len()))
            .unwrap()
            .clone();
        if optional.contains(&name.as_str()) {
            return Ok(());
        }
        let mut older = fields.clone();
        older.remove(&name);
        prop_assert!(
            serde_json::from_value::<E>(Value::Object(older)).is_err(),
            "{} decoded without `{}`",
            E::SUBJECT,
            name
        );
        Ok(())
    }

    fn json_value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<String>().prop_map(Value::from),
        ]
    }

    proptest! {
        #[test]
        fn ticket_updated_survives_the_wire(e in ticket_updated(), k in "x_[a-z]{1,10}", v in json_value(), d in any::<prop::sample::Index>()) {
            wire_format_holds(&e, &["orderId", "termsVersion", "eventId", "eventStartsAt", "faceValue", "delivery"], &k, &v, d)?;
        }

        #[test]
        fn order_created_survives_the_wire(e in order_created(), k in "x_[a-z]{1,10}", v in json_value(), d in any::<prop::sample::Index>()) {
            wire_format_holds(&e, &["total"], &k, &v, d)?;
        }

        #[test]
        fn order_cancelled_survives_the_wire(e in order_cancelled(), k in "x_[a-z]{1,10}", v in json_value(), d in any::<prop::sample::Index>()) {
            wire_format_holds(&e, &[], &k, &v, d)?;
        }

        #[test]
        fn charge_created_survives_the_wire(e in charge_created(), k in "x_[a-z]{1,10}", v in json_value(), d in any::<prop::sample::Index>()) {
            wire_format_holds(&e, &[], &k, &v, d)?;
        }

    }
}
