//! A payment started in time is decided on its merits (design, section 5): an attempt that
//! began before `expiresAt` (`charge:started`) holds the lock until it resolves, at most
//! `PAYMENT_GRACE_SECONDS` past `expiresAt`; an authorized payment (`charge:authorized`)
//! completes the order. An attempt waiting for the buyer's 3-D Secure answer
//! (`charge:requires-action`) holds nothing: the order ends with its lock.

use gittix_orders::OrdersConfig;
use gittix_shared::events::{
    ChargeAuthorized, ChargeFailed, ChargeRequiresAction, ChargeStarted, OrderExpired,
};
use gittix_shared::time::unix_millis;
use gittix_testing::{eventually, publish_event, topology_tests, EventLog};
use serde_json::json;

use crate::helpers::*;

impl OrdersApp {
    /// Payments started attempt `attempt`; waits until orders knows.
    async fn attempt_started(&self, order: &str, attempt: i64) {
        let started = ChargeStarted {
            id: format!("charge-{attempt}"),
            order_id: order.to_owned(),
            attempt,
        };
        publish_event(self.bus(), &started).await;
        eventually("orders to know of the attempt", || async {
            let started: i64 =
                sqlx::query_scalar("SELECT payment_started FROM orders WHERE id = $1")
                    .bind(order)
                    .fetch_one(self.db.pool())
                    .await
                    .unwrap();
            (started == attempt).then_some(())
        })
        .await;
    }

    /// A payable order whose attempt 1 started before its lock ended, and that `order:expired`
    /// left alone since: the attempt holds it.
    async fn held_past_its_expiry(&self, cancelled: &mut EventLog) -> String {
        let (order, _, _) = self.payable().await;
        self.attempt_started(&order, 1).await;
        self.lock_ended(&order, 10).await;
        publish_event(
            self.bus(),
            &OrderExpired {
                order_id: order.clone(),
            },
        )
        .await;
        cancelled
            .expect_none(std::time::Duration::from_millis(800))
            .await;
        order
    }

    /// Moves the order's `expiresAt` `ago_ms` into the past: its lock window has ended.
    async fn lock_ended(&self, order: &str, ago_ms: i64) {
        sqlx::query("UPDATE orders SET expires_at = $2 WHERE id = $1")
            .bind(order)
            .bind(unix_millis() - ago_ms)
            .execute(self.db.pool())
            .await
            .unwrap();
    }
}

/// The next `order:cancelled` is `order`'s, as expired.
async fn expired(cancelled: &mut EventLog, order: &str) {
    let (_, data) = cancelled.next().await;
    assert_eq!(
        (data["id"].as_str(), data["reason"].as_str()),
        (Some(order), Some("expired"))
    );
}

topology_tests! {
    async fn an_attempt_in_flight_holds_the_order_past_its_expiry_and_completes_it(topology) {
        let app = OrdersApp::spawn(topology).await;
        let mut cancelled = EventLog::watch(app.bus(), &["order:cancelled"]).await;
        let mut completed = EventLog::watch(app.bus(), &["order:completed"]).await;
        let (order, ticket, buyer) = app.payable().await;
        app.attempt_started(&order, 1).await;
        app.lock_ended(&order, 10).await;
        publish_event(app.bus(), &OrderExpired { order_id: order.clone() }).await;
        cancelled.expect_none(std::time::Duration::from_millis(1_500)).await;
        assert_eq!(app.order_status(&order).await, ("awaiting:payment".to_owned(), None));

        let authorized = ChargeAuthorized { id: "charge-1".into(), order_id: order.clone(), attempt: 1, amount: 2000, stripe_id: "pi_1".into() };
        publish_event(app.bus(), &authorized).await;
        let (_, data) = completed.next().await;
        assert_eq!(data, json!({"id": order, "version": 2, "ticket": {"id": ticket}, "userId": buyer.id, "total": 2000}));
        assert_eq!(app.order_status(&order).await, ("complete".to_owned(), None));
    }

    async fn an_attempt_that_fails_after_the_expiry_ends_the_order(topology) {
        let app = OrdersApp::spawn(topology).await;
        let mut cancelled = EventLog::watch(app.bus(), &["order:cancelled"]).await;
        let order = app.held_past_its_expiry(&mut cancelled).await;

        let failed = ChargeFailed { id: "charge-1".into(), order_id: order.clone(), attempt: 1, reason: "Your card was declined.".into() };
        publish_event(app.bus(), &failed).await;
        expired(&mut cancelled, &order).await;
    }

    async fn a_decline_before_the_expiry_leaves_the_order_payable(topology) {
        let app = OrdersApp::spawn(topology).await;
        let mut cancelled = EventLog::watch(app.bus(), &["order:cancelled"]).await;
        let (order, _, _) = app.payable().await;
        app.attempt_started(&order, 1).await;
        let failed = ChargeFailed { id: "charge-1".into(), order_id: order.clone(), attempt: 1, reason: "Your card was declined.".into() };
        publish_event(app.bus(), &failed).await;
        cancelled.expect_none(std::time::Duration::from_millis(1_500)).await;
        assert_eq!(app.order_status(&order).await, ("awaiting:payment".to_owned(), None));
    }

    async fn an_attempt_that_never_resolves_loses_the_order_when_the_grace_runs_out(topology) {
        let config = OrdersConfig { payment_grace_seconds: 1, ..OrdersConfig::default() };
        let app = OrdersApp::spawn_configured(topology, config).await;
        let mut cancelled = EventLog::watch(app.bus(), &["order:cancelled"]).await;
        let (order, _, _) = app.payable().await;
        app.attempt_started(&order, 1).await;
        // The lock ended just now; the grace ends a second later, with nothing more said.
        app.lock_ended(&order, 0).await;
        publish_event(app.bus(), &OrderExpired { order_id: order.clone() }).await;
        expired(&mut cancelled, &order).await;
    }

    async fn an_attempt_waiting_for_3_d_secure_does_not_hold_the_order_past_its_expiry(topology) {
        let app = OrdersApp::spawn(topology).await;
        let mut cancelled = EventLog::watch(app.bus(), &["order:cancelled"]).await;
        let order = app.held_past_its_expiry(&mut cancelled).await;

        // The card asked for a challenge the buyer leaves open: the lock has ended, so the order does.
        let challenged = ChargeRequiresAction { id: "charge-1".into(), order_id: order.clone(), attempt: 1 };
        publish_event(app.bus(), &challenged).await;
        expired(&mut cancelled, &order).await;
    }

    async fn a_challenge_answered_in_time_still_completes_the_order(topology) {
        let app = OrdersApp::spawn(topology).await;
        let mut completed = EventLog::watch(app.bus(), &["order:completed"]).await;
        let (order, _, _) = app.payable().await;
        app.attempt_started(&order, 1).await;
        let challenged = ChargeRequiresAction { id: "charge-1".into(), order_id: order.clone(), attempt: 1 };
        publish_event(app.bus(), &challenged).await;
        let authorized = ChargeAuthorized { id: "charge-1".into(), order_id: order.clone(), attempt: 1, amount: 2000, stripe_id: "pi_1".into() };
        publish_event(app.bus(), &authorized).await;
        completed.next().await;
        assert_eq!(app.order_status(&order).await, ("complete".to_owned(), None));
    }
}
