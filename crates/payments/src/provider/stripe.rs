//! Stripe through async-stripe, with a configurable API base so a Stripe-compatible server (such
//! as stripe-stateful-mock in the tests) can stand in.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use stripe::{
    Charge, ChargeId, ChargeSourceParams, Client, CreateCharge, CreateRefund, Currency, ErrorType,
    Refund, RequestStrategy, StripeError, TokenId,
};

use super::{ChargeOutcome, ChargeRequest, PaymentProvider, Unavailable};

/// How long a call to Stripe may take before its outcome counts as unknown. async-stripe sets no
/// limit of its own, and a call that never returned held up the request, and the reconciliation
/// loop behind it, for good. An unknown outcome is asked about again later with the same
/// idempotency key, so giving up loses nothing.
pub(crate) const CALL_TIMEOUT: Duration = Duration::from_secs(30);

pub struct StripeProvider {
    client: Client,
    timeout: Duration,
}

impl StripeProvider {
    /// `api_base` is `https://api.stripe.com` for Stripe itself.
    pub fn new(api_base: &str, secret_key: &str) -> Self {
        Self {
            client: Client::from_url(api_base, secret_key),
            timeout: CALL_TIMEOUT,
        }
    }

    /// The same, giving up on a call after `timeout` (the tests' server that never answers).
    pub fn with_timeout(self, timeout: Duration) -> Self {
        Self { timeout, ..self }
    }

    /// `call`, or an unknown outcome if it has not answered within the timeout.
    async fn in_time<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, StripeError>>,
    ) -> Result<Result<T, StripeError>, Unavailable> {
        tokio::time::timeout(self.timeout, call)
            .await
            .map_err(|_| Unavailable(format!("no answer from Stripe within {:?}", self.timeout)))
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
        params.metadata = Some([("gittix_charge_id".to_owned(), request.reference.clone())].into());
        let client = self.idempotent(&request.idempotency_key);
        match self.in_time(Charge::create(&client, params)).await? {
            Ok(charge) => Ok(ChargeOutcome::Succeeded {
                stripe_id: charge.id.to_string(),
            }),
            // Only the card's refusal (402, card_error) or a request Stripe will never accept (a bad
            // token: invalid_request_error) is a decline. Anything else (409 for a request still in
            // progress under the same key, 429, 5xx, a network error) leaves the outcome unknown.
            Err(StripeError::Stripe(error)) if is_decline(&error) => Ok(ChargeOutcome::Declined {
                message: error
                    .message
                    .unwrap_or_else(|| "Your card was declined.".to_owned()),
            }),
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
        let client = self.idempotent(idempotency_key);
        self.in_time(Refund::create(&client, params))
            .await?
            .map(|refund| refund.id.to_string())
            .map_err(|error| Unavailable(error.to_string()))
    }
}

fn is_decline(error: &stripe::RequestError) -> bool {
    error.http_status == 402
        || error.error_type == ErrorType::Card
        || (error.http_status == 400 && error.error_type == ErrorType::InvalidRequest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(http_status: u16, error_type: ErrorType) -> stripe::RequestError {
        stripe::RequestError {
            http_status,
            error_type,
            ..Default::default()
        }
    }

    #[test]
    fn only_the_cards_refusal_or_a_bad_request_is_a_decline() {
        assert!(is_decline(&error(402, ErrorType::Card)));
        assert!(is_decline(&error(400, ErrorType::InvalidRequest)));
        // A request still in progress under the same key, a rate limit, Stripe's own failure:
        // the outcome is unknown, never a decline.
        assert!(!is_decline(&error(409, ErrorType::IdempotencyError)));
        assert!(!is_decline(&error(400, ErrorType::IdempotencyError)));
        assert!(!is_decline(&error(429, ErrorType::RateLimit)));
        assert!(!is_decline(&error(500, ErrorType::Api)));
        assert!(!is_decline(&error(401, ErrorType::Authentication)));
    }
}
