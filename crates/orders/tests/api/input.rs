//! The shared input rule on the orders routes (issue #16, findings 4 and 5): control characters,
//! ids that are not ids, invisible text, bodies that are not objects.

use gittix_testing::topology_tests;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

/// Path segments that are not order ids: a NUL byte, another control character, a UUID spelled
/// otherwise, bytes that are not UTF-8.
const NOT_IDS: [&str; 6] = [
    "%00",
    "01a20182-670f-73dc-87cf-f726bf86520f%00",
    "%1B",
    "01A20182-670F-73DC-87CF-F726BF86520F",
    "%FF",
    "not-an-id",
];

fn field_error(field: &str, message: &str) -> serde_json::Value {
    json!({"errors": [{"message": message, "field": field}]})
}

topology_tests! {
    async fn a_control_character_in_ticket_id_is_refused(topology) {
        let app = OrdersApp::spawn(topology).await;
        let (seller, buyer) = (app.user(), app.user());
        let ticket = app.ticket_listed(&seller, "Opera", 1000).await;
        let expected = field_error("ticketId", "TicketId must not contain control characters");
        for ticket_id in ["\u{0}".to_owned(), format!("{ticket}\u{0}"), "\u{1B}".to_owned(), format!("{}\t{}", &ticket[..8], &ticket[8..])] {
            let (status, body) = status_and_json(app.reserve(&buyer, &ticket_id).await).await;
            assert_eq!((status, body), (StatusCode::BAD_REQUEST, expected.clone()), "{ticket_id:?}");
        }
        assert_eq!(app.active_orders_for(&ticket).await, 0);
    }

    async fn a_ticket_id_of_invisible_characters_is_missing(topology) {
        let app = OrdersApp::spawn(topology).await;
        let buyer = app.user();
        let expected = field_error("ticketId", "TicketId must be provided");
        for ticket_id in ["\u{200B}", "\u{FEFF}\u{2060}", " \u{00A0} "] {
            let (status, body) = status_and_json(app.reserve(&buyer, ticket_id).await).await;
            assert_eq!((status, body), (StatusCode::BAD_REQUEST, expected.clone()), "{ticket_id:?}");
        }
    }

    async fn a_ticket_id_that_is_not_an_id_is_an_unknown_ticket(topology) {
        let app = OrdersApp::spawn(topology).await;
        let (seller, buyer) = (app.user(), app.user());
        let ticket = app.ticket_listed(&seller, "Opera", 1000).await;
        let not_found = (StatusCode::NOT_FOUND, error("Not Found"));
        for ticket_id in ["not-an-id".to_owned(), ticket.to_uppercase(), format!("{{{ticket}}}"), ticket.replace('-', ""), "x".repeat(5000)] {
            assert_eq!(status_and_json(app.reserve(&buyer, &ticket_id).await).await, not_found, "{ticket_id}");
        }
        // Trimmed as before: the ticket's own id with spaces around it reserves it.
        assert_eq!(app.reserve(&buyer, &format!(" {ticket} ")).await.status(), StatusCode::CREATED);
    }

    async fn a_path_id_that_is_not_an_id_is_404(topology) {
        let app = OrdersApp::spawn(topology).await;
        let buyer = app.user();
        let not_found = (StatusCode::NOT_FOUND, error("Not Found"));
        for id in NOT_IDS {
            assert_eq!(status_and_json(app.get(Some(&buyer), &format!("/api/orders/{id}")).await).await, not_found, "GET {id}");
            assert_eq!(status_and_json(app.delete(Some(&buyer), id).await).await, not_found, "DELETE {id}");
            // Signed out is 401 first, as for any order.
            assert_eq!(app.get(None, &format!("/api/orders/{id}")).await.status(), StatusCode::UNAUTHORIZED, "GET {id}");
        }
    }

    /// "Before any query": with the database closed, an unknown id answers 503, and an id that is
    /// not one still answers 404.
    async fn ids_that_are_not_ids_never_reach_the_database(topology) {
        let app = OrdersApp::spawn(topology).await;
        let buyer = app.user();
        app.db.pool().close().await;
        let unknown = "01a20182-670f-73dc-87cf-f726bf86520f";
        assert_eq!(app.get(Some(&buyer), &format!("/api/orders/{unknown}")).await.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(app.reserve(&buyer, unknown).await.status(), StatusCode::SERVICE_UNAVAILABLE);
        for id in NOT_IDS {
            assert_eq!(app.get(Some(&buyer), &format!("/api/orders/{id}")).await.status(), StatusCode::NOT_FOUND, "GET {id}");
            assert_eq!(app.delete(Some(&buyer), id).await.status(), StatusCode::NOT_FOUND, "DELETE {id}");
        }
        for ticket_id in ["not-an-id", "01A20182-670F-73DC-87CF-F726BF86520F"] {
            assert_eq!(app.reserve(&buyer, ticket_id).await.status(), StatusCode::NOT_FOUND, "{ticket_id}");
        }
        assert_eq!(app.reserve(&buyer, "\u{0}").await.status(), StatusCode::BAD_REQUEST);
    }

    async fn a_body_that_is_not_a_json_object_is_refused(topology) {
        let app = OrdersApp::spawn(topology).await;
        let (seller, buyer) = (app.user(), app.user());
        let ticket = app.ticket_listed(&seller, "Opera", 1000).await;
        let expected = (StatusCode::BAD_REQUEST, error("Request body must be a JSON object"));
        for body in [format!(r#"["{ticket}"]"#), "[]".to_owned(), "5".to_owned(), format!(r#""{ticket}""#), "null".to_owned()] {
            assert_eq!(status_and_json(app.order(Some(&buyer), &body).await).await, expected, "{body}");
        }
        assert_eq!(app.active_orders_for(&ticket).await, 0);
    }
}
