//! Order events applied to tickets: reserve on `order:created`, release on `order:cancelled`
//! (only for the order holding the ticket), sell on `order:completed`; and a missed delivery
//! deadline on `delivery:due`.

use gittix_shared::events::{DeliveryDue, OrderCancelled, OrderCompleted, OrderCreated};
use gittix_shared::listener::{Listener, Outcome, Received};
use gittix_shared::service::Platform;

use crate::store::{Applied, TicketStore};
use crate::CONSUMER_GROUP;

pub(crate) fn listener(tickets: TicketStore, platform: &Platform) -> Listener {
    let (on_created, on_cancelled, on_completed, on_due) =
        (tickets.clone(), tickets.clone(), tickets.clone(), tickets);
    platform
        .consumer_group(CONSUMER_GROUP)
        .on(move |event: Received<OrderCreated>| {
            let tickets = on_created.clone();
            async move {
                Ok(match tickets.reserve(&event.id, &event.data).await? {
                    Applied::Done => Outcome::Done,
                    Applied::NotYet => Outcome::NotYet,
                })
            }
        })
        .on(move |event: Received<OrderCancelled>| {
            let tickets = on_cancelled.clone();
            async move {
                tickets
                    .release(&event.id, &event.data.ticket.id, &event.data.id)
                    .await?;
                Ok(Outcome::Done)
            }
        })
        .on(move |event: Received<OrderCompleted>| {
            let tickets = on_completed.clone();
            async move {
                let order = &event.data;
                tickets
                    .sell(
                        &event.id,
                        &order.ticket.id,
                        &order.id,
                        order.user_id.as_deref(),
                    )
                    .await?;
                Ok(Outcome::Done)
            }
        })
        .on(move |event: Received<DeliveryDue>| {
            let tickets = on_due.clone();
            async move {
                let due = &event.data;
                Ok(
                    match tickets
                        .delivery_due(&event.id, &due.ticket_id, &due.order_id)
                        .await?
                    {
                        Applied::Done => Outcome::Done,
                        Applied::NotYet => Outcome::NotYet,
                    },
                )
            }
        })
}
