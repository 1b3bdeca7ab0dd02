//! Ticket events kept in the replica, strictly in version order; `order:expired` and a third
//! declined payment cancel an order; an authorized payment (`charge:authorized`) completes it.
//! A payment attempt that started in time (`charge:started`) holds the lock past `expiresAt`
//! until it resolves, within the grace, or until it waits for the buyer's 3-D Secure answer
//! (`charge:requires-action`).

use gittix_shared::events::{
    ChargeAuthorized, ChargeCreated, ChargeFailed, ChargeRequiresAction, ChargeStarted,
    OrderExpired, TicketCreated, TicketUpdated,
};
use gittix_shared::listener::{Listener, Outcome, Received};
use gittix_shared::replica::VersionCheck;
use gittix_shared::service::Platform;

use crate::store::OrderStore;
use crate::CONSUMER_GROUP;

pub(crate) fn listener(orders: OrderStore, platform: &Platform) -> Listener {
    let (on_updated, on_expired, on_started, on_challenged, on_authorized, on_paid, on_declined) = (
        orders.clone(),
        orders.clone(),
        orders.clone(),
        orders.clone(),
        orders.clone(),
        orders.clone(),
        orders.clone(),
    );
    platform
        .consumer_group(CONSUMER_GROUP)
        .on(move |event: Received<TicketCreated>| {
            let orders = orders.clone();
            async move { outcome(orders.apply_ticket(&event.id, event.data.into()).await?) }
        })
        .on(move |event: Received<TicketUpdated>| {
            let orders = on_updated.clone();
            async move { outcome(orders.apply_ticket(&event.id, event.data.into()).await?) }
        })
        .on(move |event: Received<OrderExpired>| {
            let orders = on_expired.clone();
            async move {
                // Cancels an order that is not complete, unless a payment attempt holds it;
                // a complete or cancelled one is left as is.
                orders.expire(&event.data.order_id).await?;
                Ok(Outcome::Done)
            }
        })
        .on(move |event: Received<ChargeStarted>| {
            let orders = on_started.clone();
            async move {
                orders
                    .payment_started(&event.data.order_id, event.data.attempt)
                    .await?;
                Ok(Outcome::Done)
            }
        })
        .on(move |event: Received<ChargeRequiresAction>| {
            let orders = on_challenged.clone();
            async move {
                orders
                    .payment_waits_for_buyer(&event.data.order_id, event.data.attempt)
                    .await?;
                Ok(Outcome::Done)
            }
        })
        .on(move |event: Received<ChargeAuthorized>| {
            let orders = on_authorized.clone();
            async move {
                // Completes the order unless an expiry or cancel got there first; payments
                // captures on `order:completed` and releases the hold on `order:cancelled`.
                orders.complete(&event.data.order_id).await?;
                Ok(Outcome::Done)
            }
        })
        .on(move |event: Received<ChargeCreated>| {
            let orders = on_paid.clone();
            async move {
                // A captured payment comes after the order completed. Before payments
                // authorized first, `charge:created` was what completed it: one published by
                // an older payments service is still honoured.
                orders.complete(&event.data.order_id).await?;
                Ok(Outcome::Done)
            }
        })
        .on(move |event: Received<ChargeFailed>| {
            let orders = on_declined.clone();
            async move {
                orders
                    .payment_failed(&event.data.order_id, event.data.attempt)
                    .await?;
                Ok(Outcome::Done)
            }
        })
}

fn outcome(check: VersionCheck) -> anyhow::Result<Outcome> {
    Ok(match check {
        VersionCheck::TooEarly => Outcome::NotYet,
        VersionCheck::Apply | VersionCheck::AlreadyApplied => Outcome::Done,
    })
}
