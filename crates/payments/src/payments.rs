//! Paying for an order, as the design's section 5 says: an attempt authorizes the amount; orders
//! completes the order with its one conditional update (`charge:authorized`); payments captures
//! once the replica shows the order complete, and releases the hold if it shows it cancelled, so
//! the buyer sees no charge. One attempt at a time per order, idempotency keys per attempt and
//! per step, and a refund whenever a captured payment's order ended without a sale.

use std::sync::Arc;
use std::time::Duration;

use gittix_shared::domain::{OrderStatus, MAX_DECLINED_ATTEMPTS};
use gittix_shared::time::unix_millis;
use gittix_shared::DomainResult;

use crate::provider::{
    Authorization, AuthorizeRequest, Instrument, Intent, IntentStatus, PaymentProvider, Unavailable,
};
use crate::refusal::Refusal;
use crate::store::{Charge, ChargeStatus, PaymentStore, ReplicaOrder};

/// How long a payment waits for its order to reach payments and be confirmed.
const CONFIRMATION_WAIT: Duration = Duration::from_secs(2);
const CONFIRMATION_POLL: Duration = Duration::from_millis(20);
/// How long `POST /api/payments` waits, once the money is held, for orders to complete (or
/// cancel) the order. Beyond it the buyer is told the payment is being settled (503), and the
/// order's events finish the work.
const DECISION_WAIT: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct Payments {
    pub store: PaymentStore,
    provider: Arc<dyn PaymentProvider>,
}

/// Where a payment stands after `POST /api/payments`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Paid {
    /// The order is complete: the buyer has the ticket.
    Succeeded { id: String },
    /// The card asks for 3-D Secure; the buyer's browser answers the challenge with the secret.
    RequiresAction { id: String, client_secret: String },
}

impl Payments {
    pub fn new(store: PaymentStore, provider: Arc<dyn PaymentProvider>) -> Self {
        Self { store, provider }
    }

    /// `POST /api/payments`: authorizes the order's total on `card` (a token or a payment
    /// method) and answers once the order is complete, or once the card asks for 3-D Secure.
    pub async fn pay(
        &self,
        buyer: &str,
        order_id: &str,
        card: &str,
    ) -> DomainResult<Paid, Refusal> {
        let order = buyers(
            self.settled_order(order_id).await?,
            buyer,
            Refusal::UnknownOrder,
        )?;
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
        // so a payment the cap (or another attempt) refuses never reaches Stripe. The same
        // transaction publishes `charge:started`: the attempt holds the lock from now on.
        let Some(charge) = self.store.start_attempt(&order, card).await? else {
            return Err(self.no_attempt_left(order_id).await?.into());
        };
        self.decided(&charge.id).await
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

    /// The buyer answered the simulator's 3-D Secure challenge of attempt `charge_id`
    /// ("Complete" or "Fail"); answers like `POST /api/payments` once the attempt is decided.
    pub async fn answer_challenge(
        &self,
        buyer: &str,
        charge_id: &str,
        complete: bool,
    ) -> DomainResult<Paid, Refusal> {
        let simulator = self.provider.simulator().ok_or(Refusal::UnknownPayment)?;
        let charge = self.buyers_attempt(buyer, charge_id).await?;
        if let (ChargeStatus::RequiresAction, Some(intent), Some(secret)) =
            (charge.status, &charge.stripe_id, &charge.client_secret)
        {
            // Already answered (a second click) leaves the intent as it is.
            let _ = simulator.answer_challenge(intent, secret, complete);
        }
        self.decided(&charge.id).await
    }

    /// Advances the attempt until it is decided, waiting up to [`DECISION_WAIT`] for orders to
    /// complete or cancel the order once the money is held.
    async fn decided(&self, charge_id: &str) -> DomainResult<Paid, Refusal> {
        let deadline = tokio::time::Instant::now() + DECISION_WAIT;
        loop {
            match self.advance(charge_id).await? {
                Step::Paid => {
                    return Ok(Paid::Succeeded {
                        id: charge_id.to_owned(),
                    })
                }
                Step::Challenge { client_secret } => {
                    return Ok(Paid::RequiresAction {
                        id: charge_id.to_owned(),
                        client_secret,
                    })
                }
                Step::Declined(message) => return Err(Refusal::Declined(message).into()),
                // Reconciliation asks again with the same idempotency keys and settles it.
                Step::Unknown => return Err(Refusal::OutcomeUnknown.into()),
                Step::AwaitingOrder if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(CONFIRMATION_POLL).await;
                }
                Step::AwaitingOrder => return Err(Refusal::OutcomeUnknown.into()),
            }
        }
    }

    /// `GET /api/payments?orderId=`: the buyer's attempts for the order, oldest first.
    pub async fn attempts(
        &self,
        buyer: &str,
        order_id: &str,
    ) -> DomainResult<Vec<Charge>, Refusal> {
        buyers(
            self.store.order(order_id).await?,
            buyer,
            Refusal::UnknownOrder,
        )?;
        Ok(self.store.charges_of(order_id).await?)
    }

    /// The attempt `charge_id`, if it is `buyer`'s (unknown to anyone else: 404, or 401 for
    /// another user's, as for orders).
    async fn buyers_attempt(&self, buyer: &str, charge_id: &str) -> DomainResult<Charge, Refusal> {
        let charge = self
            .store
            .charge_by_id(charge_id)
            .await?
            .ok_or(Refusal::UnknownPayment)?;
        buyers(
            self.store.order(&charge.order_id).await?,
            buyer,
            Refusal::UnknownPayment,
        )?;
        Ok(charge)
    }

    /// `GET /api/payments/:id`: one of the buyer's attempts. One still waiting for 3-D Secure is
    /// asked of the provider first, so the page that has just finished Stripe.js's challenge
    /// sees its outcome without waiting for the webhook.
    pub async fn attempt(&self, buyer: &str, charge_id: &str) -> DomainResult<Charge, Refusal> {
        let charge = self.buyers_attempt(buyer, charge_id).await?;
        if charge.status != ChargeStatus::RequiresAction {
            return Ok(charge);
        }
        self.advance(&charge.id).await?;
        Ok(self
            .store
            .charge_by_id(charge_id)
            .await?
            .ok_or(Refusal::UnknownPayment)?)
    }

    /// Takes the attempt `charge_id` one step further, as far as it can go now, and says where
    /// it stands. Safe to call from anywhere at any time (the route, the order's events, the
    /// buyer's challenge, a webhook, reconciliation): every call to the provider carries the
    /// step's idempotency key, and every change of the attempt is a conditional update.
    pub async fn advance(&self, charge_id: &str) -> Result<Step, sqlx::Error> {
        let Some(charge) = self.store.charge_by_id(charge_id).await? else {
            return Ok(Step::Unknown);
        };
        match charge.status {
            ChargeStatus::Created => self.authorize(&charge).await,
            ChargeStatus::RequiresAction => self.challenged(&charge).await,
            ChargeStatus::Authorized => self.capture_or_release(&charge).await,
            ChargeStatus::Completed | ChargeStatus::Refunded => Ok(Step::Paid),
            ChargeStatus::Failed => Ok(Step::Declined(charge.failure_reason.unwrap_or_default())),
        }
    }

    /// Sends the attempt to the provider (again, with the same idempotency key, when its
    /// outcome was unknown).
    async fn authorize(&self, charge: &Charge) -> Result<Step, sqlx::Error> {
        let Some(instrument) = Instrument::parse(&charge.token) else {
            let message = format!("No such token or payment method: '{}'", charge.token);
            return self.declined(charge, message).await;
        };
        let request = AuthorizeRequest {
            reference: charge.id.clone(),
            order_id: charge.order_id.clone(),
            amount_cents: charge.amount,
            instrument,
            idempotency_key: charge.idempotency_key.clone(),
        };
        match self.provider.authorize(&request).await {
            Ok(Authorization::Intent(intent)) => self.intent_is(charge, intent).await,
            Ok(Authorization::Declined { message }) => self.declined(charge, message).await,
            Err(unavailable) => Ok(unknown(charge, &unavailable)),
        }
    }

    /// An attempt waiting for the buyer's 3-D Secure answer: what does the provider say now?
    async fn challenged(&self, charge: &Charge) -> Result<Step, sqlx::Error> {
        let Some(intent_id) = &charge.stripe_id else {
            return Ok(Step::Unknown);
        };
        match self.provider.retrieve(intent_id).await {
            Ok(intent) => self.intent_is(charge, intent).await,
            Err(unavailable) => Ok(unknown(charge, &unavailable)),
        }
    }

    /// Records what the provider says of the attempt's intent, and goes on from there.
    async fn intent_is(&self, charge: &Charge, intent: Intent) -> Result<Step, sqlx::Error> {
        match intent.status {
            IntentStatus::RequiresAction => {
                if self.order_status(&charge.order_id).await? == Some(OrderStatus::Cancelled) {
                    // A challenge left open ends with the lock, and charges nothing.
                    return self.release(charge, &intent.id, ORDER_ENDED).await;
                }
                self.store
                    .requires_action(charge, &intent.id, &intent.client_secret)
                    .await?;
                Ok(Step::Challenge {
                    client_secret: intent.client_secret,
                })
            }
            IntentStatus::RequiresCapture | IntentStatus::Succeeded => {
                self.store.authorized(charge, &intent.id).await?;
                let held = Charge {
                    status: ChargeStatus::Authorized,
                    stripe_id: Some(intent.id),
                    ..charge.clone()
                };
                self.capture_or_release(&held).await
            }
            IntentStatus::Declined { message } => self.declined(charge, message).await,
            IntentStatus::Canceled => self.declined(charge, ORDER_ENDED.to_owned()).await,
            IntentStatus::Processing => Ok(unknown(
                charge,
                &Unavailable(format!("payment intent {} is processing", intent.id)),
            )),
        }
    }

    /// The money is held: captured once the replica shows the order complete, released once it
    /// shows it cancelled; until then the order is being decided.
    async fn capture_or_release(&self, charge: &Charge) -> Result<Step, sqlx::Error> {
        let Some(intent_id) = &charge.stripe_id else {
            return Ok(Step::Unknown);
        };
        match self.order_status(&charge.order_id).await? {
            Some(OrderStatus::Complete) => {
                let key = format!("gittix-capture-{}", charge.id);
                match self.provider.capture(intent_id, &key).await {
                    Ok(intent) if intent.status == IntentStatus::Succeeded => {
                        self.store
                            .complete(charge, intent_id, intent.charge_id.as_deref())
                            .await?;
                    }
                    Ok(intent) => tracing::error!(
                        charge_id = %charge.id, intent = %intent.id, status = ?intent.status,
                        "the order is complete but its payment could not be captured"
                    ),
                    // The order is complete, so the buyer has the ticket: the capture is
                    // retried by reconciliation until Stripe answers.
                    Err(unavailable) => {
                        tracing::warn!(charge_id = %charge.id, error = %unavailable, "capture failed; will retry");
                    }
                }
                Ok(Step::Paid)
            }
            Some(OrderStatus::Cancelled) => self.release(charge, intent_id, ORDER_ENDED).await,
            _ => Ok(Step::AwaitingOrder),
        }
    }

    async fn declined(&self, charge: &Charge, message: String) -> Result<Step, sqlx::Error> {
        self.store.fail(charge, &message).await?;
        Ok(Step::Declined(message))
    }

    async fn order_status(&self, order_id: &str) -> Result<Option<OrderStatus>, sqlx::Error> {
        Ok(self.store.order(order_id).await?.map(|order| order.status))
    }

    /// Cancels the attempt's intent, releasing any hold; the attempt fails for `reason`. When
    /// the provider cannot be reached the attempt stays as it is, and reconciliation finds it
    /// again.
    async fn release(
        &self,
        charge: &Charge,
        intent_id: &str,
        reason: &str,
    ) -> Result<Step, sqlx::Error> {
        let key = format!("gittix-cancel-{}", charge.id);
        match self.provider.cancel(intent_id, &key).await {
            Ok(intent) if intent.status == IntentStatus::Canceled => {
                self.declined(charge, reason.to_owned()).await
            }
            Ok(intent) => {
                tracing::error!(
                    charge_id = %charge.id, intent = %intent.id, status = ?intent.status,
                    "the order ended but its payment could not be released"
                );
                Ok(Step::Unknown)
            }
            Err(unavailable) => Ok(unknown(charge, &unavailable)),
        }
    }

    /// The order of `order_id` was decided (completed or cancelled): each of its attempts in
    /// flight is captured or released.
    pub async fn order_decided(&self, order_id: &str) -> Result<(), sqlx::Error> {
        for charge in self.store.charges_of(order_id).await? {
            // A `created` attempt is left to the call still under way (or to reconciliation).
            if matches!(
                charge.status,
                ChargeStatus::Authorized | ChargeStatus::RequiresAction
            ) {
                self.advance(&charge.id).await?;
            }
        }
        if self.order_status(order_id).await? == Some(OrderStatus::Cancelled) {
            // Nobody pays for a ticket they do not get.
            self.refund_all(order_id).await?;
        }
        Ok(())
    }

    /// Refunds every successful charge of an order that ended without a sale, or whose ticket
    /// was never delivered.
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

    /// Settles what is left unsettled: attempts in flight untouched for `unsettled_for` (an
    /// outcome that was unknown is asked again with the same idempotency key, an open challenge
    /// is looked at, a hold is captured or released), and captured payments of cancelled orders
    /// not yet refunded.
    pub async fn reconcile(&self, unsettled_for: Duration) -> Result<(), sqlx::Error> {
        let age_ms: i64 = unsettled_for.as_millis().try_into().unwrap_or(i64::MAX);
        for charge in self.store.in_flight(age_ms).await? {
            if self.store.claim_in_flight(&charge, age_ms).await? {
                self.advance(&charge.id).await?;
            }
        }
        for charge in self.store.to_refund().await? {
            self.refund(&charge).await?;
        }
        Ok(())
    }
}

/// The order if it is `buyer`'s: `missing` when there is none, 401 when it is another user's.
fn buyers(
    order: Option<ReplicaOrder>,
    buyer: &str,
    missing: Refusal,
) -> DomainResult<ReplicaOrder, Refusal> {
    let order = order.ok_or(missing)?;
    if order.user_id != buyer {
        return Err(Refusal::NotTheBuyer.into());
    }
    Ok(order)
}

/// The attempt's outcome stays unknown; reconciliation asks again with the same keys.
fn unknown(charge: &Charge, unavailable: &Unavailable) -> Step {
    tracing::warn!(charge_id = %charge.id, error = %unavailable, "charge outcome unknown");
    Step::Unknown
}

/// Why a hold was released before capture.
const ORDER_ENDED: &str = "The order ended before the payment completed; nothing was charged.";

/// Where an attempt stands after [`Payments::advance`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The order is complete (the capture may still be under way).
    Paid,
    /// Waiting for the buyer's 3-D Secure answer.
    Challenge { client_secret: String },
    /// The money is held; orders has not decided the order yet.
    AwaitingOrder,
    /// Declined, or released because the order ended; the message is for the buyer.
    Declined(String),
    /// The provider did not answer; asked again later.
    Unknown,
}
