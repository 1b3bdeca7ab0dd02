//! The payment-provider conformance suite: the simulator and Stripe's API (localstripe, which the
//! test command starts) behave alike for Stripe's test tokens and payment methods, 3-D Secure,
//! authorization and capture, cancellation, idempotency keys and refunds.

use std::sync::Arc;

use gittix_payments::provider::simulator::SimulatedStripe;
use gittix_payments::provider::stripe::StripeProvider;
use gittix_payments::provider::{
    Authorization, AuthorizeRequest, Instrument, Intent, IntentStatus, PaymentProvider,
};
use gittix_testing::stripe_url;

#[derive(Debug, Clone, Copy)]
enum Kind {
    Simulator,
    Stripe,
}

/// An adapter under test, and how a buyer answers its 3-D Secure challenges: the simulator's
/// own page, or localstripe's test endpoint, which plays the part of Stripe.js.
struct Subject {
    provider: Arc<dyn PaymentProvider>,
    simulator: Option<Arc<SimulatedStripe>>,
}

impl Subject {
    fn new(kind: Kind) -> Self {
        match kind {
            Kind::Simulator => {
                let simulator = Arc::new(SimulatedStripe::default());
                Self {
                    provider: simulator.clone(),
                    simulator: Some(simulator),
                }
            }
            Kind::Stripe => Self {
                provider: Arc::new(StripeProvider::new(&stripe_url(), "sk_test_gittix")),
                simulator: None,
            },
        }
    }

    async fn authorize(&self, card: &str) -> Authorization {
        self.provider
            .authorize(&request(card, "authorize"))
            .await
            .unwrap()
    }

    /// Authorizes with a card that must give an intent.
    async fn intent(&self, card: &str) -> Intent {
        match self.authorize(card).await {
            Authorization::Intent(intent) => intent,
            declined => panic!("{card} gave {declined:?}"),
        }
    }

    async fn answer_challenge(&self, intent: &Intent, complete: bool) -> Intent {
        if let Some(simulator) = &self.simulator {
            return simulator
                .answer_challenge(&intent.id, &intent.client_secret, complete)
                .unwrap();
        }
        let answer: serde_json::Value = reqwest::Client::new()
            .post(format!(
                "{}/v1/payment_intents/{}/_authenticate",
                stripe_url(),
                intent.id
            ))
            .basic_auth("sk_test_gittix", Some(""))
            .form(&[
                ("client_secret", intent.client_secret.as_str()),
                ("success", if complete { "true" } else { "false" }),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(answer["id"], intent.id.as_str(), "{answer}");
        self.provider.retrieve(&intent.id).await.unwrap()
    }
}

fn request(card: &str, key: &str) -> AuthorizeRequest {
    AuthorizeRequest {
        reference: "charge-ref".into(),
        order_id: format!("order-{}", uuid::Uuid::new_v4()),
        amount_cents: 1999,
        instrument: Instrument::parse(card).expect("a test card"),
        idempotency_key: format!("{key}-{}", uuid::Uuid::new_v4()),
    }
}

fn key(what: &str) -> String {
    format!("{what}-{}", uuid::Uuid::new_v4())
}

macro_rules! provider_tests {
    ($( async fn $name:ident($kind:ident) $body:block )*) => {
        $(
            mod $name {
                use super::*;

                async fn run($kind: Kind) $body

                #[tokio::test]
                async fn simulator() {
                    run(Kind::Simulator).await
                }

                #[tokio::test]
                async fn stripe() {
                    run(Kind::Stripe).await
                }
            }
        )*
    };
}

provider_tests! {
    async fn the_visa_token_and_payment_method_authorize_the_amount(kind) {
        let subject = Subject::new(kind);
        for card in ["tok_visa", "pm_card_visa", "tok_mastercard", "pm_card_mastercard"] {
            let intent = subject.intent(card).await;
            assert_eq!(intent.status, IntentStatus::RequiresCapture, "{card}");
            assert_eq!(intent.amount_cents, 1999);
            assert!(intent.id.starts_with("pi_"), "{intent:?}");
            assert!(!intent.client_secret.is_empty());
            assert_eq!(subject.provider.retrieve(&intent.id).await.unwrap(), intent);
        }
    }

    async fn an_authorization_is_captured_once_and_then_refunded(kind) {
        let subject = Subject::new(kind);
        let intent = subject.intent("tok_visa").await;
        let capture = key("capture");
        let captured = subject.provider.capture(&intent.id, &capture).await.unwrap();
        assert_eq!(captured.status, IntentStatus::Succeeded);
        // Its charge, which a seller's transfer will name as its source.
        let charge = captured.charge_id.clone().unwrap_or_default();
        assert!(charge.starts_with("ch_"), "{captured:?}");
        // Captured again (a retry after a lost answer): still the one capture, the one charge.
        let again = subject.provider.capture(&intent.id, &capture).await.unwrap();
        assert_eq!(again.status, IntentStatus::Succeeded);
        assert_eq!(again.charge_id.as_deref(), Some(charge.as_str()));
        let refund = key("refund");
        let refund_id = subject.provider.refund(&intent.id, &refund).await.unwrap();
        assert!(refund_id.starts_with("re_"), "{refund_id}");
        assert_eq!(subject.provider.refund(&intent.id, &refund).await.unwrap(), refund_id);
    }

    async fn a_cancelled_authorization_cannot_be_captured(kind) {
        let subject = Subject::new(kind);
        let intent = subject.intent("pm_card_visa").await;
        let cancelled = subject.provider.cancel(&intent.id, &key("cancel")).await.unwrap();
        assert_eq!(cancelled.status, IntentStatus::Canceled);
        // Cancelling again answers the intent as it is.
        let again = subject.provider.cancel(&intent.id, &key("cancel")).await.unwrap();
        assert_eq!(again.status, IntentStatus::Canceled);
        let captured = subject.provider.capture(&intent.id, &key("capture")).await.unwrap();
        assert_eq!(captured.status, IntentStatus::Canceled, "a cancelled hold was captured");
    }

    async fn a_captured_payment_cannot_be_cancelled(kind) {
        let subject = Subject::new(kind);
        let intent = subject.intent("tok_visa").await;
        subject.provider.capture(&intent.id, &key("capture")).await.unwrap();
        let cancelled = subject.provider.cancel(&intent.id, &key("cancel")).await.unwrap();
        assert_eq!(cancelled.status, IntentStatus::Succeeded);
    }

    async fn declining_cards_are_declined_with_stripes_message(kind) {
        let subject = Subject::new(kind);
        for (card, message) in [
            ("tok_chargeDeclined", "Your card was declined."),
            ("pm_card_chargeDeclined", "Your card was declined."),
            ("tok_chargeDeclinedInsufficientFunds", "Your card has insufficient funds."),
            ("pm_card_chargeDeclinedInsufficientFunds", "Your card has insufficient funds."),
            ("pm_card_chargeDeclinedExpiredCard", "Your card has expired."),
            ("tok_chargeDeclinedProcessingError", "An error occurred while processing your card. Try again in a little bit."),
        ] {
            assert_eq!(
                subject.authorize(card).await,
                Authorization::Declined { message: message.into() },
                "{card}"
            );
        }
    }

    async fn an_unknown_token_is_declined_not_an_outage(kind) {
        let subject = Subject::new(kind);
        let answer = subject.authorize("tok_madeUp123").await;
        assert!(matches!(answer, Authorization::Declined { .. }), "{answer:?}");
    }

    async fn a_card_that_asks_for_3d_secure_waits_for_the_challenge(kind) {
        let subject = Subject::new(kind);
        let intent = subject.intent("pm_card_authenticationRequired").await;
        assert_eq!(intent.status, IntentStatus::RequiresAction);
        assert!(!intent.client_secret.is_empty());
        assert_eq!(intent.charge_id, None, "no charge before the challenge");
        // Nothing can be captured before the buyer answers.
        let captured = subject.provider.capture(&intent.id, &key("capture")).await.unwrap();
        assert_eq!(captured.status, IntentStatus::RequiresAction);
        let answered = subject.answer_challenge(&intent, true).await;
        assert_eq!(answered.status, IntentStatus::RequiresCapture);
        let captured = subject.provider.capture(&intent.id, &key("capture")).await.unwrap();
        assert_eq!(captured.status, IntentStatus::Succeeded);
        assert!(captured.charge_id.is_some_and(|id| id.starts_with("ch_")));
    }

    async fn a_failed_challenge_is_a_decline(kind) {
        let subject = Subject::new(kind);
        let intent = subject.intent("pm_card_authenticationRequired").await;
        let answered = subject.answer_challenge(&intent, false).await;
        assert!(matches!(answered.status, IntentStatus::Declined { .. }), "{answered:?}");
        assert!(matches!(
            subject.provider.retrieve(&intent.id).await.unwrap().status,
            IntentStatus::Declined { .. }
        ));
        // An open challenge is cancelled like any hold.
        let open = subject.intent("pm_card_authenticationRequired").await;
        let cancelled = subject.provider.cancel(&open.id, &key("cancel")).await.unwrap();
        assert_eq!(cancelled.status, IntentStatus::Canceled);
    }

    async fn one_idempotency_key_authorizes_once(kind) {
        let subject = Subject::new(kind);
        let once = request("tok_visa", "once");
        let first = subject.provider.authorize(&once).await.unwrap();
        let again = subject.provider.authorize(&once).await.unwrap();
        assert_eq!(first, again, "the same key returns the first intent");
        let other = subject.provider.authorize(&request("tok_visa", "other")).await.unwrap();
        assert_ne!(first, other);
    }
}

#[tokio::test]
async fn stripe_unreachable_is_an_unknown_outcome_not_a_decline() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let provider = StripeProvider::new(&format!("http://{closed}"), "sk_test_gittix");
    assert!(provider
        .authorize(&request("tok_visa", "down"))
        .await
        .is_err());
    assert!(provider.capture("pi_123", "down-capture").await.is_err());
    assert!(provider.cancel("pi_123", "down-cancel").await.is_err());
}

#[tokio::test]
async fn stripe_that_never_answers_is_an_unknown_outcome_after_the_timeout() {
    // Accepts connections and reads them, but never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = silent.local_addr().unwrap();
    let _server = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((connection, _)) = silent.accept().await {
            held.push(connection);
        }
    });
    let provider = StripeProvider::new(&format!("http://{address}"), "sk_test_gittix")
        .with_timeout(std::time::Duration::from_millis(300));
    let patience = std::time::Duration::from_secs(10);
    let answer = tokio::time::timeout(patience, provider.authorize(&request("tok_visa", "silent")))
        .await
        .expect("the provider gave up by itself");
    assert!(answer.is_err(), "{answer:?}");
    let capture = tokio::time::timeout(patience, provider.capture("pi_123", "silent-capture"))
        .await
        .expect("the provider gave up by itself");
    assert!(capture.is_err(), "{capture:?}");
    let refund = tokio::time::timeout(patience, provider.refund("pi_123", "silent-refund"))
        .await
        .expect("the provider gave up by itself");
    assert!(refund.is_err(), "{refund:?}");
}

/// The intent Stripe holds has the order's amount in cents and dollars, names the attempt and
/// the order, and is grouped under the order for the seller's transfer.
#[tokio::test]
async fn stripe_records_the_amount_the_order_and_the_attempt() {
    let provider = StripeProvider::new(&stripe_url(), "sk_test_gittix");
    let request = request("tok_visa", "amount");
    let Authorization::Intent(intent) = provider.authorize(&request).await.unwrap() else {
        panic!("the authorization should succeed");
    };
    let stored: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/v1/payment_intents/{}", stripe_url(), intent.id))
        .basic_auth("sk_test_gittix", Some(""))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stored["amount"], 1999, "{stored}");
    assert_eq!(stored["currency"], "usd");
    assert_eq!(stored["capture_method"], "manual");
    assert_eq!(stored["metadata"]["gittix_charge_id"], "charge-ref");
    assert_eq!(
        stored["metadata"]["gittix_order_id"],
        request.order_id.as_str()
    );
    assert_eq!(stored["transfer_group"], request.order_id.as_str());
}
