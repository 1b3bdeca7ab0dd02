//! Order events kept in the replica. Once an order is decided, its held payment is captured
//! (complete) or released (cancelled), and a cancelled order's captured payments are refunded;
//! so are those of an order whose ticket was never delivered (`ticket:undelivered`). A delivered
//! sale (`ticket:delivered`) schedules its seller's payout, released on `payout:due`.

use gittix_shared::domain::OrderStatus;
use gittix_shared::events::{
    OrderCancelled, OrderCompleted, OrderConfirmed, OrderCreated, PayoutDue, TicketDelivered,
    TicketUndelivered,
};
use gittix_shared::fees::FeeRate;
use gittix_shared::listener::{Listener, Outcome, Received};
use gittix_shared::replica::VersionCheck;
use gittix_shared::service::Platform;
use gittix_shared::time::parse_iso8601;

use crate::payments::Payments;
use crate::payouts::store::{DeliveredSale, Scheduling};
use crate::payouts::{release_time, Payouts};
use crate::store::{OrderChange, ReplicaOrder};
use crate::CONSUMER_GROUP;

pub(crate) fn listener(
    payments: Payments,
    payouts: Payouts,
    seller_fee: FeeRate,
    platform: &Platform,
) -> Listener {
    let on_due = payouts.clone();
    let (on_confirmed, on_cancelled, on_completed, on_undelivered) = (
        payments.clone(),
        payments.clone(),
        payments.clone(),
        payments.clone(),
    );
    platform
        .consumer_group(CONSUMER_GROUP)
        .on(move |event: Received<OrderCreated>| {
            let payments = payments.clone();
            async move {
                let order = event.data;
                let expires_at = parse_iso8601(&order.expires_at).ok_or_else(|| {
                    anyhow::anyhow!("unreadable expiresAt {:?}", order.expires_at)
                })?;
                let replica = ReplicaOrder {
                    id: order.id,
                    user_id: order.user_id,
                    status: order.status,
                    price_cents: order.ticket.price,
                    // A total is never below the price; older events had none beside it.
                    buyer_fee_cents: order
                        .total
                        .map_or(0, |total| (total - order.ticket.price).max(0)),
                    expires_at,
                    version: order.version,
                };
                outcome(
                    payments
                        .store
                        .apply_order(&event.id, OrderChange::Created(replica))
                        .await?,
                )
            }
        })
        .on(move |event: Received<OrderConfirmed>| {
            let payments = on_confirmed.clone();
            async move {
                let change = OrderChange::Status {
                    id: event.data.id,
                    version: event.data.version,
                    status: OrderStatus::AwaitingPayment,
                    seller_fee: None,
                };
                outcome(payments.store.apply_order(&event.id, change).await?)
            }
        })
        .on(move |event: Received<OrderCancelled>| {
            let payments = on_cancelled.clone();
            async move {
                let order = event.data;
                let change = OrderChange::Status {
                    id: order.id.clone(),
                    version: order.version,
                    status: OrderStatus::Cancelled,
                    seller_fee: None,
                };
                let check = payments.store.apply_order(&event.id, change).await?;
                if check == VersionCheck::Apply {
                    // Nobody pays for a ticket they do not get.
                    payments.order_decided(&order.id).await?;
                }
                outcome(check)
            }
        })
        .on(move |event: Received<OrderCompleted>| {
            let payments = on_completed.clone();
            async move {
                let order = event.data;
                let change = OrderChange::Status {
                    id: order.id.clone(),
                    version: order.version,
                    status: OrderStatus::Complete,
                    seller_fee: Some(seller_fee),
                };
                let check = payments.store.apply_order(&event.id, change).await?;
                if check == VersionCheck::Apply {
                    payments.order_decided(&order.id).await?;
                }
                outcome(check)
            }
        })
        .on(move |event: Received<TicketUndelivered>| {
            let payments = on_undelivered.clone();
            async move {
                let order_id = &event.data.order_id;
                if !payments.store.mark_undelivered(&event.id, order_id).await? {
                    return Ok(Outcome::NotYet);
                }
                // The buyer never got the ticket: a full refund. One not captured yet is
                // refunded by reconciliation once it is.
                payments.refund_all(order_id).await?;
                Ok(Outcome::Done)
            }
        })
        .on(move |event: Received<TicketDelivered>| {
            let payouts = payouts.clone();
            async move {
                let ticket = event.data;
                let event_starts_at = match &ticket.event_starts_at {
                    Some(text) => Some(
                        parse_iso8601(text)
                            .ok_or_else(|| anyhow::anyhow!("unreadable eventStartsAt {text:?}"))?,
                    ),
                    None => None,
                };
                let sale = DeliveredSale {
                    ticket_id: &ticket.id,
                    order_id: &ticket.order_id,
                    seller_id: &ticket.seller_id,
                };
                let hold = payouts.hold;
                let scheduled = payouts
                    .store
                    .schedule(&event.id, &sale, |delivered_at| {
                        release_time(delivered_at, event_starts_at, hold)
                    })
                    .await?;
                Ok(match scheduled {
                    Scheduling::Done => Outcome::Done,
                    // order:completed has not reached the replica yet.
                    Scheduling::OrderNotComplete => Outcome::NotYet,
                })
            }
        })
        .on(move |event: Received<PayoutDue>| {
            let payouts = on_due.clone();
            async move {
                // Idempotent by itself: a payout is paid once, whatever calls it.
                payouts.release(&event.data.id).await?;
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
