//! The shared input rule on every tickets route (issue #16, findings 4 and 5): control
//! characters, ids that are not ids, invisible titles, exact prices, bodies that are not objects.

use gittix_testing::topology_tests;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

/// Paths holding something that is not a ticket id: a NUL byte, another control character, a
/// UUID spelled otherwise, bytes that are not UTF-8.
const NOT_IDS: [&str; 6] = [
    "%00",
    "01a20182-670f-73dc-87cf-f726bf86520f%00",
    "%1B",
    "01A20182-670F-73DC-87CF-F726BF86520F",
    "%FF",
    "not-an-id",
];

topology_tests! {
    async fn a_control_character_in_a_title_is_refused(topology) {
        let app = TicketsApp::spawn(topology).await;
        let seller = app.user();
        let expected = field_error("title", "Title must not contain control characters");
        for title in ["\u{0}", "Opera\u{0}night", "Opera\u{1B}[2J", "Opera\u{7F}", "Opera\tnight", "a\u{85}b"] {
            let (status, body) = status_and_json(app.post(Some(&seller), json!({"title": title, "price": 10})).await).await;
            assert_eq!((status, body), (StatusCode::BAD_REQUEST, expected.clone()), "{title:?}");
        }
        let ticket = app.sell(&seller, "Opera", json!(10)).await;
        let id = ticket["id"].as_str().unwrap();
        let (status, body) = status_and_json(app.put(Some(&seller), id, json!({"title": "Op\u{0}era", "price": 10})).await).await;
        assert_eq!((status, body), (StatusCode::BAD_REQUEST, expected));
        // Whitespace around a title is trimmed as before, tabs included.
        assert_eq!(app.sell(&seller, "\tBallet\n", json!(10)).await["title"], "Ballet");
        assert_eq!(app.ticket(id).await["title"], "Opera");
    }

    async fn a_title_of_invisible_characters_is_no_title(topology) {
        let app = TicketsApp::spawn(topology).await;
        let seller = app.user();
        let required = field_error("title", "Title is required");
        for title in ["\u{200B}", "\u{200B}\u{200C}\u{200D}", "\u{2060}", "\u{FEFF}", " \u{00A0}\u{3000} ", "\u{200B}\t\u{200B}", "\u{00AD}\u{034F}\u{3164}", "\u{202E}\u{2066}"] {
            let (status, body) = status_and_json(app.post(Some(&seller), json!({"title": title, "price": 10})).await).await;
            assert_eq!((status, body), (StatusCode::BAD_REQUEST, required.clone()), "{title:?}");
        }
        let ticket = app.sell(&seller, "Opera", json!(10)).await;
        let (status, body) = status_and_json(app.put(Some(&seller), ticket["id"].as_str().unwrap(), json!({"title": "\u{200B}", "price": 10})).await).await;
        assert_eq!((status, body), (StatusCode::BAD_REQUEST, required));
        // Visible text with invisible characters in it is a title.
        assert_eq!(app.sell(&seller, "Opera\u{200D}night", json!(10)).await["title"], "Opera\u{200D}night");
    }

    async fn a_path_id_that_is_not_an_id_is_404(topology) {
        let app = TicketsApp::spawn(topology).await;
        let seller = app.user();
        let not_found = (StatusCode::NOT_FOUND, error("Not Found"));
        for id in NOT_IDS {
            assert_eq!(status_and_json(app.get(&format!("/api/tickets/{id}")).await).await, not_found, "GET {id}");
            assert_eq!(status_and_json(app.put(Some(&seller), id, json!({"title": "t", "price": 10})).await).await, not_found, "PUT {id}");
            assert_eq!(status_and_json(app.delete(Some(&seller), id).await).await, not_found, "DELETE {id}");
        }
        // The design's order holds: signed out (401), then an invalid body (400), then 404.
        let (status, _) = status_and_json(app.put(None, "%00", json!({"title": "t", "price": 10})).await).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, body) = status_and_json(app.put(Some(&seller), "%00", json!({"price": 10})).await).await;
        assert_eq!((status, body), (StatusCode::BAD_REQUEST, field_error("title", "Title is required")));
    }

    /// "Before any query": with the database closed, an unknown id answers 503, and an id that is
    /// not one still answers 404.
    async fn ids_that_are_not_ids_never_reach_the_database(topology) {
        let app = TicketsApp::spawn(topology).await;
        let seller = app.user();
        app.close_database().await;
        let unknown = "01a20182-670f-73dc-87cf-f726bf86520f";
        assert_eq!(app.get(&format!("/api/tickets/{unknown}")).await.status(), StatusCode::SERVICE_UNAVAILABLE);
        for id in NOT_IDS {
            assert_eq!(app.get(&format!("/api/tickets/{id}")).await.status(), StatusCode::NOT_FOUND, "GET {id}");
            assert_eq!(app.put(Some(&seller), id, json!({"title": "t", "price": 10})).await.status(), StatusCode::NOT_FOUND, "PUT {id}");
            assert_eq!(app.delete(Some(&seller), id).await.status(), StatusCode::NOT_FOUND, "DELETE {id}");
        }
        for query in ["?q=%00", "?cursor=%00", "?sort=price&cursor=5_%00"] {
            assert_eq!(app.get(&format!("/api/tickets{query}")).await.status(), StatusCode::BAD_REQUEST, "{query}");
        }
    }

    async fn list_parameters_with_control_characters_are_refused(topology) {
        let app = TicketsApp::spawn(topology).await;
        let seller = app.user();
        let ticket = app.sell(&seller, "Opera", json!(10)).await;
        let cases = [
            ("?q=%00", "q", "q must not contain control characters"),
            ("?q=op%00era", "q", "q must not contain control characters"),
            ("?q=%1B", "q", "q must not contain control characters"),
            ("?cursor=%00", "cursor", "cursor is not valid for this sort"),
            ("?cursor=not-an-id", "cursor", "cursor is not valid for this sort"),
            ("?sort=price&cursor=1000_%00", "cursor", "cursor is not valid for this sort"),
            // Refused before by their own rules, with their own messages.
            ("?minPrice=%00", "minPrice", "minPrice must be a price greater than 0"),
            ("?maxPrice=1%00", "maxPrice", "maxPrice must be a price greater than 0"),
            ("?sort=price%00", "sort", "sort must be oldest, newest, price or -price"),
            ("?limit=%00", "limit", "limit must be between 1 and 100"),
        ];
        for (query, field, message) in cases {
            let (status, body) = status_and_json(app.get(&format!("/api/tickets{query}")).await).await;
            assert_eq!((status, body), (StatusCode::BAD_REQUEST, field_error(field, message)), "{query}");
        }
        // A search of only invisible characters is no search; a cursor the list handed out works.
        let id = ticket["id"].as_str().unwrap();
        assert_eq!(app.listed("?q=%E2%80%8B").await, [id]);
        assert_eq!(app.listed("?q=%20%E2%81%A0%20").await, [id]);
        // Trimmed before it is checked, as a title is.
        assert_eq!(app.listed("?q=%09oper%0A").await, [id]);
        assert!(app.listed(&format!("?cursor={id}")).await.is_empty());
        // An empty cursor is none, in every sort: the first page.
        for sort in ["oldest", "newest", "price", "-price"] {
            assert_eq!(app.listed(&format!("?sort={sort}&cursor=")).await, [id], "{sort}");
        }
        assert!(app.listed(&format!("?sort=price&cursor=1000_{id}")).await.is_empty());
    }

    async fn a_price_is_read_exactly_from_the_json_text(topology) {
        let app = TicketsApp::spawn(topology).await;
        let seller = app.user();
        let too_precise = field_error("price", "Price must have at most 2 decimal places");
        // Accepted before as $1.00, $20 and $1.00: the number went through f64.
        for price in [r#""1.000000001e0""#, "1.0000000000000001", "19.999999999999999", "1.000000001e0", "1.000000001"] {
            let body = format!(r#"{{"title": "t", "price": {price}}}"#);
            let (status, errors) = status_and_json(app.post(Some(&seller), &body).await).await;
            assert_eq!((status, errors), (StatusCode::BAD_REQUEST, too_precise.clone()), "{price}");
        }
        let cases = [
            (r#"{"title": "t", "price": 1e400}"#, "Price must be at most 1000000"),
            (r#"{"title": "t", "price": "1e400"}"#, "Price must be at most 1000000"),
            (r#"{"title": "t", "price": 1e-400}"#, "Price must have at most 2 decimal places"),
            (r#"{"title": "t", "price": -0}"#, "Price must be greater than 0"),
            (r#"{"title": "t", "price": true}"#, "Price must be greater than 0"),
            (r#"{"title": "t", "price": {"amount": 5}}"#, "Price must be greater than 0"),
        ];
        for (body, message) in cases {
            let (status, errors) = status_and_json(app.post(Some(&seller), body).await).await;
            assert_eq!((status, errors), (StatusCode::BAD_REQUEST, field_error("price", message)), "{body}");
        }
        assert!(app.listed("").await.is_empty(), "nothing was listed");
        // What was valid stays valid: numbers, numeric strings (the original client), exponents
        // exact to the cent.
        let accepted = [
            ("19.99", json!(19.99)), (r#""19.99""#, json!(19.99)), ("20", json!(20)), ("1e1", json!(10)),
            ("1E+1", json!(10)), ("1999e-2", json!(19.99)), (r#"".5""#, json!(0.5)), (r#""+.5""#, json!(0.5)),
            ("10.50", json!(10.5)), (r#"" 12.30 ""#, json!(12.3)), ("1000000", json!(1_000_000)), ("1e6", json!(1_000_000)),
        ];
        for (price, shown) in accepted {
            let body = format!(r#"{{"title": "t", "price": {price}}}"#);
            let response = app.post(Some(&seller), &body).await;
            assert_eq!(response.status(), StatusCode::CREATED, "{price}");
            let ticket: serde_json::Value = response.json().await.unwrap();
            assert_eq!(ticket["price"], shown, "{price}");
        }
        let id = app.listed("").await[0].clone();
        let (status, errors) = status_and_json(app.put(Some(&seller), &id, r#"{"title": "t", "price": "1.000000001e0"}"#).await).await;
        assert_eq!((status, errors), (StatusCode::BAD_REQUEST, too_precise));
        let (status, ticket) = status_and_json(app.put(Some(&seller), &id, r#"{"title": "t", "price": 2999e-2}"#).await).await;
        assert_eq!((status, ticket["price"].clone()), (StatusCode::OK, json!(29.99)));
    }

    async fn a_body_that_is_not_a_json_object_is_refused(topology) {
        let app = TicketsApp::spawn(topology).await;
        let seller = app.user();
        let ticket = app.sell(&seller, "Opera", json!(10)).await;
        let id = ticket["id"].as_str().unwrap();
        let expected = (StatusCode::BAD_REQUEST, error("Request body must be a JSON object"));
        for body in [r#"["title", 5]"#, r#"["Opera", 10]"#, "[]", "5", r#""x""#, "null"] {
            assert_eq!(status_and_json(app.post(Some(&seller), body).await).await, expected, "POST {body}");
            assert_eq!(status_and_json(app.put(Some(&seller), id, body).await).await, expected, "PUT {body}");
        }
        assert_eq!(app.listed("").await, [id], "nothing else was listed");
        assert_eq!(app.ticket(id).await, ticket, "nor edited");
    }
}
