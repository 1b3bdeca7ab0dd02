use gittix_shared::bus::Bus;
use gittix_shared::time::{iso8601, unix_millis};
pub use gittix_testing::status_and_json;
use gittix_testing::{Body, Spawned, TestDatabase, TestPlatform, TestService, TestUser, Topology};
use gittix_tickets::TicketsConfig;
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

/// The tickets service as the binary builds it (in embedded mode it keeps the list of tickets
/// for sale between changes), on a platform of the test's own.
pub struct TicketsApp {
    pub server: TestService,
    platform: TestPlatform,
    database: TestDatabase,
}

impl TicketsApp {
    pub async fn spawn(topology: Topology) -> Self {
        Self::spawn_with(topology, TicketsConfig::default()).await
    }

    /// The service with settings of the test's own.
    pub async fn spawn_with(topology: Topology, config: TicketsConfig) -> Self {
        let Spawned {
            service,
            platform,
            database,
        } = Spawned::new(topology, async move |db, platform| {
            gittix_tickets::build(&config, db, platform).await
        })
        .await;
        Self {
            server: service,
            platform,
            database,
        }
    }

    /// The service's own database, for what no route does yet.
    pub fn db(&self) -> &gittix_shared::db::Db {
        &self.database.db
    }

    pub fn bus(&self) -> &dyn Bus {
        self.platform.bus.bus.as_ref()
    }

    pub fn user(&self) -> TestUser {
        TestUser::new(self.platform.sessions())
    }

    /// `POST /api/tickets`; a `&str` body is sent as written (a price `json!` could not keep).
    pub async fn post(&self, user: Option<&TestUser>, body: impl Into<Body>) -> Response {
        let url = "/api/tickets";
        self.server.send(Method::POST, url, user, body).await
    }

    /// Closes the service's database: every query from now on fails (503), so an answer that
    /// still comes is one given without asking it.
    pub async fn close_database(&self) {
        self.database.db.pool().close().await;
    }

    pub async fn put(&self, user: Option<&TestUser>, id: &str, body: impl Into<Body>) -> Response {
        let path = format!("/api/tickets/{id}");
        self.server.send(Method::PUT, &path, user, body).await
    }

    pub async fn delete(&self, user: Option<&TestUser>, id: &str) -> Response {
        self.server
            .delete(&format!("/api/tickets/{id}"), user)
            .await
    }

    pub async fn get(&self, path: &str) -> Response {
        self.get_as(None, path).await
    }

    pub async fn get_as(&self, user: Option<&TestUser>, path: &str) -> Response {
        self.server.get(path, user).await
    }

    /// Lists a ticket and returns its JSON.
    pub async fn sell(&self, seller: &TestUser, title: &str, price: Value) -> Value {
        let response = self
            .post(Some(seller), json!({"title": title, "price": price}))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.unwrap()
    }

    pub async fn ticket(&self, id: &str) -> Value {
        let response = self.get(&format!("/api/tickets/{id}")).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    /// The tickets `GET /api/tickets` returns, as (id, price, status).
    pub async fn for_sale(&self) -> Vec<(String, Value)> {
        let tickets: Vec<Value> = self.get("/api/tickets").await.json().await.unwrap();
        tickets
            .iter()
            .map(|t| (t["id"].as_str().unwrap().to_owned(), t["price"].clone()))
            .collect()
    }

    /// The ids of the tickets the list returns for `query`.
    pub async fn listed(&self, query: &str) -> Vec<String> {
        let tickets: Vec<Value> = self
            .get(&format!("/api/tickets{query}"))
            .await
            .json()
            .await
            .unwrap();
        tickets
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_owned())
            .collect()
    }
}

impl TicketsApp {
    /// `POST /api/events`.
    pub async fn post_event(&self, user: Option<&TestUser>, body: Value) -> (StatusCode, Value) {
        status_and_json(
            self.server
                .send(Method::POST, "/api/events", user, body)
                .await,
        )
        .await
    }

    /// Creates an event starting `millis` from now; returns its JSON.
    pub async fn event_in(&self, user: &TestUser, name: &str, millis: i64) -> Value {
        let starts = iso8601(unix_millis() + millis);
        let body = json!({"name": name, "venue": "Arena", "city": "Lyon", "startsAt": starts});
        let (status, event) = self.post_event(Some(user), body).await;
        assert_eq!(status, StatusCode::CREATED, "{event}");
        event
    }

    /// Lists a ticket for `event` at `price`; returns its JSON.
    pub async fn sell_for(&self, seller: &TestUser, event: &str, price: Value) -> Value {
        let body = json!({"title": "Seat", "price": price, "eventId": event});
        let (status, ticket) = status_and_json(self.post(Some(seller), body).await).await;
        assert_eq!(status, StatusCode::CREATED, "{ticket}");
        ticket
    }
}

pub const DAY_MS: i64 = 86_400_000;

pub fn error(message: &str) -> Value {
    json!({"errors": [{"message": message}]})
}

pub fn field_error(field: &str, message: &str) -> Value {
    json!({"errors": [{"message": message, "field": field}]})
}
