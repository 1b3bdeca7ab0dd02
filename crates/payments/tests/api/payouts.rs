//! Sellers' payouts (design, sections 3 and 8): a delivered sale schedules a payout of the
//! order's price less the seller fee, held until its release time and the seller's account;
//! failed transfers are retried; a refund cancels the payout before release and reverses it
//! after; the ledger balances throughout.
//!
//! Both topologies pay buyers through their own provider (the simulator, or localstripe through
//! async-stripe); transfers go to the simulator's Connect half in both, because no local
//! Stripe stand-in implements transfers (the async-stripe adapter's transfers and reversals are
//! checked against the requests Stripe documents in tests/accounts.rs).

use super::*;

use gittix_payments::ledger;
use gittix_shared::events::TicketDelivered;
use gittix_shared::fees::FeeRate;

/// A seller fee of 10% and a buyer fee of 12.5%: a $20 sale charges $22.50 and pays $18.
fn fees() -> Fees {
    Fees {
        buyer: "12.5".parse::<FeeRate>().unwrap(),
        seller: "10".parse::<FeeRate>().unwrap(),
    }
}

struct PayoutsApp {
    app: PaymentsApp,
    /// The Connect half both topologies transfer through.
    connect: Arc<SimulatedStripe>,
}

impl PayoutsApp {
    /// Payouts held `hold_seconds` after delivery (the tickets here have no event), retried
    /// 100 ms after a failure.
    async fn spawn(topology: Topology, hold_seconds: f64) -> Self {
        Self::spawn_retrying(topology, hold_seconds, 0).await
    }

    /// As [`Self::spawn`], retrying a failed transfer `retry_seconds` after it.
    async fn spawn_retrying(topology: Topology, hold_seconds: f64, retry_seconds: u64) -> Self {
        let connect = Arc::new(SimulatedStripe::default());
        let payments: Arc<dyn PaymentProvider> = match topology {
            Topology::Embedded => Arc::new(SimulatedStripe::default()),
            Topology::Distributed => Arc::new(StripeProvider::new(&stripe_url(), "sk_test_gittix")),
        };
        let providers = Providers {
            payments,
            accounts: connect.clone(),
        };
        let unlimited = std::num::NonZeroU32::new(1_000_000).unwrap();
        let config = PaymentsConfig {
            payments_per_user_per_minute: unlimited,
            payments_per_client_per_minute: unlimited,
            payout_hold_hours: hold_seconds / 3600.0,
            payout_retry_seconds: retry_seconds,
            ..PaymentsConfig::default()
        };
        let app = PaymentsApp::spawn_charging(topology, providers, config, fees()).await;
        Self { app, connect }
    }

    /// A $20 sale by `seller`, paid ($22.50 with the buyer fee) and delivered; returns the order.
    async fn delivered_sale(&self, seller: &TestUser) -> String {
        let buyer = self.app.user();
        let order = self.paid_order(&buyer).await;
        self.delivered(&order, seller).await;
        order
    }

    async fn paid_order(&self, buyer: &TestUser) -> String {
        let id = uuid::Uuid::now_v7().to_string();
        let event = OrderCreated {
            id: id.clone(),
            version: 0,
            status: OrderStatus::Created,
            user_id: buyer.id.clone(),
            expires_at: iso8601(unix_millis() + 60_000),
            ticket: OrderedTicket {
                id: "ticket".into(),
                price: 2000,
                version: Some(0),
            },
            total: Some(2250),
        };
        publish_event(self.app.bus(), &event).await;
        self.app.replica_status_is(&id, "created").await;
        self.app.order_confirmed(&id).await;
        self.app.replica_status_is(&id, "awaiting:payment").await;
        let (status, body) = self
            .app
            .pay(Some(buyer), json!({"token": "tok_visa", "orderId": id}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        self.app
            .charges_become(&id, &[("completed", 2250, 1)])
            .await;
        id
    }

    async fn delivered(&self, order: &str, seller: &TestUser) {
        let delivered = TicketDelivered {
            id: "ticket".into(),
            order_id: order.to_owned(),
            buyer_id: "buyer".into(),
            seller_id: seller.id.clone(),
            event_starts_at: None,
            at_sale: false,
        };
        publish_event(self.app.bus(), &delivered).await;
    }

    async fn onboarded(&self, seller: &TestUser) {
        assert_eq!(self.app.start_onboarding(seller).await.0, StatusCode::OK);
        assert_eq!(
            self.app.complete_simulated_onboarding(seller).await,
            (StatusCode::OK, json!({"status": "enabled"}))
        );
    }

    /// `GET /api/payouts` as `seller`.
    async fn payouts(&self, seller: &TestUser) -> Vec<Value> {
        let (status, body) = self
            .app
            .call(Method::GET, "/api/payouts", Some(seller))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body.as_array().unwrap().clone()
    }

    /// Waits until the seller's only payout has `status`; returns it.
    async fn payout_becomes(&self, seller: &TestUser, status: &str) -> Value {
        eventually(&format!("the payout to be {status}"), || async {
            let payouts = self.payouts(seller).await;
            (payouts.len() == 1 && payouts[0]["status"] == status).then(|| payouts[0].clone())
        })
        .await
    }

    /// Transfers made to `order`'s seller: (amount, source charge, transfer group, reversed).
    fn transfers_for(&self, order: &str) -> Vec<(i64, String, bool)> {
        self.connect
            .transfers()
            .into_iter()
            .filter(|(_, request, _)| request.transfer_group == order)
            .map(|(_, request, reversal)| {
                (
                    request.amount_cents,
                    request.source_transaction,
                    reversal.is_some(),
                )
            })
            .collect()
    }

    async fn stripe_charge_id(&self, order: &str) -> String {
        sqlx::query_scalar("SELECT stripe_charge_id FROM charges WHERE order_id = $1 AND status IN ('completed', 'refunded')")
            .bind(order)
            .fetch_one(self.app.db.pool())
            .await
            .unwrap()
    }

    /// A refund made in Stripe's dashboard, as its webhook tells GitTix.
    async fn refunded_in_stripe(&self, order: &str) {
        let intent: String = sqlx::query_scalar(
            "SELECT stripe_id FROM charges WHERE order_id = $1 AND status = 'completed'",
        )
        .bind(order)
        .fetch_one(self.app.db.pool())
        .await
        .unwrap();
        let refund = self
            .app
            .provider
            .refund(&intent, &format!("dashboard-{order}"))
            .await
            .unwrap();
        let event = json!({"id": format!("evt_{refund}"), "type": "charge.refunded",
            "data": {"object": {"id": self.stripe_charge_id(order).await, "payment_intent": intent, "refunds": {"data": [{"id": refund}]}}}});
        assert_eq!(self.app.stripe_sends(&event).await, StatusCode::OK);
    }

    /// The ledger holds for every order and nothing is left moving.
    async fn ledger_balances(&self) {
        eventually("the ledger to settle", || async {
            let ledger = ledger::read(&self.app.db).await.unwrap();
            (ledger.unsettled().count() == 0).then_some(())
        })
        .await;
        let ledger = ledger::read(&self.app.db).await.unwrap();
        let unbalanced: Vec<_> = ledger.unbalanced().collect();
        assert!(unbalanced.is_empty(), "{unbalanced:#?}");
        assert!(!ledger.lines.is_empty());
    }
}

fn dollars_of(value: &Value) -> f64 {
    value.as_f64().unwrap()
}

topology_tests! {
    async fn a_sale_whose_seller_onboards_only_after_it_waits_then_is_paid_the_price_less_the_fee(topology) {
        let test = PayoutsApp::spawn(topology, 0.5).await;
        let mut events = EventLog::watch(test.app.bus(), &["payout:scheduled", "payout:paid"]).await;
        let seller = test.app.user();
        let delivered_at = unix_millis();
        let order = test.delivered_sale(&seller).await;
        // Delivered again (a redelivery, or a second report): one payout.
        test.delivered(&order, &seller).await;

        let (subject, scheduled) = events.next().await;
        assert_eq!(subject, "payout:scheduled");
        assert_eq!((scheduled["orderId"].as_str(), scheduled["sellerId"].as_str(), scheduled["amount"].as_i64()), (Some(order.as_str()), Some(seller.id.as_str()), Some(1800)));
        let release_at = scheduled["releaseAt"].as_i64().unwrap();
        assert!(release_at >= delivered_at + 500 && release_at < unix_millis() + 1_000, "released {} ms after delivery", release_at - delivered_at);

        // Past its release time, the payout waits for the seller's account, and says so.
        let held = eventually("the payout to wait for the seller's account", || async {
            let payouts = test.payouts(&seller).await;
            payouts.iter().any(|p| p.get("reason").is_some()).then_some(payouts)
        })
        .await;
        assert!(unix_millis() >= release_at);
        assert_eq!(held.len(), 1);
        assert_eq!((held[0]["orderId"].as_str(), held[0]["ticketId"].as_str(), held[0]["status"].as_str()), (Some(order.as_str()), Some("ticket"), Some("held")));
        assert_eq!((dollars_of(&held[0]["amount"]), dollars_of(&held[0]["fee"])), (18.0, 2.0));
        assert_eq!(held[0]["releaseAt"], iso8601(release_at));
        assert!(held[0]["reason"].as_str().unwrap().contains("payout account"), "{}", held[0]);
        assert!(held[0].get("paidAt").is_none());
        assert!(test.transfers_for(&order).is_empty());
        test.ledger_balances().await;

        test.onboarded(&seller).await;
        let paid = test.payout_becomes(&seller, "paid").await;
        assert!(paid["paidAt"].is_string() && paid.get("reason").is_none(), "{paid}");
        let (subject, data) = events.next().await;
        assert_eq!((subject.as_str(), data["id"].clone(), data["amount"].as_i64()), ("payout:paid", paid["id"].clone(), Some(1800)));
        assert!(data["stripeTransferId"].as_str().unwrap().starts_with("tr_"));
        // One transfer, of the seller's share, from the buyer's charge, grouped with the order.
        assert_eq!(test.transfers_for(&order), [(1800, test.stripe_charge_id(&order).await, false)]);
        events.expect_none(Duration::from_millis(500)).await;
        // Nobody else sees it.
        assert!(test.payouts(&test.app.user()).await.is_empty());
        test.ledger_balances().await;
    }

    async fn a_transfer_that_fails_twice_is_retried_and_made_once(topology) {
        let test = PayoutsApp::spawn(topology, 0.0).await;
        let mut failures = EventLog::watch(test.app.bus(), &["payout:failed"]).await;
        let seller = test.app.user();
        test.onboarded(&seller).await;
        // The first try never reaches Stripe; the second makes the transfer but its answer is
        // lost; the third, under the same key, is answered with that transfer.
        test.connect.fail_next_transfers(1);
        test.connect.lose_next_transfer_answers(1);
        let order = test.delivered_sale(&seller).await;
        for _ in 0..2 {
            let (_, failed) = failures.next().await;
            assert_eq!((failed["orderId"].as_str(), failed["amount"].as_i64()), (Some(order.as_str()), Some(1800)));
            assert!(failed["reason"].as_str().unwrap().contains("tried again"), "{failed}");
        }
        test.payout_becomes(&seller, "paid").await;
        assert_eq!(test.transfers_for(&order).len(), 1);
        let failed_tries: i64 = sqlx::query_scalar("SELECT failures FROM payouts WHERE order_id = $1")
            .bind(&order).fetch_one(test.app.db.pool()).await.unwrap();
        assert_eq!(failed_tries, 2);
        failures.expect_none(Duration::from_millis(300)).await;
        test.ledger_balances().await;
    }

    async fn a_refund_before_release_cancels_the_payout(topology) {
        let test = PayoutsApp::spawn(topology, 3600.0).await;
        let seller = test.app.user();
        test.onboarded(&seller).await;
        let order = test.delivered_sale(&seller).await;
        test.payout_becomes(&seller, "held").await;
        test.ledger_balances().await;
        test.refunded_in_stripe(&order).await;
        test.payout_becomes(&seller, "cancelled").await;
        assert!(test.transfers_for(&order).is_empty());
        test.ledger_balances().await;
    }

    async fn a_refund_while_a_transfers_outcome_is_unknown_finds_and_reverses_it(topology) {
        // A failed transfer waits an hour: only the refund's lookup can find it.
        let test = PayoutsApp::spawn_retrying(topology, 0.0, 3600).await;
        let mut events = EventLog::watch(test.app.bus(), &["payout:failed", "payout:paid", "payout:reversed"]).await;
        let seller = test.app.user();
        test.onboarded(&seller).await;
        test.connect.lose_next_transfer_answers(1);
        let order = test.delivered_sale(&seller).await;
        assert_eq!(events.next().await.0, "payout:failed");
        test.payout_becomes(&seller, "failed").await;
        assert_eq!(test.transfers_for(&order).len(), 1, "Stripe made it, unbeknown to GitTix");
        test.refunded_in_stripe(&order).await;
        assert_eq!(events.next().await.0, "payout:paid");
        assert_eq!(events.next().await.0, "payout:reversed");
        test.payout_becomes(&seller, "reversed").await;
        // The one transfer, found under its key and taken back; none made anew.
        assert_eq!(test.transfers_for(&order), [(1800, test.stripe_charge_id(&order).await, true)]);
        test.ledger_balances().await;
    }

    async fn a_refund_while_a_transfer_that_never_happened_is_retried_cancels_the_payout(topology) {
        let test = PayoutsApp::spawn_retrying(topology, 0.0, 3600).await;
        let seller = test.app.user();
        test.onboarded(&seller).await;
        test.connect.fail_next_transfers(1);
        let order = test.delivered_sale(&seller).await;
        test.payout_becomes(&seller, "failed").await;
        test.refunded_in_stripe(&order).await;
        // The lookup sends the same transfer under the same key. Stripe would refuse a transfer
        // from a refunded charge (the payout stays cancelled); the simulator makes it, and it is
        // reversed at once. Either way the seller keeps nothing.
        test.ledger_balances().await;
        let status = test.payouts(&seller).await[0]["status"].clone();
        assert!(status == "cancelled" || status == "reversed", "{status}");
        assert!(test.transfers_for(&order).iter().all(|(_, _, reversed)| *reversed));
    }

    async fn a_partial_refund_in_stripes_dashboard_changes_nothing_here(topology) {
        let test = PayoutsApp::spawn(topology, 3600.0).await;
        let seller = test.app.user();
        let order = test.delivered_sale(&seller).await;
        test.payout_becomes(&seller, "held").await;
        let intent: String = sqlx::query_scalar("SELECT stripe_id FROM charges WHERE order_id = $1")
            .bind(&order).fetch_one(test.app.db.pool()).await.unwrap();
        let event = json!({"id": format!("evt_partial_{order}"), "type": "charge.refunded",
            "data": {"object": {"id": test.stripe_charge_id(&order).await, "payment_intent": intent,
                "refunded": false, "amount": 2250, "amount_refunded": 500, "refunds": {"data": [{"id": "re_partial"}]}}}});
        assert_eq!(test.app.stripe_sends(&event).await, StatusCode::OK);
        assert_eq!(test.app.charges(&order).await, [("completed".to_owned(), 2250, 1)]);
        assert_eq!(test.payouts(&seller).await[0]["status"], "held");
    }

    async fn a_refund_after_release_reverses_the_transfer(topology) {
        let test = PayoutsApp::spawn(topology, 0.0).await;
        let mut reversals = EventLog::watch(test.app.bus(), &["payout:reversed"]).await;
        let seller = test.app.user();
        test.onboarded(&seller).await;
        let order = test.delivered_sale(&seller).await;
        let paid = test.payout_becomes(&seller, "paid").await;
        test.refunded_in_stripe(&order).await;
        test.payout_becomes(&seller, "reversed").await;
        let (_, reversed) = reversals.next().await;
        assert_eq!((reversed["id"].clone(), reversed["amount"].as_i64()), (paid["id"].clone(), Some(1800)));
        assert_eq!(test.transfers_for(&order), [(1800, test.stripe_charge_id(&order).await, true)]);
        test.ledger_balances().await;
    }

    async fn a_sale_refunded_before_delivery_is_never_paid_out(topology) {
        let test = PayoutsApp::spawn(topology, 0.0).await;
        let seller = test.app.user();
        test.onboarded(&seller).await;
        let order = test.paid_order(&test.app.user()).await;
        test.refunded_in_stripe(&order).await;
        test.app.charges_become(&order, &[("refunded", 2250, 1)]).await;
        test.delivered(&order, &seller).await;
        test.payout_becomes(&seller, "cancelled").await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(test.transfers_for(&order).is_empty());
        test.ledger_balances().await;
    }

    async fn signed_out_there_are_no_payouts_to_see(topology) {
        let test = PayoutsApp::spawn(topology, 0.0).await;
        assert_eq!(test.app.call(Method::GET, "/api/payouts", None).await.0, StatusCode::UNAUTHORIZED);
    }
}
