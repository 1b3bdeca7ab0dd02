//! A stand-in for Stripe in test mode, for embedded mode without `STRIPE_SECRET_KEY`: the test
//! tokens behave as Stripe documents them, and idempotency keys return the first outcome.
//! It keeps its idempotency memory in the process only.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::{ChargeOutcome, ChargeRequest, PaymentProvider, Unavailable};

#[derive(Default)]
pub struct SimulatedStripe {
    charges: Mutex<HashMap<String, ChargeOutcome>>,
    refunds: Mutex<HashMap<String, String>>,
}

/// What a Stripe test token does.
fn outcome_of(token: &str) -> Result<(), &'static str> {
    match token {
        "tok_visa"
        | "tok_visa_debit"
        | "tok_mastercard"
        | "tok_mastercard_debit"
        | "tok_amex"
        | "tok_discover"
        | "tok_jcb"
        | "tok_unionpay"
        | "tok_us" => Ok(()),
        "tok_chargeDeclined" => Err("Your card was declined."),
        "tok_chargeDeclinedInsufficientFunds" => Err("Your card has insufficient funds."),
        "tok_chargeDeclinedExpiredCard" => Err("Your card has expired."),
        "tok_chargeDeclinedIncorrectCvc" => Err("Your card's security code is incorrect."),
        "tok_chargeDeclinedProcessingError" => {
            Err("An error occurred while processing your card. Try again in a little bit.")
        }
        "tok_chargeDeclinedFraudulent" => Err("Your card was declined."),
        _ => Err("Your card was declined: this token is not a Stripe test token."),
    }
}

#[async_trait]
impl PaymentProvider for SimulatedStripe {
    async fn charge(&self, request: &ChargeRequest) -> Result<ChargeOutcome, Unavailable> {
        let mut charges = self.charges.lock().expect("simulator lock");
        let outcome = charges
            .entry(request.idempotency_key.clone())
            .or_insert_with(|| match outcome_of(&request.token) {
                Ok(()) => ChargeOutcome::Succeeded {
                    stripe_id: format!("ch_sim_{}", uuid::Uuid::new_v4().simple()),
                },
                Err(message) => ChargeOutcome::Declined {
                    message: message.to_owned(),
                },
            });
        Ok(outcome.clone())
    }

    async fn refund(
        &self,
        _stripe_charge_id: &str,
        idempotency_key: &str,
    ) -> Result<String, Unavailable> {
        let mut refunds = self.refunds.lock().expect("simulator lock");
        let id = refunds
            .entry(idempotency_key.to_owned())
            .or_insert_with(|| format!("re_sim_{}", uuid::Uuid::new_v4().simple()));
        Ok(id.clone())
    }
}
