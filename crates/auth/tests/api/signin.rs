use std::num::NonZeroU32;

use gittix_auth::AuthConfig;
use gittix_testing::backend_tests;
use gittix_testing::session_cookie;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

backend_tests! {
    async fn an_unknown_email_is_invalid_credentials(backend) {
        let app = TestApp::spawn(backend).await;
        let (status, body) = status_and_json(app.signin("nobody@test.com", "password").await).await;
        assert_eq!((status, body), (StatusCode::BAD_REQUEST, error("Invalid credentials")));
    }

    async fn a_wrong_password_is_the_same_invalid_credentials(backend) {
        let app = TestApp::spawn(backend).await;
        app.signed_up("test@test.com", "password").await;
        let response = app.signin("test@test.com", "wrongpass").await;
        assert!(session_cookie(&response).is_none());
        let (status, body) = status_and_json(response).await;
        assert_eq!((status, body), (StatusCode::BAD_REQUEST, error("Invalid credentials")));
    }

    async fn valid_credentials_return_200_and_a_cookie(backend) {
        let app = TestApp::spawn(backend).await;
        app.signed_up("test@test.com", "password").await;
        // Emails compare case-insensitively and the password is trimmed, as at signup.
        let response = app.signin("Test@TEST.com", " password ").await;
        assert_eq!(response.status(), StatusCode::OK);
        let cookie = session_cookie(&response).expect("signin sets the cookie");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["email"], "test@test.com");
        let me = app.current_user(Some(&cookie)).await;
        assert_eq!(me["currentUser"]["id"], body["id"]);
    }

    async fn validates_email_and_requires_a_password(backend) {
        let app = TestApp::spawn(backend).await;
        let (status, body) = status_and_json(app.post("/api/users/signin", json!({}), None).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            validation_errors(&[("email", "Email must be valid"), ("password", "You must supply a password")])
        );
        let blank = app.signin("test@test.com", "   ").await;
        assert_eq!(
            status_and_json(blank).await,
            (StatusCode::BAD_REQUEST, validation_errors(&[("password", "You must supply a password")]))
        );
    }

    async fn attempts_on_one_account_are_rate_limited(backend) {
        let config = AuthConfig {
            signin_attempts_per_account: NonZeroU32::new(3).unwrap(),
            ..AuthConfig::default()
        };
        let app = TestApp::spawn_with(backend, config).await;
        app.signed_up("test@test.com", "password").await;
        for _ in 0..3 {
            assert_eq!(app.signin("test@test.com", "wrong").await.status(), StatusCode::BAD_REQUEST);
        }
        let limited = app.signin("test@test.com", "password").await;
        assert!(limited.headers().contains_key("retry-after"));
        assert_eq!(
            status_and_json(limited).await,
            (StatusCode::TOO_MANY_REQUESTS, error("Too many attempts, try again later"))
        );
        // Another account from the same client is not affected by this account's limit.
        app.signed_up("other@test.com", "password").await;
        assert_eq!(app.signin("other@test.com", "password").await.status(), StatusCode::OK);
    }

    async fn attempts_from_one_client_are_rate_limited(backend) {
        let config = AuthConfig {
            signin_attempts_per_client: NonZeroU32::new(2).unwrap(),
            ..AuthConfig::default()
        };
        let app = TestApp::spawn_with(backend, config).await;
        assert_eq!(app.signin("a@test.com", "password").await.status(), StatusCode::BAD_REQUEST);
        assert_eq!(app.signin("b@test.com", "password").await.status(), StatusCode::BAD_REQUEST);
        assert_eq!(app.signin("c@test.com", "password").await.status(), StatusCode::TOO_MANY_REQUESTS);
    }
}
