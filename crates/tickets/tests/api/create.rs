use gittix_testing::topology_tests;
use gittix_testing::EventLog;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

topology_tests! {
    async fn needs_a_signed_in_user_and_never_404s(topology) {
        let app = TicketsApp::spawn(topology).await;
        let (status, body) = status_and_json(app.post(None, json!({"title": "t", "price": 10})).await).await;
        assert_eq!((status, body), (StatusCode::UNAUTHORIZED, error("Not authorized")));
        let seller = app.user();
        assert_ne!(app.post(Some(&seller), json!({})).await.status(), StatusCode::NOT_FOUND);
    }

    async fn refuses_an_empty_or_missing_title(topology) {
        let app = TicketsApp::spawn(topology).await;
        let seller = app.user();
        for body in [json!({"title": "", "price": 10}), json!({"title": "   ", "price": 10}), json!({"price": 10})] {
            let (status, errors) = status_and_json(app.post(Some(&seller), body.clone()).await).await;
            assert_eq!((status, errors), (StatusCode::BAD_REQUEST, field_error("title", "Title is required")), "{body}");
        }
    }

    async fn refuses_a_title_over_200_characters_and_a_body_over_the_limit(topology) {
        let app = TicketsApp::spawn(topology).await;
        let seller = app.user();
        // 200 characters (not bytes) is the limit: 200 two-byte letters are accepted.
        app.sell(&seller, &"é".repeat(200), json!(10)).await;
        let (status, errors) = status_and_json(app.post(Some(&seller), json!({"title": "x".repeat(201), "price": 10})).await).await;
        assert_eq!((status, errors), (StatusCode::BAD_REQUEST, field_error("title", "Title must be at most 200 characters")));
        let (status, errors) = status_and_json(app.post(Some(&seller), json!({"title": "x".repeat(70_000), "price": 10})).await).await;
        assert_eq!((status, errors), (StatusCode::PAYLOAD_TOO_LARGE, error("Request body is too large")));
        assert_eq!(app.listed("").await.len(), 1, "only the 200-character title was listed");
    }

    async fn refuses_a_price_that_is_zero_negative_missing_or_too_precise(topology) {
        let app = TicketsApp::spawn(topology).await;
        let seller = app.user();
        let cases = [
            (json!({"title": "t", "price": 0}), "Price must be greater than 0"),
            (json!({"title": "t", "price": -10}), "Price must be greater than 0"),
            (json!({"title": "t"}), "Price must be greater than 0"),
            (json!({"title": "t", "price": "abc"}), "Price must be greater than 0"),
            (json!({"title": "t", "price": 10.001}), "Price must have at most 2 decimal places"),
        ];
        for (body, message) in cases {
            let (status, errors) = status_and_json(app.post(Some(&seller), body.clone()).await).await;
            assert_eq!((status, errors), (StatusCode::BAD_REQUEST, field_error("price", message)), "{body}");
        }
        assert!(app.listed("").await.is_empty(), "nothing was listed");
    }

    async fn creates_a_ticket_that_shows_by_id_and_in_the_list_and_publishes_it(topology) {
        let app = TicketsApp::spawn(topology).await;
        let mut events = EventLog::watch(app.bus(), &["ticket:created"]).await;
        let seller = app.user();
        let ticket = app.sell(&seller, "Concert", json!(19.99)).await;
        assert_eq!(ticket["title"], "Concert");
        assert_eq!(ticket["price"], json!(19.99));
        assert_eq!(ticket["userId"], seller.id.as_str());
        assert_eq!(ticket["version"], 0);
        assert_eq!(ticket["status"], "for_sale");
        assert!(ticket.get("orderId").is_none());
        let id = ticket["id"].as_str().unwrap();
        assert_eq!(app.ticket(id).await, ticket);
        assert_eq!(app.listed("").await, [id]);
        let (subject, data) = events.next().await;
        assert_eq!(subject, "ticket:created");
        assert_eq!(data, json!({"id": id, "version": 0, "title": "Concert", "price": 1999, "userId": seller.id}));
    }

    async fn an_unknown_id_is_404(topology) {
        let app = TicketsApp::spawn(topology).await;
        for id in ["01a20182-670f-73dc-87cf-f726bf86520f", "not-an-id"] {
            let (status, body) = status_and_json(app.get(&format!("/api/tickets/{id}")).await).await;
            assert_eq!((status, body), (StatusCode::NOT_FOUND, error("Not Found")));
        }
    }

    async fn lists_the_tickets_of_three_sellers(topology) {
        let app = TicketsApp::spawn(topology).await;
        let mut ids = Vec::new();
        for (title, price) in [("a", 10), ("b", 20), ("c", 30)] {
            ids.push(app.sell(&app.user(), title, json!(price)).await["id"].as_str().unwrap().to_owned());
        }
        assert_eq!(app.listed("").await, ids, "oldest first, as the original");
    }
}
