use gittix_testing::backend_tests;
use gittix_testing::expired_token;
use serde_json::json;

use crate::helpers::*;

backend_tests! {
    async fn with_the_cookie_it_returns_the_user(backend) {
        let app = TestApp::spawn(backend).await;
        let cookie = app.signed_up("test@test.com", "password").await;
        let me = app.current_user(Some(&cookie)).await;
        let user = &me["currentUser"];
        assert_eq!(user["email"], "test@test.com");
        assert!(user["id"].is_string() && user["iat"].is_u64() && user["exp"].is_u64(), "{me}");
    }

    async fn without_a_cookie_it_is_null(backend) {
        let app = TestApp::spawn(backend).await;
        assert_eq!(app.current_user(None).await, json!({"currentUser": null}));
    }

    async fn a_tampered_token_is_null(backend) {
        let app = TestApp::spawn(backend).await;
        let cookie = app.signed_up("test@test.com", "password").await;
        // Flip the last character of the signature.
        let mut tampered = cookie.clone();
        let last = tampered.pop().unwrap();
        tampered.push(if last == 'A' { 'B' } else { 'A' });
        assert_eq!(app.current_user(Some(&tampered)).await, json!({"currentUser": null}));
        assert_eq!(app.current_user(Some("session=garbage")).await, json!({"currentUser": null}));
    }

    async fn an_expired_token_is_null(backend) {
        let app = TestApp::spawn(backend).await;
        let cookie = format!("session={}", expired_token(app.platform.sessions(), "some-id", "test@test.com"));
        assert_eq!(app.current_user(Some(&cookie)).await, json!({"currentUser": null}));
    }
}
