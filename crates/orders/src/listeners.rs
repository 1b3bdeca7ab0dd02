//! Ticket events kept in the replica, strictly in version order; `order:expired` cancels.

use std::sync::Arc;

use gittix_shared::bus::Bus;
use gittix_shared::events::{OrderExpired, TicketCreated, TicketUpdated};
use gittix_shared::listener::{Listener, ListenerSettings, Outcome, Received};
use gittix_shared::replica::VersionCheck;

use crate::store::{OrderStore, ReplicaTicket};
use crate::CONSUMER_GROUP;

pub(crate) fn listener(
    orders: OrderStore,
    bus: Arc<dyn Bus>,
    settings: ListenerSettings,
) -> Listener {
    let (on_updated, on_expired) = (orders.clone(), orders.clone());
    Listener::new(bus, CONSUMER_GROUP, settings)
        .on(move |event: Received<TicketCreated>| {
            let orders = orders.clone();
            async move {
                let t = event.data;
                let ticket = ReplicaTicket {
                    id: t.id,
                    title: t.title,
                    price_cents: t.price,
                    seller_id: t.user_id,
                    status: "for_sale".to_owned(),
                    version: t.version,
                };
                outcome(orders.apply_ticket(&event.id, ticket).await?)
            }
        })
        .on(move |event: Received<TicketUpdated>| {
            let orders = on_updated.clone();
            async move {
                let t = event.data;
                let ticket = ReplicaTicket {
                    id: t.id,
                    title: t.title,
                    price_cents: t.price,
                    seller_id: t.user_id,
                    status: t.status,
                    version: t.version,
                };
                outcome(orders.apply_ticket(&event.id, ticket).await?)
            }
        })
        .on(move |event: Received<OrderExpired>| {
            let orders = on_expired.clone();
            async move {
                // Cancels an order that is not complete; a complete or cancelled one is left as is.
                orders.cancel(&event.data.order_id, "expired").await?;
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
