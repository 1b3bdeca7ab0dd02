//! A card that asks for 3-D Secure: the payment answers 202 with the challenge; the buyer's
//! answer decides it. In the embedded topology the simulator's challenge is answered through
//! `POST /api/payments/:id/challenge`; in the distributed one localstripe plays Stripe.js, and
//! payments learns the outcome by asking Stripe.

use super::*;

/// The buyer answers the challenge of `payment` (a 202's body) as Stripe.js would, through
/// localstripe's test endpoint.
async fn answer_at_localstripe(intent: &str, payment: &Value, complete: bool) {
    let answered = reqwest::Client::new()
        .post(format!(
            "{}/v1/payment_intents/{intent}/_authenticate",
            stripe_url()
        ))
        .basic_auth("sk_test_gittix", Some(""))
        .form(&[
            ("client_secret", payment["clientSecret"].as_str().unwrap()),
            ("success", if complete { "true" } else { "false" }),
        ])
        .send()
        .await
        .unwrap();
    assert!(answered.status().is_success());
}

impl PaymentsApp {
    /// The PaymentIntent of the attempt `charge_id`.
    async fn intent_of(&self, charge_id: &str) -> String {
        sqlx::query_scalar("SELECT stripe_id FROM charges WHERE id = $1")
            .bind(charge_id)
            .fetch_one(self.db.pool())
            .await
            .unwrap()
    }

    /// `GET /api/payments` with `query`.
    async fn attempts(&self, user: &TestUser, query: String) -> (StatusCode, Value) {
        status_and_json(
            self.service
                .get(&format!("/api/payments{query}"), Some(user))
                .await,
        )
        .await
    }

    /// `GET /api/payments/:id`.
    async fn attempt(&self, user: &TestUser, id: &str) -> (StatusCode, Value) {
        status_and_json(
            self.service
                .get(&format!("/api/payments/{id}"), Some(user))
                .await,
        )
        .await
    }

    /// Pays for a new order with the card that asks for 3-D Secure; returns the order and the
    /// 202's body.
    async fn challenged(&self, buyer: &TestUser) -> (String, Value) {
        let order = self.order_created(buyer, 3000, 60_000).await;
        let (status, body) = self
            .pay(
                Some(buyer),
                json!({"paymentMethod": "pm_card_authenticationRequired", "orderId": order}),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        (order, body)
    }

    /// The buyer answers the challenge, as the topology lets them; returns what payments says.
    async fn answer(
        &self,
        topology: Topology,
        buyer: &TestUser,
        payment: &Value,
        complete: bool,
    ) -> (StatusCode, Value) {
        let id = payment["id"].as_str().unwrap();
        match topology {
            Topology::Embedded => {
                let path = format!("/api/payments/{id}/challenge");
                status_and_json(
                    self.service
                        .send(
                            Method::POST,
                            &path,
                            Some(buyer),
                            json!({"complete": complete}),
                        )
                        .await,
                )
                .await
            }
            Topology::Distributed => {
                answer_at_localstripe(&self.intent_of(id).await, payment, complete).await;
                // No webhook from localstripe for a hold: the page that played Stripe.js asks
                // for the attempt, and payments asks Stripe.
                self.attempt(buyer, id).await
            }
        }
    }
}

topology_tests! {
    async fn a_card_that_asks_for_3d_secure_answers_202_with_the_challenge(topology) {
        let app = PaymentsApp::spawn(topology).await;
        let buyer = app.user();
        let (order, body) = app.challenged(&buyer).await;
        let id = body["id"].as_str().unwrap();
        assert_eq!(body["status"], "requires_action");
        assert!(body["clientSecret"].as_str().unwrap().contains("_secret_"), "{body}");
        assert_eq!(body["nextAction"]["url"], format!("/payments/{id}/challenge"));
        assert_eq!(app.charges(&order).await, [("requires_action".to_owned(), 3000, 1)]);
    }

    async fn another_payment_waits_while_the_check_is_open(topology) {
        let app = PaymentsApp::spawn(topology).await;
        let buyer = app.user();
        let (order, _) = app.challenged(&buyer).await;
        let again = app.pay(Some(&buyer), json!({"token": "tok_visa", "orderId": order})).await;
        assert_eq!(again, (StatusCode::BAD_REQUEST, error("A payment for this order is already in progress")));
        assert_eq!(app.charges(&order).await, [("requires_action".to_owned(), 3000, 1)]);
    }

    async fn a_completed_challenge_pays(topology) {
        let app = PaymentsApp::spawn(topology).await;
        let mut paid = EventLog::watch(app.bus(), &["charge:created"]).await;
        let buyer = app.user();
        let (order, body) = app.challenged(&buyer).await;
        let (status, answered) = app.answer(topology, &buyer, &body, true).await;
        if topology == Topology::Embedded {
            assert_eq!(status, StatusCode::CREATED, "{answered}");
            assert_eq!(answered, json!({"id": body["id"], "status": "succeeded"}));
        }
        app.charges_become(&order, &[("completed", 3000, 1)]).await;
        let (_, data) = paid.next().await;
        assert_eq!(data["orderId"], order.as_str());
    }

    async fn a_failed_challenge_is_a_decline_and_the_order_stays_payable(topology) {
        let app = PaymentsApp::spawn(topology).await;
        let buyer = app.user();
        let (order, body) = app.challenged(&buyer).await;
        let (status, answered) = app.answer(topology, &buyer, &body, false).await;
        if topology == Topology::Embedded {
            assert_eq!(status, StatusCode::BAD_REQUEST, "{answered}");
        }
        app.charges_become(&order, &[("failed", 3000, 1)]).await;
        let (status, _) = app.pay(Some(&buyer), json!({"token": "tok_visa", "orderId": order})).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(app.charges(&order).await, [("failed".to_owned(), 3000, 1), ("completed".to_owned(), 3000, 2)]);
    }

    async fn a_challenge_left_open_ends_with_the_order_and_charges_nothing(topology) {
        let app = PaymentsApp::spawn(topology).await;
        let buyer = app.user();
        let (order, body) = app.challenged(&buyer).await;
        let expired = OrderCancelled { id: order.clone(), version: 2, ticket: TicketRef { id: "ticket".into() }, reason: CancelReason::Expired };
        publish_event(app.bus(), &expired).await;
        app.charges_become(&order, &[("failed", 3000, 1)]).await;
        let intent = app.intent_of(body["id"].as_str().unwrap()).await;
        assert_eq!(app.provider.retrieve(&intent).await.unwrap().status, gittix_payments::provider::IntentStatus::Canceled);
    }

    async fn only_the_buyer_answers_the_challenge_and_only_in_simulator_mode(topology) {
        let app = PaymentsApp::spawn(topology).await;
        let (buyer, stranger) = (app.user(), app.user());
        let (_, body) = app.challenged(&buyer).await;
        let path = format!("/api/payments/{}/challenge", body["id"].as_str().unwrap());
        let by_stranger = status_and_json(app.service.send(Method::POST, &path, Some(&stranger), json!({"complete": true})).await).await;
        let by_buyer = status_and_json(app.service.send(Method::POST, "/api/payments/nothing/challenge", Some(&buyer), json!({"complete": true})).await).await;
        assert_eq!(by_buyer, (StatusCode::NOT_FOUND, error("Not Found")));
        match topology {
            Topology::Embedded => assert_eq!(by_stranger, (StatusCode::UNAUTHORIZED, error("Not authorized"))),
            // With Stripe, Stripe.js plays the challenge: GitTix has none to answer.
            Topology::Distributed => assert_eq!(by_stranger, (StatusCode::NOT_FOUND, error("Not Found"))),
        }
    }

    async fn the_buyer_sees_one_attempt_and_its_challenge_as_the_provider_has_it(topology) {
        let app = PaymentsApp::spawn(topology).await;
        let (buyer, stranger) = (app.user(), app.user());
        let (order, body) = app.challenged(&buyer).await;
        let id = body["id"].as_str().unwrap();
        let (status, shown) = app.attempt(&buyer, id).await;
        assert_eq!(status, StatusCode::OK, "{shown}");
        assert_eq!((&shown["status"], &shown["orderId"], &shown["amount"]), (&json!("requires_action"), &json!(order), &json!(30)));
        assert_eq!(shown["clientSecret"], body["clientSecret"]);
        assert_eq!(app.attempt(&stranger, id).await, (StatusCode::UNAUTHORIZED, error("Not authorized")));
        assert_eq!(app.attempt(&buyer, "nothing").await, (StatusCode::NOT_FOUND, error("Not Found")));

        // The buyer fails the challenge; the attempt shows it, and its secret is gone.
        let (status, answered) = app.answer(topology, &buyer, &body, false).await;
        let (_, shown) = app.attempt(&buyer, id).await;
        assert_eq!(shown["status"], "failed", "{status} {answered} {shown}");
        assert!(!shown["failureReason"].as_str().unwrap().is_empty(), "{shown}");
        assert!(shown.get("clientSecret").is_none(), "{shown}");
    }

    async fn the_buyer_lists_an_orders_attempts(topology) {
        let app = PaymentsApp::spawn(topology).await;
        let (buyer, stranger) = (app.user(), app.user());
        let order = app.order_created(&buyer, 1999, 60_000).await;
        app.pay(Some(&buyer), json!({"token": "tok_chargeDeclined", "orderId": order})).await;
        app.pay(Some(&buyer), json!({"token": "tok_visa", "orderId": order})).await;
        let (status, attempts) = app.attempts(&buyer, format!("?orderId={order}")).await;
        assert_eq!(status, StatusCode::OK);
        let seen: Vec<(Value, Value)> = attempts.as_array().unwrap().iter().map(|a| (a["status"].clone(), a["amount"].clone())).collect();
        assert_eq!(seen, [(json!("failed"), json!(19.99)), (json!("completed"), json!(19.99))]);
        assert!(attempts[0]["createdAt"].as_str().unwrap().ends_with('Z'));
        assert_eq!(app.attempts(&stranger, format!("?orderId={order}")).await, (StatusCode::UNAUTHORIZED, error("Not authorized")));
        assert_eq!(app.attempts(&buyer, "?orderId=nothing".into()).await, (StatusCode::NOT_FOUND, error("Not Found")));
        assert_eq!(app.attempts(&buyer, String::new()).await.0, StatusCode::BAD_REQUEST);
    }
}

/// With Stripe, the outcome of a challenge arrives by webhook: the attempt goes on at once, from
/// what Stripe says of the intent, however often and in whatever order the events come.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_about_an_answered_challenge_completes_the_payment() {
    let app = PaymentsApp::spawn(Topology::Distributed).await;
    let buyer = app.user();
    let (order, body) = app.challenged(&buyer).await;
    let intent = app.intent_of(body["id"].as_str().unwrap()).await;
    let send = |id: &str, kind: &str| {
        let event = json!({"id": id, "type": kind, "data": {"object": {"id": intent, "object": "payment_intent",
            "metadata": {"gittix_charge_id": body["id"]}}}});
        let app = &app;
        async move { app.stripe_sends(&event).await }
    };
    // Stripe says so before the buyer answered: nothing changes.
    assert_eq!(
        send("evt_early", "payment_intent.requires_action").await,
        StatusCode::OK
    );
    assert_eq!(
        app.charges(&order).await,
        [("requires_action".to_owned(), 3000, 1)]
    );

    answer_at_localstripe(&intent, &body, true).await;
    assert_eq!(
        send("evt_capturable", "payment_intent.amount_capturable_updated").await,
        StatusCode::OK
    );
    app.charges_become(&order, &[("completed", 3000, 1)]).await;
    // Late and repeated events change nothing.
    assert_eq!(
        send("evt_capturable", "payment_intent.amount_capturable_updated").await,
        StatusCode::OK
    );
    assert_eq!(
        send("evt_succeeded", "payment_intent.succeeded").await,
        StatusCode::OK
    );
    assert_eq!(
        app.charges(&order).await,
        [("completed".to_owned(), 3000, 1)]
    );
}
