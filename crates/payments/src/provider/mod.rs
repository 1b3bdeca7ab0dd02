//! The payment provider port, in Stripe's PaymentIntents: authorize an amount on a card (create
//! and confirm an intent with manual capture), then capture it or cancel it, ask about it, refund
//! it. Two adapters pass one conformance suite (tests/provider.rs):
//! [`stripe::StripeProvider`] (Stripe's API, or a Stripe-compatible server at a configurable base
//! URL, localstripe in the tests) and [`simulator::SimulatedStripe`] (embedded mode without keys:
//! Stripe's test cards, tokens and 3-D Secure).

pub mod accounts;
pub mod simulator;
pub mod stripe;

use std::sync::Arc;

use async_trait::async_trait;

use accounts::ConnectedAccounts;

/// Both halves of the port, as the payments service is built with them: buyers' payments and
/// sellers' accounts. Stripe (or its simulator) serves both.
#[derive(Clone)]
pub struct Providers {
    pub payments: Arc<dyn PaymentProvider>,
    pub accounts: Arc<dyn ConnectedAccounts>,
}

impl Providers {
    /// One simulator of Stripe's test mode for both halves.
    pub fn simulated() -> Self {
        let simulator = Arc::new(simulator::SimulatedStripe::default());
        Self {
            payments: simulator.clone(),
            accounts: simulator,
        }
    }

    /// `payments` for the payments, and a simulator for the accounts (tests of payments alone).
    pub fn with_simulated_accounts(payments: Arc<dyn PaymentProvider>) -> Self {
        Self {
            payments,
            accounts: Arc::new(simulator::SimulatedStripe::default()),
        }
    }
}

/// What the buyer pays with: a token from Stripe.js v2 or Checkout (`tok_...`, what the original
/// client sends), or a payment method from Stripe.js v3 (`pm_...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Instrument {
    Token(String),
    PaymentMethod(String),
}

impl Instrument {
    /// Tells the two apart by Stripe's id prefixes; `None` for anything else.
    pub fn parse(id: &str) -> Option<Self> {
        let id = id.trim();
        let well_formed = |prefix: &str| {
            id.len() > prefix.len()
                && id.len() <= 255
                && id.starts_with(prefix)
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        };
        if well_formed("tok_") {
            Some(Self::Token(id.to_owned()))
        } else if well_formed("pm_") {
            Some(Self::PaymentMethod(id.to_owned()))
        } else {
            None
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Self::Token(id) | Self::PaymentMethod(id) => id,
        }
    }
}

/// An amount to authorize. The idempotency key makes a repeated request return the first
/// outcome, so an attempt whose outcome is unknown is asked about by sending it again.
#[derive(Debug, Clone)]
pub struct AuthorizeRequest {
    /// GitTix's id of the attempt, stored on the intent (metadata `gittix_charge_id`) so
    /// webhooks can name the attempt even before its outcome is known here.
    pub reference: String,
    /// Stored on the intent (metadata `gittix_order_id`) and as its `transfer_group`, which
    /// ties the seller's transfer to this payment.
    pub order_id: String,
    pub amount_cents: i64,
    pub instrument: Instrument,
    pub idempotency_key: String,
}

/// Where a PaymentIntent stands, in Stripe's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntentStatus {
    /// The card asks for 3-D Secure: the buyer must complete the challenge.
    RequiresAction,
    /// Authorized: the money is held on the card, waiting for capture.
    RequiresCapture,
    /// Captured: the buyer is charged.
    Succeeded,
    /// Cancelled: nothing is charged, the hold is released.
    Canceled,
    /// Being processed; asked about again later.
    Processing,
    /// The card was declined or failed the challenge; `message` is for the buyer.
    Declined { message: String },
}

impl IntentStatus {
    /// Stripe's status and, for `requires_payment_method`, the last error's message.
    pub fn from_stripe(status: &str, last_error: Option<&str>) -> Option<Self> {
        Some(match status {
            "requires_action" | "requires_confirmation" => Self::RequiresAction,
            "requires_capture" => Self::RequiresCapture,
            "succeeded" => Self::Succeeded,
            "canceled" => Self::Canceled,
            "processing" => Self::Processing,
            "requires_payment_method" => Self::Declined {
                message: last_error.unwrap_or(DECLINED).to_owned(),
            },
            _ => return None,
        })
    }
}

/// Stripe's words for a decline that comes without a message of its own.
pub const DECLINED: &str = "Your card was declined.";

/// A PaymentIntent as GitTix needs to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intent {
    pub id: String,
    pub status: IntentStatus,
    pub amount_cents: i64,
    /// What the buyer's browser needs to complete a 3-D Secure challenge.
    pub client_secret: String,
    /// The charge the intent made once the card was authorized (`ch_...`, Stripe's
    /// `latest_charge`): a seller's transfer names it as its `source_transaction`.
    pub charge_id: Option<String>,
}

/// What authorizing did: an intent exists, in any status, or the card was refused before one
/// could be kept (Stripe answers 402 to the confirmation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authorization {
    Intent(Intent),
    Declined { message: String },
}

/// The provider could not be reached or answered with a server error: the call may or may not
/// have happened. Ask again later (with the same idempotency key).
#[derive(Debug, thiserror::Error)]
#[error("payment provider unavailable: {0}")]
pub struct Unavailable(pub String);

#[async_trait]
pub trait PaymentProvider: Send + Sync + 'static {
    /// Creates and confirms an intent with manual capture: the amount is authorized, declined,
    /// or waits for 3-D Secure.
    async fn authorize(&self, request: &AuthorizeRequest) -> Result<Authorization, Unavailable>;

    /// The intent as the provider knows it now.
    async fn retrieve(&self, intent_id: &str) -> Result<Intent, Unavailable>;

    /// Captures an authorized intent in full. Capturing one already captured answers it as it
    /// is; one that cannot be captured (cancelled, expired) comes back in that status.
    async fn capture(&self, intent_id: &str, idempotency_key: &str) -> Result<Intent, Unavailable>;

    /// Cancels an intent that is not captured, releasing the hold. Cancelling one already
    /// cancelled, or one that was captured meanwhile, answers it as it is.
    async fn cancel(&self, intent_id: &str, idempotency_key: &str) -> Result<Intent, Unavailable>;

    /// Refunds a captured intent in full; returns the refund's id.
    async fn refund(&self, intent_id: &str, idempotency_key: &str) -> Result<String, Unavailable>;

    /// The simulator, when this is it: its 3-D Secure challenges are answered on a GitTix page
    /// rather than by Stripe.js.
    fn simulator(&self) -> Option<&simulator::SimulatedStripe> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_payment_methods_are_told_apart_by_their_prefix() {
        assert_eq!(
            Instrument::parse("tok_visa"),
            Some(Instrument::Token("tok_visa".into()))
        );
        assert_eq!(
            Instrument::parse("pm_card_visa"),
            Some(Instrument::PaymentMethod("pm_card_visa".into()))
        );
        for bad in [
            "",
            "tok_",
            "visa",
            "pm_",
            "tok_a b",
            "tok_<script>",
            "src_123",
        ] {
            assert_eq!(Instrument::parse(bad), None, "{bad:?}");
        }
        assert_eq!(Instrument::parse(&format!("tok_{}", "a".repeat(300))), None);
    }

    #[test]
    fn a_failed_confirmation_reads_as_a_decline_with_stripes_message() {
        assert_eq!(
            IntentStatus::from_stripe("requires_payment_method", Some("Your card has expired.")),
            Some(IntentStatus::Declined {
                message: "Your card has expired.".into()
            })
        );
        assert_eq!(
            IntentStatus::from_stripe("requires_payment_method", None),
            Some(IntentStatus::Declined {
                message: DECLINED.into()
            })
        );
        assert_eq!(IntentStatus::from_stripe("made_up", None), None);
    }
}
