//! The payment-provider conformance suite: the simulator and Stripe's API (the stand-in server the
//! test command starts) behave alike for the test tokens, idempotency keys and refunds.

use std::sync::Arc;

use gittix_payments::provider::simulator::SimulatedStripe;
use gittix_payments::provider::stripe::StripeProvider;
use gittix_payments::provider::{ChargeOutcome, ChargeRequest, PaymentProvider};
use gittix_testing::stripe_url;

#[derive(Debug, Clone, Copy)]
enum Kind {
    Simulator,
    Stripe,
}

fn provider(kind: Kind) -> Arc<dyn PaymentProvider> {
    match kind {
        Kind::Simulator => Arc::new(SimulatedStripe::default()),
        Kind::Stripe => Arc::new(StripeProvider::new(&stripe_url(), "sk_test_gittix")),
    }
}

fn request(token: &str, key: &str) -> ChargeRequest {
    ChargeRequest {
        reference: "ch-ref".into(),
        amount_cents: 1999,
        token: token.into(),
        idempotency_key: format!("{key}-{}", uuid::Uuid::new_v4()),
        description: "test".into(),
    }
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
    async fn the_visa_test_token_pays(kind) {
        let outcome = provider(kind).charge(&request("tok_visa", "visa")).await.unwrap();
        assert!(matches!(&outcome, ChargeOutcome::Succeeded { stripe_id } if stripe_id.starts_with("ch_")), "{outcome:?}");
    }

    async fn the_declined_test_token_is_declined_with_stripes_message(kind) {
        let outcome = provider(kind).charge(&request("tok_chargeDeclined", "declined")).await.unwrap();
        assert_eq!(outcome, ChargeOutcome::Declined { message: "Your card was declined.".into() });
        let outcome = provider(kind).charge(&request("tok_chargeDeclinedInsufficientFunds", "funds")).await.unwrap();
        assert_eq!(outcome, ChargeOutcome::Declined { message: "Your card has insufficient funds.".into() });
    }

    async fn one_idempotency_key_charges_once(kind) {
        let provider = provider(kind);
        let once = request("tok_visa", "once");
        let first = provider.charge(&once).await.unwrap();
        let again = provider.charge(&once).await.unwrap();
        assert_eq!(first, again, "the same key returns the first charge");
        let other = provider.charge(&request("tok_visa", "other")).await.unwrap();
        assert_ne!(first, other);
    }

    async fn a_charge_is_refunded_once_per_key(kind) {
        let provider = provider(kind);
        let ChargeOutcome::Succeeded { stripe_id } = provider.charge(&request("tok_visa", "refund")).await.unwrap() else {
            panic!("the charge should succeed");
        };
        let key = format!("refund-{stripe_id}");
        let refund = provider.refund(&stripe_id, &key).await.unwrap();
        assert!(refund.starts_with("re_"), "{refund}");
        assert_eq!(provider.refund(&stripe_id, &key).await.unwrap(), refund);
    }
}

#[tokio::test]
async fn stripe_unreachable_is_an_unknown_outcome_not_a_decline() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let provider = StripeProvider::new(&format!("http://{closed}"), "sk_test_gittix");
    assert!(provider.charge(&request("tok_visa", "down")).await.is_err());
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
    let answer = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        provider.charge(&request("tok_visa", "silent")),
    )
    .await
    .expect("the provider gave up by itself");
    assert!(answer.is_err(), "{answer:?}");
    let refund = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        provider.refund("ch_123", "silent-refund"),
    )
    .await
    .expect("the provider gave up by itself");
    assert!(refund.is_err(), "{refund:?}");
}

#[tokio::test]
async fn stripe_records_the_amount_in_cents_and_usd() {
    let provider = StripeProvider::new(&stripe_url(), "sk_test_gittix");
    let ChargeOutcome::Succeeded { stripe_id } = provider
        .charge(&request("tok_visa", "amount"))
        .await
        .unwrap()
    else {
        panic!("the charge should succeed");
    };
    let charge: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/v1/charges/{stripe_id}", stripe_url()))
        .basic_auth("sk_test_gittix", Some(""))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (charge["amount"].clone(), charge["currency"].clone()),
        (serde_json::json!(1999), serde_json::json!("usd"))
    );
}
