use gittix_testing::topology_tests;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

topology_tests! {
    async fn a_seller_sees_only_their_own_tickets_newest_first_in_every_status(topology) {
        let app = TicketsApp::spawn(topology).await;
        let (seller, other) = (app.user(), app.user());
        let first = app.sell(&seller, "First", json!(10)).await["id"].clone();
        let second = app.sell(&seller, "Second", json!(20)).await["id"].clone();
        app.sell(&other, "Someone else's", json!(30)).await;
        let withdrawn = app.delete(Some(&seller), second.as_str().unwrap()).await;
        assert_eq!(withdrawn.status(), StatusCode::NO_CONTENT);

        assert_eq!(app.get("/api/tickets/mine").await.status(), StatusCode::UNAUTHORIZED);
        let (status, mine) = status_and_json(app.get_as(Some(&seller), "/api/tickets/mine").await).await;
        assert_eq!(status, StatusCode::OK);
        let seen: Vec<(Value, Value)> = mine
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["id"].clone(), t["status"].clone()))
            .collect();
        assert_eq!(seen, vec![(second, json!("withdrawn")), (first, json!("for_sale"))]);
    }
}
