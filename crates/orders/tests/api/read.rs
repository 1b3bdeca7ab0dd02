use gittix_testing::topology_tests;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

topology_tests! {
    async fn the_list_holds_only_the_callers_orders_oldest_first(topology) {
        let app = OrdersApp::spawn(topology).await;
        let (seller, me, other) = (app.user(), app.user(), app.user());
        let first = app.ticket_listed(&seller, "First", 1000).await;
        let second = app.ticket_listed(&seller, "Second", 2000).await;
        let theirs = app.ticket_listed(&seller, "Theirs", 3000).await;
        let a = app.reserved(&me, &first).await;
        app.reserved(&other, &theirs).await;
        let b = app.reserved(&me, &second).await;
        assert_eq!(app.get(None, "/api/orders").await.status(), StatusCode::UNAUTHORIZED);
        let mine: Vec<Value> = app.get(Some(&me), "/api/orders").await.json().await.unwrap();
        assert_eq!(mine, vec![a, b]);
        assert_eq!(mine[1]["ticket"]["title"], "Second");
    }

    async fn show_is_for_the_owner_only(topology) {
        let app = OrdersApp::spawn(topology).await;
        let buyer = app.user();
        let ticket = app.ticket_listed(&app.user(), "Concert", 1000).await;
        let order = app.reserved(&buyer, &ticket).await;
        let path = format!("/api/orders/{}", order["id"].as_str().unwrap());
        let (status, body) = status_and_json(app.get(Some(&buyer), &path).await).await;
        assert_eq!((status, body), (StatusCode::OK, order));
        let (status, body) = status_and_json(app.get(Some(&app.user()), &path).await).await;
        assert_eq!((status, body), (StatusCode::UNAUTHORIZED, error("Not authorized")));
        assert_eq!(app.get(None, &path).await.status(), StatusCode::UNAUTHORIZED);
        let (status, body) = status_and_json(app.get(Some(&buyer), "/api/orders/nothing").await).await;
        assert_eq!((status, body), (StatusCode::NOT_FOUND, error("Not Found")));
    }
}
