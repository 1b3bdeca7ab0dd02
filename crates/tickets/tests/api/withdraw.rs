use gittix_testing::topology_tests;
use gittix_testing::EventLog;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

topology_tests! {
    async fn the_seller_withdraws_a_ticket_for_sale(topology) {
        let app = TicketsApp::spawn(topology).await;
        let mut events = EventLog::watch(app.bus(), &["ticket:updated"]).await;
        let seller = app.user();
        let id = app.sell(&seller, "Concert", json!(20)).await["id"].as_str().unwrap().to_owned();

        assert_eq!(app.delete(None, &id).await.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(app.delete(Some(&app.user()), &id).await.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(app.delete(Some(&seller), "nothing-here").await.status(), StatusCode::NOT_FOUND);

        assert_eq!(app.delete(Some(&seller), &id).await.status(), StatusCode::NO_CONTENT);
        let ticket = app.ticket(&id).await;
        assert_eq!((ticket["status"].clone(), ticket["version"].clone()), (json!("withdrawn"), json!(1)));
        assert!(app.listed("").await.is_empty(), "a withdrawn ticket is not for sale");
        let (_, data) = events.next().await;
        assert_eq!((data["status"].clone(), data["version"].clone()), (json!("withdrawn"), json!(1)));

        // Again: nothing changes, no event.
        assert_eq!(app.delete(Some(&seller), &id).await.status(), StatusCode::NO_CONTENT);
        events.expect_none(std::time::Duration::from_millis(500)).await;
        let edit = app.put(Some(&seller), &id, json!({"title": "t", "price": 1})).await;
        assert_eq!(status_and_json(edit).await, (StatusCode::BAD_REQUEST, error("Cannot edit a withdrawn ticket")));
    }
}
