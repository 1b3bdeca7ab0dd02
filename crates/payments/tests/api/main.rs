//! The payments API over real HTTP with the real bus: the embedded topology pays through the
//! simulator, the distributed one through async-stripe and the Stripe stand-in.

use std::sync::Arc;
use std::time::Duration;

use gittix_payments::provider::simulator::SimulatedStripe;
use gittix_payments::provider::stripe::StripeProvider;
use gittix_payments::provider::{
    Authorization, AuthorizeRequest, Intent, IntentStatus, PaymentProvider, Providers, Unavailable,
};
use gittix_payments::PaymentsConfig;
use gittix_shared::bus::Bus;
use gittix_shared::db::Db;
use gittix_shared::domain::{CancelReason, OrderStatus};
use gittix_shared::events::{
    OrderCancelled, OrderCompleted, OrderConfirmed, OrderCreated, OrderedTicket, TicketRef,
};
use gittix_shared::fees::Fees;
use gittix_shared::service::Platform;
use gittix_shared::time::{iso8601, unix_millis};
use gittix_testing::topology_tests;
use gittix_testing::{
    eventually, publish_event, status_and_json, stripe_connect_url, stripe_url, Body, EventLog,
    Spawned, TestDatabase, TestPlatform, TestService, TestUser, Topology,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

mod input;
mod payout_account;
mod payouts;
mod rate_limit;
mod three_d_secure;

struct PaymentsApp {
    /// Plays the orders service's part (see [`orders_stand_in`]); stopped with the app.
    _orders: AbortOnDrop,
    service: TestService,
    platform: TestPlatform,
    db: Db,
    provider: Arc<dyn PaymentProvider>,
    _database: TestDatabase,
}

impl PaymentsApp {
    /// The embedded topology pays through the simulator, the distributed one through Stripe.
    /// Sellers' accounts likewise: the simulator's, or Stripe's (stripe-stateful-mock).
    async fn spawn(topology: Topology) -> Self {
        let providers = match topology {
            Topology::Embedded => Providers::simulated(),
            Topology::Distributed => Providers {
                payments: Arc::new(StripeProvider::new(&stripe_url(), "sk_test_gittix")),
                accounts: Arc::new(StripeProvider::new(&stripe_connect_url(), "sk_test_gittix")),
            },
        };
        Self::spawn_unlimited(topology, providers).await
    }

    /// Through `provider`, with the simulator's accounts.
    async fn spawn_with(topology: Topology, provider: Arc<dyn PaymentProvider>) -> Self {
        Self::spawn_unlimited(topology, Providers::with_simulated_accounts(provider)).await
    }

    /// With the rate limits lifted: the bursts of the other suites are `rate_limit.rs`'s
    /// business only there.
    async fn spawn_unlimited(topology: Topology, providers: Providers) -> Self {
        let unlimited = std::num::NonZeroU32::new(1_000_000).unwrap();
        let config = PaymentsConfig {
            payments_per_user_per_minute: unlimited,
            payments_per_client_per_minute: unlimited,
            ..PaymentsConfig::default()
        };
        Self::spawn_configured(topology, providers, config).await
    }

    /// With `config`, and the webhook secret of these tests.
    async fn spawn_configured(
        topology: Topology,
        providers: Providers,
        config: PaymentsConfig,
    ) -> Self {
        Self::spawn_charging(topology, providers, config, Fees::default()).await
    }

    /// With `config` and the platform's `fees`.
    async fn spawn_charging(
        topology: Topology,
        providers: Providers,
        config: PaymentsConfig,
        fees: Fees,
    ) -> Self {
        let provider = providers.payments.clone();
        let config = PaymentsConfig {
            stripe_webhook_secret: Some(WEBHOOK_SECRET.to_owned()),
            ..config
        };
        let Spawned {
            service,
            platform,
            database,
        } = Spawned::new(topology, async |db, platform| {
            let platform = Platform {
                fees,
                ..platform.clone()
            };
            gittix_payments::build(&config, providers.clone(), db, &platform).await
        })
        .await;
        let orders = orders_stand_in(platform.bus.bus.clone(), database.db.clone()).await;
        Self {
            _orders: orders,
            service,
            platform,
            db: database.db.clone(),
            provider,
            _database: database,
        }
    }

    fn bus(&self) -> &dyn Bus {
        self.platform.bus.bus.as_ref()
    }

    /// One round of reconciliation now, through the service's provider.
    async fn reconcile(&self, unsettled_for: Duration) -> anyhow::Result<()> {
        gittix_payments::reconcile_once(self.db.clone(), self.provider.clone(), unsettled_for).await
    }

    fn user(&self) -> TestUser {
        TestUser::new(self.platform.sessions())
    }

    /// An order the orders service created and confirmed (the tickets service reserved its
    /// ticket), as its events reach payments; waits for the replica. Its next version is 2.
    async fn order_created(
        &self,
        buyer: &TestUser,
        price_cents: i64,
        expires_in_ms: i64,
    ) -> String {
        let id = self
            .order_unconfirmed(buyer, price_cents, expires_in_ms)
            .await;
        self.replica_status_is(&id, "created").await;
        self.order_confirmed(&id).await;
        self.replica_status_is(&id, "awaiting:payment").await;
        id
    }

    /// `order:created` alone: the reservation is not confirmed yet.
    async fn order_unconfirmed(
        &self,
        buyer: &TestUser,
        price_cents: i64,
        expires_in_ms: i64,
    ) -> String {
        let id = uuid::Uuid::now_v7().to_string();
        self.publish_order_created(&id, buyer, price_cents, expires_in_ms)
            .await;
        id
    }

    async fn order_unconfirmed_with_id(
        &self,
        id: &str,
        buyer: &TestUser,
        price_cents: i64,
    ) -> String {
        self.publish_order_created(id, buyer, price_cents, 60_000)
            .await;
        id.to_owned()
    }

    async fn publish_order_created(
        &self,
        id: &str,
        buyer: &TestUser,
        price_cents: i64,
        expires_in_ms: i64,
    ) {
        let id = id.to_owned();
        let event = OrderCreated {
            id: id.clone(),
            version: 0,
            status: OrderStatus::Created,
            user_id: buyer.id.clone(),
            expires_at: iso8601(unix_millis() + expires_in_ms),
            ticket: OrderedTicket {
                id: "ticket".into(),
                price: price_cents,
                version: Some(0),
            },
            total: None,
        };
        publish_event(self.bus(), &event).await;
    }

    async fn order_confirmed(&self, id: &str) {
        let event = OrderConfirmed {
            id: id.to_owned(),
            version: 1,
            ticket: TicketRef {
                id: "ticket".into(),
            },
        };
        publish_event(self.bus(), &event).await;
    }

    async fn replica_status_is(&self, id: &str, status: &str) {
        eventually(
            &format!("the replica of order {id} to be {status}"),
            || async {
                let held: Option<String> =
                    sqlx::query_scalar("SELECT status FROM orders WHERE id = $1")
                        .bind(id)
                        .fetch_optional(self.db.pool())
                        .await
                        .unwrap();
                (held.as_deref() == Some(status)).then_some(())
            },
        )
        .await;
    }

    /// `POST /api/payments`; a `&str` body is sent as written.
    async fn pay(&self, user: Option<&TestUser>, body: impl Into<Body>) -> (StatusCode, Value) {
        let paid = self.service.send(Method::POST, "/api/payments", user, body);
        status_and_json(paid.await).await
    }

    /// Waits for the order's attempts to be `expected` (status, amount, attempt).
    async fn charges_become(&self, order: &str, expected: &[(&str, i64, i64)]) {
        let expected: Vec<(String, i64, i64)> = expected
            .iter()
            .map(|(status, amount, attempt)| ((*status).to_owned(), *amount, *attempt))
            .collect();
        eventually(
            &format!("the attempts of {order} to be {expected:?}"),
            || async { (self.charges(order).await == expected).then_some(()) },
        )
        .await;
    }

    /// Sends `event` to the webhook route, signed with `secret` at `signed_at` (unix seconds).
    async fn webhook(&self, event: &Value, signed_at: i64, secret: &str) -> (StatusCode, Value) {
        let body = serde_json::to_vec(event).unwrap();
        let response = self
            .service
            .request(Method::POST, "/api/payments/webhook", None::<&str>)
            .header(
                "stripe-signature",
                gittix_payments::webhook::sign(secret, &body, signed_at),
            )
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        status_and_json(response).await
    }

    /// Sends `event` as Stripe does, signed now with the test secret; returns the status.
    async fn stripe_sends(&self, event: &Value) -> StatusCode {
        let now = i64::try_from(gittix_shared::time::unix_seconds()).unwrap();
        self.webhook(event, now, WEBHOOK_SECRET).await.0
    }

    async fn charges(&self, order: &str) -> Vec<(String, i64, i64)> {
        sqlx::query_as(
            "SELECT status, amount, attempt FROM charges WHERE order_id = $1 ORDER BY attempt",
        )
        .bind(order)
        .fetch_all(self.db.pool())
        .await
        .unwrap()
    }
}

/// Stops a background task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The orders service's part in a payment, as its events reach payments: `charge:authorized`
/// completes the order (its next version) unless the replica shows it cancelled by then. The
/// whole conversation with the real orders service is in crates/gittix/tests/marketplace.rs.
async fn orders_stand_in(bus: Arc<dyn Bus>, db: Db) -> AbortOnDrop {
    let mut authorized = EventLog::watch(bus.as_ref(), &["charge:authorized"]).await;
    AbortOnDrop(tokio::spawn(async move {
        loop {
            let Some((_, data)) = authorized.next_within(Duration::from_secs(3600)).await else {
                continue;
            };
            let order = data["orderId"].as_str().unwrap_or_default().to_owned();
            let held: Option<(String, i64)> =
                sqlx::query_as("SELECT status, version FROM orders WHERE id = $1")
                    .bind(&order)
                    .fetch_optional(db.pool())
                    .await
                    .unwrap();
            if let Some((status, version)) = held {
                if status == "awaiting:payment" {
                    let completed = OrderCompleted {
                        id: order,
                        version: version + 1,
                        ticket: TicketRef {
                            id: "ticket".into(),
                        },
                        user_id: None,
                        total: None,
                    };
                    publish_event(bus.as_ref(), &completed).await;
                }
            }
        }
    }))
}

fn error(message: &str) -> Value {
    json!({"errors": [{"message": message}]})
}

topology_tests! {
    async fn needs_sign_in_a_token_and_an_order_id(topology) {
        let app = PaymentsApp::spawn(topology).await;
        assert_eq!(app.pay(None, json!({"token": "tok_visa", "orderId": "x"})).await, (StatusCode::UNAUTHORIZED, error("Not authorized")));
        let (status, body) = app.pay(Some(&app.user()), json!({})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body, json!({"errors": [
            {"message": "Token must be provided", "field": "token"},
            {"message": "OrderId must be provided", "field": "orderId"},
        ]}));
    }

    async fn an_unknown_order_is_404_and_another_users_401(topology) {
        let app = PaymentsApp::spawn(topology).await;
        let (buyer, stranger) = (app.user(), app.user());
        assert_eq!(app.pay(Some(&buyer), json!({"token": "tok_visa", "orderId": "nothing"})).await, (StatusCode::NOT_FOUND, error("Not Found")));
        let order = app.order_created(&buyer, 2000, 60_000).await;
        assert_eq!(app.pay(Some(&stranger), json!({"token": "tok_visa", "orderId": order})).await, (StatusCode::UNAUTHORIZED, error("Not authorized")));
        assert!(app.charges(&order).await.is_empty());
    }

    async fn a_cancelled_order_cannot_be_paid(topology) {
        let app = PaymentsApp::spawn(topology).await;
        let buyer = app.user();
        let order = app.order_created(&buyer, 2000, 60_000).await;
        let cancelled = OrderCancelled { id: order.clone(), version: 2, ticket: TicketRef { id: "ticket".into() }, reason: CancelReason::Cancelled };
        publish_event(app.bus(), &cancelled).await;
        app.replica_status_is(&order, "cancelled").await;
        let paid = app.pay(Some(&buyer), json!({"token": "tok_visa", "orderId": order})).await;
        assert_eq!(paid, (StatusCode::BAD_REQUEST, error("Cannot pay for an cancelled order")));
    }

    async fn a_payment_right_after_ordering_waits_for_the_confirmation(topology) {
        let app = PaymentsApp::spawn(topology).await;
        let buyer = app.user();
        // The buyer pays the moment the order is made: payments has not even heard of it.
        let order = uuid::Uuid::now_v7().to_string();
        let paying = app.pay(Some(&buyer), json!({"token": "tok_visa", "orderId": order}));
        let events = async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let id = app.order_unconfirmed_with_id(&order, &buyer, 2000).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            app.order_confirmed(&id).await;
        };
        let (paid, ()) = tokio::join!(paying, events);
        assert_eq!(paid.0, StatusCode::CREATED, "{}", paid.1);
        assert_eq!(app.charges(&order).await, [("completed".to_owned(), 2000, 1)]);
    }

    async fn an_order_the_tickets_service_never_confirmed_cannot_be_paid(topology) {
        let app = PaymentsApp::spawn(topology).await;
        let buyer = app.user();
        let order = app.order_unconfirmed(&buyer, 2000, 60_000).await;
        app.replica_status_is(&order, "created").await;
        let paid = app.pay(Some(&buyer), json!({"token": "tok_visa", "orderId": order})).await;
        assert_eq!(paid, (StatusCode::BAD_REQUEST, error("The ticket is not confirmed for this order yet; try again")));
        assert!(app.charges(&order).await.is_empty());
    }

    async fn tok_visa_pays_the_orders_price_in_cents_and_publishes_charge_created(topology) {
        let app = PaymentsApp::spawn(topology).await;
        let mut events = EventLog::watch(app.bus(), &["charge:created"]).await;
        let buyer = app.user();
        let order = app.order_created(&buyer, 1999, 60_000).await;
        let (status, body) = app.pay(Some(&buyer), json!({"token": "tok_visa", "orderId": order})).await;
        assert_eq!(status, StatusCode::CREATED);
        let charge_id = body["id"].as_str().unwrap();
        assert_eq!(app.charges(&order).await, [("completed".to_owned(), 1999, 1)]);
        let (_, data) = events.next().await;
        assert_eq!((data["id"].as_str(), data["orderId"].as_str(), data["amount"].as_i64()), (Some(charge_id), Some(order.as_str()), Some(1999)));
        let stripe_id = data["stripeId"].as_str().unwrap();
        assert!(stripe_id.starts_with("pi_"), "{stripe_id}");
        if topology == Topology::Distributed {
            // Stripe's own record of it: the price in cents, in US dollars, captured.
            let intent: Value = reqwest::Client::new()
                .get(format!("{}/v1/payment_intents/{stripe_id}", stripe_url()))
                .basic_auth("sk_test_gittix", Some(""))
                .send().await.unwrap().json().await.unwrap();
            assert_eq!((intent["amount"].clone(), intent["currency"].clone(), intent["status"].clone()), (json!(1999), json!("usd"), json!("succeeded")));
        }
        // Paying again is refused.
        let again = app.pay(Some(&buyer), json!({"token": "tok_visa", "orderId": order})).await;
        assert_eq!(again, (StatusCode::BAD_REQUEST, error("Order has already been paid")));
    }

    async fn a_declined_card_says_why_and_the_order_stays_payable(topology) {
        let app = PaymentsApp::spawn(topology).await;
        let mut events = EventLog::watch(app.bus(), &["charge:failed"]).await;
        let buyer = app.user();
        let order = app.order_created(&buyer, 2000, 60_000).await;
        let declined = app.pay(Some(&buyer), json!({"token": "tok_chargeDeclined", "orderId": order})).await;
        assert_eq!(declined, (StatusCode::BAD_REQUEST, error("Your card was declined.")));
        let (_, data) = events.next().await;
        assert_eq!((data["attempt"].clone(), data["reason"].clone()), (json!(1), json!("Your card was declined.")));
        let (status, _) = app.pay(Some(&buyer), json!({"token": "tok_visa", "orderId": order})).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(app.charges(&order).await, [("failed".to_owned(), 2000, 1), ("completed".to_owned(), 2000, 2)]);
    }

    async fn three_declines_end_the_attempts(topology) {
        let app = PaymentsApp::spawn(topology).await;
        let mut events = EventLog::watch(app.bus(), &["charge:failed"]).await;
        let buyer = app.user();
        let order = app.order_created(&buyer, 2000, 60_000).await;
        for attempt in 1..=3 {
            let declined = app.pay(Some(&buyer), json!({"token": "tok_chargeDeclined", "orderId": order})).await;
            assert_eq!(declined.0, StatusCode::BAD_REQUEST);
            assert_eq!(events.next().await.1["attempt"], attempt);
        }
        let fourth = app.pay(Some(&buyer), json!({"token": "tok_visa", "orderId": order})).await;
        assert_eq!(fourth, (StatusCode::BAD_REQUEST, error("Too many declined payments for this order")));
    }

    async fn payments_at_the_same_moment_charge_once(topology) {
        let app = PaymentsApp::spawn(topology).await;
        let buyer = app.user();
        let order = app.order_created(&buyer, 2000, 60_000).await;
        let body = json!({"token": "tok_visa", "orderId": order});
        let attempts = futures_util::future::join_all((0..8).map(|_| app.pay(Some(&buyer), body.clone()))).await;
        let paid = attempts.iter().filter(|(status, _)| *status == StatusCode::CREATED).count();
        assert_eq!(paid, 1, "{attempts:?}");
        let completed = app.charges(&order).await.iter().filter(|(status, _, _)| status == "completed").count();
        assert_eq!(completed, 1);
    }

    async fn an_expired_order_cannot_be_paid(topology) {
        let app = PaymentsApp::spawn(topology).await;
        let buyer = app.user();
        let order = app.order_created(&buyer, 2000, -1).await;
        let paid = app.pay(Some(&buyer), json!({"token": "tok_visa", "orderId": order})).await;
        assert_eq!(paid, (StatusCode::BAD_REQUEST, error("Order has expired")));
        assert!(app.charges(&order).await.is_empty());
    }

    async fn a_hold_whose_order_ended_meanwhile_is_released_and_nothing_is_charged(topology) {
        // The expiry wins at the orders service while Stripe authorizes the card.
        let order = uuid::Uuid::now_v7().to_string();
        let stripe = match topology {
            Topology::Embedded => Arc::new(SimulatedStripe::default()) as Arc<dyn PaymentProvider>,
            Topology::Distributed => Arc::new(StripeProvider::new(&stripe_url(), "sk_test_gittix")),
        };
        let provider = Arc::new(ExpiresWhileAuthorizing { stripe, bus: std::sync::OnceLock::new(), intent: std::sync::Mutex::default() });
        let app = PaymentsApp::spawn_with(topology, provider.clone()).await;
        provider.bus.set(app.platform.bus.bus.clone()).ok().unwrap();
        let mut failures = EventLog::watch(app.bus(), &["charge:failed"]).await;
        let buyer = app.user();
        app.order_unconfirmed_with_id(&order, &buyer, 2000).await;
        app.replica_status_is(&order, "created").await;
        app.order_confirmed(&order).await;
        app.replica_status_is(&order, "awaiting:payment").await;

        let paid = app.pay(Some(&buyer), json!({"token": "tok_visa", "orderId": order})).await;
        assert_eq!(paid, (StatusCode::BAD_REQUEST, error("The order ended before the payment completed; nothing was charged.")));
        assert_eq!(app.charges(&order).await, [("failed".to_owned(), 2000, 1)]);
        let (_, data) = failures.next().await;
        assert_eq!(data["orderId"], order.as_str());
        // The hold is released at Stripe: the card is not charged.
        let intent = provider.intent.lock().unwrap().clone().expect("an intent was made");
        assert_eq!(app.provider.retrieve(&intent).await.unwrap().status, IntentStatus::Canceled);
    }
}

/// Authorizes through `stripe`, and meanwhile the order is cancelled (its lock ran out and the
/// orders service cancelled it first): the answer comes back once payments knows.
struct ExpiresWhileAuthorizing {
    stripe: Arc<dyn PaymentProvider>,
    bus: std::sync::OnceLock<Arc<dyn Bus>>,
    intent: std::sync::Mutex<Option<String>>,
}

#[async_trait::async_trait]
impl PaymentProvider for ExpiresWhileAuthorizing {
    async fn authorize(&self, request: &AuthorizeRequest) -> Result<Authorization, Unavailable> {
        let answer = self.stripe.authorize(request).await?;
        if let Authorization::Intent(intent) = &answer {
            *self.intent.lock().unwrap() = Some(intent.id.clone());
        }
        let bus = self.bus.get().expect("the bus is set");
        let cancelled = OrderCancelled {
            id: request.order_id.clone(),
            version: 2,
            ticket: TicketRef {
                id: "ticket".into(),
            },
            reason: CancelReason::Expired,
        };
        let mut seen = EventLog::watch(bus.as_ref(), &["order:cancelled"]).await;
        publish_event(bus.as_ref(), &cancelled).await;
        seen.next().await;
        // Give payments' replica a moment to apply it.
        tokio::time::sleep(Duration::from_millis(300)).await;
        Ok(answer)
    }

    async fn retrieve(&self, intent: &str) -> Result<Intent, Unavailable> {
        self.stripe.retrieve(intent).await
    }

    async fn capture(&self, intent: &str, key: &str) -> Result<Intent, Unavailable> {
        self.stripe.capture(intent, key).await
    }

    async fn cancel(&self, intent: &str, key: &str) -> Result<Intent, Unavailable> {
        self.stripe.cancel(intent, key).await
    }

    async fn refund(&self, intent: &str, key: &str) -> Result<String, Unavailable> {
        self.stripe.refund(intent, key).await
    }
}

mod decline_cap;

const WEBHOOK_SECRET: &str = "whsec_gittix_test";

mod webhooks {
    use super::*;

    impl PaymentsApp {
        /// A paid order; returns its Stripe PaymentIntent id.
        pub(crate) async fn paid_charge(&self) -> (String, String) {
            let buyer = self.user();
            let order = self.order_created(&buyer, 2000, 60_000).await;
            let (status, _) = self
                .pay(Some(&buyer), json!({"token": "tok_visa", "orderId": order}))
                .await;
            assert_eq!(status, StatusCode::CREATED);
            let stripe_id: String =
                sqlx::query_scalar("SELECT stripe_id FROM charges WHERE order_id = $1")
                    .bind(&order)
                    .fetch_one(self.db.pool())
                    .await
                    .unwrap();
            (order, stripe_id)
        }
    }

    fn now() -> i64 {
        i64::try_from(gittix_shared::time::unix_seconds()).unwrap()
    }

    topology_tests! {
        async fn a_refund_made_in_stripe_is_recorded_once(topology) {
            let app = PaymentsApp::spawn(topology).await;
            let mut refunds = EventLog::watch(app.bus(), &["charge:refunded"]).await;
            let (order, stripe_id) = app.paid_charge().await;
            let event = json!({"id": "evt_refund_1", "type": "charge.refunded",
                "data": {"object": {"id": "ch_dashboard", "payment_intent": stripe_id, "refunds": {"data": [{"id": "re_dashboard"}]}}}});
            assert_eq!(app.webhook(&event, now(), WEBHOOK_SECRET).await, (StatusCode::OK, json!({"received": true})));
            assert_eq!(app.charges(&order).await, [("refunded".to_owned(), 2000, 1)]);
            let (_, data) = refunds.next().await;
            assert_eq!(data["stripeRefundId"], "re_dashboard");
            // Stripe redelivers the same event: acknowledged, nothing new.
            let again = app.webhook(&event, now(), WEBHOOK_SECRET).await;
            assert_eq!(again, (StatusCode::OK, json!({"received": true, "duplicate": true})));
            refunds.expect_none(std::time::Duration::from_millis(500)).await;
        }

        async fn an_undelivered_ticket_refunds_its_buyer_in_full_once(topology) {
            let app = PaymentsApp::spawn(topology).await;
            let mut refunds = EventLog::watch(app.bus(), &["charge:refunded"]).await;
            let (order, stripe_id) = app.paid_charge().await;
            let undelivered = gittix_shared::events::TicketUndelivered { id: "ticket".into(), order_id: order.clone(), buyer_id: "buyer".into(), seller_id: "seller".into() };
            gittix_testing::publish_event(app.bus(), &undelivered).await;
            let (_, data) = refunds.next().await;
            assert_eq!(data["orderId"], json!(order));
            app.charges_become(&order, &[("refunded", 2000, 1)]).await;
            if topology == Topology::Distributed {
                // Stripe's own record: the whole amount refunded.
                let intent: Value = reqwest::Client::new()
                    .get(format!("{}/v1/payment_intents/{stripe_id}", stripe_url()))
                    .basic_auth("sk_test_gittix", Some(""))
                    .send().await.unwrap().json().await.unwrap();
                let charge = &intent["charges"]["data"][0];
                assert_eq!((&charge["amount_refunded"], &charge["refunded"]), (&json!(2000), &json!(true)), "{intent}");
            }
            // Announced again (a second event for the same sale), or settled again by
            // reconciliation: still one refund.
            gittix_testing::publish_event(app.bus(), &undelivered).await;
            app.reconcile(Duration::ZERO).await.unwrap();
            refunds.expect_none(std::time::Duration::from_millis(500)).await;
        }

        async fn a_dispute_is_recorded(topology) {
            let app = PaymentsApp::spawn(topology).await;
            let (_, stripe_id) = app.paid_charge().await;
            let event = json!({"id": "evt_dispute_1", "type": "charge.dispute.created",
                "data": {"object": {"id": "dp_1", "charge": "ch_disputed", "payment_intent": stripe_id, "reason": "fraudulent", "status": "needs_response", "amount": 2000}}});
            assert_eq!(app.webhook(&event, now(), WEBHOOK_SECRET).await.0, StatusCode::OK);
            let dispute: (String, String, i64) = sqlx::query_as("SELECT stripe_charge_id, reason, amount FROM disputes WHERE id = 'dp_1'")
                .fetch_one(app.db.pool())
                .await
                .unwrap();
            assert_eq!(dispute, ("ch_disputed".to_owned(), "fraudulent".to_owned(), 2000));
            assert!(stripe_id.starts_with("pi_"));
        }

        async fn a_bad_or_stale_signature_is_refused_and_changes_nothing(topology) {
            let app = PaymentsApp::spawn(topology).await;
            let (order, stripe_id) = app.paid_charge().await;
            let event = json!({"id": "evt_forged", "type": "charge.refunded", "data": {"object": {"id": "ch_forged", "payment_intent": stripe_id}}});
            let forged = app.webhook(&event, now(), "whsec_not_ours").await;
            assert_eq!(forged, (StatusCode::BAD_REQUEST, error("Invalid webhook signature")));
            let stale = app.webhook(&event, now() - 600, WEBHOOK_SECRET).await;
            assert_eq!(stale, (StatusCode::BAD_REQUEST, error("Invalid webhook signature")));
            assert_eq!(app.charges(&order).await, [("completed".to_owned(), 2000, 1)]);
        }
    }
}

mod reconciliation {
    use std::sync::atomic::{AtomicBool, Ordering};

    use async_trait::async_trait;

    use super::*;

    /// Stripe authorizes the card, but the answer is lost on the way back once (a timeout).
    struct LostAnswer {
        stripe: StripeProvider,
        lose_next: AtomicBool,
        lost: std::sync::Mutex<Option<Authorization>>,
    }

    impl LostAnswer {
        /// A payments app whose first authorization's answer is lost; and the provider, to
        /// learn what Stripe made of it.
        async fn app() -> (PaymentsApp, Arc<Self>) {
            let provider = Arc::new(Self {
                stripe: StripeProvider::new(&stripe_url(), "sk_test_gittix"),
                lose_next: AtomicBool::new(true),
                lost: std::sync::Mutex::default(),
            });
            let app = PaymentsApp::spawn_with(Topology::Distributed, provider.clone()).await;
            (app, provider)
        }

        /// The id of the intent whose answer was lost.
        fn lost_intent(&self) -> String {
            match self.lost.lock().unwrap().clone() {
                Some(Authorization::Intent(intent)) => intent.id,
                other => panic!("Stripe authorized nothing: {other:?}"),
            }
        }
    }

    #[async_trait]
    impl PaymentProvider for LostAnswer {
        async fn authorize(
            &self,
            request: &AuthorizeRequest,
        ) -> Result<Authorization, Unavailable> {
            let outcome = self.stripe.authorize(request).await?;
            if self.lose_next.swap(false, Ordering::SeqCst) {
                *self.lost.lock().unwrap() = Some(outcome);
                return Err(Unavailable("timed out waiting for Stripe".into()));
            }
            Ok(outcome)
        }

        async fn retrieve(&self, intent: &str) -> Result<Intent, Unavailable> {
            self.stripe.retrieve(intent).await
        }

        async fn capture(&self, intent: &str, key: &str) -> Result<Intent, Unavailable> {
            self.stripe.capture(intent, key).await
        }

        async fn cancel(&self, intent: &str, key: &str) -> Result<Intent, Unavailable> {
            self.stripe.cancel(intent, key).await
        }

        async fn refund(&self, intent: &str, key: &str) -> Result<String, Unavailable> {
            self.stripe.refund(intent, key).await
        }
    }

    impl PaymentsApp {
        /// A new order paid with `tok_visa` whose authorization's answer is lost (503); returns
        /// the order and its attempt.
        async fn paid_without_an_answer(&self, cents: i64) -> (String, String) {
            let buyer = self.user();
            let order = self.order_created(&buyer, cents, 60_000).await;
            let (status, _) = self
                .pay(Some(&buyer), json!({"token": "tok_visa", "orderId": order}))
                .await;
            assert_eq!(
                status,
                StatusCode::SERVICE_UNAVAILABLE,
                "the outcome is unknown"
            );
            let charge_id = sqlx::query_scalar("SELECT id FROM charges WHERE order_id = $1")
                .bind(&order)
                .fetch_one(self.db.pool())
                .await
                .unwrap();
            (order, charge_id)
        }
    }

    /// Stripe never answers: every call's outcome is unknown. Counts the authorizations.
    #[derive(Default)]
    struct Unreachable {
        authorizations: std::sync::atomic::AtomicUsize,
    }

    #[async_trait]
    impl PaymentProvider for Unreachable {
        async fn authorize(&self, _: &AuthorizeRequest) -> Result<Authorization, Unavailable> {
            self.authorizations.fetch_add(1, Ordering::SeqCst);
            Err(Unavailable("no answer".into()))
        }

        async fn retrieve(&self, _: &str) -> Result<Intent, Unavailable> {
            Err(Unavailable("no answer".into()))
        }

        async fn capture(&self, _: &str, _: &str) -> Result<Intent, Unavailable> {
            Err(Unavailable("no answer".into()))
        }

        async fn cancel(&self, _: &str, _: &str) -> Result<Intent, Unavailable> {
            Err(Unavailable("no answer".into()))
        }

        async fn refund(&self, _: &str, _: &str) -> Result<String, Unavailable> {
            Err(Unavailable("no answer".into()))
        }
    }

    topology_tests! {
        async fn an_attempt_unsettled_past_the_bound_is_dead_lettered_and_left_alone(topology) {
            let provider = Arc::new(Unreachable::default());
            let app = PaymentsApp::spawn_with(topology, provider.clone()).await;
            let mut letters = EventLog::watch(app.bus(), &["dead-letter.payments-service"]).await;
            let buyer = app.user();
            let order = app.order_created(&buyer, 2500, 60_000).await;
            let (status, _) = app.pay(Some(&buyer), json!({"token": "tok_visa", "orderId": order})).await;
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
            // Within the bound, reconciliation keeps asking.
            assert_eq!(gittix_payments::give_up_once(app.db.clone(), app.bus(), Duration::from_secs(3600)).await.unwrap(), 0);
            app.reconcile(Duration::ZERO).await.unwrap();
            assert_eq!(provider.authorizations.load(Ordering::SeqCst), 2);

            assert_eq!(gittix_payments::give_up_once(app.db.clone(), app.bus(), Duration::ZERO).await.unwrap(), 1);
            let (_, letter) = letters.next().await;
            assert_eq!((letter["orderId"].as_str(), letter["status"].as_str(), letter["amount"].as_i64()), (Some(order.as_str()), Some("created"), Some(2500)));
            // Given up: not asked about again, not dead-lettered twice.
            app.reconcile(Duration::ZERO).await.unwrap();
            assert_eq!(provider.authorizations.load(Ordering::SeqCst), 2);
            assert_eq!(gittix_payments::give_up_once(app.db.clone(), app.bus(), Duration::ZERO).await.unwrap(), 0);
            letters.expect_none(Duration::from_millis(500)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_charge_whose_answer_was_lost_is_settled_by_asking_stripe_again() {
        let (app, provider) = LostAnswer::app().await;
        let mut paid = EventLog::watch(app.bus(), &["charge:created"]).await;

        let buyer = app.user();
        let order = app.order_created(&buyer, 4200, 60_000).await;
        let (status, _) = app
            .pay(Some(&buyer), json!({"token": "tok_visa", "orderId": order}))
            .await;
        assert_eq!(
            status,
            StatusCode::SERVICE_UNAVAILABLE,
            "the outcome is unknown"
        );
        assert_eq!(app.charges(&order).await, [("created".to_owned(), 4200, 1)]);
        let retry = app
            .pay(Some(&buyer), json!({"token": "tok_visa", "orderId": order}))
            .await;
        assert_eq!(
            retry.0,
            StatusCode::BAD_REQUEST,
            "no second attempt while the first is unsettled"
        );

        app.reconcile(Duration::ZERO).await.unwrap();
        // Authorized now; orders completes the order, and payments captures.
        app.charges_become(&order, &[("completed", 4200, 1)]).await;
        let (_, data) = paid.next().await;
        let stripe_id = data["stripeId"].as_str().unwrap().to_owned();
        // The same idempotency key returned the intent Stripe made the first time: one charge.
        assert_eq!(provider.lost_intent(), stripe_id);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_refund_webhook_for_an_attempt_not_yet_settled_is_refused_until_it_is() {
        let (app, provider) = LostAnswer::app().await;

        let (order, charge_id) = app.paid_without_an_answer(2000).await;
        let stripe_id = provider.lost_intent();
        // Refunded in Stripe's dashboard before GitTix learned the charge's outcome.
        let event = json!({"id": "evt_early_refund", "type": "charge.refunded",
            "data": {"object": {"id": "ch_early", "payment_intent": stripe_id, "metadata": {"gittix_charge_id": charge_id},
                                "refunds": {"data": [{"id": "re_early"}]}}}});
        assert_eq!(
            app.stripe_sends(&event).await,
            StatusCode::BAD_REQUEST,
            "refused, so Stripe sends it again later"
        );
        app.reconcile(Duration::ZERO).await.unwrap();
        app.charges_become(&order, &[("completed", 2000, 1)]).await;
        assert_eq!(app.stripe_sends(&event).await, StatusCode::OK);
        assert_eq!(
            app.charges(&order).await,
            [("refunded".to_owned(), 2000, 1)],
            "the redelivered refund was recorded"
        );
    }

    /// Stripe's events about an intent can come before GitTix has its answer to the call that
    /// made it (here the answer was lost): they are acknowledged and change nothing, the attempt
    /// is settled from what Stripe says when it is asked, and the same events again, in the
    /// other order, still change nothing.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn intent_events_before_the_call_is_answered_change_nothing_until_it_is_settled() {
        let (app, provider) = LostAnswer::app().await;
        let mut paid = EventLog::watch(app.bus(), &["charge:created"]).await;
        let (order, charge_id) = app.paid_without_an_answer(2500).await;
        let intent = provider.lost_intent();
        let send = |id: &str, kind: &str| {
            let event = json!({"id": id, "type": kind, "data": {"object": {"id": intent, "object": "payment_intent",
                "metadata": {"gittix_charge_id": charge_id, "gittix_order_id": order}}}});
            let app = &app;
            async move { app.stripe_sends(&event).await }
        };
        assert_eq!(
            send("evt_held", "payment_intent.amount_capturable_updated").await,
            StatusCode::OK
        );
        assert_eq!(
            app.charges(&order).await,
            [("created".to_owned(), 2500, 1)],
            "left to the call"
        );

        app.reconcile(Duration::ZERO).await.unwrap();
        app.charges_become(&order, &[("completed", 2500, 1)]).await;
        paid.next().await;
        assert_eq!(
            send("evt_succeeded", "payment_intent.succeeded").await,
            StatusCode::OK
        );
        assert_eq!(
            send("evt_held", "payment_intent.amount_capturable_updated").await,
            StatusCode::OK
        );
        assert_eq!(
            app.charges(&order).await,
            [("completed".to_owned(), 2500, 1)]
        );
        paid.expect_none(Duration::from_millis(500)).await;
    }
}
