use std::time::Duration;

use gittix_testing::topology_tests;
use gittix_testing::EventLog;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

topology_tests! {
    async fn cancelling_marks_it_cancelled_publishes_and_frees_the_ticket(topology) {
        let app = OrdersApp::spawn(topology).await;
        let mut events = EventLog::watch(app.bus(), &["order:cancelled"]).await;
        let buyer = app.user();
        let ticket = app.ticket_listed(&app.user(), "Concert", 1000).await;
        let order = app.reserved(&buyer, &ticket).await;
        let id = order["id"].as_str().unwrap();

        assert_eq!(app.delete(None, id).await.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(app.delete(Some(&app.user()), id).await.status(), StatusCode::UNAUTHORIZED);
        let untouched: serde_json::Value = app.get(Some(&buyer), &format!("/api/orders/{id}")).await.json().await.unwrap();
        assert_eq!((untouched["status"].clone(), untouched["version"].clone()), (json!("created"), json!(0)), "a stranger's cancel changes nothing");
        assert_eq!(app.delete(Some(&buyer), "nothing").await.status(), StatusCode::NOT_FOUND);
        assert_eq!(app.delete(Some(&buyer), id).await.status(), StatusCode::NO_CONTENT);

        let shown: serde_json::Value = app.get(Some(&buyer), &format!("/api/orders/{id}")).await.json().await.unwrap();
        assert_eq!((shown["status"].clone(), shown["version"].clone()), (json!("cancelled"), json!(1)));
        let (subject, data) = events.next().await;
        assert_eq!(subject, "order:cancelled");
        assert_eq!(data, json!({"id": id, "version": 1, "ticket": {"id": ticket}, "reason": "cancelled"}));

        // Cancelling again changes nothing; the ticket can be reserved again.
        assert_eq!(app.delete(Some(&buyer), id).await.status(), StatusCode::NO_CONTENT);
        events.expect_none(Duration::from_millis(500)).await;
        app.reserved(&app.user(), &ticket).await;
    }

    async fn a_completed_order_cannot_be_cancelled(topology) {
        let app = OrdersApp::spawn(topology).await;
        let buyer = app.user();
        let ticket = app.ticket_listed(&app.user(), "Concert", 1000).await;
        let order = app.reserved(&buyer, &ticket).await;
        let id = order["id"].as_str().unwrap();
        // Payment completes orders (the payments issue); here the stored order is completed directly.
        sqlx::query("UPDATE orders SET status = 'complete', version = version + 1 WHERE id = $1")
            .bind(id)
            .execute(app.db.pool())
            .await
            .unwrap();
        let (status, body) = status_and_json(app.delete(Some(&buyer), id).await).await;
        assert_eq!((status, body), (StatusCode::BAD_REQUEST, error("Cannot cancel a completed order")));
        let (status, body) = status_and_json(app.reserve(&app.user(), &ticket).await).await;
        assert_eq!((status, body), (StatusCode::BAD_REQUEST, error("Ticket is already reserved")), "a sold ticket stays taken");
    }
}

mod expiry {
    use gittix_shared::events::OrderExpired;
    use gittix_testing::topology_tests;
    use gittix_testing::{eventually, publish_event, EventLog};
    use serde_json::json;

    use crate::helpers::*;

    topology_tests! {
        async fn order_expired_cancels_an_order_that_is_not_complete(topology) {
            let app = OrdersApp::spawn(topology).await;
            let mut events = EventLog::watch(app.bus(), &["order:cancelled"]).await;
            let buyer = app.user();
            let ticket = app.ticket_listed(&app.user(), "Concert", 1000).await;
            let order = app.reserved(&buyer, &ticket).await;
            let id = order["id"].as_str().unwrap().to_owned();
            publish_event(app.bus(), &OrderExpired { order_id: id.clone() }).await;
            let (_, data) = events.next().await;
            assert_eq!(data, json!({"id": id, "version": 1, "ticket": {"id": ticket}, "reason": "expired"}));
            let shown: serde_json::Value = app.get(Some(&buyer), &format!("/api/orders/{id}")).await.json().await.unwrap();
            assert_eq!(shown["status"], "cancelled");
        }

        async fn order_expired_leaves_a_complete_order_alone(topology) {
            let app = OrdersApp::spawn(topology).await;
            let mut events = EventLog::watch(app.bus(), &["order:cancelled"]).await;
            let buyer = app.user();
            let ticket = app.ticket_listed(&app.user(), "Concert", 1000).await;
            let id = app.reserved(&buyer, &ticket).await["id"].as_str().unwrap().to_owned();
            sqlx::query("UPDATE orders SET status = 'complete', version = version + 1 WHERE id = $1")
                .bind(&id)
                .execute(app.db.pool())
                .await
                .unwrap();
            publish_event(app.bus(), &OrderExpired { order_id: id.clone() }).await;
            events.expect_none(std::time::Duration::from_millis(800)).await;
            let status = eventually("the order to be read", || async {
                let shown: serde_json::Value = app.get(Some(&buyer), &format!("/api/orders/{id}")).await.json().await.ok()?;
                Some(shown["status"].clone())
            })
            .await;
            assert_eq!(status, "complete");
        }
    }
}
