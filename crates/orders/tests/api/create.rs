use gittix_shared::domain::TicketStatus;
use gittix_shared::events::SaleTerms;
use gittix_shared::time::unix_millis;
use gittix_testing::topology_tests;
use gittix_testing::EventLog;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

topology_tests! {
    async fn needs_sign_in_and_a_ticket_id(topology) {
        let app = OrdersApp::spawn(topology).await;
        let (status, body) = status_and_json(app.order(None, json!({"ticketId": "x"})).await).await;
        assert_eq!((status, body), (StatusCode::UNAUTHORIZED, error("Not authorized")));
        let (status, body) = status_and_json(app.order(Some(&app.user()), json!({})).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body, json!({"errors": [{"message": "TicketId must be provided", "field": "ticketId"}]}));
    }

    async fn an_unknown_ticket_is_404(topology) {
        let app = OrdersApp::spawn(topology).await;
        let (status, body) = status_and_json(app.reserve(&app.user(), "01a20182-670f-73dc-87cf-f726bf86520f").await).await;
        assert_eq!((status, body), (StatusCode::NOT_FOUND, error("Not Found")));
    }

    async fn reserves_with_the_ticket_embedded_and_publishes_order_created(topology) {
        let app = OrdersApp::spawn(topology).await;
        let mut events = EventLog::watch(app.bus(), &["order:created"]).await;
        let (seller, buyer) = (app.user(), app.user());
        let ticket = app.ticket_listed(&seller, "Concert", 1999).await;
        let before = unix_millis();
        let order = app.reserved(&buyer, &ticket).await;
        assert_eq!(order["userId"], buyer.id.as_str());
        assert_eq!(order["status"], "created");
        assert_eq!(order["version"], 0);
        assert_eq!(order["ticket"], json!({"id": ticket, "title": "Concert", "price": 19.99, "version": 0}));
        assert_eq!((&order["total"], &order["fees"]), (&json!(19.99), &json!({"buyer": 0})), "no fee by default");
        let expires_at = order["expiresAt"].as_str().unwrap();
        assert!(expires_at.ends_with('Z') && expires_at.len() == 24, "{expires_at}");
        let expected = gittix_shared::time::iso8601(before + i64::try_from(LOCK_SECONDS).unwrap() * 1000);
        assert!(expires_at[..16] == expected[..16] || expires_at > expected.as_str(), "{expires_at} vs {expected}");

        let (subject, data) = events.next().await;
        assert_eq!(subject, "order:created");
        assert_eq!(
            data,
            json!({"id": order["id"], "version": 0, "status": "created", "userId": buyer.id,
                   "expiresAt": expires_at, "ticket": {"id": ticket, "price": 1999, "version": 0}, "total": 1999})
        );
    }

    async fn a_ticket_is_ordered_only_before_its_event_starts(topology) {
        let app = OrdersApp::spawn(topology).await;
        let seller = app.user();
        let starting = |millis: i64| SaleTerms {
            event_id: Some(uuid::Uuid::now_v7().to_string()),
            event_starts_at: Some(gittix_shared::time::iso8601(unix_millis() + millis)),
            face_value: Some(2000),
        };
        let started = app.ticket_listed_for(&seller, "Yesterday", 2000, starting(-60_000)).await;
        let (status, body) = status_and_json(app.reserve(&app.user(), &started).await).await;
        assert_eq!((status, body), (StatusCode::BAD_REQUEST, error("The event has started")));
        let upcoming = app.ticket_listed_for(&seller, "Tomorrow", 2000, starting(86_400_000)).await;
        app.reserved(&app.user(), &upcoming).await;
        // One whose event starts in a moment is refused once it has.
        let soon = app.ticket_listed_for(&seller, "Soon", 2000, starting(1_000)).await;
        tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
        let (status, body) = status_and_json(app.reserve(&app.user(), &soon).await).await;
        assert_eq!((status, body), (StatusCode::BAD_REQUEST, error("The event has started")));
    }

    async fn a_reserved_ticket_is_refused(topology) {
        let app = OrdersApp::spawn(topology).await;
        let ticket = app.ticket_listed(&app.user(), "Concert", 2000).await;
        app.reserved(&app.user(), &ticket).await;
        let (status, body) = status_and_json(app.reserve(&app.user(), &ticket).await).await;
        assert_eq!((status, body), (StatusCode::BAD_REQUEST, error("Ticket is already reserved")));
    }

    async fn a_seller_cannot_buy_their_own_ticket(topology) {
        let app = OrdersApp::spawn(topology).await;
        let seller = app.user();
        let ticket = app.ticket_listed(&seller, "Concert", 2000).await;
        let (status, body) = status_and_json(app.reserve(&seller, &ticket).await).await;
        assert_eq!((status, body), (StatusCode::BAD_REQUEST, error("You cannot buy your own ticket")));
    }

    async fn withdrawn_tickets_are_404_and_sold_ones_already_reserved(topology) {
        let app = OrdersApp::spawn(topology).await;
        let seller = app.user();
        let withdrawn = app.ticket_listed(&seller, "Gone", 2000).await;
        app.ticket_updated(&seller, &withdrawn, 1, "Gone", 2000, TicketStatus::Withdrawn).await;
        app.replica_version_is(&withdrawn, 1).await;
        assert_eq!(app.reserve(&app.user(), &withdrawn).await.status(), StatusCode::NOT_FOUND);
        let sold = app.ticket_listed(&seller, "Sold", 2000).await;
        app.ticket_updated(&seller, &sold, 1, "Sold", 2000, TicketStatus::Sold).await;
        app.replica_version_is(&sold, 1).await;
        let (status, body) = status_and_json(app.reserve(&app.user(), &sold).await).await;
        assert_eq!((status, body), (StatusCode::BAD_REQUEST, error("Ticket is already reserved")));
    }
}
