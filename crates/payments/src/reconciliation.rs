//! The reconciliation loop: every few seconds, settles attempts whose outcome is unknown and
//! makes the refunds left undone ([`Payments::reconcile`]).

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::payments::Payments;

/// An attempt left unsettled this long is asked about again.
const RECONCILE_AFTER: Duration = Duration::from_secs(10);
const RECONCILE_EVERY: Duration = Duration::from_secs(5);

/// Reconciles every [`RECONCILE_EVERY`] until `shutdown` fires. A round under way then finishes,
/// so what the provider answered it is recorded.
pub(crate) async fn reconcile_until(payments: Payments, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(RECONCILE_EVERY);
    loop {
        tokio::select! {
            biased;
            () = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        if let Err(error) = payments.reconcile(RECONCILE_AFTER).await {
            tracing::warn!(%error, "reconciliation failed; will retry");
        }
    }
}
