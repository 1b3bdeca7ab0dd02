use std::time::Duration;

use gittix_auth::AuthConfig;
use gittix_shared::db::{Backend, Db, PoolSettings};
use gittix_shared::outbox::{self, PendingEvent};
pub use gittix_testing::status_and_json;
use gittix_testing::{
    fresh_database, session_cookie, TestDatabase, TestPlatform, TestService, Topology,
};
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

pub struct TestApp {
    pub service: TestService,
    pub platform: TestPlatform,
    pub db: Db,
    _database: Option<TestDatabase>,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, AuthConfig::default()).await
    }

    pub async fn spawn_with(backend: Backend, config: AuthConfig) -> Self {
        let database = fresh_database(backend).await;
        let db = database.db.clone();
        Self::spawn_on(db, config, Some(database)).await
    }

    /// An app on a database the test manages itself.
    ///
    /// Its relay takes no event (a batch of none), so the outbox keeps what each request
    /// recorded and [`outbox`](Self::outbox) reads exactly that; `events.rs` checks the relay.
    pub async fn spawn_on(db: Db, config: AuthConfig, database: Option<TestDatabase>) -> Self {
        let mut platform = TestPlatform::new(Topology::Embedded).await;
        platform.platform.relay.batch = 0;
        Self::start(platform, db, config, database).await
    }

    /// An app behind a gateway (it believes `X-Forwarded-For`, so a test can speak as several
    /// clients) whose limits are counted by `limiter`, on `db`.
    pub async fn behind_gateway(
        db: Db,
        config: AuthConfig,
        limiter: std::sync::Arc<dyn gittix_shared::ratelimit::Limiter>,
    ) -> Self {
        let mut platform = TestPlatform::new(Topology::Embedded).await;
        platform.platform.trust_proxy = gittix_shared::http::TrustProxy(true);
        platform.platform.limiter = limiter;
        Self::start(platform, db, config, None).await
    }

    /// `POST /api/users/signin` from the client at `address` (through the gateway).
    pub async fn signin_from(&self, address: &str, email: &str, password: &str) -> Response {
        self.service
            .request(Method::POST, "/api/users/signin", None::<&str>)
            .header("x-forwarded-for", address)
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap()
    }

    /// An app on the topology's backend whose outbox is relayed to the topology's bus
    /// (`platform.bus`), as in production.
    pub async fn relayed(topology: Topology) -> Self {
        let database = fresh_database(topology.backend()).await;
        let db = database.db.clone();
        let platform = TestPlatform::new(topology).await;
        Self::start(platform, db, AuthConfig::default(), Some(database)).await
    }

    async fn start(
        platform: TestPlatform,
        db: Db,
        config: AuthConfig,
        database: Option<TestDatabase>,
    ) -> Self {
        let service = gittix_auth::build(&config, db.clone(), &platform.platform)
            .await
            .expect("building auth");
        Self {
            service: TestService::serve(service, &platform.platform).await,
            platform,
            db,
            _database: database,
        }
    }

    pub async fn post(&self, path: &str, body: Value, cookie: Option<&str>) -> Response {
        self.service.send(Method::POST, path, cookie, body).await
    }

    pub async fn patch(&self, path: &str, body: Value, cookie: Option<&str>) -> Response {
        self.service.send(Method::PATCH, path, cookie, body).await
    }

    /// A request with `body` sent as written, as JSON.
    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        body: &str,
        cookie: Option<&str>,
    ) -> Response {
        self.service.send(method, path, cookie, body).await
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Response {
        self.service.get(path, cookie).await
    }

    pub async fn signup(&self, email: &str, password: &str) -> Response {
        let body = json!({"email": email, "password": password});
        self.post("/api/users/signup", body, None).await
    }

    pub async fn signin(&self, email: &str, password: &str) -> Response {
        let body = json!({"email": email, "password": password});
        self.post("/api/users/signin", body, None).await
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

/// The stored form of a link's token (password reset, email verification), as auth computes it (the SHA-256 in hex).
pub fn stored_hash(token: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
