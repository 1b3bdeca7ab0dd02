//! Stripe's PaymentIntents through async-stripe, with a configurable API base so a
//! Stripe-compatible server (localstripe in the tests) can stand in.
//!
//! async-stripe carries the calls (authentication, idempotency keys, Stripe's error shape); the
//! answers are read into the few fields GitTix uses rather than async-stripe's full types, which
//! refuse an answer that lacks any field of the API version they were generated from (localstripe
//! leaves out several, and Stripe adds fields with every version).

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use stripe::{Client, ErrorType, RequestStrategy, StripeError};

use super::accounts::{
    Account, ConnectedAccounts, OnboardingReturn, TransferError, TransferRequest,
};
use super::{
    Authorization, AuthorizeRequest, Instrument, Intent, IntentStatus, PaymentProvider,
    Unavailable, DECLINED,
};

/// How long a call to Stripe may take before its outcome counts as unknown. async-stripe sets no
/// limit of its own, and a call that never returned held up the request, and the reconciliation
/// loop behind it, for good. An unknown outcome is asked about again later with the same
/// idempotency key, so giving up loses nothing.
pub(crate) const CALL_TIMEOUT: Duration = Duration::from_secs(30);

pub struct StripeProvider {
    client: Client,
    timeout: Duration,
}

/// `POST /v1/payment_intents`, created and confirmed at once, to be captured later.
#[derive(Serialize)]
struct CreateIntent<'a> {
    amount: i64,
    currency: &'static str,
    capture_method: &'static str,
    confirm: bool,
    payment_method_types: [&'static str; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    payment_method: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payment_method_data: Option<TokenCard<'a>>,
    transfer_group: &'a str,
    metadata: BTreeMap<&'static str, &'a str>,
}

/// `payment_method_data[type]=card&payment_method_data[card][token]=tok_...`: Stripe makes the
/// payment method from the token.
#[derive(Serialize)]
struct TokenCard<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    card: Token<'a>,
}

#[derive(Serialize)]
struct Token<'a> {
    token: &'a str,
}

/// The fields of a PaymentIntent GitTix reads.
#[derive(Deserialize)]
struct WireIntent {
    id: String,
    status: String,
    amount: i64,
    #[serde(default)]
    client_secret: Option<String>,
    #[serde(default)]
    last_payment_error: Option<WireError>,
    #[serde(default)]
    latest_charge: Option<ChargeRef>,
}

/// Stripe sends `latest_charge` as the charge's id; localstripe as the charge itself.
#[derive(Deserialize)]
#[serde(untagged)]
enum ChargeRef {
    Id(String),
    Object { id: String },
}

#[derive(Deserialize)]
struct WireError {
    #[serde(default)]
    message: Option<String>,
}

#[derive(Deserialize)]
struct WireRefund {
    id: String,
}

#[derive(Serialize)]
struct CreateRefund<'a> {
    payment_intent: &'a str,
}

/// A form without fields, for the calls that take none.
#[derive(Serialize)]
struct NoFields {}

impl TryFrom<WireIntent> for Intent {
    type Error = Unavailable;

    fn try_from(wire: WireIntent) -> Result<Self, Unavailable> {
        let last_error = wire
            .last_payment_error
            .and_then(|error| error.message)
            .filter(|message| !message.trim().is_empty());
        let status = IntentStatus::from_stripe(&wire.status, last_error.as_deref())
            .ok_or_else(|| Unavailable(format!("unknown PaymentIntent status {}", wire.status)))?;
        Ok(Intent {
            id: wire.id,
            status,
            amount_cents: wire.amount,
            client_secret: wire.client_secret.unwrap_or_default(),
            charge_id: wire.latest_charge.map(|charge| match charge {
                ChargeRef::Id(id) | ChargeRef::Object { id } => id,
            }),
        })
    }
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

    /// `POST /v1/payment_intents/{id}/{action}`; when Stripe refuses the action because of the
    /// intent's status (400), the intent as it is now.
    async fn act(&self, intent_id: &str, action: &str, key: &str) -> Result<Intent, Unavailable> {
        let path = format!("/payment_intents/{}/{action}", path_segment(intent_id)?);
        let answer = self
            .in_time(
                self.idempotent(key)
                    .post_form::<WireIntent, _>(&path, NoFields {}),
            )
            .await?;
        match answer {
            Ok(intent) => intent.try_into(),
            Err(StripeError::Stripe(error))
                if error.http_status == 400 && error.error_type == ErrorType::InvalidRequest =>
            {
                self.retrieve(intent_id).await
            }
            Err(error) => Err(Unavailable(error.to_string())),
        }
    }
}

/// An id as one segment of a path: Stripe's ids are letters, digits and underscores.
fn path_segment(id: &str) -> Result<&str, Unavailable> {
    if !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        Ok(id)
    } else {
        Err(Unavailable(format!("{id:?} is not a Stripe id")))
    }
}

#[async_trait]
impl PaymentProvider for StripeProvider {
    async fn authorize(&self, request: &AuthorizeRequest) -> Result<Authorization, Unavailable> {
        let (payment_method, payment_method_data) = match &request.instrument {
            Instrument::PaymentMethod(id) => (Some(id.as_str()), None),
            Instrument::Token(token) => (
                None,
                Some(TokenCard {
                    kind: "card",
                    card: Token { token },
                }),
            ),
        };
        let form = CreateIntent {
            amount: request.amount_cents,
            currency: "usd",
            capture_method: "manual",
            confirm: true,
            payment_method_types: ["card"],
            payment_method,
            payment_method_data,
            transfer_group: &request.order_id,
            metadata: [
                ("gittix_charge_id", request.reference.as_str()),
                ("gittix_order_id", request.order_id.as_str()),
            ]
            .into(),
        };
        let client = self.idempotent(&request.idempotency_key);
        match self
            .in_time(client.post_form::<WireIntent, _>("/payment_intents", form))
            .await?
        {
            Ok(intent) => Ok(Authorization::Intent(intent.try_into()?)),
            // Only the card's refusal (402, card_error) or a request Stripe will never accept (an
            // unknown token or payment method: invalid_request_error) is a decline. Anything else
            // (409 for a request still in progress under the same key, 429, 5xx, a network
            // error) leaves the outcome unknown.
            Err(StripeError::Stripe(error)) if is_decline(&error) => Ok(Authorization::Declined {
                message: error
                    .message
                    .filter(|message| !message.trim().is_empty())
                    .unwrap_or_else(|| DECLINED.to_owned()),
            }),
            Err(error) => Err(Unavailable(error.to_string())),
        }
    }

    async fn retrieve(&self, intent_id: &str) -> Result<Intent, Unavailable> {
        let path = format!("/payment_intents/{}", path_segment(intent_id)?);
        self.in_time(self.client.get::<WireIntent>(&path))
            .await?
            .map_err(|error| Unavailable(error.to_string()))?
            .try_into()
    }

    async fn capture(&self, intent_id: &str, key: &str) -> Result<Intent, Unavailable> {
        self.act(intent_id, "capture", key).await
    }

    async fn cancel(&self, intent_id: &str, key: &str) -> Result<Intent, Unavailable> {
        self.act(intent_id, "cancel", key).await
    }

    async fn refund(&self, intent_id: &str, key: &str) -> Result<String, Unavailable> {
        let form = CreateRefund {
            payment_intent: path_segment(intent_id)?,
        };
        self.in_time(
            self.idempotent(key)
                .post_form::<WireRefund, _>("/refunds", form),
        )
        .await?
        .map(|refund| refund.id)
        .map_err(|error| Unavailable(error.to_string()))
    }
}

/// `POST /v1/accounts`: an Express account that can receive transfers.
#[derive(Serialize)]
struct CreateAccount<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    capabilities: Capabilities,
    metadata: BTreeMap<&'static str, &'a str>,
}

#[derive(Serialize)]
struct Capabilities {
    transfers: Requested,
}

#[derive(Serialize)]
struct Requested {
    requested: bool,
}

/// The fields of an account GitTix reads.
#[derive(Deserialize)]
struct WireAccount {
    id: String,
    #[serde(default)]
    payouts_enabled: bool,
    #[serde(default)]
    details_submitted: bool,
}

impl From<WireAccount> for Account {
    fn from(wire: WireAccount) -> Self {
        Self {
            id: wire.id,
            payouts_enabled: wire.payouts_enabled,
            details_submitted: wire.details_submitted,
        }
    }
}

/// `POST /v1/account_links`: the hosted onboarding.
#[derive(Serialize)]
struct CreateAccountLink<'a> {
    account: &'a str,
    refresh_url: &'a str,
    return_url: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Deserialize)]
struct WireAccountLink {
    url: String,
}

/// `POST /v1/transfers`.
#[derive(Serialize)]
struct CreateTransfer<'a> {
    amount: i64,
    currency: &'static str,
    destination: &'a str,
    source_transaction: &'a str,
    transfer_group: &'a str,
    metadata: BTreeMap<&'static str, &'a str>,
}

/// A transfer or a reversal: GitTix reads its id.
#[derive(Deserialize)]
struct WireId {
    id: String,
}

#[async_trait]
impl ConnectedAccounts for StripeProvider {
    async fn create_account(
        &self,
        seller_id: &str,
        email: Option<&str>,
        idempotency_key: &str,
    ) -> Result<Account, Unavailable> {
        let form = CreateAccount {
            kind: "express",
            email,
            capabilities: Capabilities {
                transfers: Requested { requested: true },
            },
            metadata: [("gittix_user_id", seller_id)].into(),
        };
        self.in_time(
            self.idempotent(idempotency_key)
                .post_form::<WireAccount, _>("/accounts", form),
        )
        .await?
        .map(Account::from)
        .map_err(|error| Unavailable(error.to_string()))
    }

    async fn account(&self, account_id: &str) -> Result<Account, Unavailable> {
        let path = format!("/accounts/{}", path_segment(account_id)?);
        self.in_time(self.client.get::<WireAccount>(&path))
            .await?
            .map(Account::from)
            .map_err(|error| Unavailable(error.to_string()))
    }

    async fn onboarding_link(
        &self,
        account_id: &str,
        back: &OnboardingReturn,
    ) -> Result<String, Unavailable> {
        let form = CreateAccountLink {
            account: path_segment(account_id)?,
            refresh_url: &back.refresh_url,
            return_url: &back.return_url,
            kind: "account_onboarding",
        };
        self.in_time(
            self.client
                .post_form::<WireAccountLink, _>("/account_links", form),
        )
        .await?
        .map(|link| link.url)
        .map_err(|error| Unavailable(error.to_string()))
    }

    async fn transfer(&self, request: &TransferRequest) -> Result<String, TransferError> {
        let form = CreateTransfer {
            amount: request.amount_cents,
            currency: "usd",
            destination: path_segment(&request.destination)?,
            source_transaction: path_segment(&request.source_transaction)?,
            transfer_group: &request.transfer_group,
            metadata: [("gittix_payout_id", request.payout_id.as_str())].into(),
        };
        self.in_time(
            self.idempotent(&request.idempotency_key)
                .post_form::<WireId, _>("/transfers", form),
        )
        .await?
        .map(|transfer| transfer.id)
        .map_err(|error| match error {
            // The same requests as a card's decline are ones Stripe will never accept.
            StripeError::Stripe(refusal) if is_decline(&refusal) => {
                let fallback = refusal.to_string();
                TransferError::Refused(refusal.message.unwrap_or(fallback))
            }
            other => Unavailable(other.to_string()).into(),
        })
    }

    async fn reverse_transfer(
        &self,
        transfer_id: &str,
        idempotency_key: &str,
    ) -> Result<String, Unavailable> {
        let path = format!("/transfers/{}/reversals", path_segment(transfer_id)?);
        self.in_time(
            self.idempotent(idempotency_key)
                .post_form::<WireId, _>(&path, NoFields {}),
        )
        .await?
        .map(|reversal| reversal.id)
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

    #[test]
    fn an_id_that_is_not_stripes_never_reaches_a_path() {
        assert!(path_segment("pi_123abc").is_ok());
        for bad in ["", "../charges", "pi_1/capture", "pi 1", "pi_1?x=y"] {
            assert!(path_segment(bad).is_err(), "{bad:?}");
        }
    }
}
