//! Email verification (design section 3): the welcome email's link confirms the address once,
//! `emailVerified` says so, a new address needs its own link, and links sent again are limited.

use gittix_testing::{backend_tests, session_cookie};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

const VERIFY: &str = "/api/users/verify-email";
const RESEND: &str = "/api/users/verify-email/resend";

/// The verification events in the outbox, as `(email, token, welcome)`.
async fn verification_links(app: &TestApp) -> Vec<(String, String, bool)> {
    app.outbox()
        .await
        .iter()
        .filter(|e| e.subject == "user:verification-requested")
        .map(|e| {
            let data: Value = serde_json::from_str(&e.payload).unwrap();
            (
                data["email"].as_str().unwrap().to_owned(),
                data["token"].as_str().unwrap().to_owned(),
                data["welcome"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn invalid_link() -> (StatusCode, Value) {
    (StatusCode::BAD_REQUEST, error("Invalid or expired link"))
}

backend_tests! {
    async fn the_welcome_link_verifies_the_email_once(backend) {
        let app = TestApp::spawn(backend).await;
        let signup = app.signup("owner@test.com", "password").await;
        assert_eq!(signup.status(), StatusCode::CREATED);
        let session = session_cookie(&signup).unwrap();
        let body: Value = signup.json().await.unwrap();
        assert_eq!(body["emailVerified"], false);
        assert_eq!(app.current_user(Some(&session)).await["currentUser"]["emailVerified"], false);
        let links = verification_links(&app).await;
        assert_eq!(links.len(), 1, "{links:?}");
        let (email, token, welcome) = links[0].clone();
        assert_eq!((email.as_str(), token.len(), welcome), ("owner@test.com", 64, true));

        // Signed in as the account: the answer renews the cookie, which says "verified".
        let verified = app.post(VERIFY, json!({"token": token}), Some(&session)).await;
        assert_eq!(verified.status(), StatusCode::OK);
        let renewed = session_cookie(&verified).expect("a renewed cookie");
        let body: Value = verified.json().await.unwrap();
        assert_eq!((body["email"].clone(), body["emailVerified"].clone()), (json!("owner@test.com"), json!(true)));
        let (before, after) = (app.current_user(Some(&session)).await, app.current_user(Some(&renewed)).await);
        assert_eq!(after["currentUser"]["emailVerified"], true);
        // The same session, renewed: signing it out ends the cookie it replaced too.
        for field in ["sid", "iat", "exp"] {
            assert_eq!(before["currentUser"][field], after["currentUser"][field], "{field}");
        }
        // A new sign-in says so too.
        let signin = app.signin("owner@test.com", "password").await;
        assert_eq!(signin.json::<Value>().await.unwrap()["emailVerified"], true);

        let again = app.post(VERIFY, json!({"token": token}), None).await;
        assert_eq!(status_and_json(again).await, invalid_link());
        app.post("/api/users/signout", json!({}), Some(&renewed)).await;
        assert_eq!(app.current_user(Some(&session)).await, json!({"currentUser": null}));
    }

    async fn a_link_works_without_a_session_and_never_when_late_or_unknown(backend) {
        let app = TestApp::spawn(backend).await;
        app.signed_up("owner@test.com", "password").await;
        app.signed_up("other@test.com", "password").await;
        let links = verification_links(&app).await;
        sqlx::query("UPDATE email_verifications SET expires_at = 0 WHERE token_hash = $1")
            .bind(stored_hash(&links[1].1))
            .execute(app.db.pool()).await.unwrap();
        for token in [links[1].1.as_str(), "0123456789abcdef", &links[0].1.to_uppercase()] {
            let answer = app.post(VERIFY, json!({"token": token}), None).await;
            assert_eq!(status_and_json(answer).await, invalid_link(), "{token}");
        }
        let answer = app.post(VERIFY, json!({"token": links[0].1}), None).await;
        let (status, body) = status_and_json(answer).await;
        assert_eq!((status, body["emailVerified"].clone()), (StatusCode::OK, json!(true)));
        let answer = app.post(VERIFY, json!({}), None).await;
        assert_eq!(status_and_json(answer).await, (StatusCode::BAD_REQUEST, validation_errors(&[("token", "Token must be provided")])));
    }

    async fn a_new_address_is_unverified_and_the_old_link_confirms_nothing(backend) {
        let app = TestApp::spawn(backend).await;
        let session = app.signed_up("owner@test.com", "password").await;
        let old_token = verification_links(&app).await[0].1.clone();
        let changed = app.patch("/api/users/currentuser", json!({"currentPassword": "password", "email": "new@test.com"}), Some(&session)).await;
        assert_eq!(changed.status(), StatusCode::OK);
        assert_eq!(changed.json::<Value>().await.unwrap()["emailVerified"], false);
        assert_eq!(status_and_json(app.post(VERIFY, json!({"token": old_token}), None).await).await, invalid_link());
        let links = verification_links(&app).await;
        assert_eq!(links.len(), 2);
        assert_eq!((links[1].0.as_str(), links[1].2), ("new@test.com", false));
        let answer = app.post(VERIFY, json!({"token": links[1].1}), None).await;
        assert_eq!(answer.json::<Value>().await.unwrap()["emailVerified"], true);
        // Changing the password alone keeps the email verified.
        let session = session_cookie(&app.signin("new@test.com", "password").await).unwrap();
        let changed = app.patch("/api/users/currentuser", json!({"currentPassword": "password", "password": "another"}), Some(&session)).await;
        assert_eq!(changed.json::<Value>().await.unwrap()["emailVerified"], true);
        assert_eq!(verification_links(&app).await.len(), 2);
    }

    async fn a_link_sent_again_is_limited_and_not_sent_once_verified(backend) {
        let app = TestApp::spawn(backend).await;
        assert_eq!(app.post(RESEND, json!({}), None).await.status(), StatusCode::UNAUTHORIZED);
        let session = app.signed_up("owner@test.com", "password").await;
        for _ in 0..3 {
            let answer = app.post(RESEND, json!({}), Some(&session)).await;
            let (status, body) = status_and_json(answer).await;
            assert_eq!((status, body["emailVerified"].clone()), (StatusCode::ACCEPTED, json!(false)));
        }
        let limited = app.post(RESEND, json!({}), Some(&session)).await;
        assert!(limited.headers().contains_key("retry-after"));
        assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
        let links = verification_links(&app).await;
        assert_eq!(links.iter().map(|l| l.2).collect::<Vec<_>>(), [true, false, false, false]);
        // Each link sent again works on its own.
        let answer = app.post(VERIFY, json!({"token": links[2].1}), None).await;
        assert_eq!(answer.status(), StatusCode::OK);

        // Verified elsewhere (no session with the link): asking again sends nothing and renews
        // this cookie, which said "unverified", to say so.
        let other = app.signed_up("other@test.com", "password").await;
        let token = verification_links(&app).await[4].1.clone();
        app.post(VERIFY, json!({"token": token}), None).await;
        assert_eq!(app.current_user(Some(&other)).await["currentUser"]["emailVerified"], false);
        let answer = app.post(RESEND, json!({}), Some(&other)).await;
        let renewed = session_cookie(&answer).expect("a renewed cookie");
        let (status, body) = status_and_json(answer).await;
        assert_eq!((status, body["emailVerified"].clone()), (StatusCode::ACCEPTED, json!(true)));
        assert_eq!(app.current_user(Some(&renewed)).await["currentUser"]["emailVerified"], true);
        assert_eq!(verification_links(&app).await.len(), 5, "no link for a verified email");
    }
}
