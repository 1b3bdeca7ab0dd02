//! Tickets and orders together through the real bus, in both topologies: reservations reach the
//! tickets service, cancellations release, and a price change racing an order ends consistent.

use std::sync::Arc;

use gittix_expiration::{ExpirationConfig, TimerStore};
use gittix_orders::OrdersConfig;
use gittix_payments::provider::stripe::StripeProvider;
use gittix_payments::provider::Providers;
use gittix_payments::PaymentsConfig;
use gittix_shared::fees::{FeeRate, Fees};
use gittix_shared::http::with_common_layers;
use gittix_shared::service::{routes_of, Service};
use gittix_testing::topology_tests;
use gittix_testing::{
    eventually, fresh_database, redis_url, stripe_connect_url, stripe_url, TestDatabase,
    TestPlatform, TestServer, TestUser, Topology, TEST_BODY_LIMIT,
};
use gittix_tickets::TicketsConfig;
use reqwest::StatusCode;
use serde_json::{json, Value};

struct Marketplace {
    server: TestServer,
    client: reqwest::Client,
    orders_db: gittix_shared::db::Db,
    payments_db: gittix_shared::db::Db,
    _services: Vec<Service>,
    _databases: Vec<TestDatabase>,
    platform: TestPlatform,
}

impl Marketplace {
    async fn spawn(topology: Topology) -> Self {
        Self::spawn_with_lock(topology, OrdersConfig::default().order_lock_seconds).await
    }

    /// Tickets, orders (with a lock of `lock_seconds`), expiration and payments, built by their
    /// own `build` functions and served together as embedded mode serves them.
    async fn spawn_with_lock(topology: Topology, lock_seconds: u64) -> Self {
        Self::spawn_configured(
            topology,
            lock_seconds,
            TicketsConfig::default(),
            Fees::default(),
        )
        .await
    }

    /// [`Self::spawn_with_lock`] with the tickets service's settings and the platform's fees of
    /// the test's own.
    async fn spawn_configured(
        topology: Topology,
        lock_seconds: u64,
        tickets_config: TicketsConfig,
        fees: Fees,
    ) -> Self {
        let providers = match topology {
            Topology::Embedded => Providers::simulated(),
            Topology::Distributed => Providers {
                payments: Arc::new(StripeProvider::new(&stripe_url(), "sk_test_gittix")),
                accounts: Arc::new(StripeProvider::new(&stripe_connect_url(), "sk_test_gittix")),
            },
        };
        let payments = (PaymentsConfig::default(), providers);
        Self::spawn_paying(topology, lock_seconds, tickets_config, fees, payments).await
    }

    /// [`Self::spawn_configured`] with the payments service's settings and providers.
    async fn spawn_paying(
        topology: Topology,
        lock_seconds: u64,
        tickets_config: TicketsConfig,
        fees: Fees,
        (payments_config, providers): (PaymentsConfig, Providers),
    ) -> Self {
        let mut platform = TestPlatform::new(topology).await;
        platform.platform.fees = fees;
        let p = &platform.platform;
        let tickets_db = fresh_database(topology.backend()).await;
        let orders_db = fresh_database(topology.backend()).await;
        let payments_db = fresh_database(topology.backend()).await;
        let orders_config = OrdersConfig {
            order_lock_seconds: lock_seconds,
            ..OrdersConfig::default()
        };
        let mut expiration_config = ExpirationConfig::default();
        let mut databases = Vec::new();
        let timers = match topology {
            Topology::Embedded => {
                let db = fresh_database(topology.backend()).await;
                let store = TimerStore::Sql(db.db.clone());
                databases.push(db);
                store
            }
            Topology::Distributed => {
                expiration_config.redis_url = redis_url();
                expiration_config.redis_timers_key =
                    format!("test:timers:{}", uuid::Uuid::new_v4());
                TimerStore::Redis
            }
        };
        let mut services = vec![
            gittix_tickets::build(&tickets_config, tickets_db.db.clone(), p)
                .await
                .unwrap(),
            gittix_orders::build(&orders_config, orders_db.db.clone(), p)
                .await
                .unwrap(),
            gittix_expiration::build(&expiration_config, timers, p)
                .await
                .unwrap(),
            gittix_payments::build(&payments_config, providers, payments_db.db.clone(), p)
                .await
                .unwrap(),
        ];
        let app = with_common_layers(
            routes_of(&mut services, Some(p.bus.clone())),
            TEST_BODY_LIMIT,
        );
        let (orders_handle, payments_handle) = (orders_db.db.clone(), payments_db.db.clone());
        databases.extend([tickets_db, orders_db, payments_db]);
        Self {
            server: TestServer::spawn(app).await,
            client: reqwest::Client::new(),
            orders_db: orders_handle,
            payments_db: payments_handle,
            _services: services,
            _databases: databases,
            platform,
        }
    }

    fn user(&self) -> TestUser {
        TestUser::new(self.platform.sessions())
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        user: &TestUser,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .request(method, self.server.url(path))
            .header("cookie", &user.cookie);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    async fn json(&self, path: &str, user: &TestUser) -> Value {
        self.call(reqwest::Method::GET, path, user, None)
            .await
            .json()
            .await
            .unwrap()
    }

    async fn sell(&self, seller: &TestUser, price: i64) -> String {
        let response = self
            .call(
                reqwest::Method::POST,
                "/api/tickets",
                seller,
                Some(json!({"title": "Show", "price": price})),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Reserves as soon as the orders replica knows the ticket.
    async fn reserve(&self, buyer: &TestUser, ticket: &str) -> Value {
        eventually("the order to be accepted", || async {
            let response = self
                .call(
                    reqwest::Method::POST,
                    "/api/orders",
                    buyer,
                    Some(json!({"ticketId": ticket})),
                )
                .await;
            match response.status() {
                StatusCode::CREATED => Some(response.json::<Value>().await.unwrap()),
                StatusCode::NOT_FOUND => None, // the replica has not seen ticket:created yet
                other => panic!("unexpected {other}"),
            }
        })
        .await
    }

    /// Waits until the orders service's replica holds `ticket` at `version` with `price_cents`.
    async fn replica_at(&self, ticket: &str, version: i64, price_cents: i64) {
        eventually(
            &format!("the replica of {ticket} at version {version}"),
            || async {
                let held: Option<(i64, i64)> =
                    sqlx::query_as("SELECT version, price_cents FROM tickets WHERE id = $1")
                        .bind(ticket)
                        .fetch_optional(self.orders_db.pool())
                        .await
                        .unwrap();
                (held == Some((version, price_cents))).then_some(())
            },
        )
        .await;
    }

    async fn ticket_shows(
        &self,
        id: &str,
        viewer: &TestUser,
        check: impl Fn(&Value) -> bool,
    ) -> Value {
        eventually(&format!("ticket {id} to change"), || async {
            let ticket = self.json(&format!("/api/tickets/{id}"), viewer).await;
            check(&ticket).then_some(ticket)
        })
        .await
    }
}

topology_tests! {
    async fn a_reservation_reaches_the_tickets_service_and_a_cancellation_releases_it(topology) {
        let market = Marketplace::spawn(topology).await;
        let (seller, buyer) = (market.user(), market.user());
        let ticket = market.sell(&seller, 40).await;
        let order = market.reserve(&buyer, &ticket).await;
        let order_id = order["id"].as_str().unwrap();

        let reserved = market.ticket_shows(&ticket, &buyer, |t| t["status"] == "reserved").await;
        assert_eq!(reserved["orderId"], order_id);
        let listed: Vec<Value> = market.json("/api/tickets", &buyer).await.as_array().unwrap().clone();
        assert!(listed.is_empty(), "the list hides a reserved ticket");
        let edit = market.call(reqwest::Method::PUT, &format!("/api/tickets/{ticket}"), &seller, Some(json!({"title": "x", "price": 1}))).await;
        assert_eq!(edit.status(), StatusCode::BAD_REQUEST);

        let cancel = market.call(reqwest::Method::DELETE, &format!("/api/orders/{order_id}"), &buyer, None).await;
        assert_eq!(cancel.status(), StatusCode::NO_CONTENT);
        let released = market.ticket_shows(&ticket, &buyer, |t| t["status"] == "for_sale").await;
        assert!(released.get("orderId").is_none());
        assert_eq!(released["version"], 2);
        let listed: Vec<Value> = market.json("/api/tickets", &buyer).await.as_array().unwrap().clone();
        assert_eq!(listed.len(), 1);
        // And another buyer can now reserve it.
        market.reserve(&market.user(), &ticket).await;
    }

    async fn a_price_change_racing_fifty_orders_never_records_two_prices(topology) {
        let market = Marketplace::spawn(topology).await;
        for round in 0..ROUNDS {
            let seller = market.user();
            let ticket = market.sell(&seller, 10).await;
            market.replica_at(&ticket, 0, 1000).await;
            let path = format!("/api/tickets/{ticket}");
            // The seller's change leaves a little later each round, so that it wins some races
            // and loses others.
            let edit = async {
                tokio::time::sleep(seller_delay(round)).await;
                market.call(reqwest::Method::PUT, &path, &seller, Some(json!({"title": "Show", "price": 20}))).await
            };
            let (edit, winners) = tokio::join!(edit, market.fifty_buyers(&ticket));
            let edited = match edit.status() {
                StatusCode::OK => true,
                StatusCode::BAD_REQUEST => false, // a reservation reached tickets first
                other => panic!("round {round}: unexpected edit status {other}"),
            };
            eprintln!("price race, round {round}: edit won {edited}, {} orders won", winners.len());
            let confirmed = market.one_confirmed(round, &winners, edited).await;
            let Some((buyer, order)) = confirmed else {
                assert!(edited, "round {round}: the edit lost, yet no order was confirmed");
                let listed = market.ticket_shows(&ticket, &seller, |t| t["status"] == "for_sale").await;
                assert_eq!(listed["price"], 20, "round {round}");
                continue;
            };
            // Confirmed: the buyer pays, and ticket, order and charge carry one price.
            let order_id = order["id"].as_str().unwrap();
            let ordered_at = order["ticket"]["price"].as_i64().unwrap();
            assert!(!edited || ordered_at == 20, "round {round}: confirmed at the old price after the edit won");
            assert_eq!(market.pay(&buyer, order_id, "tok_visa").await.0, StatusCode::CREATED, "round {round}");
            let sold = market.ticket_shows(&ticket, &seller, |t| t["status"] == "sold").await;
            assert_eq!(sold["price"].as_i64(), Some(ordered_at), "round {round}: the ticket sold at another price than ordered");
            assert_eq!(market.charges(order_id).await, [("completed".to_owned(), ordered_at * 100)], "round {round}");
            assert_eq!(sold["orderId"], order_id);
        }
    }

    async fn a_withdrawal_racing_fifty_orders_never_sells_a_withdrawn_ticket(topology) {
        let market = Marketplace::spawn(topology).await;
        for round in 0..ROUNDS {
            let seller = market.user();
            let ticket = market.sell(&seller, 30).await;
            market.replica_at(&ticket, 0, 3000).await;
            let path = format!("/api/tickets/{ticket}");
            let withdraw = async {
                tokio::time::sleep(seller_delay(round)).await;
                market.call(reqwest::Method::DELETE, &path, &seller, None).await
            };
            let (withdraw, winners) = tokio::join!(withdraw, market.fifty_buyers(&ticket));
            let withdrawn = match withdraw.status() {
                StatusCode::NO_CONTENT => true,
                StatusCode::BAD_REQUEST => false, // a reservation reached tickets first
                other => panic!("round {round}: unexpected withdraw status {other}"),
            };
            eprintln!("withdraw race, round {round}: withdrawal won {withdrawn}, {} orders won", winners.len());
            match market.one_confirmed(round, &winners, withdrawn).await {
                Some(_) if withdrawn => panic!("round {round}: an order of a withdrawn ticket was confirmed"),
                Some((buyer, order)) => {
                    let order_id = order["id"].as_str().unwrap();
                    assert_eq!(market.pay(&buyer, order_id, "tok_visa").await.0, StatusCode::CREATED, "round {round}");
                    let sold = market.ticket_shows(&ticket, &seller, |t| t["status"] == "sold").await;
                    assert_eq!(sold["orderId"], order_id);
                }
                None => {
                    assert!(withdrawn, "round {round}: the withdrawal lost, yet no order was confirmed");
                    // Withdrawn it stays: no order of it is active or complete.
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                    let shown = market.json(&path, &seller).await;
                    assert_eq!(shown["status"], "withdrawn", "round {round}: {shown}");
                    assert_eq!(market.live_orders_of(&ticket).await, 0, "round {round}");
                }
            }
        }
    }

    async fn an_unpaid_order_expires_and_the_ticket_is_for_sale_again(topology) {
        let market = Marketplace::spawn_with_lock(topology, 1).await;
        let (seller, buyer) = (market.user(), market.user());
        let ticket = market.sell(&seller, 25).await;
        let order = market.reserve(&buyer, &ticket).await;
        let order_id = order["id"].as_str().unwrap().to_owned();
        market.ticket_shows(&ticket, &buyer, |t| t["status"] == "reserved").await;

        // About a second later the expiration service fires and orders cancels the order.
        let expired = eventually("the order to expire", || async {
            let shown = market.json(&format!("/api/orders/{order_id}"), &buyer).await;
            (shown["status"] == "cancelled").then_some(shown)
        })
        .await;
        // Created, confirmed by the tickets service, then cancelled.
        assert_eq!(expired["version"], 2);
        let released = market.ticket_shows(&ticket, &buyer, |t| t["status"] == "for_sale").await;
        assert!(released.get("orderId").is_none());
        // Another buyer can reserve it now.
        market.reserve(&market.user(), &ticket).await;
    }
}

/// Rounds of each race: enough for both outcomes to happen in each topology.
const ROUNDS: usize = 12;

/// How long the seller's change waits in `round` of a race: 0 to 88 ms, about the time an order
/// takes to reach the tickets service, so either side may win.
fn seller_delay(round: usize) -> std::time::Duration {
    std::time::Duration::from_millis(8 * round as u64)
}

impl Marketplace {
    /// Fifty buyers order `ticket` at once. At any moment at most one order holds it; a second
    /// one can win only after the first was refused (cancelled, `ticket_changed`). The others
    /// are told it is reserved, or that it does not exist once orders knows it was withdrawn.
    async fn fifty_buyers(&self, ticket: &str) -> Vec<(TestUser, Value)> {
        let buyers: Vec<TestUser> = (0..50).map(|_| self.user()).collect();
        let attempts = buyers.iter().map(|buyer| {
            self.call(
                reqwest::Method::POST,
                "/api/orders",
                buyer,
                Some(json!({"ticketId": ticket})),
            )
        });
        let answers = futures_util::future::join_all(attempts).await;
        let mut winners = Vec::new();
        for (buyer, answer) in buyers.into_iter().zip(answers) {
            match answer.status() {
                StatusCode::CREATED => winners.push((buyer, answer.json().await.unwrap())),
                StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND => {}
                other => panic!("unexpected order status {other}"),
            }
        }
        winners
    }

    /// Waits for the tickets service to decide on every winning order: at most one is confirmed
    /// (returned), every other one is cancelled as `ticket_changed` (only after the seller's
    /// change won) and charged nothing.
    async fn one_confirmed(
        &self,
        round: usize,
        winners: &[(TestUser, Value)],
        seller_won: bool,
    ) -> Option<(TestUser, Value)> {
        let mut confirmed = None;
        for (buyer, order) in winners {
            let order_id = order["id"].as_str().unwrap();
            let ended = self.settled(buyer, order_id).await;
            if ended["status"] == "awaiting:payment" {
                assert!(
                    confirmed.is_none(),
                    "round {round}: two orders confirmed for one ticket"
                );
                confirmed = Some((buyer.clone(), order.clone()));
                continue;
            }
            assert_eq!(
                (ended["status"].as_str(), ended["cancelReason"].as_str()),
                (Some("cancelled"), Some("ticket_changed")),
                "round {round}"
            );
            assert!(
                seller_won,
                "round {round}: an order was refused though the seller's change lost"
            );
            assert_eq!(
                self.pay(buyer, order_id, "tok_visa").await.0,
                StatusCode::BAD_REQUEST,
                "round {round}"
            );
            assert!(
                self.charges(order_id).await.is_empty(),
                "round {round}: a refused order was charged"
            );
        }
        confirmed
    }

    /// The order once the tickets service has decided on it: confirmed or cancelled.
    async fn settled(&self, buyer: &TestUser, order: &str) -> Value {
        eventually(
            &format!("order {order} to be confirmed or cancelled"),
            || async {
                let shown = self.json(&format!("/api/orders/{order}"), buyer).await;
                (shown["status"] != "created").then_some(shown)
            },
        )
        .await
    }

    /// Orders of `ticket` that are active or complete, in the orders service.
    async fn live_orders_of(&self, ticket: &str) -> i64 {
        sqlx::query_scalar(
            "SELECT count(*) FROM orders WHERE ticket_id = $1 AND status <> 'cancelled'",
        )
        .bind(ticket)
        .fetch_one(self.orders_db.pool())
        .await
        .unwrap()
    }

    async fn pay(&self, buyer: &TestUser, order: &str, token: &str) -> (StatusCode, Value) {
        let response = self
            .call(
                reqwest::Method::POST,
                "/api/payments",
                buyer,
                Some(json!({"token": token, "orderId": order})),
            )
            .await;
        (
            response.status(),
            response.json().await.unwrap_or(Value::Null),
        )
    }

    async fn order_becomes(&self, buyer: &TestUser, order: &str, status: &str) -> Value {
        eventually(&format!("order {order} to be {status}"), || async {
            let shown = self.json(&format!("/api/orders/{order}"), buyer).await;
            (shown["status"] == status).then_some(shown)
        })
        .await
    }

    /// Charges of the order as payments records them: (status, amount).
    async fn charges(&self, order: &str) -> Vec<(String, i64)> {
        sqlx::query_as("SELECT status, amount FROM charges WHERE order_id = $1 ORDER BY attempt")
            .bind(order)
            .fetch_all(self.payments_db.pool())
            .await
            .unwrap()
    }

    async fn payments_replica_status(&self, order: &str) -> Option<String> {
        sqlx::query_scalar("SELECT status FROM orders WHERE id = $1")
            .bind(order)
            .fetch_optional(self.payments_db.pool())
            .await
            .unwrap()
    }

    /// Reserves once payments, too, knows the order (so it can be paid).
    async fn reserve_payable(&self, buyer: &TestUser, ticket: &str) -> String {
        let order = self.reserve(buyer, ticket).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        eventually("payments to learn the order", || async {
            self.payments_replica_status(&order).await.map(|_| ())
        })
        .await;
        order
    }
}

mod lifecycle {
    use super::*;

    topology_tests! {
        async fn reserve_pay_complete_and_the_ticket_is_sold(topology) {
            let market = Marketplace::spawn(topology).await;
            let (seller, buyer) = (market.user(), market.user());
            let ticket = market.sell(&seller, 30).await;
            let order = market.reserve_payable(&buyer, &ticket).await;
            let (status, _) = market.pay(&buyer, &order, "tok_visa").await;
            assert_eq!(status, StatusCode::CREATED);
            market.order_becomes(&buyer, &order, "complete").await;
            let sold = market.ticket_shows(&ticket, &buyer, |t| t["status"] == "sold").await;
            assert_eq!(sold["orderId"], order.as_str());
            let listed = market.json("/api/tickets", &buyer).await;
            assert_eq!(listed, json!([]), "a sold ticket is gone from the list");
            assert_eq!(market.charges(&order).await, [("completed".to_owned(), 3000)]);
            // A completed order cannot be cancelled, nor paid again.
            let cancel = market.call(reqwest::Method::DELETE, &format!("/api/orders/{order}"), &buyer, None).await;
            assert_eq!(cancel.status(), StatusCode::BAD_REQUEST);
            assert_eq!(market.pay(&buyer, &order, "tok_visa").await.0, StatusCode::BAD_REQUEST);
            eventually("payments to see the order complete", || async {
                (market.payments_replica_status(&order).await.as_deref() == Some("complete")).then_some(())
            })
            .await;
        }

        async fn three_declined_cards_cancel_the_order(topology) {
            let market = Marketplace::spawn(topology).await;
            let (seller, buyer) = (market.user(), market.user());
            let ticket = market.sell(&seller, 30).await;
            let order = market.reserve_payable(&buyer, &ticket).await;
            for _ in 0..3 {
                let (status, body) = market.pay(&buyer, &order, "tok_chargeDeclined").await;
                assert_eq!((status, body["errors"][0]["message"].clone()), (StatusCode::BAD_REQUEST, json!("Your card was declined.")));
            }
            market.order_becomes(&buyer, &order, "cancelled").await;
            market.ticket_shows(&ticket, &buyer, |t| t["status"] == "for_sale").await;
        }
    }
}

mod expiry_and_payment {
    use super::*;

    topology_tests! {
        async fn an_unpaid_order_expires_everywhere_and_cannot_be_paid_after(topology) {
            let market = Marketplace::spawn_with_lock(topology, 1).await;
            let (seller, buyer) = (market.user(), market.user());
            let ticket = market.sell(&seller, 30).await;
            let order = market.reserve_payable(&buyer, &ticket).await;
            market.order_becomes(&buyer, &order, "cancelled").await;
            market.ticket_shows(&ticket, &buyer, |t| t["status"] == "for_sale").await;
            eventually("payments' replica to be cancelled", || async {
                (market.payments_replica_status(&order).await.as_deref() == Some("cancelled")).then_some(())
            })
            .await;
            let (status, body) = market.pay(&buyer, &order, "tok_visa").await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
            assert!(market.charges(&order).await.is_empty(), "nobody was charged");
        }

        /// Issue #18: a payment sent just before `expiresAt` answered 201, and the order was then
        /// cancelled and the charge refunded. Now every 201 ends in a completed order, and every
        /// other attempt leaves nothing charged.
        async fn a_payment_racing_the_expiry_never_charges_a_buyer_without_a_ticket(topology) {
            let market = Marketplace::spawn_with_lock(topology, 1).await;
            for round in 0..8 {
                let (seller, buyer) = (market.user(), market.user());
                let ticket = market.sell(&seller, 30).await;
                let order = market.reserve_payable(&buyer, &ticket).await;
                // Pay a few milliseconds before the window ends, a different moment each round.
                let expires_at = gittix_shared::time::parse_iso8601(
                    market.json(&format!("/api/orders/{order}"), &buyer).await["expiresAt"].as_str().unwrap(),
                )
                .unwrap();
                let early_ms = [40, 30, 20, 15, 10, 5, 2, 0][round];
                let wait = expires_at - early_ms - gittix_shared::time::unix_millis();
                tokio::time::sleep(std::time::Duration::from_millis(u64::try_from(wait).unwrap_or(0))).await;
                let (paid, body) = market.pay(&buyer, &order, "tok_visa").await;
                // Let every event settle, then check the outcome is one of the two consistent ones.
                let outcome = eventually("the order, ticket and charge to agree", || async {
                    let order_status = market.json(&format!("/api/orders/{order}"), &buyer).await["status"].clone();
                    let ticket_now = market.json(&format!("/api/tickets/{ticket}"), &buyer).await;
                    let charges = market.charges(&order).await;
                    let settled = match order_status.as_str() {
                        Some("complete") => ticket_now["status"] == "sold" && charges == [("completed".to_owned(), 3000)],
                        // Nothing captured, nothing held: every attempt failed (or none was made).
                        Some("cancelled") => ticket_now["status"] == "for_sale" && charges.iter().all(|(s, _)| s == "failed"),
                        _ => false,
                    };
                    settled.then_some((order_status, charges))
                })
                .await;
                assert_eq!(
                    paid == StatusCode::CREATED,
                    outcome.0 == "complete",
                    "round {round} ({early_ms} ms early): answered {paid} {body}, the order ended {outcome:?}"
                );
            }
        }
    }
}

mod delivery {
    use super::*;

    const PDF: &[u8] = b"%PDF-1.4\n% the ticket\n";

    impl Marketplace {
        pub(super) async fn upload(&self, seller: &TestUser, ticket: &str) -> StatusCode {
            self.client
                .put(self.server.url(&format!("/api/tickets/{ticket}/file")))
                .header("cookie", &seller.cookie)
                .header("content-type", "application/pdf")
                .body(PDF)
                .send()
                .await
                .unwrap()
                .status()
        }

        async fn download(&self, buyer: &TestUser, ticket: &str) -> (StatusCode, Vec<u8>) {
            let response = self
                .call(
                    reqwest::Method::GET,
                    &format!("/api/tickets/{ticket}/file"),
                    buyer,
                    None,
                )
                .await;
            (response.status(), response.bytes().await.unwrap().to_vec())
        }

        /// Sells `ticket` to `buyer`; returns the completed order's id.
        pub(super) async fn bought(&self, buyer: &TestUser, ticket: &str) -> String {
            let order = self.reserve_payable(buyer, ticket).await;
            assert_eq!(
                self.pay(buyer, &order, "tok_visa").await.0,
                StatusCode::CREATED
            );
            self.order_becomes(buyer, &order, "complete").await;
            order
        }

        async fn delivery_becomes(&self, buyer: &TestUser, order: &str, delivery: &str) -> Value {
            eventually(&format!("order {order} delivery {delivery}"), || async {
                let shown = self.json(&format!("/api/orders/{order}"), buyer).await;
                (shown["delivery"] == delivery).then_some(shown)
            })
            .await
        }
    }

    topology_tests! {
        async fn a_ticket_with_its_file_is_downloaded_and_one_never_delivered_is_refunded(topology) {
            // A deadline of about seven seconds: the expiration service's timer, for real.
            let config = TicketsConfig { delivery_deadline_hours: 0.002, ..TicketsConfig::default() };
            let market = Marketplace::spawn_configured(topology, OrdersConfig::default().order_lock_seconds, config, Fees::default()).await;
            let (seller, buyer) = (market.user(), market.user());
            let with_file = market.sell(&seller, 30).await;
            let without = market.sell(&seller, 40).await;
            assert_eq!(market.upload(&seller, &with_file).await, StatusCode::NO_CONTENT);
            let (status, _) = market.download(&buyer, &with_file).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "not the buyer's before the sale");

            let delivered = market.bought(&buyer, &with_file).await;
            market.delivery_becomes(&buyer, &delivered, "delivered").await;
            assert_eq!(market.download(&buyer, &with_file).await, (StatusCode::OK, PDF.to_vec()));

            let missed = market.bought(&buyer, &without).await;
            market.delivery_becomes(&buyer, &missed, "awaiting").await;
            let shown = market.delivery_becomes(&buyer, &missed, "undelivered").await;
            assert_eq!(shown["status"], "complete", "the order stays complete");
            eventually("the buyer refunded", || async {
                (market.charges(&missed).await == [("refunded".to_owned(), 4000)]).then_some(())
            })
            .await;
            assert_eq!(market.upload(&seller, &without).await, StatusCode::BAD_REQUEST, "too late");
            assert_eq!(market.download(&buyer, &without).await.0, StatusCode::NOT_FOUND);
            // The delivered sale keeps its money.
            assert_eq!(market.charges(&delivered).await, [("completed".to_owned(), 3000)]);
        }
    }
}

/// Sellers' payouts (design, sections 3 and 8) through every service: a delivered sale's payout
/// is the order's price less the seller fee, released a hold after delivery (or after the event)
/// by the expiration service's timer or payments' own sweep, and the ledger balances. Transfers go to the simulator's
/// Connect half in both topologies: no local Stripe stand-in implements them.
mod payouts {
    use super::*;
    use gittix_payments::provider::simulator::SimulatedStripe;

    impl Marketplace {
        async fn payouts_of(&self, seller: &TestUser) -> Vec<Value> {
            self.json("/api/payouts", seller)
                .await
                .as_array()
                .unwrap()
                .clone()
        }
    }

    topology_tests! {
        async fn a_delivered_sale_pays_its_seller_after_the_hold_and_an_events_sale_waits_for_the_event(topology) {
            let fees = Fees { buyer: "12.5".parse().unwrap(), seller: "10".parse().unwrap() };
            let payments: Arc<dyn gittix_payments::provider::PaymentProvider> = match topology {
                Topology::Embedded => Arc::new(SimulatedStripe::default()),
                Topology::Distributed => Arc::new(StripeProvider::new(&stripe_url(), "sk_test_gittix")),
            };
            let providers = Providers { payments, accounts: Arc::new(SimulatedStripe::default()) };
            // A hold of 1.8 seconds.
            let config = PaymentsConfig { payout_hold_hours: 0.0005, ..PaymentsConfig::default() };
            let market = Marketplace::spawn_paying(
                topology, OrdersConfig::default().order_lock_seconds, TicketsConfig::default(), fees, (config, providers),
            ).await;
            let (seller, buyer) = (market.user(), market.user());
            for path in ["/api/payouts/account", "/api/payouts/account/onboarding"] {
                let answer = market.call(reqwest::Method::POST, path, &seller, None).await;
                assert_eq!(answer.status(), StatusCode::OK, "{path}");
            }

            let plain = market.sell(&seller, 30).await;
            assert_eq!(market.upload(&seller, &plain).await, StatusCode::NO_CONTENT);
            let delivered_at = gittix_shared::time::unix_millis();
            let sold = market.bought(&buyer, &plain).await;
            let paid = eventually("the payout to be paid", || async {
                let payouts = market.payouts_of(&seller).await;
                payouts.iter().find(|p| p["orderId"] == sold.as_str() && p["status"] == "paid").cloned()
            })
            .await;
            assert_eq!((&paid["ticketId"], &paid["amount"], &paid["fee"]), (&json!(plain), &json!(27), &json!(3)), "{paid}");
            let release_at = gittix_shared::time::parse_iso8601(paid["releaseAt"].as_str().unwrap()).unwrap();
            let paid_at = gittix_shared::time::parse_iso8601(paid["paidAt"].as_str().unwrap()).unwrap();
            assert!(release_at >= delivered_at + 1_800, "released {} ms after the sale", release_at - delivered_at);
            assert!(paid_at >= release_at, "paid {} ms before its release", release_at - paid_at);

            // A ticket for an event thirty days away: held until a hold after the event starts.
            let starts_at_ms = gittix_shared::time::unix_millis() + 30 * 86_400_000;
            let starts_at = gittix_shared::time::iso8601(starts_at_ms);
            let event: Value = market
                .call(reqwest::Method::POST, "/api/events", &seller,
                    Some(json!({"name": "Payout Fest", "venue": "Hall", "city": "Oslo", "startsAt": starts_at})))
                .await.json().await.unwrap();
            let created: Value = market
                .call(reqwest::Method::POST, "/api/tickets", &seller,
                    Some(json!({"title": "Payout Fest seat", "price": 40, "eventId": event["id"]})))
                .await.json().await.unwrap();
            let seat = created["id"].as_str().unwrap().to_owned();
            assert_eq!(market.upload(&seller, &seat).await, StatusCode::NO_CONTENT);
            let later = market.bought(&buyer, &seat).await;
            let held = eventually("the event's payout to be scheduled", || async {
                let payouts = market.payouts_of(&seller).await;
                payouts.iter().find(|p| p["orderId"] == later.as_str()).cloned()
            })
            .await;
            assert_eq!((&held["status"], &held["amount"], &held["fee"]), (&json!("held"), &json!(36), &json!(4)), "{held}");
            let event_release = gittix_shared::time::parse_iso8601(held["releaseAt"].as_str().unwrap()).unwrap();
            let event_starts = gittix_shared::time::parse_iso8601(event["startsAt"].as_str().unwrap()).unwrap();
            assert_eq!(event_release, event_starts + 1_800);
            // Newest first.
            assert_eq!(market.payouts_of(&seller).await[0]["orderId"], later.as_str());

            let ledger = gittix_payments::ledger::read(&market.payments_db).await.unwrap();
            assert_eq!(ledger.unbalanced().count() + ledger.unsettled().count(), 0, "{ledger:#?}");
            let total = ledger.total();
            // $33.75 and $45 charged; $27 paid, $36 held; fees $3.75 + $3 and $5 + $4.
            assert_eq!((total.charged, total.paid_out, total.held, total.fees), (7875, 2700, 3600, 1575));
        }
    }
}

/// All-in pricing (design, section 8): with a buyer fee, every price a buyer sees is the
/// total, the order fixes it with its fee broken down, and the card is charged exactly it.
mod fees {
    use super::*;

    topology_tests! {
        async fn a_buyer_sees_the_total_everywhere_and_is_charged_what_the_order_fixed(topology) {
            // 12.5% of $49.50 is $6.1875: rounded half up, $6.19; the total $55.69.
            let fees = Fees { buyer: "12.5".parse().unwrap(), seller: FeeRate::ZERO };
            let market = Marketplace::spawn_configured(
                topology, OrdersConfig::default().order_lock_seconds, TicketsConfig::default(), fees,
            ).await;
            let (seller, buyer) = (market.user(), market.user());
            let starts_at = gittix_shared::time::iso8601(gittix_shared::time::unix_millis() + 30 * 86_400_000);
            let event: Value = market
                .call(reqwest::Method::POST, "/api/events", &seller,
                    Some(json!({"name": "Fee Fest", "venue": "Hall", "city": "Oslo", "startsAt": starts_at})))
                .await.json().await.unwrap();
            let event_id = event["id"].as_str().unwrap();
            let created = market
                .call(reqwest::Method::POST, "/api/tickets", &seller,
                    Some(json!({"title": "Fee Fest seat", "price": 49.5, "eventId": event_id})))
                .await;
            assert_eq!(created.status(), StatusCode::CREATED);
            let ticket: Value = created.json().await.unwrap();
            let id = ticket["id"].as_str().unwrap().to_owned();
            assert_eq!((&ticket["price"], &ticket["totalPrice"]), (&json!(49.5), &json!(55.69)));
            assert_eq!(market.json(&format!("/api/tickets/{id}"), &buyer).await["totalPrice"], 55.69);
            assert_eq!(market.json("/api/tickets", &buyer).await[0]["totalPrice"], 55.69);
            assert_eq!(market.json(&format!("/api/events/{event_id}"), &buyer).await["lowestPrice"], 55.69);
            assert_eq!(market.json(&format!("/api/events/{event_id}/tickets"), &buyer).await[0]["totalPrice"], 55.69);
            // A buyer's price bounds are totals: $55.69 is within "up to $55.69", not "up to $55.68".
            let listed = |query: &'static str| {
                let market = &market;
                let buyer = &buyer;
                async move { market.json(&format!("/api/tickets?{query}"), buyer).await.as_array().unwrap().len() }
            };
            assert_eq!(listed("maxPrice=55.69").await, 1);
            assert_eq!(listed("maxPrice=55.68").await, 0);
            assert_eq!(listed("minPrice=55.69").await, 1);
            assert_eq!(listed("minPrice=55.70").await, 0);

            let order = market.reserve(&buyer, &id).await;
            assert_eq!(order["total"], 55.69);
            assert_eq!(order["fees"], json!({"buyer": 6.19}));
            assert_eq!(order["ticket"]["price"], 49.5);
            let order_id = order["id"].as_str().unwrap().to_owned();
            eventually("payments to learn the order", || async {
                market.payments_replica_status(&order_id).await.map(|_| ())
            })
            .await;
            let (status, _) = market.pay(&buyer, &order_id, "tok_visa").await;
            assert_eq!(status, StatusCode::CREATED);
            let complete = market.order_becomes(&buyer, &order_id, "complete").await;
            assert_eq!((&complete["total"], &complete["fees"]["buyer"]), (&json!(55.69), &json!(6.19)));
            assert_eq!(market.charges(&order_id).await, [("completed".to_owned(), 5569)]);
            let attempts = market.json(&format!("/api/payments?orderId={order_id}"), &buyer).await;
            assert_eq!(attempts[0]["amount"], 55.69, "{attempts}");
        }

        async fn without_fees_a_buyer_pays_the_price_as_the_original_did(topology) {
            let market = Marketplace::spawn(topology).await;
            let (seller, buyer) = (market.user(), market.user());
            let ticket = market.sell(&seller, 30).await;
            assert_eq!(market.json(&format!("/api/tickets/{ticket}"), &buyer).await["totalPrice"], 30);
            let order = market.reserve(&buyer, &ticket).await;
            assert_eq!((&order["total"], &order["fees"]), (&json!(30), &json!({"buyer": 0})));
        }
    }
}
