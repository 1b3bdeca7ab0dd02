//! `order:created` schedules the order's timer. Scheduling is an upsert keyed by order id, so a
//! redelivered event changes nothing and needs no inbox.

use std::sync::Arc;

use anyhow::Context;
use gittix_shared::events::OrderCreated;
use gittix_shared::listener::{Listener, Outcome, Received};
use gittix_shared::service::Platform;
use gittix_shared::time::parse_iso8601;
use tokio::sync::Notify;

use crate::timers::Timers;
use crate::CONSUMER_GROUP;

pub(crate) fn listener(
    timers: Arc<dyn Timers>,
    scheduled: Arc<Notify>,
    platform: &Platform,
) -> Listener {
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
                timers.schedule(&order.id, due_at).await?;
                scheduled.notify_one();
                Ok(Outcome::Done)
            }
        })
}
