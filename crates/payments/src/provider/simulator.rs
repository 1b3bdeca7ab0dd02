//! A stand-in for Stripe in test mode, for embedded mode without `STRIPE_SECRET_KEY`: Stripe's
//! test tokens and payment methods behave as Stripe documents them (https://docs.stripe.com/testing),
//! 3-D Secure included, and idempotency keys return the first outcome. Its intents live in the
//! process only: a restart forgets them (docs/payments.md).

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::accounts::{
    Account, ConnectedAccounts, OnboardingReturn, TransferError, TransferRequest,
};
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
    accounts: HashMap<String, Account>,
    /// The account each idempotency key of an account's creation made.
    account_keys: HashMap<String, String>,
    transfers: HashMap<String, SimulatedTransfer>,
    /// How many of the next transfers fail as if Stripe were down (see
    /// [`SimulatedStripe::fail_next_transfers`]).
    failing_transfers: u32,
    /// How many of the next transfers are made but answered as if Stripe did not reply (see
    /// [`SimulatedStripe::lose_next_transfer_answers`]).
    lost_transfer_answers: u32,
    /// The transfer or reversal each idempotency key made.
    transfer_keys: HashMap<String, String>,
}

/// A transfer the simulator made, and its reversal once taken back.
#[derive(Debug, Clone)]
struct SimulatedTransfer {
    request: TransferRequest,
    reversal: Option<String>,
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
        if stored.intent.status == IntentStatus::RequiresCapture {
            stored.intent.charge_id = Some(new_id("ch"));
        }
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

/// The simulator's onboarding of `account_id`: a GitTix page that plays Stripe's hosted form
/// (served by the web pages), which goes back to the payouts page when it is done.
pub fn onboarding_path(account_id: &str) -> String {
    format!("/payouts/onboarding/{account_id}")
}

impl SimulatedStripe {
    /// The seller completes the simulated onboarding of `account_id`: it can be paid out to
    /// from now on, as a test account is once Stripe's form is filled in. `None` for an
    /// unknown account.
    pub fn complete_onboarding(&self, account_id: &str) -> Option<Account> {
        let mut state = self.state();
        let account = state.accounts.get_mut(account_id)?;
        account.payouts_enabled = true;
        account.details_submitted = true;
        Some(account.clone())
    }

    /// The next `count` transfers fail as if Stripe did not answer (tests of the payouts'
    /// retries). Nothing is transferred by a failed call.
    pub fn fail_next_transfers(&self, count: u32) {
        self.state().failing_transfers = count;
    }

    /// The next `count` transfers are made, but answered as if Stripe did not reply: the
    /// outcome GitTix must find out by asking again under the same idempotency key.
    pub fn lose_next_transfer_answers(&self, count: u32) {
        self.state().lost_transfer_answers = count;
    }

    /// Every transfer made, as it was asked for, with its id and its reversal's: what Stripe's
    /// dashboard would list.
    pub fn transfers(&self) -> Vec<(String, TransferRequest, Option<String>)> {
        self.state()
            .transfers
            .iter()
            .map(|(id, made)| (id.clone(), made.request.clone(), made.reversal.clone()))
            .collect()
    }

    /// Takes back an account GitTix recorded before a restart (the simulator keeps nothing), as
    /// it was recorded.
    pub fn adopt_account(&self, account: Account) {
        self.state().accounts.insert(account.id.clone(), account);
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
                    // A card authorized at once has made its charge; one asking for 3-D
                    // Secure makes it when the challenge is completed.
                    charge_id: (!card.authenticates).then(|| new_id("ch")),
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

#[async_trait]
impl ConnectedAccounts for SimulatedStripe {
    async fn create_account(
        &self,
        _seller_id: &str,
        _email: Option<&str>,
        idempotency_key: &str,
    ) -> Result<Account, Unavailable> {
        let mut state = self.state();
        if let Some(id) = state.account_keys.get(idempotency_key).cloned() {
            return Ok(state.accounts[&id].clone());
        }
        let account = Account {
            id: new_id("acct"),
            payouts_enabled: false,
            details_submitted: false,
        };
        state
            .account_keys
            .insert(idempotency_key.to_owned(), account.id.clone());
        state.accounts.insert(account.id.clone(), account.clone());
        Ok(account)
    }

    async fn account(&self, account_id: &str) -> Result<Account, Unavailable> {
        self.state()
            .accounts
            .get(account_id)
            .cloned()
            .ok_or_else(|| Unavailable(format!("No such account: '{account_id}'")))
    }

    async fn onboarding_link(
        &self,
        account_id: &str,
        _back: &OnboardingReturn,
    ) -> Result<String, Unavailable> {
        self.account(account_id).await?;
        Ok(onboarding_path(account_id))
    }

    async fn transfer(&self, request: &TransferRequest) -> Result<String, TransferError> {
        let mut state = self.state();
        if state.failing_transfers > 0 {
            state.failing_transfers -= 1;
            return Err(
                Unavailable("the simulator was told to fail this transfer".to_owned()).into(),
            );
        }
        if let Some(id) = state.transfer_keys.get(&request.idempotency_key) {
            return Ok(id.clone());
        }
        // What Stripe refuses: money to an account that cannot be paid out to yet, or none.
        let refused = match state.accounts.get(&request.destination) {
            None => Some(format!("No such destination: '{}'", request.destination)),
            Some(account) if !account.payouts_enabled => Some(format!(
                "The destination account {} cannot receive transfers yet",
                request.destination
            )),
            Some(_) if request.amount_cents <= 0 => {
                Some("Amount must be at least 1 cent".to_owned())
            }
            Some(_) => None,
        };
        if let Some(refusal) = refused {
            return Err(TransferError::Refused(refusal));
        }
        let id = new_id("tr");
        let transfer = SimulatedTransfer {
            request: request.clone(),
            reversal: None,
        };
        state.transfers.insert(id.clone(), transfer);
        state
            .transfer_keys
            .insert(request.idempotency_key.clone(), id.clone());
        if state.lost_transfer_answers > 0 {
            state.lost_transfer_answers -= 1;
            return Err(Unavailable(
                "the simulator made this transfer and lost its answer".to_owned(),
            )
            .into());
        }
        Ok(id)
    }

    async fn reverse_transfer(
        &self,
        transfer_id: &str,
        idempotency_key: &str,
    ) -> Result<String, Unavailable> {
        let mut state = self.state();
        if let Some(id) = state.transfer_keys.get(idempotency_key) {
            return Ok(id.clone());
        }
        let transfer = state
            .transfers
            .get_mut(transfer_id)
            .ok_or_else(|| Unavailable(format!("No such transfer: '{transfer_id}'")))?;
        if transfer.reversal.is_some() {
            return Err(Unavailable(format!(
                "Transfer {transfer_id} is already fully reversed"
            )));
        }
        let id = new_id("trr");
        transfer.reversal = Some(id.clone());
        state
            .transfer_keys
            .insert(idempotency_key.to_owned(), id.clone());
        Ok(id)
    }

    fn simulator(&self) -> Option<&SimulatedStripe> {
        Some(self)
    }
}
