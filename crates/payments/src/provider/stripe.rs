//! Stripe through async-stripe, with a configurable API base so a Stripe-compatible server (such
//! as stripe-stateful-mock in the tests) can stand in.

use std::str::FromStr;

use async_trait::async_trait;
use stripe::{
    Charge, ChargeId, ChargeSourceParams, Client, CreateCharge, CreateRefund, Currency, Refund,
    RequestStrategy, StripeError, TokenId,
};

use super::{ChargeOutcome, ChargeRequest, PaymentProvider, Unavailable};

pub struct StripeProvider {
    client: Client,
}

impl StripeProvider {
    /// `api_base` is `https://api.stripe.com` for Stripe itself.
    pub fn new(api_base: &str, secret_key: &str) -> Self {
        Self {
            client: Client::from_url(api_base, secret_key),
        }
    }

    fn idempotent(&self, key: &str) -> Client {
        self.client
            .clone()
            .with_strategy(RequestStrategy::Idempotent(key.to_owned()))
    }
}

#[async_trait]
impl PaymentProvider for StripeProvider {
    async fn charge(&self, request: &ChargeRequest) -> Result<ChargeOutcome, Unavailable> {
        let Ok(token) = TokenId::from_str(&request.token) else {
            return Ok(ChargeOutcome::Declined {
                message: format!("No such token: '{}'", request.token),
            });
        };
        let mut params = CreateCharge::new();
        params.amount = Some(request.amount_cents);
        params.currency = Some(Currency::USD);
        params.source = Some(ChargeSourceParams::Token(token));
        params.description = Some(&request.description);
        match Charge::create(&self.idempotent(&request.idempotency_key), params).await {
            Ok(charge) => Ok(ChargeOutcome::Succeeded {
                stripe_id: charge.id.to_string(),
            }),
            Err(StripeError::Stripe(error))
                if error.http_status == 402 || (400..500).contains(&error.http_status) =>
            {
                Ok(ChargeOutcome::Declined {
                    message: error
                        .message
                        .unwrap_or_else(|| "Your card was declined.".to_owned()),
                })
            }
            Err(error) => Err(Unavailable(error.to_string())),
        }
    }

    async fn refund(
        &self,
        stripe_charge_id: &str,
        idempotency_key: &str,
    ) -> Result<String, Unavailable> {
        let charge =
            ChargeId::from_str(stripe_charge_id).map_err(|e| Unavailable(e.to_string()))?;
        let mut params = CreateRefund::new();
        params.charge = Some(charge);
        Refund::create(&self.idempotent(idempotency_key), params)
            .await
            .map(|refund| refund.id.to_string())
            .map_err(|error| Unavailable(error.to_string()))
    }
}
