//! A stand-in for Stripe in test mode, for embedded mode without `STRIPE_SECRET_KEY`: Stripe's
//! test tokens and payment methods behave as Stripe documents them (https://docs.stripe.com/testing),
//! 3-D Secure included, and idempotency keys return the first outcome. Its intents live in the
//! process only: a restart forgets them (docs/payments.md).

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::{
    Authorization, AuthorizeRequest, Instrument, Intent, IntentStatus, PaymentProvider,
    Unavailable, DECLINED,
};

/// What one of Stripe's test cards does.
#[derive(Debug, Clone, Copy)]
struct TestCard {
    /// Asks for 3-D Secure before it can be authorized.
    authenticates: bool,
    /// Refused when authorized, with this message.
    declines: Option<&'static str>,
}

const GOOD: TestCard = TestCard {
    authenticates: false,
    declines: None,
};

const fn declined(message: &'static str) -> TestCard {
    TestCard {
        authenticates: false,
        declines: Some(message),
    }
}

/// The card behind a test token (`tok_<name>`) or payment method (`pm_card_<name>`).
fn test_card(instrument: &Instrument) -> Option<TestCard> {
    let name = match instrument {
        Instrument::Token(id) => id.strip_prefix("tok_")?,
        Instrument::PaymentMethod(id) => id.strip_prefix("pm_card_")?,
    };
    Some(match name {
        "visa" | "visa_debit" | "mastercard" | "mastercard_debit" | "amex" | "discover" | "jcb"
        | "unionpay" | "us" => GOOD,
        "authenticationRequired" | "threeDSecure2Required" | "authenticationRequiredOnSetup" => {
            TestCard {
                authenticates: true,
                declines: None,
            }
        }
        "chargeDeclined"
        | "visa_chargeDeclined"
        | "chargeDeclinedFraudulent"
        | "chargeCustomerFail" => declined(DECLINED),
        "chargeDeclinedInsufficientFunds" => declined("Your card has insufficient funds."),
        "chargeDeclinedExpiredCard" => declined("Your card has expired."),
        "chargeDeclinedIncorrectCvc" => declined("Your card's security code is incorrect."),
        "chargeDeclinedProcessingError" => {
            declined("An error occurred while processing your card. Try again in a little bit.")
        }
        _ => return None,
    })
}

/// Stripe's message when the buyer fails or abandons the challenge.
pub const AUTHENTICATION_FAILED: &str =
    "We are unable to authenticate your payment method. Please choose a different payment method and try again.";

struct Stored {
    intent: Intent,
    card: TestCard,
    refund: Option<String>,
}

#[derive(Default)]
struct State {
    intents: HashMap<String, Stored>,
    /// The first answer to each idempotency key of an authorization.
    authorizations: HashMap<String, Authorization>,
}

#[derive(Default)]
pub struct SimulatedStripe {
    state: Mutex<State>,
}

/// Why a challenge could not be answered.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChallengeError {
    #[error("no such payment intent")]
    Unknown,
    #[error("the client secret does not match")]
    WrongSecret,
    #[error("the payment intent is not waiting for 3-D Secure")]
    NotWaiting,
}

impl SimulatedStripe {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("simulator lock")
    }

    /// The buyer's answer to the 3-D Secure challenge of an intent, as Stripe's test page gives
    /// it ("Complete" or "Fail"); `client_secret` proves the caller is the intent's buyer.
    pub fn answer_challenge(
        &self,
        intent_id: &str,
        client_secret: &str,
        complete: bool,
    ) -> Result<Intent, ChallengeError> {
        let mut state = self.state();
        let stored = state
            .intents
            .get_mut(intent_id)
            .ok_or(ChallengeError::Unknown)?;
        if stored.intent.client_secret != client_secret {
            return Err(ChallengeError::WrongSecret);
        }
        if stored.intent.status != IntentStatus::RequiresAction {
            return Err(ChallengeError::NotWaiting);
        }
        stored.intent.status = match (complete, stored.card.declines) {
            (false, _) => IntentStatus::Declined {
                message: AUTHENTICATION_FAILED.to_owned(),
            },
            (true, Some(message)) => IntentStatus::Declined {
                message: message.to_owned(),
            },
            (true, None) => IntentStatus::RequiresCapture,
        };
        Ok(stored.intent.clone())
    }

    /// Applies `change` to a known intent and answers it.
    fn update(
        &self,
        intent_id: &str,
        change: impl FnOnce(&mut Stored),
    ) -> Result<Intent, Unavailable> {
        let mut state = self.state();
        let stored = state
            .intents
            .get_mut(intent_id)
            .ok_or_else(|| Unavailable(format!("No such payment_intent: '{intent_id}'")))?;
        change(stored);
        Ok(stored.intent.clone())
    }
}

fn new_id(prefix: &str) -> String {
    format!("{prefix}_sim_{}", uuid::Uuid::new_v4().simple())
}

#[async_trait]
impl PaymentProvider for SimulatedStripe {
    async fn authorize(&self, request: &AuthorizeRequest) -> Result<Authorization, Unavailable> {
        let mut state = self.state();
        if let Some(first) = state.authorizations.get(&request.idempotency_key) {
            return Ok(first.clone());
        }
        let answer = match test_card(&request.instrument) {
            None => Authorization::Declined {
                message: format!("No such PaymentMethod: '{}'", request.instrument.id()),
            },
            Some(TestCard {
                authenticates: false,
                declines: Some(message),
            }) => Authorization::Declined {
                message: message.to_owned(),
            },
            Some(card) => {
                let id = new_id("pi");
                let intent = Intent {
                    client_secret: format!("{id}_secret_{}", uuid::Uuid::new_v4().simple()),
                    id: id.clone(),
                    status: if card.authenticates {
                        IntentStatus::RequiresAction
                    } else {
                        IntentStatus::RequiresCapture
                    },
                    amount_cents: request.amount_cents,
                };
                state.intents.insert(
                    id,
                    Stored {
                        intent: intent.clone(),
                        card,
                        refund: None,
                    },
                );
                Authorization::Intent(intent)
            }
        };
        state
            .authorizations
            .insert(request.idempotency_key.clone(), answer.clone());
        Ok(answer)
    }

    async fn retrieve(&self, intent_id: &str) -> Result<Intent, Unavailable> {
        self.update(intent_id, |_| {})
    }

    async fn capture(&self, intent_id: &str, _key: &str) -> Result<Intent, Unavailable> {
        self.update(intent_id, |stored| {
            if stored.intent.status == IntentStatus::RequiresCapture {
                stored.intent.status = IntentStatus::Succeeded;
            }
        })
    }

    async fn cancel(&self, intent_id: &str, _key: &str) -> Result<Intent, Unavailable> {
        self.update(intent_id, |stored| {
            if !matches!(
                stored.intent.status,
                IntentStatus::Succeeded | IntentStatus::Canceled
            ) {
                stored.intent.status = IntentStatus::Canceled;
            }
        })
    }

    async fn refund(&self, intent_id: &str, _key: &str) -> Result<String, Unavailable> {
        let mut state = self.state();
        let stored = state
            .intents
            .get_mut(intent_id)
            .ok_or_else(|| Unavailable(format!("No such payment_intent: '{intent_id}'")))?;
        if stored.intent.status != IntentStatus::Succeeded {
            return Err(Unavailable(format!(
                "payment intent {intent_id} is not captured: nothing to refund"
            )));
        }
        Ok(stored.refund.get_or_insert_with(|| new_id("re")).clone())
    }

    fn simulator(&self) -> Option<&SimulatedStripe> {
        Some(self)
    }
}
