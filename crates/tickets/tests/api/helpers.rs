use gittix_shared::bus::Bus;
use gittix_testing::{fresh_database, TestDatabase, TestPlatform, TestService, TestUser, Topology};
use gittix_tickets::TicketsConfig;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

/// The tickets service as the binary builds it (in embedded mode it keeps the list of tickets
/// for sale between changes), on a platform of the test's own.
pub struct TicketsApp {
    pub server: TestService,
    pub client: reqwest::Client,
    platform: TestPlatform,
    database: TestDatabase,
}

impl TicketsApp {
    pub async fn spawn(topology: Topology) -> Self {
        let database = fresh_database(topology.backend()).await;
        let platform = TestPlatform::new(topology).await;
        let service = gittix_tickets::build(
            &TicketsConfig::default(),
            database.db.clone(),
            &platform.platform,
        )
        .await
        .unwrap();
        let server = TestService::serve(service, &platform.platform).await;
        Self {
            server,
            client: reqwest::Client::new(),
            platform,
            database,
        }
    }

    pub fn bus(&self) -> &dyn Bus {
        self.platform.bus.bus.as_ref()
    }

    pub fn user(&self) -> TestUser {
        TestUser::new(self.platform.sessions())
    }

    async fn send(&self, request: reqwest::RequestBuilder, user: Option<&TestUser>) -> Response {
        let request = match user {
            Some(user) => request.header(reqwest::header::COOKIE, &user.cookie),
            None => request,
        };
        request.send().await.expect("request failed")
    }

    pub async fn post(&self, user: Option<&TestUser>, body: Value) -> Response {
        self.send(
            self.client
                .post(self.server.url("/api/tickets"))
                .json(&body),
            user,
        )
        .await
    }

    /// `POST /api/tickets` with `body` sent as written (a price `json!` could not keep exact).
    pub async fn post_raw(&self, user: Option<&TestUser>, body: &str) -> Response {
        self.send(
            self.client
                .post(self.server.url("/api/tickets"))
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_owned()),
            user,
        )
        .await
    }

    /// `PUT /api/tickets/{id}` with `body` sent as written.
    pub async fn put_raw(&self, user: Option<&TestUser>, id: &str, body: &str) -> Response {
        let url = self.server.url(&format!("/api/tickets/{id}"));
        let request = self
            .client
            .put(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_owned());
        self.send(request, user).await
    }

    /// Closes the service's database: every query from now on fails (503), so an answer that
    /// still comes is one given without asking it.
    pub async fn close_database(&self) {
        self.database.db.pool().close().await;
    }

    pub async fn put(&self, user: Option<&TestUser>, id: &str, body: Value) -> Response {
        let url = self.server.url(&format!("/api/tickets/{id}"));
        self.send(self.client.put(url).json(&body), user).await
    }

    pub async fn delete(&self, user: Option<&TestUser>, id: &str) -> Response {
        self.send(
            self.client
                .delete(self.server.url(&format!("/api/tickets/{id}"))),
            user,
        )
        .await
    }

    pub async fn get(&self, path: &str) -> Response {
        self.get_as(None, path).await
    }

    pub async fn get_as(&self, user: Option<&TestUser>, path: &str) -> Response {
        self.send(self.client.get(self.server.url(path)), user)
            .await
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

pub async fn status_and_json(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub fn error(message: &str) -> Value {
    json!({"errors": [{"message": message}]})
}

pub fn field_error(field: &str, message: &str) -> Value {
    json!({"errors": [{"message": message, "field": field}]})
}
