use std::time::Duration;

use gittix_auth::{AuthArgs, AuthService};
use gittix_shared::db::{Backend, Db, PoolSettings};
use gittix_shared::http::{health_routes, with_common_layers, Dependencies, TrustProxy};
use gittix_shared::outbox::{self, PendingEvent};
use gittix_shared::session::Sessions;
use gittix_testing::{fresh_database, session_cookie, TestDatabase, TestServer};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

pub const JWT_KEY: &[u8] = b"test-key-test-key-test-key-test-key!";
pub const BODY_LIMIT: usize = 16 * 1024;

pub struct TestApp {
    pub server: TestServer,
    pub db: Db,
    pub client: reqwest::Client,
    _database: Option<TestDatabase>,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, AuthArgs::default()).await
    }

    pub async fn spawn_with(backend: Backend, args: AuthArgs) -> Self {
        let database = fresh_database(backend).await;
        let db = database.db.clone();
        Self::spawn_on(db, args, Some(database)).await
    }

    /// An app on a database the test manages itself.
    pub async fn spawn_on(db: Db, args: AuthArgs, database: Option<TestDatabase>) -> Self {
        let sessions = Sessions::new(JWT_KEY, Duration::from_secs(3600), false);
        let service = AuthService::start(db.clone(), sessions, &args, TrustProxy(false))
            .await
            .expect("starting auth");
        let app = with_common_layers(
            service.router().merge(health_routes(Dependencies {
                databases: vec![db.clone()],
                ..Dependencies::default()
            })),
            BODY_LIMIT,
        );
        Self {
            server: TestServer::spawn(app).await,
            db,
            client: reqwest::Client::new(),
            _database: database,
        }
    }

    pub async fn post(&self, path: &str, body: Value, cookie: Option<&str>) -> Response {
        self.send(self.client.post(self.server.url(path)).json(&body), cookie)
            .await
    }

    pub async fn patch(&self, path: &str, body: Value, cookie: Option<&str>) -> Response {
        self.send(self.client.patch(self.server.url(path)).json(&body), cookie)
            .await
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Response {
        self.send(self.client.get(self.server.url(path)), cookie)
            .await
    }

    async fn send(&self, request: reqwest::RequestBuilder, cookie: Option<&str>) -> Response {
        let request = match cookie {
            Some(cookie) => request.header(reqwest::header::COOKIE, cookie),
            None => request,
        };
        request.send().await.expect("request failed")
    }

    pub async fn signup(&self, email: &str, password: &str) -> Response {
        self.post(
            "/api/users/signup",
            json!({"email": email, "password": password}),
            None,
        )
        .await
    }

    pub async fn signin(&self, email: &str, password: &str) -> Response {
        self.post(
            "/api/users/signin",
            json!({"email": email, "password": password}),
            None,
        )
        .await
    }

    /// Signs up and returns the session cookie.
    pub async fn signed_up(&self, email: &str, password: &str) -> String {
        let response = self.signup(email, password).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        session_cookie(&response).expect("signup sets the session cookie")
    }

    pub async fn current_user(&self, cookie: Option<&str>) -> Value {
        let response = self.get("/api/users/currentuser", cookie).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    pub async fn outbox(&self) -> Vec<PendingEvent> {
        let mut conn = self.db.pool().acquire().await.unwrap();
        outbox::pending(&mut conn, 1000).await.unwrap()
    }
}

/// The status and JSON body of a response.
pub async fn status_and_json(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let body = response.json().await.expect("a JSON body");
    (status, body)
}

/// The body of a 400 listing `(field, message)` validation failures.
pub fn validation_errors(failures: &[(&str, &str)]) -> Value {
    let errors: Vec<Value> = failures
        .iter()
        .map(|(field, message)| json!({"message": message, "field": field}))
        .collect();
    json!({ "errors": errors })
}

pub fn error(message: &str) -> Value {
    json!({"errors": [{"message": message}]})
}

pub fn pool_settings(acquire_timeout: Duration) -> PoolSettings {
    PoolSettings {
        max_connections: 5,
        acquire_timeout,
    }
}
