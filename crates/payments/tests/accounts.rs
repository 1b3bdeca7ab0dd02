//! The Connect half of the provider port (sellers' accounts, onboarding, transfers): one suite
//! for the simulator and for async-stripe against a Stripe-compatible server where one
//! implements the call. stripe-stateful-mock (npm, started by the test command) serves
//! accounts; no local server implements account links, transfers or reversals, so the Stripe
//! adapter's requests for those are checked against the requests Stripe documents, answered by
//! a recorder below (the one stand-in the project allows; docs/payments.md).

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Uri};
use gittix_payments::provider::accounts::{
    Account, ConnectedAccounts, OnboardingReturn, TransferRequest,
};
use gittix_payments::provider::simulator::SimulatedStripe;
use gittix_payments::provider::stripe::StripeProvider;
use gittix_testing::stripe_connect_url;

fn adapters() -> Vec<(&'static str, Arc<dyn ConnectedAccounts>)> {
    vec![
        ("simulator", Arc::new(SimulatedStripe::default())),
        (
            "stripe-stateful-mock",
            Arc::new(StripeProvider::new(&stripe_connect_url(), "sk_test_gittix")),
        ),
    ]
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

#[tokio::test]
async fn an_account_is_made_once_per_key_and_cannot_be_paid_out_to_before_onboarding() {
    for (adapter, accounts) in adapters() {
        let key = unique("gittix-account");
        let first = accounts
            .create_account("seller-1", Some("seller@example.com"), &key)
            .await
            .unwrap_or_else(|e| panic!("{adapter}: {e}"));
        assert!(first.id.starts_with("acct_"), "{adapter}: {first:?}");
        assert!(
            !first.payouts_enabled && !first.details_submitted,
            "{adapter}: a new account is not onboarded: {first:?}"
        );
        let again = accounts
            .create_account("seller-1", Some("seller@example.com"), &key)
            .await
            .unwrap();
        assert_eq!(
            again.id, first.id,
            "{adapter}: the same key, the same account"
        );
        let other = accounts
            .create_account("seller-2", None, &unique("gittix-account"))
            .await
            .unwrap();
        assert_ne!(other.id, first.id, "{adapter}");
        assert_eq!(
            accounts.account(&first.id).await.unwrap(),
            first,
            "{adapter}"
        );
        assert!(
            accounts.account("acct_nobodyhasthisone").await.is_err(),
            "{adapter}: an unknown account"
        );
    }
}

#[tokio::test]
async fn the_simulator_plays_onboarding_then_pays_out_once_per_key_and_reverses_once() {
    let stripe = SimulatedStripe::default();
    let account = stripe
        .create_account("seller", None, &unique("key"))
        .await
        .unwrap();
    let back = OnboardingReturn {
        refresh_url: "http://127.0.0.1:3000/payouts?refresh=1".into(),
        return_url: "http://127.0.0.1:3000/payouts".into(),
    };
    let link = stripe.onboarding_link(&account.id, &back).await.unwrap();
    assert_eq!(link, format!("/payouts/onboarding/{}", account.id));
    assert!(stripe.onboarding_link("acct_unknown", &back).await.is_err());

    let transfer = |key: &str, amount_cents| TransferRequest {
        destination: account.id.clone(),
        amount_cents,
        source_transaction: "ch_sim_1".into(),
        transfer_group: "order-1".into(),
        payout_id: "payout-1".into(),
        idempotency_key: key.into(),
    };
    assert!(
        stripe.transfer(&transfer("t-1", 1000)).await.is_err(),
        "not before the seller is onboarded"
    );
    assert_eq!(
        stripe.complete_onboarding(&account.id),
        Some(Account {
            payouts_enabled: true,
            details_submitted: true,
            ..account.clone()
        })
    );
    assert!(stripe.account(&account.id).await.unwrap().payouts_enabled);
    assert_eq!(stripe.complete_onboarding("acct_unknown"), None);

    let paid = stripe.transfer(&transfer("t-1", 1000)).await.unwrap();
    assert!(paid.starts_with("tr_"));
    assert_eq!(stripe.transfer(&transfer("t-1", 1000)).await.unwrap(), paid);
    assert!(
        stripe.transfer(&transfer("t-2", 0)).await.is_err(),
        "nothing to pay"
    );
    let reversed = stripe.reverse_transfer(&paid, "r-1").await.unwrap();
    assert!(reversed.starts_with("trr_"));
    assert_eq!(
        stripe.reverse_transfer(&paid, "r-1").await.unwrap(),
        reversed
    );
    assert!(
        stripe.reverse_transfer(&paid, "r-2").await.is_err(),
        "a transfer is reversed once"
    );
    assert!(stripe.reverse_transfer("tr_unknown", "r-3").await.is_err());
}

/// One request as the recorder received it.
#[derive(Debug, Clone)]
struct Recorded {
    method: Method,
    path: String,
    idempotency_key: Option<String>,
    authorization: Option<String>,
    /// The form, decoded and sorted.
    form: Vec<(String, String)>,
}

/// A server that records each request and answers it as Stripe documents (the fields GitTix
/// reads): what no local Stripe stand-in implements.
async fn recorder() -> (String, Arc<Mutex<Vec<Recorded>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let app = axum::Router::new().fallback(
        move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let log = log.clone();
            async move {
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned)
                };
                let mut form: Vec<(String, String)> =
                    serde_urlencoded::from_bytes(&body).unwrap_or_default();
                form.sort();
                let path = uri.path().to_owned();
                log.lock().unwrap().push(Recorded {
                    method,
                    path: path.clone(),
                    idempotency_key: header("idempotency-key"),
                    authorization: header("authorization"),
                    form,
                });
                let answer = if path == "/v1/accounts" {
                    serde_json::json!({"id": "acct_1", "object": "account", "type": "express",
                        "payouts_enabled": false, "details_submitted": false, "charges_enabled": false})
                } else if path == "/v1/account_links" {
                    serde_json::json!({"object": "account_link", "created": 1_700_000_000,
                        "expires_at": 1_700_000_300, "url": "https://connect.stripe.com/setup/e/acct_1/abc"})
                } else if path.ends_with("/reversals") {
                    serde_json::json!({"id": "trr_1", "object": "transfer_reversal", "amount": 4455, "transfer": "tr_1"})
                } else {
                    serde_json::json!({"id": "tr_1", "object": "transfer", "amount": 4455, "currency": "usd",
                        "destination": "acct_1", "source_transaction": "ch_1", "transfer_group": "order-1"})
                };
                axum::Json(answer)
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("{url}/v1"), seen)
}

fn pairs(fields: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    pairs.sort();
    pairs
}

#[tokio::test]
async fn the_stripe_adapter_sends_links_transfers_and_reversals_as_stripe_documents_them() {
    let (url, seen) = recorder().await;
    let stripe = StripeProvider::new(&url, "sk_test_recorded");
    let account = stripe
        .create_account(
            "seller-7",
            Some("seller@example.com"),
            "gittix-account-seller-7",
        )
        .await
        .unwrap();
    assert_eq!(
        account,
        Account {
            id: "acct_1".into(),
            payouts_enabled: false,
            details_submitted: false
        }
    );
    let back = OnboardingReturn {
        refresh_url: "https://gittix.example/payouts?refresh=1".into(),
        return_url: "https://gittix.example/payouts".into(),
    };
    let link = stripe.onboarding_link("acct_1", &back).await.unwrap();
    assert_eq!(link, "https://connect.stripe.com/setup/e/acct_1/abc");
    let transfer = TransferRequest {
        destination: "acct_1".into(),
        amount_cents: 4455,
        source_transaction: "ch_1".into(),
        transfer_group: "order-1".into(),
        payout_id: "payout-1".into(),
        idempotency_key: "gittix-payout-payout-1".into(),
    };
    assert_eq!(stripe.transfer(&transfer).await.unwrap(), "tr_1");
    assert_eq!(
        stripe
            .reverse_transfer("tr_1", "gittix-reversal-payout-1")
            .await
            .unwrap(),
        "trr_1"
    );
    // An id that is not Stripe's never reaches a path or a form.
    assert!(stripe.reverse_transfer("tr_1/../x", "k").await.is_err());

    let mut seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 4, "{seen:#?}");
    // https://docs.stripe.com/api/accounts/create (checked against stripe-stateful-mock too,
    // which ignores what it does not know): an Express account able to receive transfers.
    let created = seen.remove(0);
    assert_eq!(
        (created.method.clone(), created.path.as_str()),
        (Method::POST, "/v1/accounts")
    );
    assert_eq!(
        created.idempotency_key.as_deref(),
        Some("gittix-account-seller-7")
    );
    assert_eq!(
        created.form,
        pairs(&[
            ("capabilities[transfers][requested]", "true"),
            ("email", "seller@example.com"),
            ("metadata[gittix_user_id]", "seller-7"),
            ("type", "express"),
        ])
    );
    for request in &seen {
        assert_eq!(request.method, Method::POST);
        assert_eq!(
            request.authorization.as_deref(),
            Some("Bearer sk_test_recorded")
        );
    }
    // https://docs.stripe.com/api/account_links/create
    assert_eq!(seen[0].path, "/v1/account_links");
    assert_eq!(
        seen[0].form,
        pairs(&[
            ("account", "acct_1"),
            ("refresh_url", "https://gittix.example/payouts?refresh=1"),
            ("return_url", "https://gittix.example/payouts"),
            ("type", "account_onboarding"),
        ])
    );
    // https://docs.stripe.com/api/transfers/create, with separate charges and transfers:
    // https://docs.stripe.com/connect/separate-charges-and-transfers
    assert_eq!(seen[1].path, "/v1/transfers");
    assert_eq!(
        seen[1].idempotency_key.as_deref(),
        Some("gittix-payout-payout-1")
    );
    assert_eq!(
        seen[1].form,
        pairs(&[
            ("amount", "4455"),
            ("currency", "usd"),
            ("destination", "acct_1"),
            ("metadata[gittix_payout_id]", "payout-1"),
            ("source_transaction", "ch_1"),
            ("transfer_group", "order-1"),
        ])
    );
    // https://docs.stripe.com/api/transfer_reversals/create: no amount, the whole transfer.
    assert_eq!(seen[2].path, "/v1/transfers/tr_1/reversals");
    assert_eq!(
        seen[2].idempotency_key.as_deref(),
        Some("gittix-reversal-payout-1")
    );
    assert_eq!(seen[2].form, Vec::new());
}
