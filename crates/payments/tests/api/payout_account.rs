//! `POST/GET /api/payouts/account`: a seller's Connect account is made once, onboarded, and
//! enabled, in simulator mode through GitTix's own onboarding page, with Stripe's keys through an
//! `account.updated` webhook (or asking Stripe).

use super::*;

impl PaymentsApp {
    /// `method path` with no body, as `who`.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        who: Option<&TestUser>,
    ) -> (StatusCode, Value) {
        let answer = self
            .service
            .request(method, path, who)
            .send()
            .await
            .unwrap();
        status_and_json(answer).await
    }

    async fn account_status(&self, seller: &TestUser) -> (StatusCode, Value) {
        self.call(Method::GET, "/api/payouts/account", Some(seller))
            .await
    }

    pub(crate) async fn start_onboarding(&self, seller: &TestUser) -> (StatusCode, Value) {
        self.call(Method::POST, "/api/payouts/account", Some(seller))
            .await
    }

    pub(crate) async fn complete_simulated_onboarding(
        &self,
        seller: &TestUser,
    ) -> (StatusCode, Value) {
        self.call(
            Method::POST,
            "/api/payouts/account/onboarding",
            Some(seller),
        )
        .await
    }

    /// The seller's recorded accounts: (Stripe id, status).
    async fn recorded_accounts(&self, seller: &TestUser) -> Vec<(String, String)> {
        sqlx::query_as("SELECT stripe_account_id, status FROM seller_accounts WHERE user_id = $1")
            .bind(&seller.id)
            .fetch_all(self.db.pool())
            .await
            .unwrap()
    }
}

fn status(status: &str) -> Value {
    json!({"status": status})
}

topology_tests! {
    async fn signed_out_there_is_no_account_to_see_or_start(topology) {
        let app = PaymentsApp::spawn(topology).await;
        for (method, path) in [(Method::GET, "/api/payouts/account"), (Method::POST, "/api/payouts/account"), (Method::POST, "/api/payouts/account/onboarding")] {
            assert_eq!(app.call(method, path, None).await.0, StatusCode::UNAUTHORIZED, "{path}");
        }
    }
}

#[tokio::test]
async fn in_simulator_mode_a_seller_onboards_on_gittixs_page_and_the_account_is_enabled() {
    let app = PaymentsApp::spawn(Topology::Embedded).await;
    let seller = app.user();
    assert_eq!(
        app.account_status(&seller).await,
        (StatusCode::OK, status("none"))
    );
    assert_eq!(
        app.complete_simulated_onboarding(&seller).await.0,
        StatusCode::NOT_FOUND,
        "no account yet"
    );

    let (code, first) = app.start_onboarding(&seller).await;
    assert_eq!(code, StatusCode::OK, "{first}");
    let accounts = app.recorded_accounts(&seller).await;
    assert_eq!(accounts.len(), 1);
    let (account, recorded) = &accounts[0];
    assert_eq!(recorded, "pending");
    assert_eq!(first["url"], format!("/payouts/onboarding/{account}"));
    // Resuming gives a link to the same account; nothing new is made.
    let (_, again) = app.start_onboarding(&seller).await;
    assert_eq!(again, first);
    assert_eq!(app.recorded_accounts(&seller).await.len(), 1);
    assert_eq!(
        app.account_status(&seller).await,
        (StatusCode::OK, status("pending"))
    );

    assert_eq!(
        app.complete_simulated_onboarding(&seller).await,
        (StatusCode::OK, status("enabled"))
    );
    assert_eq!(
        app.account_status(&seller).await,
        (StatusCode::OK, status("enabled"))
    );
    // Another seller's account is their own.
    let other = app.user();
    assert_eq!(
        app.account_status(&other).await,
        (StatusCode::OK, status("none"))
    );
}

#[tokio::test]
async fn with_stripe_the_account_is_made_once_and_enabled_by_its_account_updated_webhook() {
    let app = PaymentsApp::spawn(Topology::Distributed).await;
    let seller = app.user();
    // stripe-stateful-mock makes accounts but has no account links (docs/payments.md): the link
    // fails, 503, and the account it made is kept, so trying again reuses it.
    for _ in 0..2 {
        let (code, body) = app.start_onboarding(&seller).await;
        assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(
            body,
            json!({"errors": [{"message": "Stripe did not answer; try again in a moment"}]})
        );
    }
    let accounts = app.recorded_accounts(&seller).await;
    assert_eq!(accounts.len(), 1, "{accounts:?}");
    let (account, recorded) = accounts[0].clone();
    assert!(
        account.starts_with("acct_") && recorded == "pending",
        "{accounts:?}"
    );
    // Asked about at the stand-in, the account is not onboarded.
    assert_eq!(
        app.account_status(&seller).await,
        (StatusCode::OK, status("pending"))
    );
    assert_eq!(
        app.complete_simulated_onboarding(&seller).await.0,
        StatusCode::NOT_FOUND,
        "Stripe's form onboards"
    );

    let onboarded = json!({"id": "evt_account_1", "type": "account.updated",
        "data": {"object": {"id": account, "object": "account", "payouts_enabled": true, "details_submitted": true}}});
    assert_eq!(app.stripe_sends(&onboarded).await, StatusCode::OK);
    assert_eq!(
        app.account_status(&seller).await,
        (StatusCode::OK, status("enabled"))
    );
    // A late, older event saying it is not enabled yet does not undo it.
    let older = json!({"id": "evt_account_0", "type": "account.updated",
        "data": {"object": {"id": account, "object": "account", "payouts_enabled": false, "details_submitted": true}}});
    assert_eq!(app.stripe_sends(&older).await, StatusCode::OK);
    assert_eq!(
        app.account_status(&seller).await,
        (StatusCode::OK, status("enabled"))
    );
    // An account that is none of ours changes nothing.
    let stranger = json!({"id": "evt_account_2", "type": "account.updated",
        "data": {"object": {"id": "acct_notours", "object": "account", "payouts_enabled": true}}});
    assert_eq!(app.stripe_sends(&stranger).await, StatusCode::OK);
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM seller_accounts")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(rows, 1, "no account is recorded from a webhook");
    assert_eq!(
        app.recorded_accounts(&seller).await,
        [(account, "enabled".to_owned())]
    );
}

/// Connect's events come from an endpoint of their own, signed with its own secret.
#[tokio::test]
async fn an_account_updated_signed_with_the_connect_secret_is_taken_and_a_forged_one_is_not() {
    let config = PaymentsConfig {
        stripe_connect_webhook_secret: Some("whsec_connect_test".into()),
        ..PaymentsConfig::default()
    };
    let app =
        PaymentsApp::spawn_configured(Topology::Embedded, Providers::simulated(), config).await;
    let seller = app.user();
    app.start_onboarding(&seller).await;
    let (account, _) = app.recorded_accounts(&seller).await.remove(0);
    let now = i64::try_from(gittix_shared::time::unix_seconds()).unwrap();
    let onboarded = json!({"id": "evt_connect_1", "type": "account.updated",
        "data": {"object": {"id": account, "object": "account", "payouts_enabled": true}}});
    assert_eq!(
        app.webhook(&onboarded, now, "whsec_someone_else").await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(app.recorded_accounts(&seller).await[0].1, "pending");
    assert_eq!(
        app.webhook(&onboarded, now, "whsec_connect_test").await.0,
        StatusCode::OK
    );
    assert_eq!(app.recorded_accounts(&seller).await[0].1, "enabled");
}

/// Two "Set up payouts" at once: one account, both sent to it.
#[tokio::test]
async fn two_starts_at_once_record_one_account() {
    let app = PaymentsApp::spawn(Topology::Embedded).await;
    let seller = app.user();
    let (first, second) =
        tokio::join!(app.start_onboarding(&seller), app.start_onboarding(&seller));
    assert_eq!(first.0, StatusCode::OK);
    assert_eq!(first, second);
    assert_eq!(app.recorded_accounts(&seller).await.len(), 1);
}

/// The simulator keeps nothing: a restarted embedded GitTix must give it back the accounts it
/// recorded, or a seller half way through onboarding could never finish.
#[tokio::test]
async fn a_restarted_simulator_is_given_back_the_accounts_gittix_recorded() {
    let app = PaymentsApp::spawn(Topology::Embedded).await;
    let seller = app.user();
    let (code, link) = app.start_onboarding(&seller).await;
    assert_eq!(code, StatusCode::OK);
    // The same database, a new process: a simulator that never saw the account.
    let restarted = gittix_payments::build(
        &PaymentsConfig::default(),
        Providers::simulated(),
        app.db.clone(),
        &app.platform.platform,
    )
    .await
    .unwrap();
    let restarted = TestService::serve(restarted, &app.platform.platform).await;
    let call = async |method: Method, path: &str| {
        let answer = restarted
            .request(method, path, Some(&seller))
            .send()
            .await
            .unwrap();
        status_and_json(answer).await
    };
    assert_eq!(
        call(Method::POST, "/api/payouts/account").await,
        (StatusCode::OK, link)
    );
    assert_eq!(
        call(Method::POST, "/api/payouts/account/onboarding").await,
        (StatusCode::OK, status("enabled"))
    );
    assert_eq!(
        call(Method::GET, "/api/payouts/account").await,
        (StatusCode::OK, status("enabled"))
    );
}

topology_tests! {
    /// A seller's transfer names the buyer's charge as its source: payments keeps it from the
    /// capture.
    async fn a_captured_payment_keeps_its_stripe_charge(topology) {
        let app = PaymentsApp::spawn(topology).await;
        let (order, _) = app.paid_charge().await;
        let kept: Option<String> = sqlx::query_scalar("SELECT stripe_charge_id FROM charges WHERE order_id = $1")
            .bind(&order)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
        assert!(kept.as_deref().is_some_and(|id| id.starts_with("ch_")), "{kept:?}");
    }
}
