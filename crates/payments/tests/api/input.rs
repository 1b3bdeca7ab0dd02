//! The shared input rule on `POST /api/payments` (issue #16, findings 4 and 5). The card is never
//! reached, so both topologies pay through the simulator here.

use super::*;

fn simulated() -> Arc<dyn PaymentProvider> {
    Arc::new(SimulatedStripe::default())
}

fn field_error(field: &str, message: &str) -> Value {
    json!({"errors": [{"message": message, "field": field}]})
}

topology_tests! {
    async fn a_control_character_in_a_token_or_order_id_is_refused(topology) {
        let app = PaymentsApp::spawn_with(topology, simulated()).await;
        let buyer = app.user();
        let order = app.order_created(&buyer, 2000, 60_000).await;
        for order_id in ["\u{0}".to_owned(), format!("{order}\u{0}"), format!("\u{1B}{order}")] {
            let paid = app.pay(Some(&buyer), json!({"token": "tok_visa", "orderId": order_id})).await;
            assert_eq!(paid, (StatusCode::BAD_REQUEST, field_error("orderId", "OrderId must not contain control characters")), "{order_id:?}");
        }
        for token in ["tok_\u{0}visa", "\u{7F}"] {
            let paid = app.pay(Some(&buyer), json!({"token": token, "orderId": order})).await;
            assert_eq!(paid, (StatusCode::BAD_REQUEST, field_error("token", "Token must not contain control characters")), "{token:?}");
        }
        assert!(app.charges(&order).await.is_empty());
    }

    async fn invisible_text_is_missing(topology) {
        let app = PaymentsApp::spawn_with(topology, simulated()).await;
        let paid = app.pay(Some(&app.user()), json!({"token": "\u{200B}", "orderId": "\u{FEFF}\u{2060}"})).await;
        assert_eq!(paid, (StatusCode::BAD_REQUEST, json!({"errors": [
            {"message": "Token must be provided", "field": "token"},
            {"message": "OrderId must be provided", "field": "orderId"},
        ]})));
    }

    /// An order id that is not an id is an unknown order (404), answered without the database:
    /// with it closed, an unknown id that is one is 503.
    async fn an_order_id_that_is_not_an_id_is_404_without_a_query(topology) {
        let app = PaymentsApp::spawn_with(topology, simulated()).await;
        let buyer = app.user();
        let order = app.order_created(&buyer, 2000, 60_000).await;
        let not_found = (StatusCode::NOT_FOUND, error("Not Found"));
        for order_id in [order.to_uppercase(), order.replace('-', ""), format!("urn:uuid:{order}"), "x".repeat(5000)] {
            assert_eq!(app.pay(Some(&buyer), json!({"token": "tok_visa", "orderId": order_id})).await, not_found, "{order_id}");
        }
        assert!(app.charges(&order).await.is_empty());
        app.db.pool().close().await;
        assert_eq!(app.pay(Some(&buyer), json!({"token": "tok_visa", "orderId": "nothing"})).await, not_found);
        let (status, _) = app.pay(Some(&buyer), json!({"token": "tok_visa", "orderId": "01a20182-670f-73dc-87cf-f726bf86520f"})).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    }

    async fn a_body_that_is_not_a_json_object_is_refused(topology) {
        let app = PaymentsApp::spawn_with(topology, simulated()).await;
        let buyer = app.user();
        let order = app.order_created(&buyer, 2000, 60_000).await;
        let expected = (StatusCode::BAD_REQUEST, error("Request body must be a JSON object"));
        for body in [format!(r#"["tok_visa", "{order}"]"#), "[]".to_owned(), "5".to_owned(), r#""tok_visa""#.to_owned(), "null".to_owned()] {
            assert_eq!(app.pay(Some(&buyer), body.as_str()).await, expected, "{body}");
        }
        assert!(app.charges(&order).await.is_empty());
    }
}
