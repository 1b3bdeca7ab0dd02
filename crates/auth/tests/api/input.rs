//! The shared input rule on the auth routes (issue #16, findings 4 and 5): control characters
//! in emails and passwords are a 400 naming the field, never a 500; invisible passwords are
//! empty; bodies that are not objects are refused.

use gittix_testing::backend_tests;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

const CONTROL_PASSWORD: &str = "Password must not contain control characters";
const LENGTH: &str = "Password must be between 4 and 20 characters";

backend_tests! {
    async fn signup_refuses_control_characters_naming_the_field(backend) {
        let app = TestApp::spawn(backend).await;
        for password in ["pass\u{0}word", "\u{0}\u{0}\u{0}\u{0}", "pass\u{1B}", "pa\tss"] {
            let (status, body) = status_and_json(app.signup("test@test.com", password).await).await;
            assert_eq!((status, body), (StatusCode::BAD_REQUEST, validation_errors(&[("password", CONTROL_PASSWORD)])), "{password:?}");
        }
        for email in ["te\u{0}st@test.com", "test@test.com\u{0}", "\"a\u{7}b\"@test.com"] {
            let (status, body) = status_and_json(app.signup(email, "password").await).await;
            assert_eq!((status, body), (StatusCode::BAD_REQUEST, validation_errors(&[("email", "Email must be valid")])), "{email:?}");
        }
        let (status, body) = status_and_json(app.signup("\u{0}", "\u{0}word").await).await;
        assert_eq!((status, body), (StatusCode::BAD_REQUEST, validation_errors(&[("email", "Email must be valid"), ("password", CONTROL_PASSWORD)])));
        assert!(app.outbox().await.is_empty(), "no account was made");
        // Trimmed as before: whitespace around a password is not part of it.
        app.signed_up("test@test.com", "\tpassword\n").await;
        assert_eq!(app.signin("test@test.com", "password").await.status(), StatusCode::OK);
    }

    async fn a_password_of_invisible_characters_is_empty(backend) {
        let app = TestApp::spawn(backend).await;
        let (status, body) = status_and_json(app.signup("test@test.com", "\u{200B}\u{200B}\u{200B}\u{200B}").await).await;
        assert_eq!((status, body), (StatusCode::BAD_REQUEST, validation_errors(&[("password", LENGTH)])));
        let (status, body) = status_and_json(app.signup("test@test.com", "\u{FEFF}\u{2060}\u{200D}\u{00A0}\u{3000}").await).await;
        assert_eq!((status, body), (StatusCode::BAD_REQUEST, validation_errors(&[("password", LENGTH)])));
        let (status, body) = status_and_json(app.signin("test@test.com", "\u{200B}\u{200C}").await).await;
        assert_eq!((status, body), (StatusCode::BAD_REQUEST, validation_errors(&[("password", "You must supply a password")])));
        // Visible characters with invisible ones among them are a password.
        app.signed_up("test@test.com", "pa\u{200B}ss").await;
        assert_eq!(app.signin("test@test.com", "pa\u{200B}ss").await.status(), StatusCode::OK);
    }

    async fn signin_refuses_control_characters_naming_the_field(backend) {
        let app = TestApp::spawn(backend).await;
        app.signed_up("test@test.com", "password").await;
        for password in ["\u{0}", "password\u{0}", "pass\u{7F}word"] {
            let (status, body) = status_and_json(app.signin("test@test.com", password).await).await;
            assert_eq!((status, body), (StatusCode::BAD_REQUEST, validation_errors(&[("password", CONTROL_PASSWORD)])), "{password:?}");
        }
        let (status, body) = status_and_json(app.signin("test@test.com\u{0}", "password").await).await;
        assert_eq!((status, body), (StatusCode::BAD_REQUEST, validation_errors(&[("email", "Email must be valid")])));
    }

    async fn account_changes_refuse_control_characters_naming_the_field(backend) {
        let app = TestApp::spawn(backend).await;
        let cookie = app.signed_up("test@test.com", "password").await;
        let cases = [
            (json!({"currentPassword": "pass\u{0}word", "password": "newpass"}), vec![("currentPassword", "Current password must not contain control characters")]),
            (json!({"currentPassword": "password", "password": "new\u{0}pass"}), vec![("password", CONTROL_PASSWORD)]),
            (json!({"currentPassword": "password", "email": "new\u{0}@test.com"}), vec![("email", "Email must be valid")]),
            (json!({"currentPassword": "\u{200B}", "password": "\u{FEFF}\u{FEFF}\u{FEFF}\u{FEFF}"}), vec![("currentPassword", "You must supply your current password"), ("password", LENGTH)]),
        ];
        for (body, failures) in cases {
            let (status, errors) = status_and_json(app.patch("/api/users/currentuser", body.clone(), Some(&cookie)).await).await;
            assert_eq!((status, errors), (StatusCode::BAD_REQUEST, validation_errors(&failures)), "{body}");
        }
        assert_eq!(app.signin("test@test.com", "password").await.status(), StatusCode::OK, "nothing changed");
    }

    async fn a_body_that_is_not_a_json_object_is_refused(backend) {
        let app = TestApp::spawn(backend).await;
        let cookie = app.signed_up("test@test.com", "password").await;
        let expected = (StatusCode::BAD_REQUEST, error("Request body must be a JSON object"));
        for body in [r#"["new@test.com", "password"]"#, "[]", "5", r#""x""#, "null"] {
            for path in ["/api/users/signup", "/api/users/signin"] {
                assert_eq!(status_and_json(app.send_raw(Method::POST, path, body, None).await).await, expected, "{path} {body}");
            }
            let response = app.send_raw(Method::PATCH, "/api/users/currentuser", &format!(r#"[{body}]"#), Some(&cookie)).await;
            assert_eq!(status_and_json(response).await, expected, "PATCH [{body}]");
        }
        assert_eq!(app.outbox().await.len(), 2, "only the first sign-up made an account (user:created, its welcome link)");
    }
}
