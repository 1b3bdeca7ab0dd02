//! Sellers' payouts (design, sections 3 and 8), with separate charges and transfers: a delivered
//! sale schedules its payout (`payout:scheduled`), held until `PAYOUT_HOLD_HOURS` after the
//! event starts (after delivery for a ticket without an event); the expiration service's
//! durable timer says when (`payout:due`), and a sweep here catches anything a timer did not
//! release, retries failed transfers with backoff, and reverses the transfers of sales refunded
//! after their release. A payout waits, held, while the seller's account cannot take it.

pub mod store;

use std::sync::Arc;
use std::time::Duration;

use gittix_shared::time::{millis, unix_millis};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::provider::accounts::{ConnectedAccounts, TransferError, TransferRequest};
use crate::seller_accounts::SellerAccounts;
use crate::store::{Charge, ChargeStatus, PaymentStore};
use store::{Payout, PayoutStatus, PayoutStore, WAITING_FOR_ACCOUNT};

/// The longest wait between two tries of a failing transfer.
pub const LONGEST_RETRY_WAIT: Duration = Duration::from_secs(60 * 60);
/// How often a payout waiting for its seller's account looks again (asking Stripe about a
/// pending account, in case its `account.updated` webhook was lost); an account enabled through
/// GitTix wakes its payouts at once.
const ACCOUNT_LOOK_EVERY: Duration = Duration::from_secs(10 * 60);
/// How long a try holds its claim on a payout: a replica that dies mid-transfer leaves it to be
/// tried again after this, under the same idempotency key.
const CLAIM_FOR: Duration = Duration::from_secs(2 * 60);
/// How often the sweep looks for payouts to release or reverse, unless woken.
const SWEEP_EVERY: Duration = Duration::from_secs(2);
const SWEEP_BATCH: i64 = 100;

/// Why a payout is still held, in words for the seller.
const WAITING_FOR_PAYMENT: &str = "Waiting for the buyer's payment to be captured.";

/// When a sale delivered at `delivered_at` (unix ms) is released: `hold` after its event
/// starts, or after delivery for a ticket without an event, and never before delivery.
pub fn release_time(delivered_at: i64, event_starts_at: Option<i64>, hold: Duration) -> i64 {
    let hold_ms = millis(hold);
    event_starts_at
        .unwrap_or(delivered_at)
        .saturating_add(hold_ms)
        .max(delivered_at)
}

/// The wait after a payout's `failures`-th failed transfer: `first`, doubled each time, at most
/// [`LONGEST_RETRY_WAIT`].
pub fn backoff(first: Duration, failures: i64) -> Duration {
    let doublings = u32::try_from(failures.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    first
        .saturating_mul(2u32.saturating_pow(doublings))
        .min(LONGEST_RETRY_WAIT)
}

#[derive(Clone)]
pub(crate) struct Payouts {
    pub store: PayoutStore,
    charges: PaymentStore,
    accounts: SellerAccounts,
    provider: Arc<dyn ConnectedAccounts>,
    pub hold: Duration,
    first_retry: Duration,
    /// Wakes the sweep: a seller's account was enabled.
    pub woken: Arc<Notify>,
}

impl Payouts {
    pub(crate) fn new(
        store: PayoutStore,
        charges: PaymentStore,
        accounts: SellerAccounts,
        provider: Arc<dyn ConnectedAccounts>,
        hold: Duration,
        first_retry: Duration,
    ) -> Self {
        Self {
            woken: accounts.enabled.clone(),
            store,
            charges,
            accounts,
            provider,
            hold,
            first_retry: first_retry.max(Duration::from_millis(100)),
        }
    }

    /// Releases the payout `id` if it is due and can be paid: the buyer's payment is captured
    /// and the seller's account enabled. Safe to call from anywhere at any time (the timer's
    /// `payout:due`, the sweep, two replicas at once): one caller claims each try, and the
    /// transfer's idempotency key makes a repeated try the same transfer.
    pub(crate) async fn release(&self, id: &str) -> sqlx::Result<()> {
        let Some(payout) = self.store.payout(id).await? else {
            return Ok(());
        };
        let now = unix_millis();
        if !matches!(payout.status, PayoutStatus::Held | PayoutStatus::Failed)
            || payout.release_at > now
            || payout.next_attempt_at > now
        {
            return Ok(());
        }
        let source = match self.captured_charge(&payout).await? {
            // A refund cancels its payout in the refund's own transaction; made sure of here.
            Some(charge) if charge.status == ChargeStatus::Refunded => {
                return self.store.sale_was_refunded(&payout.order_id).await;
            }
            Some(Charge {
                stripe_charge_id: Some(source),
                ..
            }) => source,
            _ => {
                let until = now + millis(self.first_retry);
                return self.store.postpone(id, until, WAITING_FOR_PAYMENT).await;
            }
        };
        let Some(destination) = self.accounts.payable(&payout.seller_id).await? else {
            let until = now + millis(ACCOUNT_LOOK_EVERY);
            return self.store.postpone(id, until, WAITING_FOR_ACCOUNT).await;
        };
        if !self
            .store
            .claim(&payout, now, now + millis(CLAIM_FOR), true)
            .await?
        {
            return Ok(());
        }
        let request = transfer_request(&payout, destination, source);
        match self.provider.transfer(&request).await {
            Ok(transfer_id) => {
                self.store.paid(&payout, &transfer_id).await?;
                tracing::info!(payout_id = %payout.id, transfer = %transfer_id, amount = payout.amount, "payout paid");
                Ok(())
            }
            Err(error) => {
                let refused = matches!(error, TransferError::Refused(_));
                let wait = backoff(self.first_retry, payout.failures + 1);
                tracing::warn!(payout_id = %payout.id, %error, retry_in = ?wait, "payout transfer failed; will retry");
                gittix_shared::metrics::payout_transfer_failed();
                let reason = format!("The transfer failed and will be tried again: {error}");
                self.store
                    .failed(&payout, &reason, refused, unix_millis() + millis(wait))
                    .await
            }
        }
    }

    /// Takes back the transfer of a paid payout whose sale was refunded. The reversal's key is
    /// one per payout: a transfer is reversed in full once, and asking again answers the first.
    async fn reverse(&self, payout: &Payout) -> sqlx::Result<()> {
        let Some(transfer_id) = &payout.stripe_transfer_id else {
            return Ok(());
        };
        let now = unix_millis();
        if !self
            .store
            .claim(payout, now, now + millis(CLAIM_FOR), false)
            .await?
        {
            return Ok(());
        }
        let key = format!("gittix-reversal-{}", payout.id);
        match self.provider.reverse_transfer(transfer_id, &key).await {
            Ok(reversal_id) => {
                tracing::info!(payout_id = %payout.id, reversal = %reversal_id, "payout reversed");
                self.store.reversed(payout, &reversal_id).await
            }
            Err(error) => {
                let wait = backoff(self.first_retry, payout.failures + 1);
                tracing::error!(payout_id = %payout.id, transfer = %transfer_id, %error, retry_in = ?wait,
                    "reversing a refunded sale's payout failed; will retry (docs/money.md)");
                gittix_shared::metrics::payout_transfer_failed();
                let reason = format!("The reversal failed and will be tried again: {error}");
                self.store
                    .try_again_at(
                        &payout.id,
                        PayoutStatus::Paid,
                        &reason,
                        unix_millis() + millis(wait),
                    )
                    .await
            }
        }
    }

    /// The buyer's captured payment of the payout's sale (refunded since, or not).
    async fn captured_charge(&self, payout: &Payout) -> sqlx::Result<Option<Charge>> {
        let charges = self.charges.charges_of(&payout.order_id).await?;
        Ok(charges
            .into_iter()
            .find(|c| matches!(c.status, ChargeStatus::Completed | ChargeStatus::Refunded)))
    }

    /// A refunded sale whose payout's last transfer was never answered: asks Stripe by sending
    /// the same transfer under the same idempotency key, which answers with the transfer if the
    /// first request made one. A transfer it answers is recorded paid and then reversed (so is
    /// one this request makes, if the first never reached Stripe: the money comes straight
    /// back); an outright refusal means none was made.
    async fn resolve(&self, payout: &Payout) -> sqlx::Result<()> {
        let source = self
            .captured_charge(payout)
            .await?
            .and_then(|charge| charge.stripe_charge_id);
        let destination = self.accounts.recorded_account(&payout.seller_id).await?;
        let (Some(source), Some(destination)) = (source, destination) else {
            // No try could have been sent without both.
            return self.store.nothing_was_transferred(&payout.id).await;
        };
        let now = unix_millis();
        if !self
            .store
            .claim(payout, now, now + millis(CLAIM_FOR), true)
            .await?
        {
            return Ok(());
        }
        let request = transfer_request(payout, destination, source);
        match self.provider.transfer(&request).await {
            Ok(transfer_id) => {
                tracing::warn!(payout_id = %payout.id, transfer = %transfer_id,
                    "a refunded sale's transfer was made; reversing it");
                self.store.paid(payout, &transfer_id).await
            }
            Err(TransferError::Refused(reason)) => {
                tracing::info!(payout_id = %payout.id, %reason, "a refunded sale's transfer was never made");
                self.store.nothing_was_transferred(&payout.id).await
            }
            Err(TransferError::Unavailable(error)) => {
                let wait = backoff(self.first_retry, payout.failures + 1);
                let reason = format!("Looking up the transfer of a refunded sale failed: {error}");
                let retry_at = unix_millis() + millis(wait);
                self.store
                    .try_again_at(&payout.id, PayoutStatus::Cancelled, &reason, retry_at)
                    .await
            }
        }
    }

    /// One round: every payout due now is tried, every reversal owed is made, and every
    /// refunded sale's unanswered transfer is looked up.
    pub(crate) async fn sweep(&self) -> sqlx::Result<()> {
        let now = unix_millis();
        for payout in self.store.due(now, SWEEP_BATCH).await? {
            self.release(&payout.id).await?;
        }
        for payout in self.store.to_reverse(now, SWEEP_BATCH).await? {
            self.reverse(&payout).await?;
        }
        for payout in self.store.to_resolve(now, SWEEP_BATCH).await? {
            self.resolve(&payout).await?;
        }
        Ok(())
    }

    /// Sweeps every [`SWEEP_EVERY`], or at once when a seller's account is enabled, until
    /// `shutdown`; a round under way then finishes, so what Stripe answered is recorded.
    pub(crate) async fn sweep_until(self, shutdown: CancellationToken) {
        loop {
            if let Err(error) = self.sweep().await {
                tracing::warn!(%error, "the payout sweep failed; will retry");
            }
            tokio::select! {
                biased;
                () = shutdown.cancelled() => return,
                () = self.woken.notified() => {}
                () = tokio::time::sleep(SWEEP_EVERY) => {}
            }
        }
    }
}

/// The transfer of `payout`'s share to `destination` from the buyer's charge `source`: the
/// same request every time for one payout and key, as an idempotent retry must be.
fn transfer_request(payout: &Payout, destination: String, source: String) -> TransferRequest {
    TransferRequest {
        destination,
        amount_cents: payout.amount,
        source_transaction: source,
        transfer_group: payout.order_id.clone(),
        payout_id: payout.id.clone(),
        idempotency_key: payout.transfer_key(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn a_payout_is_released_a_hold_after_the_event_or_after_delivery_and_never_before_delivery() {
        let delivered = 1_000_000_000;
        let hour = 3_600_000;
        // After the event starts.
        assert_eq!(
            release_time(delivered, Some(delivered + 5 * hour), 24 * HOUR),
            delivered + 29 * hour
        );
        // After delivery, for a ticket without an event.
        assert_eq!(
            release_time(delivered, None, 24 * HOUR),
            delivered + 24 * hour
        );
        // Never before delivery, however early the event (or short the hold).
        assert_eq!(
            release_time(delivered, Some(delivered - 48 * hour), 24 * HOUR),
            delivered
        );
        assert_eq!(release_time(delivered, None, Duration::ZERO), delivered);
    }

    #[test]
    fn the_retry_wait_doubles_up_to_an_hour() {
        let first = Duration::from_secs(60);
        assert_eq!(backoff(first, 1), first);
        assert_eq!(backoff(first, 2), 2 * first);
        assert_eq!(backoff(first, 3), 4 * first);
        assert_eq!(backoff(first, 7), LONGEST_RETRY_WAIT);
        assert_eq!(backoff(first, i64::MAX), LONGEST_RETRY_WAIT);
        assert_eq!(backoff(first, 0), first);
    }
}
