//! Password reset (design section 3, issue #17's limit): one answer for any email, a link that
//! works once and for 30 minutes, and every other session ended when it is used.

use std::num::NonZeroU32;

use gittix_auth::AuthConfig;
use gittix_testing::{backend_tests, session_cookie};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

const REQUEST: &str = "/api/users/password-reset";
const CONFIRM: &str = "/api/users/password-reset/confirm";

/// The reset events in the outbox, as `(email, token)`.
async fn reset_links(app: &TestApp) -> Vec<(String, String)> {
    app.outbox()
        .await
        .iter()
        .filter(|e| e.subject == "user:password-reset-requested")
        .map(|e| {
            let data: Value = serde_json::from_str(&e.payload).unwrap();
            (
                data["email"].as_str().unwrap().to_owned(),
                data["token"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

backend_tests! {
    async fn the_answer_is_the_same_whether_or_not_the_email_has_an_account(backend) {
        let app = TestApp::spawn(backend).await;
        app.signed_up("owner@test.com", "password").await;
        let known = app.post(REQUEST, json!({"email": "Owner@Test.com"}), None).await;
        let unknown = app.post(REQUEST, json!({"email": "nobody@test.com"}), None).await;
        assert_eq!(status_and_json(known).await, (StatusCode::ACCEPTED, json!({})));
        assert_eq!(status_and_json(unknown).await, (StatusCode::ACCEPTED, json!({})));
        // A link only for the account that exists, addressed as it was signed up.
        let links = reset_links(&app).await;
        assert_eq!(links.len(), 1, "{links:?}");
        assert_eq!(links[0].0, "owner@test.com");
        assert_eq!(links[0].1.len(), 64, "32 random bytes in hex");
        // Only a hash of the token is stored; the unknown address got a decoy that never worked.
        let stored: Vec<(String, String, i64)> = sqlx::query_as("SELECT token_hash, user_id, expires_at FROM password_resets ORDER BY expires_at")
            .fetch_all(app.db.pool()).await.unwrap();
        assert_eq!(stored.len(), 2);
        assert_eq!((stored[0].1.as_str(), stored[0].2), ("", 0), "the decoy");
        assert_eq!(stored[1].0, stored_hash(&links[0].1));
    }

    async fn a_link_sets_the_password_once_and_ends_every_other_session(backend) {
        let app = TestApp::spawn(backend).await;
        let old_session = app.signed_up("owner@test.com", "password").await;
        app.post(REQUEST, json!({"email": "owner@test.com"}), None).await;
        let (_, token) = reset_links(&app).await.remove(0);

        let reset = app.post(CONFIRM, json!({"token": token, "password": "brand-new"}), None).await;
        assert_eq!(reset.status(), StatusCode::OK);
        let new_session = session_cookie(&reset).expect("signed in with the new password");
        let body: Value = reset.json().await.unwrap();
        assert_eq!(body["email"], "owner@test.com");
        assert_eq!(app.current_user(Some(&new_session)).await["currentUser"]["email"], "owner@test.com");
        assert_eq!(app.current_user(Some(&old_session)).await, json!({"currentUser": null}));
        assert_eq!(app.signin("owner@test.com", "password").await.status(), StatusCode::BAD_REQUEST);
        assert_eq!(app.signin("owner@test.com", "brand-new").await.status(), StatusCode::OK);
        // user:updated and session:revoked, as for a password change.
        let subjects: Vec<String> = app.outbox().await.iter().map(|e| e.subject.clone()).collect();
        assert_eq!(subjects, ["user:created", "user:verification-requested", "user:password-reset-requested", "user:updated", "session:revoked"]);

        let again = app.post(CONFIRM, json!({"token": token, "password": "third-one"}), None).await;
        assert_eq!(status_and_json(again).await, (StatusCode::BAD_REQUEST, error("Invalid or expired link")));
        assert_eq!(app.signin("owner@test.com", "brand-new").await.status(), StatusCode::OK);
    }

    async fn a_late_or_unknown_link_is_refused_and_changes_nothing(backend) {
        // Six attempts from one client: over the default limit of five, which is not this test's.
        let app = TestApp::spawn_with(backend, lifted_limit()).await;
        app.signed_up("owner@test.com", "password").await;
        for _ in 0..2 {
            app.post(REQUEST, json!({"email": "owner@test.com"}), None).await;
        }
        let links = reset_links(&app).await;
        // The first link is past its 30 minutes.
        sqlx::query("UPDATE password_resets SET expires_at = 0 WHERE token_hash = $1")
            .bind(stored_hash(&links[0].1))
            .execute(app.db.pool()).await.unwrap();
        let invalid = (StatusCode::BAD_REQUEST, error("Invalid or expired link"));
        for token in [links[0].1.as_str(), "0123456789abcdef", &links[1].1.to_uppercase()] {
            let answer = app.post(CONFIRM, json!({"token": token, "password": "brand-new"}), None).await;
            assert_eq!(status_and_json(answer).await, invalid, "{token}");
        }
        assert_eq!(app.signin("owner@test.com", "password").await.status(), StatusCode::OK, "nothing changed");
        // The second link works; the first one stays spent.
        let reset = app.post(CONFIRM, json!({"token": links[1].1, "password": "brand-new"}), None).await;
        assert_eq!(reset.status(), StatusCode::OK);
    }

    async fn using_one_link_spends_the_others(backend) {
        let app = TestApp::spawn(backend).await;
        app.signed_up("owner@test.com", "password").await;
        for _ in 0..2 {
            app.post(REQUEST, json!({"email": "owner@test.com"}), None).await;
        }
        let links = reset_links(&app).await;
        let first = app.post(CONFIRM, json!({"token": links[1].1, "password": "brand-new"}), None).await;
        assert_eq!(first.status(), StatusCode::OK);
        let other = app.post(CONFIRM, json!({"token": links[0].1, "password": "third-one"}), None).await;
        assert_eq!(status_and_json(other).await, (StatusCode::BAD_REQUEST, error("Invalid or expired link")));
    }

    async fn the_fields_are_validated(backend) {
        let app = TestApp::spawn(backend).await;
        let answer = app.post(REQUEST, json!({"email": "not an email"}), None).await;
        assert_eq!(status_and_json(answer).await, (StatusCode::BAD_REQUEST, validation_errors(&[("email", "Email must be valid")])));
        let answer = app.post(CONFIRM, json!({"password": "x"}), None).await;
        assert_eq!(status_and_json(answer).await, (StatusCode::BAD_REQUEST, validation_errors(&[
            ("token", "Token must be provided"),
            ("password", "Password must be between 4 and 20 characters"),
        ])));
    }

    async fn the_answer_takes_as_long_whether_or_not_the_email_has_an_account(backend) {
        // Medians of interleaved requests, so that what the machine does meanwhile weighs on
        // both alike. Both answers write one link and commit; only their event differs. One
        // account per round: an address gets three links in ten minutes, then answers as unknown.
        let config = AuthConfig { signups_per_client: NonZeroU32::new(100).unwrap(), ..lifted_limit() };
        let app = TestApp::spawn_with(backend, config).await;
        let rounds = 30;
        for round in 0..rounds {
            app.signed_up(&format!("owner{round}@test.com"), "password").await;
        }
        let (mut known, mut unknown) = (Vec::new(), Vec::new());
        for round in 0..rounds {
            for (email, times) in [(format!("owner{round}@test.com"), &mut known), (format!("nobody{round}@test.com"), &mut unknown)] {
                let started = std::time::Instant::now();
                let answer = app.post(REQUEST, json!({"email": email}), None).await;
                times.push(started.elapsed());
                assert_eq!(answer.status(), StatusCode::ACCEPTED, "round {round}");
            }
        }
        assert_eq!(reset_links(&app).await.len(), rounds, "every account was sent its link");
        let median = |times: &mut Vec<std::time::Duration>| { times.sort(); times[times.len() / 2] };
        let (known, unknown) = (median(&mut known), median(&mut unknown));
        let (slower, faster) = (known.max(unknown), known.min(unknown));
        // Within noise: one median twice the other would tell the addresses apart. (That both
        // answers do the same work, a link written and committed, is the first test's.)
        assert!(slower < faster * 2, "median answer for an account {known:?}, for none {unknown:?}");
    }

    async fn a_stranger_asking_again_and_again_neither_floods_the_owner_nor_spends_their_links(backend) {
        let database = gittix_testing::fresh_database(backend).await;
        let limiter = std::sync::Arc::new(gittix_shared::ratelimit::LocalLimiter::default());
        let app = TestApp::behind_gateway(database.db.clone(), lifted_limit(), limiter).await;
        app.signed_up("owner@test.com", "password").await;
        let ask_from = |client: &'static str| {
            app.service
                .request(reqwest::Method::POST, REQUEST, None::<&str>)
                .header("x-forwarded-for", client)
                .json(&json!({"email": "owner@test.com"}))
                .send()
        };
        for _ in 0..5 {
            let answer = ask_from("203.0.113.7").await.unwrap();
            assert_eq!(status_and_json(answer).await, (StatusCode::ACCEPTED, json!({})), "the same answer");
        }
        // This app's outbox is relayed as it fills: its links are counted where auth keeps them
        // (a request that sends nothing writes a decoy, with no account).
        let links = async || -> i64 {
            sqlx::query_scalar("SELECT COUNT(*) FROM password_resets WHERE user_id <> ''")
                .fetch_one(app.db.pool()).await.unwrap()
        };
        assert_eq!(links().await, 3, "three links for the stranger's asking");
        let owner = ask_from("198.51.100.1").await.unwrap();
        assert_eq!(owner.status(), StatusCode::ACCEPTED);
        assert_eq!(links().await, 4, "the owner's own request still sends one");
    }

    async fn resets_from_one_client_are_rate_limited(backend) {
        let config = AuthConfig {
            password_resets_per_client: NonZeroU32::new(2).unwrap(),
            ..AuthConfig::default()
        };
        assert_eq!(AuthConfig::default().password_resets_per_client.get(), 5);
        let app = TestApp::spawn_with(backend, config).await;
        assert_eq!(app.post(REQUEST, json!({"email": "a@test.com"}), None).await.status(), StatusCode::ACCEPTED);
        let confirm = app.post(CONFIRM, json!({"token": "nope", "password": "brand-new"}), None).await;
        assert_eq!(confirm.status(), StatusCode::BAD_REQUEST, "a confirmation counts too");
        let limited = app.post(REQUEST, json!({"email": "b@test.com"}), None).await;
        assert!(limited.headers().contains_key("retry-after"));
        assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    }
}

fn lifted_limit() -> AuthConfig {
    AuthConfig {
        password_resets_per_client: NonZeroU32::new(100).unwrap(),
        ..AuthConfig::default()
    }
}
