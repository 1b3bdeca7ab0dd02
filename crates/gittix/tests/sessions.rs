//! Sessions that end (issue #17): a copied cookie stops working in every service within a
//! second of a sign-out, a password change or a sign-out everywhere, in both topologies.
//!
//! Each service runs as its own replica would: its own port and its own `Sessions` (auth's
//! signs; the others hold only the public key), each following `session:revoked` on the shared
//! bus with a consumer group of its own. Nothing but the bus carries a revocation from auth to
//! the others.

use std::time::{Duration, Instant};

use gittix_auth::AuthConfig;
use gittix_orders::OrdersConfig;
use gittix_payments::provider::Providers;
use gittix_payments::PaymentsConfig;
use gittix_shared::events::SessionRevoked;
use gittix_shared::service::Platform;
use gittix_shared::session::Sessions;
use gittix_testing::{
    fresh_database, publish_event, session_cookie, test_session_keys, topology_tests, TestDatabase,
    TestPlatform, TestService, Topology, TEST_SESSION_TTL,
};
use gittix_tickets::TicketsConfig;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// How soon every service must refuse a revoked session.
const WITHIN: Duration = Duration::from_secs(1);

struct Replicas {
    auth: TestService,
    tickets: TestService,
    orders: TestService,
    payments: TestService,
    platform: TestPlatform,
    _databases: Vec<TestDatabase>,
}

/// A platform like `platform` whose sessions verify with the public key alone and keep their
/// own revocations, read from the bus: what a separate process would hold.
fn replica_of(platform: &Platform) -> Platform {
    let sessions = Sessions::new(&test_session_keys().public_only(), TEST_SESSION_TTL, false);
    let replica = platform.with_sessions(sessions);
    // Stops with the platform's shutdown.
    drop(replica.follow_revocations());
    replica
}

impl Replicas {
    async fn spawn(topology: Topology) -> Self {
        let platform = TestPlatform::new(topology).await;
        let p = &platform.platform;
        let mut databases = Vec::new();
        for _ in 0..4 {
            databases.push(fresh_database(topology.backend()).await);
        }
        let db = |i: usize| databases[i].db.clone();
        let auth = gittix_auth::build(&AuthConfig::default(), db(0), p)
            .await
            .unwrap();
        let tickets_platform = replica_of(p);
        let tickets = gittix_tickets::build(&TicketsConfig::default(), db(1), &tickets_platform)
            .await
            .unwrap();
        let orders_platform = replica_of(p);
        let orders = gittix_orders::build(&OrdersConfig::default(), db(2), &orders_platform)
            .await
            .unwrap();
        let payments_platform = replica_of(p);
        let payments_config = PaymentsConfig::default();
        let payments = gittix_payments::build(
            &payments_config,
            Providers::simulated(),
            db(3),
            &payments_platform,
        )
        .await
        .unwrap();
        Self {
            auth: TestService::serve(auth, p).await,
            tickets: TestService::serve(tickets, &tickets_platform).await,
            orders: TestService::serve(orders, &orders_platform).await,
            payments: TestService::serve(payments, &payments_platform).await,
            platform,
            _databases: databases,
        }
    }

    async fn sign_up(&self, email: &str) -> String {
        let body = json!({"email": email, "password": "password"});
        let response = self
            .auth
            .send(Method::POST, "/api/users/signup", None::<&str>, body)
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        session_cookie(&response).unwrap()
    }

    /// A second session of the same account, as another device would hold.
    async fn sign_in(&self, email: &str) -> String {
        let body = json!({"email": email, "password": "password"});
        let response = self
            .auth
            .send(Method::POST, "/api/users/signin", None::<&str>, body)
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        session_cookie(&response).unwrap()
    }

    /// What each service makes of `cookie`: whether auth knows the user, and whether tickets,
    /// orders and payments take a write from it. The writes are empty bodies: signed in, each
    /// is refused as invalid (400) at once and changes nothing; signed out, it is a 401.
    async fn answers(&self, cookie: &str) -> [bool; 4] {
        let who = Some(cookie);
        let current: Value = self
            .auth
            .get("/api/users/currentuser", who)
            .await
            .json()
            .await
            .unwrap();
        let ticket = json!({"title": "Show", "price": 10});
        let order = json!({"ticketId": uuid::Uuid::now_v7().to_string()});
        let payment = json!({"token": "tok_visa", "orderId": uuid::Uuid::now_v7().to_string()});
        let (tickets, orders, payments) = tokio::join!(
            self.tickets.send(Method::POST, "/api/tickets", who, ticket),
            self.orders.send(Method::POST, "/api/orders", who, order),
            self.payments
                .send(Method::POST, "/api/payments", who, payment),
        );
        [
            !current["currentUser"].is_null(),
            tickets.status() != StatusCode::UNAUTHORIZED,
            orders.status() != StatusCode::UNAUTHORIZED,
            payments.status() != StatusCode::UNAUTHORIZED,
        ]
    }

    /// Waits until no service takes `cookie`, and fails if that takes longer than [`WITHIN`]
    /// from `since` (when the revoking answer came).
    async fn refused_everywhere_within_a_second(&self, cookie: &str, since: Instant) {
        loop {
            // What a check sees is the state when it was sent: a check sent in time counts.
            let sent = since.elapsed();
            let answers = self.answers(cookie).await;
            if answers == [false; 4] {
                return;
            }
            assert!(
                sent < WITHIN,
                "still signed in {sent:?} after the revocation (auth, tickets, orders, payments): {answers:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn post(&self, path: &str, cookie: &str, body: Value) -> reqwest::Response {
        self.auth.send(Method::POST, path, Some(cookie), body).await
    }
}

topology_tests! {
    async fn a_copied_cookie_stops_working_everywhere_after_sign_out(topology) {
        let replicas = Replicas::spawn(topology).await;
        let stolen = replicas.sign_up("owner@test.com").await;
        let other_device = replicas.sign_in("owner@test.com").await;
        assert_eq!(replicas.answers(&stolen).await, [true; 4]);

        let signed_out = replicas.post("/api/users/signout", &stolen, json!({})).await;
        assert_eq!(signed_out.status(), StatusCode::OK);
        replicas.refused_everywhere_within_a_second(&stolen, Instant::now()).await;
        // Only that session ended.
        assert_eq!(replicas.answers(&other_device).await, [true; 4]);
    }

    async fn a_password_change_ends_every_other_session_everywhere(topology) {
        let replicas = Replicas::spawn(topology).await;
        let stolen = replicas.sign_up("owner@test.com").await;
        let mine = replicas.sign_in("owner@test.com").await;
        let change = json!({"currentPassword": "password", "password": "a-new-one"});
        let changed = replicas
            .auth
            .send(Method::PATCH, "/api/users/currentuser", Some(mine.as_str()), change)
            .await;
        assert_eq!(changed.status(), StatusCode::OK);
        let since = Instant::now();
        let renewed = session_cookie(&changed).unwrap();
        replicas.refused_everywhere_within_a_second(&stolen, since).await;
        replicas.refused_everywhere_within_a_second(&mine, since).await;
        assert_eq!(replicas.answers(&renewed).await, [true; 4]);
    }

    async fn sign_out_everywhere_ends_every_session_everywhere(topology) {
        let replicas = Replicas::spawn(topology).await;
        let stolen = replicas.sign_up("owner@test.com").await;
        let mine = replicas.sign_in("owner@test.com").await;
        let bystander = replicas.sign_up("bystander@test.com").await;
        let everywhere = replicas.post("/api/users/signout-everywhere", &mine, json!({})).await;
        assert_eq!(everywhere.status(), StatusCode::OK);
        let since = Instant::now();
        replicas.refused_everywhere_within_a_second(&stolen, since).await;
        replicas.refused_everywhere_within_a_second(&mine, since).await;
        assert_eq!(replicas.answers(&bystander).await, [true; 4]);
        // Signing in again starts a session that works.
        let again = replicas.sign_in("owner@test.com").await;
        assert_eq!(replicas.answers(&again).await, [true; 4]);
        // Without a session it is a 401, as every write.
        let anonymous = replicas
            .auth
            .send(Method::POST, "/api/users/signout-everywhere", None::<&str>, json!({}))
            .await;
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    }

    async fn a_write_with_the_session_from_another_site_is_refused(topology) {
        let replicas = Replicas::spawn(topology).await;
        let cookie = replicas.sign_up("owner@test.com").await;
        let host = replicas.auth.address.to_string();
        for (origin, expected) in [
            ("https://evil.example", StatusCode::FORBIDDEN),
            ("null", StatusCode::FORBIDDEN),
            (&*format!("http://{host}"), StatusCode::OK),
        ] {
            let signed_out = replicas
                .auth
                .request(Method::POST, "/api/users/signout", Some(cookie.as_str()))
                .header("origin", origin)
                .send()
                .await
                .unwrap();
            assert_eq!(signed_out.status(), expected, "Origin: {origin}");
            if expected == StatusCode::FORBIDDEN {
                let body: Value = signed_out.json().await.unwrap();
                assert_eq!(body, json!({"errors": [{"message": "Cross-site request refused"}]}));
                // Nothing happened: the session still works everywhere.
                assert_eq!(replicas.answers(&cookie).await, [true; 4]);
            }
        }
        // A write from another site without the session cookie is not this rule's business.
        let anonymous = replicas
            .tickets
            .request(Method::POST, "/api/tickets", None::<&str>)
            .header("origin", "https://evil.example")
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    }

    async fn a_replica_started_after_the_revocation_refuses_the_session(topology) {
        let replicas = Replicas::spawn(topology).await;
        let stolen = replicas.sign_up("owner@test.com").await;
        let signed_out = replicas.post("/api/users/signout", &stolen, json!({})).await;
        assert_eq!(signed_out.status(), StatusCode::OK);
        replicas.refused_everywhere_within_a_second(&stolen, Instant::now()).await;

        // A tickets replica that was not running when the revocation was published.
        let late = replica_of(&replicas.platform.platform);
        let db = fresh_database(topology.backend()).await;
        let tickets = gittix_tickets::build(&TicketsConfig::default(), db.db.clone(), &late)
            .await
            .unwrap();
        let tickets = TestService::serve(tickets, &late).await;
        let since = Instant::now();
        loop {
            let sent = since.elapsed();
            let status = tickets.send(Method::POST, "/api/tickets", Some(stolen.as_str()), json!({})).await.status();
            if status == StatusCode::UNAUTHORIZED {
                break;
            }
            assert!(sent < WITHIN, "a replica started later took the revoked session: {status}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn a_replica_is_ready_only_once_it_has_read_the_revocations(topology) {
        let replicas = Replicas::spawn(topology).await;
        let stolen = replicas.sign_up("owner@test.com").await;
        let other_device = replicas.sign_in("owner@test.com").await;
        // Other users' sign-outs first, so the late reader has a backlog to work through
        // before it reaches the one that matters: ready too early would show.
        for _ in 0..300 {
            let revoked = SessionRevoked {
                user_id: uuid::Uuid::now_v7().to_string(),
                sid: Some(uuid::Uuid::now_v7().to_string()),
                before: None,
            };
            publish_event(replicas.platform.bus.bus.as_ref(), &revoked).await;
        }
        let signed_out = replicas.post("/api/users/signout", &stolen, json!({})).await;
        assert_eq!(signed_out.status(), StatusCode::OK);
        replicas.refused_everywhere_within_a_second(&stolen, Instant::now()).await;

        // A process that starts now: the probe its /readyz asks turns ready only once the
        // revocations published before it started have been applied, the last one too.
        let sessions = Sessions::new(&test_session_keys().public_only(), TEST_SESSION_TTL, false);
        let late = replicas.platform.platform.with_sessions(sessions.clone());
        let follower = late.follow_revocations();
        let token = |cookie: &str| cookie.split_once('=').unwrap().1.to_owned();
        let started = Instant::now();
        while !follower.read.is_read() {
            assert!(started.elapsed() < Duration::from_secs(10), "never read the revocations");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        assert!(sessions.verify(&token(&stolen)).is_none(), "ready, yet the revoked session verified");
        assert!(sessions.verify(&token(&other_device)).is_some(), "the session not signed out");
    }
}
