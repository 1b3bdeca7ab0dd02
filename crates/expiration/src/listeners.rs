//! What sets and clears timers: `order:created` schedules the order's lock, `delivery:scheduled`
//! a sold ticket's delivery deadline, `payout:scheduled` a seller's payout release, and
//! `ticket:delivered` clears the delivery deadline. Scheduling is
//! an upsert keyed by the timer's key and clearing a delete, so a redelivered event changes
//! nothing and needs no inbox. A deadline cleared before it was scheduled (the two arrive out of
//! order) still fires: the tickets service, which owns delivery, then finds the ticket delivered
//! and does nothing.

use std::sync::Arc;

use anyhow::Context;
use gittix_shared::events::{DeliveryScheduled, OrderCreated, PayoutScheduled, TicketDelivered};
use gittix_shared::listener::{Listener, Outcome, Received};
use gittix_shared::service::Platform;
use gittix_shared::time::parse_iso8601;
use tokio::sync::Notify;

use crate::timer_kind::TimerKind;
use crate::timers::Timers;
use crate::CONSUMER_GROUP;

pub(crate) fn listener(
    timers: Arc<dyn Timers>,
    scheduled: Arc<Notify>,
    platform: &Platform,
) -> Listener {
    let (on_delivery, on_delivered, on_delivery_woken) =
        (timers.clone(), timers.clone(), scheduled.clone());
    let (on_payout, on_payout_woken) = (timers.clone(), scheduled.clone());
    platform
        .consumer_group(CONSUMER_GROUP)
        .on(move |event: Received<OrderCreated>| {
            let (timers, scheduled) = (timers.clone(), scheduled.clone());
            async move {
                let order = event.data;
                let due_at = parse_iso8601(&order.expires_at).with_context(|| {
                    format!(
                        "order {} has an unreadable expiresAt {:?}",
                        order.id, order.expires_at
                    )
                })?;
                let timer = TimerKind::OrderLock { order_id: order.id };
                timers.schedule(&timer.key(), due_at).await?;
                scheduled.notify_one();
                Ok(Outcome::Done)
            }
        })
        .on(move |event: Received<DeliveryScheduled>| {
            let (timers, scheduled) = (on_delivery.clone(), on_delivery_woken.clone());
            async move {
                let sale = event.data;
                let timer = TimerKind::Delivery {
                    ticket_id: sale.ticket_id,
                    order_id: sale.order_id,
                };
                timers.schedule(&timer.key(), sale.due_at).await?;
                scheduled.notify_one();
                Ok(Outcome::Done)
            }
        })
        .on(move |event: Received<PayoutScheduled>| {
            let (timers, scheduled) = (on_payout.clone(), on_payout_woken.clone());
            async move {
                let payout = event.data;
                let timer = TimerKind::Payout {
                    payout_id: payout.id,
                };
                timers.schedule(&timer.key(), payout.release_at).await?;
                scheduled.notify_one();
                Ok(Outcome::Done)
            }
        })
        .on(move |event: Received<TicketDelivered>| {
            let timers = on_delivered.clone();
            async move {
                let ticket = event.data;
                let timer = TimerKind::Delivery {
                    ticket_id: ticket.id,
                    order_id: ticket.order_id,
                };
                timers.remove(&timer.key()).await?;
                Ok(Outcome::Done)
            }
        })
}
