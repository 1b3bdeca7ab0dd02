use gittix_testing::topology_tests;
use gittix_testing::EventLog;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

const UNKNOWN: &str = "01a20182-670f-73dc-87cf-f726bf86520f";

topology_tests! {
    async fn is_refused_in_the_order_of_the_design(topology) {
        let app = TicketsApp::spawn(topology).await;
        let seller = app.user();
        let ticket = app.sell(&seller, "Concert", json!(20)).await;
        let id = ticket["id"].as_str().unwrap();
        let valid = json!({"title": "New", "price": 25});

        let signed_out = app.put(None, id, valid.clone()).await;
        assert_eq!(status_and_json(signed_out).await, (StatusCode::UNAUTHORIZED, error("Not authorized")));
        // Validation comes before existence: an invalid body for an unknown ticket is 400.
        let invalid_unknown = app.put(Some(&seller), UNKNOWN, json!({"title": "", "price": 25})).await;
        assert_eq!(status_and_json(invalid_unknown).await.0, StatusCode::BAD_REQUEST);
        let unknown = app.put(Some(&seller), UNKNOWN, valid.clone()).await;
        assert_eq!(status_and_json(unknown).await, (StatusCode::NOT_FOUND, error("Not Found")));
        let stranger = app.user();
        let not_owner = app.put(Some(&stranger), id, valid.clone()).await;
        assert_eq!(status_and_json(not_owner).await, (StatusCode::UNAUTHORIZED, error("Not authorized")));
        let bad_title = app.put(Some(&seller), id, json!({"title": "", "price": 25})).await;
        assert_eq!(status_and_json(bad_title).await, (StatusCode::BAD_REQUEST, field_error("title", "Title is required")));
        let bad_price = app.put(Some(&seller), id, json!({"title": "New", "price": -5})).await;
        assert_eq!(
            status_and_json(bad_price).await,
            (StatusCode::BAD_REQUEST, field_error("price", "Price must be greater than 0"))
        );
        assert_eq!(app.ticket(id).await, ticket, "nothing changed");
    }

    async fn updates_bumps_the_version_and_publishes(topology) {
        let app = TicketsApp::spawn(topology).await;
        let mut events = EventLog::watch(app.bus(), &["ticket:updated"]).await;
        let seller = app.user();
        let id = app.sell(&seller, "Concert", json!(20)).await["id"].as_str().unwrap().to_owned();
        let response = app.put(Some(&seller), &id, json!({"title": "Opera", "price": "100.5"})).await;
        assert_eq!(response.status(), StatusCode::OK);
        let updated: serde_json::Value = response.json().await.unwrap();
        assert_eq!((updated["title"].clone(), updated["price"].clone(), updated["version"].clone()), (json!("Opera"), json!(100.5), json!(1)));
        assert_eq!(app.ticket(&id).await, updated);
        let (subject, data) = events.next().await;
        assert_eq!(subject, "ticket:updated");
        assert_eq!(
            data,
            json!({"id": id, "version": 1, "title": "Opera", "price": 10050, "userId": seller.id, "status": "for_sale", "termsVersion": 1})
        );
    }
}
