//! Payment attempts are rate-limited per buyer and per client address (issue #17): card
//! testing tries many cards, often from fresh accounts. Counted on the platform's limiter (in
//! process, or in Redis in the distributed topology); the card is never reached.

use super::*;

fn simulated() -> Providers {
    Providers::simulated()
}

fn too_many() -> Value {
    json!({"errors": [{"message": "Too many attempts, try again later"}]})
}

topology_tests! {
    async fn a_buyer_past_ten_attempts_a_minute_is_told_to_wait(topology) {
        let defaults = PaymentsConfig::default();
        assert_eq!(defaults.payments_per_user_per_minute.get(), 10);
        let app = PaymentsApp::spawn_configured(topology, simulated(), defaults).await;
        let buyer = app.user();
        let order = app.order_created(&buyer, 2000, 60_000).await;
        // Refused attempts count too: card testing is mostly declines.
        for n in 0..10 {
            let (status, _) = app.pay(Some(&buyer), json!({"orderId": order})).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "attempt {n}");
        }
        let limited = app
            .service
            .send(Method::POST, "/api/payments", Some(&buyer), json!({"token": "tok_visa", "orderId": order}))
            .await;
        assert!(limited.headers().contains_key("retry-after"));
        assert_eq!(status_and_json(limited).await, (StatusCode::TOO_MANY_REQUESTS, too_many()));
        assert!(app.charges(&order).await.is_empty(), "nothing was charged");

        // Another buyer has a budget of their own.
        let other = app.user();
        let theirs = app.order_created(&other, 2000, 60_000).await;
        let (status, _) = app.pay(Some(&other), json!({"token": "tok_visa", "orderId": theirs})).await;
        assert_eq!(status, StatusCode::CREATED);
    }

    async fn one_client_cycling_through_accounts_is_told_to_wait(topology) {
        let defaults = PaymentsConfig::default();
        let per_client = defaults.payments_per_client_per_minute.get();
        assert_eq!(per_client, 30);
        let app = PaymentsApp::spawn_configured(topology, simulated(), defaults).await;
        for n in 0..per_client {
            let (status, _) = app.pay(Some(&app.user()), json!({"orderId": "x"})).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "account {n}");
        }
        assert_eq!(app.pay(Some(&app.user()), json!({"orderId": "x"})).await, (StatusCode::TOO_MANY_REQUESTS, too_many()));
    }
}
