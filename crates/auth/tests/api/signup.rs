use gittix_testing::backend_tests;
use gittix_testing::{session_cookie, set_cookie_headers};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

const PASSWORD_RULE: &str = "Password must be between 4 and 20 characters";

backend_tests! {
    async fn returns_201_with_the_user_and_a_session_cookie(backend) {
        let app = TestApp::spawn(backend).await;
        let response = app.signup("test@test.com", "password").await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let cookie = set_cookie_headers(&response).join("\n");
        assert!(cookie.starts_with("session="), "{cookie}");
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["email"], "test@test.com");
        assert!(body["id"].as_str().is_some_and(|id| !id.is_empty()));
        assert!(body.get("password").is_none() && body.get("passwordHash").is_none());
    }

    async fn the_cookie_signs_the_user_in(backend) {
        let app = TestApp::spawn(backend).await;
        let response = app.signup("test@test.com", "password").await;
        let cookie = session_cookie(&response).unwrap();
        let id = response.json::<serde_json::Value>().await.unwrap()["id"].clone();
        let me = app.current_user(Some(&cookie)).await;
        assert_eq!(me["currentUser"]["id"], id);
        assert_eq!(me["currentUser"]["email"], "test@test.com");
    }

    async fn refuses_an_invalid_email(backend) {
        let app = TestApp::spawn(backend).await;
        // The last: 255 characters (every part of it valid), one over the longest address allowed.
        let too_long = format!("{}@{}.{}.{}.com", "a".repeat(64), "b".repeat(63), "c".repeat(63), "d".repeat(58));
        for email in ["alskdflaskjfd", "test@", "@test.com", "a b@test.com", "test@localhost", &too_long] {
            let (status, body) = status_and_json(app.signup(email, "password").await).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{email}");
            assert_eq!(body, validation_errors(&[("email", "Email must be valid")]), "{email}");
        }
    }

    async fn refuses_a_password_too_short_or_too_long_after_trimming(backend) {
        let app = TestApp::spawn(backend).await;
        for password in ["p", "abc", "  abc  ", "123456789012345678901"] {
            let (status, body) = status_and_json(app.signup("test@test.com", password).await).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{password:?}");
            assert_eq!(body, validation_errors(&[("password", PASSWORD_RULE)]), "{password:?}");
        }
        // The limits themselves are allowed, counted after trimming.
        assert_eq!(app.signup("four@test.com", "  abcd  ").await.status(), StatusCode::CREATED);
        let twenty = "12345678901234567890";
        assert_eq!(app.signup("twenty@test.com", twenty).await.status(), StatusCode::CREATED);
    }

    async fn reports_each_missing_field(backend) {
        let app = TestApp::spawn(backend).await;
        let missing_password = app.post("/api/users/signup", json!({"email": "test@test.com"}), None).await;
        assert_eq!(
            status_and_json(missing_password).await,
            (StatusCode::BAD_REQUEST, validation_errors(&[("password", PASSWORD_RULE)]))
        );
        let missing_email = app.post("/api/users/signup", json!({"password": "password"}), None).await;
        assert_eq!(
            status_and_json(missing_email).await,
            (StatusCode::BAD_REQUEST, validation_errors(&[("email", "Email must be valid")]))
        );
        let both = app.post("/api/users/signup", json!({}), None).await;
        assert_eq!(
            status_and_json(both).await,
            (
                StatusCode::BAD_REQUEST,
                validation_errors(&[("email", "Email must be valid"), ("password", PASSWORD_RULE)])
            )
        );
        let wrong_types = app.post("/api/users/signup", json!({"email": 5, "password": ["x"]}), None).await;
        assert_eq!(status_and_json(wrong_types).await.0, StatusCode::BAD_REQUEST);
        assert!(app.outbox().await.is_empty(), "a refused signup publishes nothing");
    }

    async fn refuses_a_duplicate_email_whatever_its_case(backend) {
        let app = TestApp::spawn(backend).await;
        assert_eq!(app.signup("test@test.com", "password").await.status(), StatusCode::CREATED);
        for email in ["test@test.com", "TEST@Test.com", " test@test.com "] {
            let (status, body) = status_and_json(app.signup(email, "password").await).await;
            assert_eq!((status, body), (StatusCode::BAD_REQUEST, error("Email in use")), "{email:?}");
        }
        assert_eq!(app.outbox().await.len(), 2, "only the first signup publishes (user:created, its welcome link)");
    }

    async fn look_alike_spellings_of_one_address_are_one_account(backend) {
        let app = TestApp::spawn(backend).await;
        // "é" written as "e" + a combining accent, and a domain in Unicode.
        let first = app.signup("jose\u{301}@b\u{fc}cher.example", "password").await;
        let (status, body) = status_and_json(first).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(body["email"], "jos\u{e9}@xn--bcher-kva.example");
        for email in ["jos\u{e9}@B\u{fc}cher.example", "JOS\u{c9}@xn--bcher-kva.example"] {
            let (status, body) = status_and_json(app.signup(email, "password").await).await;
            assert_eq!((status, body), (StatusCode::BAD_REQUEST, error("Email in use")), "{email:?}");
        }
        let signed_in = app.signin("jose\u{301}@xn--bcher-kva.EXAMPLE", "password").await;
        assert_eq!(signed_in.status(), StatusCode::OK);
    }

    async fn concurrent_signups_with_one_email_have_exactly_one_winner(backend) {
        let app = TestApp::spawn(backend).await;
        let attempts = (0..8).map(|i| {
            let email = if i % 2 == 0 { "race@test.com" } else { "RACE@test.com" };
            app.signup(email, "password")
        });
        let responses = futures_util::future::join_all(attempts).await;
        let mut created = 0;
        for response in responses {
            match response.status() {
                StatusCode::CREATED => created += 1,
                StatusCode::BAD_REQUEST => {
                    assert_eq!(response.json::<serde_json::Value>().await.unwrap(), error("Email in use"))
                }
                other => panic!("unexpected status {other}"),
            }
        }
        assert_eq!(created, 1);
        assert_eq!(app.outbox().await.len(), 2, "user:created and the welcome link, once");
    }

    async fn records_user_created_in_the_outbox(backend) {
        let app = TestApp::spawn(backend).await;
        let response = app.signup("test@test.com", "password").await;
        let user: serde_json::Value = response.json().await.unwrap();
        let events = app.outbox().await;
        let subjects: Vec<&str> = events.iter().map(|e| e.subject.as_str()).collect();
        assert_eq!(subjects, ["user:created", "user:verification-requested"]);
        let data: serde_json::Value = serde_json::from_str(&events[0].payload).unwrap();
        assert_eq!(data, json!({"id": user["id"], "email": "test@test.com", "version": 0}));
        // The welcome email's link, for notifications to send (tests/api/verify_email.rs).
        let link: serde_json::Value = serde_json::from_str(&events[1].payload).unwrap();
        assert_eq!((link["userId"].clone(), link["email"].clone(), link["welcome"].clone()), (user["id"].clone(), json!("test@test.com"), json!(true)));
    }
}
