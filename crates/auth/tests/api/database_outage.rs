//! A service whose PostgreSQL goes away answers 503 and recovers by itself when it is back.

use std::time::{Duration, Instant};

use gittix_auth::AuthConfig;
use gittix_shared::db::Db;
use gittix_testing::{create_postgres_database, PrivatePostgres};
use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn with_postgres_stopped_requests_get_503_and_the_same_server_recovers() {
    let postgres = PrivatePostgres::start();
    let url = create_postgres_database(&postgres.server_url()).await;
    let db = Db::connect_lazy(&url, &pool_settings(Duration::from_millis(500))).unwrap();
    let app = TestApp::spawn_on(db, AuthConfig::default(), None).await;
    app.signed_up("before@test.com", "password").await;

    postgres.stop();
    let (status, body) = status_and_json(app.signup("during@test.com", "password").await).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            error("Error connecting to database")
        )
    );
    let (status, _) = status_and_json(app.signin("before@test.com", "password").await).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        app.get("/readyz", None).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );

    postgres.start_again();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        let status = app.signup("after@test.com", "password").await.status();
        if status != StatusCode::SERVICE_UNAVAILABLE || Instant::now() > deadline {
            break status;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        status,
        StatusCode::CREATED,
        "the running server should recover"
    );
    assert_eq!(
        app.signin("before@test.com", "password").await.status(),
        StatusCode::OK
    );
    assert_eq!(app.get("/readyz", None).await.status(), StatusCode::OK);
}
