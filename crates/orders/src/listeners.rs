//! Ticket events kept in the replica, strictly in version order; `order:expired` and a third
//! declined payment cancel an order; `charge:created` completes it.

use gittix_shared::domain::{CancelReason, MAX_DECLINED_ATTEMPTS};
use gittix_shared::events::{
    ChargeCreated, ChargeFailed, OrderExpired, TicketCreated, TicketUpdated,
};
use gittix_shared::listener::{Listener, Outcome, Received};
use gittix_shared::replica::VersionCheck;
use gittix_shared::service::Platform;

use crate::store::OrderStore;
use crate::CONSUMER_GROUP;

pub(crate) fn listener(orders: OrderStore, platform: &Platform) -> Listener {
    let (on_updated, on_expired, on_paid, on_declined) = (
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
                // Cancels an order that is not complete; a complete or cancelled one is left as is.
                orders
                    .cancel(&event.data.order_id, CancelReason::Expired)
                    .await?;
                Ok(Outcome::Done)
            }
        })
        .on(move |event: Received<ChargeCreated>| {
            let orders = on_paid.clone();
            async move {
                // Completes the order unless an expiry or cancel got there first.
                orders.complete(&event.data.order_id).await?;
                Ok(Outcome::Done)
            }
        })
        .on(move |event: Received<ChargeFailed>| {
            let orders = on_declined.clone();
            async move {
                if event.data.attempt >= i64::from(MAX_DECLINED_ATTEMPTS) {
                    orders
                        .cancel(&event.data.order_id, CancelReason::PaymentFailed)
                        .await?;
                }
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
