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

    async fn a_strangers_wrong_passwords_cannot_lock_the_owner_out(backend) {
        let database = gittix_testing::fresh_database(backend).await;
        let limiter = std::sync::Arc::new(gittix_shared::ratelimit::LocalLimiter::default());
        let app = TestApp::behind_gateway(database.db.clone(), AuthConfig::default(), limiter).await;
        app.signed_up("owner@test.com", "password").await;
        let stranger = "203.0.113.7";
        for _ in 0..10 {
            let guess = app.signin_from(stranger, "owner@test.com", "guess").await;
            assert_eq!(guess.status(), StatusCode::BAD_REQUEST);
        }
        let refused = app.signin_from(stranger, "owner@test.com", "password").await;
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        // The owner, from their own address, signs in at once.
        let owner = app.signin_from("198.51.100.4", "owner@test.com", "password").await;
        assert_eq!(owner.status(), StatusCode::OK);
    }

    async fn sign_ups_from_one_client_are_rate_limited(backend) {
        let config = AuthConfig {
            signups_per_client: NonZeroU32::new(2).unwrap(),
            ..AuthConfig::default()
        };
        let app = TestApp::spawn_with(backend, config).await;
        assert_eq!(app.signup("a@test.com", "password").await.status(), StatusCode::CREATED);
        assert_eq!(app.signup("b@test.com", "password").await.status(), StatusCode::CREATED);
        let limited = app.signup("c@test.com", "password").await;
        assert!(limited.headers().contains_key("retry-after"));
        assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    }
}

/// Two replicas of auth counting on one Redis share one budget: a client cannot double its
/// attempts by landing on both.
#[tokio::test]
async fn the_limit_holds_across_two_replicas_of_auth() {
    let database = gittix_testing::fresh_database(gittix_shared::db::Backend::Postgres).await;
    let prefix = format!("test:limits:{}:", uuid::Uuid::now_v7());
    let limiter = || async {
        let limiter = gittix_shared::ratelimit::RedisLimiter::connect(
            &gittix_testing::redis_url(),
            prefix.clone(),
        )
        .await
        .unwrap();
        std::sync::Arc::new(limiter) as std::sync::Arc<dyn gittix_shared::ratelimit::Limiter>
    };
    let config = AuthConfig {
        signin_attempts_per_client: NonZeroU32::new(4).unwrap(),
        ..AuthConfig::default()
    };
    let first = TestApp::behind_gateway(database.db.clone(), config.clone(), limiter().await).await;
    let second = TestApp::behind_gateway(database.db.clone(), config, limiter().await).await;
    let mut statuses = Vec::new();
    for n in 0..8 {
        let replica = if n % 2 == 0 { &first } else { &second };
        let email = format!("user{n}@test.com");
        statuses.push(
            replica
                .signin_from("203.0.113.8", &email, "password")
                .await
                .status(),
        );
    }
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(refused, 4, "{statuses:?}");
}
