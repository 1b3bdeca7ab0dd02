use gittix_orders::{OrdersArgs, OrdersService};
use gittix_shared::db::Db;
use gittix_shared::events::{TicketCreated, TicketUpdated};
use gittix_shared::http::with_common_layers;
use gittix_shared::relay::{self, RelaySettings};
use gittix_testing::{
    eventually, fresh_database, publish_event, quick_listener_settings, test_sessions, TestBus,
    TestDatabase, TestServer, TestUser, Topology,
};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use tokio::task::JoinHandle;

pub const LOCK_SECONDS: u64 = 900;

pub struct OrdersApp {
    pub server: TestServer,
    pub bus: TestBus,
    pub client: reqwest::Client,
    pub db: Db,
    sessions: gittix_shared::session::Sessions,
    _database: TestDatabase,
    _tasks: Vec<JoinHandle<()>>,
}

impl OrdersApp {
    pub async fn spawn(topology: Topology) -> Self {
        let database = fresh_database(topology.backend()).await;
        let bus = TestBus::new(topology.bus()).await;
        let sessions = test_sessions();
        let args = OrdersArgs {
            order_lock_seconds: LOCK_SECONDS,
        };
        let service = OrdersService::start(database.db.clone(), sessions.clone(), &args)
            .await
            .unwrap();
        let mut tasks = service
            .listener(bus.bus.clone(), quick_listener_settings())
            .start()
            .await
            .unwrap();
        tasks.push(relay::spawn(
            database.db.clone(),
            bus.bus.clone(),
            RelaySettings::default(),
        ));
        let server = TestServer::spawn(with_common_layers(service.router(), 64 * 1024)).await;
        Self {
            server,
            bus,
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(256)
                .build()
                .unwrap(),
            db: database.db.clone(),
            sessions,
            _database: database,
            _tasks: tasks,
        }
    }

    pub fn user(&self) -> TestUser {
        TestUser::new(&self.sessions)
    }

    /// A ticket the tickets service listed, as its event reaches orders; waits for the replica.
    pub async fn ticket_listed(&self, seller: &TestUser, title: &str, price_cents: i64) -> String {
        let id = uuid::Uuid::now_v7().to_string();
        let event = TicketCreated {
            id: id.clone(),
            version: 0,
            title: title.into(),
            price: price_cents,
            user_id: seller.id.clone(),
        };
        publish_event(self.bus.bus.as_ref(), &event).await;
        self.replica_version_is(&id, 0).await;
        id
    }

    /// Publishes a `ticket:updated` from the tickets service.
    pub async fn ticket_updated(
        &self,
        seller: &TestUser,
        id: &str,
        version: i64,
        title: &str,
        price: i64,
        status: &str,
    ) {
        let event = TicketUpdated {
            id: id.into(),
            version,
            title: title.into(),
            price,
            user_id: seller.id.clone(),
            status: status.into(),
            order_id: None,
        };
        publish_event(self.bus.bus.as_ref(), &event).await;
    }

    pub async fn replica_version_is(&self, id: &str, version: i64) {
        eventually(&format!("replica of {id} at version {version}"), || async {
            let held: Option<i64> = sqlx::query_scalar("SELECT version FROM tickets WHERE id = $1")
                .bind(id)
                .fetch_optional(self.db.pool())
                .await
                .unwrap();
            (held == Some(version)).then_some(())
        })
        .await;
    }

    async fn send(&self, request: reqwest::RequestBuilder, user: Option<&TestUser>) -> Response {
        let request = match user {
            Some(user) => request.header(reqwest::header::COOKIE, &user.cookie),
            None => request,
        };
        request.send().await.expect("request failed")
    }

    pub async fn order(&self, user: Option<&TestUser>, body: Value) -> Response {
        self.send(
            self.client.post(self.server.url("/api/orders")).json(&body),
            user,
        )
        .await
    }

    pub async fn reserve(&self, buyer: &TestUser, ticket_id: &str) -> Response {
        self.order(Some(buyer), json!({ "ticketId": ticket_id }))
            .await
    }

    /// Reserves and returns the order's JSON.
    pub async fn reserved(&self, buyer: &TestUser, ticket_id: &str) -> Value {
        let response = self.reserve(buyer, ticket_id).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.unwrap()
    }

    pub async fn get(&self, user: Option<&TestUser>, path: &str) -> Response {
        self.send(self.client.get(self.server.url(path)), user)
            .await
    }

    pub async fn delete(&self, user: Option<&TestUser>, id: &str) -> Response {
        self.send(
            self.client
                .delete(self.server.url(&format!("/api/orders/{id}"))),
            user,
        )
        .await
    }

    /// Orders holding `ticket_id` that are not cancelled.
    pub async fn active_orders_for(&self, ticket_id: &str) -> i64 {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM orders WHERE ticket_id = $1 AND status <> 'cancelled'",
        )
        .bind(ticket_id)
        .fetch_one(self.db.pool())
        .await
        .unwrap()
    }
}

pub async fn status_and_json(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub fn error(message: &str) -> Value {
    json!({"errors": [{"message": message}]})
}
