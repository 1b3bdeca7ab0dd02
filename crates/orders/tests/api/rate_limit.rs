//! Orders per buyer are rate-limited (issue #17): `ORDERS_PER_USER_PER_MINUTE`, 30 by default,
//! counted on the platform's limiter (in process, or in Redis in the distributed topology).

use gittix_testing::topology_tests;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

/// `ORDERS_PER_USER_PER_MINUTE` by default.
const PER_MINUTE: usize = 30;

topology_tests! {
    async fn a_buyer_past_thirty_orders_a_minute_is_told_to_wait(topology) {
        let app = OrdersApp::spawn(topology).await;
        let buyer = app.user();
        // Invalid attempts count too (a script hammering the route is slowed whatever it
        // sends); they change nothing and need no ticket.
        for n in 0..PER_MINUTE {
            let answer = app.order(Some(&buyer), json!({})).await;
            assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "attempt {n}");
        }
        let ticket = app.ticket_listed(&app.user(), "Concert", 1000).await;
        let limited = app.reserve(&buyer, &ticket).await;
        let retry_after: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=2).contains(&retry_after), "one order's worth of budget: {retry_after} s");
        let (status, body) = status_and_json(limited).await;
        assert_eq!((status, body), (StatusCode::TOO_MANY_REQUESTS, error("Too many attempts, try again later")));
        assert_eq!(app.active_orders_for(&ticket).await, 0, "the refused order took nothing");

        // Another buyer has a budget of their own.
        assert_eq!(app.reserve(&app.user(), &ticket).await.status(), StatusCode::CREATED);
    }
}
