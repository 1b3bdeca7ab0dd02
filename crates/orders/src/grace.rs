//! The end of a payment's grace. `order:expired` leaves an order alone while a payment attempt
//! that started in time is in flight; this sweep cancels it once that attempt failed or the
//! grace (`PAYMENT_GRACE_SECONDS`) ran out, whichever is first. It reads the database, so any
//! replica may run it, and a restart loses nothing.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::store::OrderStore;

/// How often the sweep looks: an order outlives its grace by at most this.
const SWEEP_EVERY: Duration = Duration::from_secs(1);
/// Orders ended per statement batch; the next sweep takes the rest.
const BATCH: i64 = 200;

pub(crate) fn spawn(orders: OrderStore, shutdown: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(SWEEP_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                () = shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            match orders.end_graces(BATCH).await {
                Ok(0) => {}
                Ok(ended) => tracing::info!(ended, "orders whose payment grace ran out cancelled"),
                Err(error) => tracing::warn!(%error, "ending payment graces failed; will retry"),
            }
        }
    })
}
