use gittix_testing::{backend_tests, TEST_BODY_LIMIT};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

backend_tests! {
    async fn an_unknown_route_is_404_with_the_error_shape(backend) {
        let app = TestApp::spawn(backend).await;
        for path in ["/api/nothing-here", "/api/users/nope"] {
            let (status, body) = status_and_json(app.get(path, None).await).await;
            assert_eq!((status, body), (StatusCode::NOT_FOUND, error("Not Found")), "{path}");
        }
        // A known path with a method it does not serve is also "not found", as in the original.
        let (status, body) = status_and_json(app.get("/api/users/signup", None).await).await;
        assert_eq!((status, body), (StatusCode::NOT_FOUND, error("Not Found")));
    }

    async fn malformed_json_is_400_with_the_error_shape(backend) {
        let app = TestApp::spawn(backend).await;
        let response = app
            .service
            .client
            .post(app.service.url("/api/users/signup"))
            .header("content-type", "application/json")
            .body(r#"{"email": "test@test.com", "password": "#)
            .send()
            .await
            .unwrap();
        let (status, body) = status_and_json(response).await;
        assert_eq!((status, body), (StatusCode::BAD_REQUEST, error("Request body is not valid JSON")));
        assert!(app.outbox().await.is_empty());
    }

    async fn an_oversized_body_is_413_with_the_error_shape(backend) {
        let app = TestApp::spawn(backend).await;
        let huge = "x".repeat(TEST_BODY_LIMIT + 1);
        let response = app.post("/api/users/signup", json!({"email": "test@test.com", "password": huge}), None).await;
        let (status, body) = status_and_json(response).await;
        assert_eq!((status, body), (StatusCode::PAYLOAD_TOO_LARGE, error("Request body is too large")));
        assert!(app.outbox().await.is_empty());
    }

    async fn every_response_carries_a_request_id(backend) {
        let app = TestApp::spawn(backend).await;
        let response = app.get("/api/users/currentuser", None).await;
        let id = response.headers().get("x-request-id").expect("a request id");
        assert!(!id.is_empty());
        // An id the caller sends is kept, so a gateway's id follows the request.
        let response = app
            .service
            .client
            .get(app.service.url("/api/users/currentuser"))
            .header("x-request-id", "from-the-gateway")
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["x-request-id"], "from-the-gateway");
    }

    async fn health_and_readiness_answer(backend) {
        let app = TestApp::spawn(backend).await;
        assert_eq!(app.get("/healthz", None).await.status(), StatusCode::OK);
        assert_eq!(app.get("/readyz", None).await.status(), StatusCode::OK);
        assert_eq!(app.get("/metrics", None).await.status(), StatusCode::OK);
        // Through a gateway (which adds X-Forwarded-For) they are not there.
        for path in ["/healthz", "/readyz", "/metrics"] {
            let through_gateway = app
                .service
                .request(Method::GET, path, None::<&str>)
                .header("x-forwarded-for", "203.0.113.9")
                .send()
                .await
                .unwrap();
            let (status, body) = status_and_json(through_gateway).await;
            assert_eq!((status, body), (StatusCode::NOT_FOUND, error("Not Found")), "{path}");
        }
    }
}
