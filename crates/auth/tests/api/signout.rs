use gittix_testing::backend_tests;
use gittix_testing::set_cookie_headers;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

backend_tests! {
    async fn clears_the_session_cookie(backend) {
        let app = TestApp::spawn(backend).await;
        let cookie = app.signed_up("test@test.com", "password").await;
        let response = app.post("/api/users/signout", json!({}), Some(&cookie)).await;
        assert_eq!(response.status(), StatusCode::OK);
        let set_cookie = set_cookie_headers(&response).join("\n");
        assert!(set_cookie.starts_with("session=;"), "{set_cookie}");
        assert!(set_cookie.contains("Max-Age=0"), "{set_cookie}");
        assert_eq!(response.json::<serde_json::Value>().await.unwrap(), json!({}));
    }
}
