//! The reconciliation loop: every few seconds, takes the attempts in flight a step further and
//! makes the refunds left undone ([`Payments::reconcile`]); an attempt still in flight long after
//! it began is given up on, with a dead letter for an operator and a metric ([`give_up`]).

use std::sync::Arc;
use std::time::Duration;

use gittix_shared::bus::{dead_letter_subject, header, Bus, Message};
use gittix_shared::time::unix_millis;
use tokio_util::sync::CancellationToken;

use crate::payments::Payments;
use crate::store::{Charge, PaymentStore};
use crate::CONSUMER_GROUP;

/// An attempt left unsettled this long is asked about again.
const RECONCILE_AFTER: Duration = Duration::from_secs(10);
const RECONCILE_EVERY: Duration = Duration::from_secs(5);

/// Reconciles every [`RECONCILE_EVERY`] until `shutdown` fires, giving up on attempts in flight
/// for `give_up_after`. A round under way then finishes, so what the provider answered it is
/// recorded.
pub(crate) async fn reconcile_until(
    payments: Payments,
    bus: Arc<dyn Bus>,
    give_up_after: Duration,
    shutdown: CancellationToken,
) {
    let mut tick = tokio::time::interval(RECONCILE_EVERY);
    loop {
        tokio::select! {
            biased;
            () = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        if let Err(error) = give_up(&payments.store, bus.as_ref(), give_up_after).await {
            tracing::warn!(%error, "giving up on stale attempts failed; will retry");
        }
        if let Err(error) = payments.reconcile(RECONCILE_AFTER).await {
            tracing::warn!(%error, "reconciliation failed; will retry");
        }
    }
}

/// Gives up on the attempts still in flight `after` they began: each goes to the dead-letter
/// subject of payments with why (what to do is in docs/payments.md), is counted in
/// `gittix_payments_given_up_total`, and is not asked about again. Nothing is decided for it:
/// whether Stripe holds or took money is for an operator to find out. The letter goes first, so
/// a crash between the two sends it again (under the same id, which the bus drops) rather than
/// losing it.
pub(crate) async fn give_up(
    store: &PaymentStore,
    bus: &dyn Bus,
    after: Duration,
) -> anyhow::Result<usize> {
    let after_ms = gittix_shared::time::millis(after);
    let mut given_up = 0;
    for charge in store
        .overdue(unix_millis().saturating_sub(after_ms))
        .await?
    {
        bus.publish(&letter(&charge, after)?).await?;
        if store.abandon(&charge.id).await? {
            given_up += 1;
            tracing::error!(
                charge_id = %charge.id, order_id = %charge.order_id, status = %charge.status,
                intent = ?charge.stripe_id, "payment attempt given up on; see the dead letter"
            );
            gittix_shared::metrics::payment_given_up();
        }
    }
    Ok(given_up)
}

fn letter(charge: &Charge, after: Duration) -> anyhow::Result<Message> {
    let payload = serde_json::to_vec(&serde_json::json!({
        "id": charge.id,
        "orderId": charge.order_id,
        "attempt": charge.attempt,
        "status": charge.status,
        "amount": charge.amount,
        "stripeId": charge.stripe_id,
    }))?;
    let mut message = Message::new(
        format!("{}.given-up", charge.id),
        dead_letter_subject(CONSUMER_GROUP),
        payload,
    );
    message.headers.insert(
        header::DEAD_LETTER_ERROR.to_owned(),
        format!(
            "payment attempt still {} {} s after it began; reconciliation gave up",
            charge.status,
            after.as_secs()
        ),
    );
    message.headers.insert(
        header::ORIGINAL_SUBJECT.to_owned(),
        "charge:started".to_owned(),
    );
    Ok(message)
}
