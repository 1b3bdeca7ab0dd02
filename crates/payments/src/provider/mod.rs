//! The payment provider port: charge a card token, refund a charge. Two adapters:
//! [`stripe::StripeProvider`] (Stripe's API, or a Stripe-compatible server at a configurable base
//! URL) and [`simulator::SimulatedStripe`] (embedded mode without keys: Stripe's test tokens).

pub mod simulator;
pub mod stripe;

use async_trait::async_trait;

/// A charge to make. The idempotency key makes a repeated request return the first outcome.
#[derive(Debug, Clone)]
pub struct ChargeRequest {
    /// GitTix's id of the attempt, stored on the Stripe charge (metadata `gittix_charge_id`) so
    /// webhooks can name the attempt even before its outcome is known here.
    pub reference: String,
    pub amount_cents: i64,
    pub token: String,
    pub idempotency_key: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeOutcome {
    Succeeded {
        stripe_id: String,
    },
    /// The card was refused; `message` is for the buyer.
    Declined {
        message: String,
    },
}

/// The provider could not be reached or answered with a server error: the charge may or may not
/// have happened. Ask again later with the same idempotency key.
#[derive(Debug, thiserror::Error)]
#[error("payment provider unavailable: {0}")]
pub struct Unavailable(pub String);

#[async_trait]
pub trait PaymentProvider: Send + Sync + 'static {
    async fn charge(&self, request: &ChargeRequest) -> Result<ChargeOutcome, Unavailable>;

    /// Refunds a charge in full; returns the refund's id.
    async fn refund(
        &self,
        stripe_charge_id: &str,
        idempotency_key: &str,
    ) -> Result<String, Unavailable>;
}
