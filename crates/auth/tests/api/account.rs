use gittix_testing::backend_tests;
use gittix_testing::session_cookie;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

const PATH: &str = "/api/users/currentuser";

backend_tests! {
    async fn changing_the_password_makes_the_old_one_fail(backend) {
        let app = TestApp::spawn(backend).await;
        let cookie = app.signed_up("test@test.com", "oldpass").await;
        let response = app.patch(PATH, json!({"currentPassword": "oldpass", "password": "newpass"}), Some(&cookie)).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(status_and_json(app.signin("test@test.com", "oldpass").await).await.0, StatusCode::BAD_REQUEST);
        assert_eq!(app.signin("test@test.com", "newpass").await.status(), StatusCode::OK);
    }

    async fn changing_the_email_moves_the_account_and_reissues_the_cookie(backend) {
        let app = TestApp::spawn(backend).await;
        let cookie = app.signed_up("old@test.com", "password").await;
        let response = app.patch(PATH, json!({"currentPassword": "password", "email": "new@test.com"}), Some(&cookie)).await;
        assert_eq!(response.status(), StatusCode::OK);
        let new_cookie = session_cookie(&response).expect("a fresh cookie with the new email");
        assert_eq!(response.json::<serde_json::Value>().await.unwrap()["email"], "new@test.com");
        assert_eq!(app.current_user(Some(&new_cookie)).await["currentUser"]["email"], "new@test.com");
        assert_eq!(app.signin("new@test.com", "password").await.status(), StatusCode::OK);
        assert_eq!(app.signin("old@test.com", "password").await.status(), StatusCode::BAD_REQUEST);
        // The old address is free again.
        assert_eq!(app.signup("old@test.com", "password").await.status(), StatusCode::CREATED);
    }

    async fn each_change_records_user_updated_with_the_next_version(backend) {
        let app = TestApp::spawn(backend).await;
        let cookie = app.signed_up("test@test.com", "password").await;
        let changed = app.patch(PATH, json!({"currentPassword": "password", "email": "second@test.com"}), Some(&cookie)).await;
        // Each change ends the sessions begun before it; the answer carries the new one.
        let cookie = session_cookie(&changed).unwrap();
        app.patch(PATH, json!({"currentPassword": "password", "password": "another"}), Some(&cookie)).await;
        let events = app.outbox().await;
        let summary: Vec<(String, serde_json::Value)> = events
            .iter()
            .map(|e| {
                let data: serde_json::Value = serde_json::from_str(&e.payload).unwrap();
                (e.subject.clone(), json!([data["email"], data["version"]]))
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("user:created".to_owned(), json!(["test@test.com", 0])),
                ("user:verification-requested".to_owned(), json!(["test@test.com", null])),
                ("user:updated".to_owned(), json!(["second@test.com", 1])),
                ("session:revoked".to_owned(), json!([null, null])),
                // A new address needs its own confirmation; a new password does not.
                ("user:verification-requested".to_owned(), json!(["second@test.com", null])),
                ("user:updated".to_owned(), json!(["second@test.com", 2])),
                ("session:revoked".to_owned(), json!([null, null])),
            ]
        );
    }

    async fn a_wrong_current_password_changes_nothing(backend) {
        let app = TestApp::spawn(backend).await;
        let cookie = app.signed_up("test@test.com", "password").await;
        let response = app.patch(PATH, json!({"currentPassword": "nope", "password": "newpass"}), Some(&cookie)).await;
        assert_eq!(status_and_json(response).await, (StatusCode::BAD_REQUEST, error("Invalid credentials")));
        assert_eq!(app.signin("test@test.com", "password").await.status(), StatusCode::OK);
        assert_eq!(app.outbox().await.len(), 2, "only the sign-up's user:created and welcome link");
    }

    async fn an_email_in_use_is_refused(backend) {
        let app = TestApp::spawn(backend).await;
        app.signed_up("taken@test.com", "password").await;
        let cookie = app.signed_up("mine@test.com", "password").await;
        let response = app.patch(PATH, json!({"currentPassword": "password", "email": "TAKEN@test.com"}), Some(&cookie)).await;
        assert_eq!(status_and_json(response).await, (StatusCode::BAD_REQUEST, error("Email in use")));
        assert_eq!(app.outbox().await.len(), 4, "no user:updated for a refused change, only the two sign-ups'");
    }

    async fn needs_sign_in_and_valid_fields(backend) {
        let app = TestApp::spawn(backend).await;
        let signed_out = app.patch(PATH, json!({"currentPassword": "password", "password": "newpass"}), None).await;
        assert_eq!(status_and_json(signed_out).await, (StatusCode::UNAUTHORIZED, error("Not authorized")));

        let cookie = app.signed_up("test@test.com", "password").await;
        let (status, body) = status_and_json(app.patch(PATH, json!({}), Some(&cookie)).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            validation_errors(&[
                ("currentPassword", "You must supply your current password"),
                ("email", "Supply a new email or a new password"),
            ])
        );
        let bad = app.patch(PATH, json!({"currentPassword": "password", "email": "nope", "password": "x"}), Some(&cookie)).await;
        assert_eq!(
            status_and_json(bad).await,
            (
                StatusCode::BAD_REQUEST,
                validation_errors(&[
                    ("email", "Email must be valid"),
                    ("password", "Password must be between 4 and 20 characters"),
                ])
            )
        );
    }
}
