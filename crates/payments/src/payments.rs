//! Paying for an order: one attempt at a time per order, an idempotency key per attempt, and a
//! refund whenever a charge succeeded for an order that ended without a sale.

use std::sync::Arc;
use std::time::Duration;

use gittix_shared::domain::{OrderStatus, MAX_DECLINED_ATTEMPTS};
use gittix_shared::time::unix_millis;
use gittix_shared::DomainResult;

use crate::provider::{
    Authorization, AuthorizeRequest, Instrument, IntentStatus, PaymentProvider, Unavailable,
};
use crate::refusal::Refusal;
use crate::store::{Charge, ChargeStatus, PaymentStore, ReplicaOrder};

/// How long a payment waits for its order to reach payments and be confirmed.
const CONFIRMATION_WAIT: Duration = Duration::from_secs(2);
const CONFIRMATION_POLL: Duration = Duration::from_millis(20);

#[derive(Clone)]
pub struct Payments {
    pub store: PaymentStore,
    provider: Arc<dyn PaymentProvider>,
}

impl Payments {
    pub fn new(store: PaymentStore, provider: Arc<dyn PaymentProvider>) -> Self {
        Self { store, provider }
    }

    /// `POST /api/payments`: charges the order's price to `token`; returns the charge id.
    pub async fn pay(
        &self,
        buyer: &str,
        order_id: &str,
        token: &str,
    ) -> DomainResult<String, Refusal> {
        let order = self
            .settled_order(order_id)
            .await?
            .ok_or(Refusal::UnknownOrder)?;
        if order.user_id != buyer {
            return Err(Refusal::NotTheBuyer.into());
        }
        match order.status {
            OrderStatus::Cancelled => return Err(Refusal::OrderCancelled.into()),
            OrderStatus::Complete => return Err(Refusal::AlreadyPaid.into()),
            OrderStatus::Created => return Err(Refusal::NotConfirmed.into()),
            OrderStatus::AwaitingPayment => {}
        }
        if order.expires_at <= unix_millis() {
            return Err(Refusal::OrderExpired.into());
        }
        // The attempt's slot is claimed in the database before the card goes to the provider,
        // so a payment the cap (or another attempt) refuses never reaches Stripe.
        let Some(charge) = self.store.start_attempt(&order, token).await? else {
            return Err(self.no_attempt_left(order_id).await?.into());
        };
        match self.settle(&charge).await? {
            Settled::Paid => Ok(charge.id),
            Settled::Declined(message) => Err(Refusal::Declined(message).into()),
            // Reconciliation asks again with the same idempotency key and settles the charge.
            Settled::Unknown => Err(Refusal::OutcomeUnknown.into()),
        }
    }

    /// Why the database refused a new attempt for the order (`PaymentStore::start_attempt`),
    /// in today's words: declined too often, already paid, or another attempt holds the order.
    async fn no_attempt_left(&self, order_id: &str) -> Result<Refusal, sqlx::Error> {
        let charges = self.store.charges_of(order_id).await?;
        let declined = charges
            .iter()
            .filter(|c| c.status == ChargeStatus::Failed)
            .count();
        let paid = charges
            .iter()
            .any(|c| matches!(c.status, ChargeStatus::Completed | ChargeStatus::Refunded));
        Ok(
            if declined >= usize::try_from(MAX_DECLINED_ATTEMPTS).unwrap_or(usize::MAX) {
                Refusal::TooManyDeclines
            } else if paid {
                Refusal::AlreadyPaid
            } else {
                // In flight, or a concurrent payment took the number this one wanted.
                Refusal::AttemptInProgress
            },
        )
    }

    /// The replica's order once the tickets service has decided on its reservation. Payments
    /// learns of an order and of its confirmation through events, a few milliseconds after the
    /// buyer's `POST /api/orders` answered: a buyer who pays at once waits here (at most
    /// [`CONFIRMATION_WAIT`]) instead of being told the order does not exist.
    async fn settled_order(&self, order_id: &str) -> sqlx::Result<Option<ReplicaOrder>> {
        let deadline = tokio::time::Instant::now() + CONFIRMATION_WAIT;
        loop {
            let order = self.store.order(order_id).await?;
            let decided = order
                .as_ref()
                .is_some_and(|o| o.status != OrderStatus::Created);
            if decided || tokio::time::Instant::now() >= deadline {
                return Ok(order);
            }
            tokio::time::sleep(CONFIRMATION_POLL).await;
        }
    }

    /// Sends an attempt to the provider (again, with the same idempotency key, when its outcome
    /// was unknown) and records the outcome. The amount is authorized first and captured only
    /// while the order is still open here; an order that ended meanwhile has its authorization
    /// cancelled, so the buyer sees no charge.
    async fn settle(&self, charge: &Charge) -> Result<Settled, sqlx::Error> {
        let Some(instrument) = Instrument::parse(&charge.token) else {
            let message = format!("No such token or payment method: '{}'", charge.token);
            self.store.fail(charge, &message).await?;
            return Ok(Settled::Declined(message));
        };
        let request = AuthorizeRequest {
            reference: charge.id.clone(),
            order_id: charge.order_id.clone(),
            amount_cents: charge.amount,
            instrument,
            idempotency_key: charge.idempotency_key.clone(),
        };
        let intent = match self.provider.authorize(&request).await {
            Ok(Authorization::Intent(intent)) => intent,
            Ok(Authorization::Declined { message }) => return self.declined(charge, message).await,
            Err(unavailable) => return Ok(unknown(charge, &unavailable)),
        };
        let intent = match intent.status {
            IntentStatus::RequiresCapture => {
                if self.order_ended(&charge.order_id).await? {
                    return self.release(charge, &intent.id, ORDER_ENDED).await;
                }
                match self
                    .provider
                    .capture(&intent.id, &format!("gittix-capture-{}", charge.id))
                    .await
                {
                    Ok(captured) => captured,
                    Err(unavailable) => return Ok(unknown(charge, &unavailable)),
                }
            }
            _ => intent,
        };
        match intent.status {
            IntentStatus::Succeeded => {
                let order_cancelled = self.store.complete(charge, &intent.id).await?;
                if order_cancelled {
                    // The order expired or was cancelled while the card was being charged.
                    self.refund_all(&charge.order_id).await?;
                }
                Ok(Settled::Paid)
            }
            IntentStatus::Declined { message } => self.declined(charge, message).await,
            // 3-D Secure is not completed yet (issue #18): the hold is released and the buyer
            // told to use another card, so no authorization is left behind.
            IntentStatus::RequiresAction => {
                self.release(charge, &intent.id, NEEDS_AUTHENTICATION).await
            }
            IntentStatus::Canceled => {
                self.declined(charge, "The payment was cancelled.".to_owned())
                    .await
            }
            IntentStatus::RequiresCapture | IntentStatus::Processing => Ok(unknown(
                charge,
                &Unavailable(format!("payment intent {} not captured yet", intent.id)),
            )),
        }
    }

    async fn declined(&self, charge: &Charge, message: String) -> Result<Settled, sqlx::Error> {
        self.store.fail(charge, &message).await?;
        Ok(Settled::Declined(message))
    }

    /// Whether the replica shows the order cancelled: its authorization must not be captured.
    async fn order_ended(&self, order_id: &str) -> Result<bool, sqlx::Error> {
        Ok(self
            .store
            .order(order_id)
            .await?
            .is_some_and(|order| order.status == OrderStatus::Cancelled))
    }

    /// Cancels an authorization; the attempt fails for `reason`. When the provider cannot be
    /// reached the attempt stays unsettled, and reconciliation finds it again.
    async fn release(
        &self,
        charge: &Charge,
        intent_id: &str,
        reason: &str,
    ) -> Result<Settled, sqlx::Error> {
        let key = format!("gittix-cancel-{}", charge.id);
        match self.provider.cancel(intent_id, &key).await {
            Ok(intent) if intent.status == IntentStatus::Canceled => {
                self.declined(charge, reason.to_owned()).await
            }
            Ok(intent) => Ok(unknown(
                charge,
                &Unavailable(format!(
                    "payment intent {} is {:?}",
                    intent.id, intent.status
                )),
            )),
            Err(unavailable) => Ok(unknown(charge, &unavailable)),
        }
    }

    /// Refunds every successful charge of an order that ended without a sale.
    pub async fn refund_all(&self, order_id: &str) -> Result<(), sqlx::Error> {
        for charge in self.store.charges_of(order_id).await? {
            if charge.status == ChargeStatus::Completed {
                self.refund(&charge).await?;
            }
        }
        Ok(())
    }

    async fn refund(&self, charge: &Charge) -> Result<(), sqlx::Error> {
        let Some(stripe_id) = &charge.stripe_id else {
            return Ok(());
        };
        let key = format!("gittix-refund-{}", charge.id);
        match self.provider.refund(stripe_id, &key).await {
            Ok(refund_id) => self.store.refunded(charge, &refund_id).await,
            Err(unavailable) => {
                // The reconciliation loop tries again, after the other refunds.
                tracing::warn!(charge_id = %charge.id, error = %unavailable, "refund failed; will retry");
                self.store.touch(&charge.id).await
            }
        }
    }

    /// Settles what is left unsettled: attempts whose outcome was unknown (asked again with the
    /// same idempotency key) and successful charges of cancelled orders not yet refunded.
    pub async fn reconcile(&self, unsettled_for: Duration) -> Result<(), sqlx::Error> {
        let age_ms: i64 = unsettled_for.as_millis().try_into().unwrap_or(i64::MAX);
        for charge in self.store.unsettled(age_ms).await? {
            if self.store.claim_unsettled(&charge.id, age_ms).await? {
                self.settle(&charge).await?;
            }
        }
        for charge in self.store.to_refund().await? {
            self.refund(&charge).await?;
        }
        Ok(())
    }
}

/// The attempt's outcome stays unknown; reconciliation asks again with the same keys.
fn unknown(charge: &Charge, unavailable: &Unavailable) -> Settled {
    tracing::warn!(charge_id = %charge.id, error = %unavailable, "charge outcome unknown");
    Settled::Unknown
}

// Why an authorization was released before capture.
const ORDER_ENDED: &str = "The order ended before the payment completed; nothing was charged.";
const NEEDS_AUTHENTICATION: &str =
    "This card asks for 3-D Secure, which GitTix cannot complete yet; nothing was charged. Please use another card.";

enum Settled {
    Paid,
    Declined(String),
    Unknown,
}
