use gittix_orders::OrdersConfig;
use gittix_shared::bus::Bus;
use gittix_shared::db::Db;
use gittix_shared::domain::TicketStatus;
use gittix_shared::events::{SaleTerms, TicketCreated, TicketUpdated};
pub use gittix_testing::status_and_json;
use gittix_testing::{
    eventually, publish_event, Body, Spawned, TestDatabase, TestPlatform, TestService, TestUser,
    Topology,
};
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

pub const LOCK_SECONDS: u64 = 900;

/// The orders service as `gittix_orders::build` makes it, served on its own port. Dropping it
/// shuts the service down.
pub struct OrdersApp {
    pub service: TestService,
    pub platform: TestPlatform,
    pub db: Db,
    _database: TestDatabase,
}

impl OrdersApp {
    pub async fn spawn(topology: Topology) -> Self {
        Self::spawn_configured(topology, OrdersConfig::default()).await
    }

    /// With `config`, and the lock window of these tests.
    pub async fn spawn_configured(topology: Topology, config: OrdersConfig) -> Self {
        let config = OrdersConfig {
            order_lock_seconds: LOCK_SECONDS,
            ..config
        };
        let Spawned {
            service,
            platform,
            database,
        } = Spawned::new(topology, async |db, platform| {
            gittix_orders::build(&config, db, platform).await
        })
        .await;
        Self {
            service,
            platform,
            db: database.db.clone(),
            _database: database,
        }
    }

    /// The test's bus, to publish events other services would and to watch what orders publishes.
    pub fn bus(&self) -> &dyn Bus {
        self.platform.bus.bus.as_ref()
    }

    pub fn user(&self) -> TestUser {
        TestUser::new(self.platform.sessions())
    }

    /// A ticket the tickets service listed, as its event reaches orders; waits for the replica.
    pub async fn ticket_listed(&self, seller: &TestUser, title: &str, price_cents: i64) -> String {
        self.ticket_listed_for(seller, title, price_cents, SaleTerms::default())
            .await
    }

    /// [`Self::ticket_listed`] for an event (`terms`).
    pub async fn ticket_listed_for(
        &self,
        seller: &TestUser,
        title: &str,
        price_cents: i64,
        terms: SaleTerms,
    ) -> String {
        let id = uuid::Uuid::now_v7().to_string();
        let event = TicketCreated {
            id: id.clone(),
            version: 0,
            title: title.into(),
            price: price_cents,
            user_id: seller.id.clone(),
            terms,
        };
        publish_event(self.bus(), &event).await;
        self.replica_version_is(&id, 0).await;
        id
    }

    /// Publishes a `ticket:updated` from the tickets service.
    /// Publishes a seller's change of a ticket (`ticket:updated` that sets the terms).
    pub async fn ticket_updated(
        &self,
        seller: &TestUser,
        id: &str,
        version: i64,
        title: &str,
        price: i64,
        status: TicketStatus,
    ) {
        let event = TicketUpdated {
            id: id.into(),
            version,
            title: title.into(),
            price,
            user_id: seller.id.clone(),
            status,
            order_id: None,
            terms_version: Some(version),
            terms: SaleTerms::default(),
            delivery: None,
        };
        publish_event(self.bus(), &event).await;
    }

    /// An order confirmed by the tickets service, so it may be paid; returns its id, its
    /// ticket and its buyer.
    pub async fn payable(&self) -> (String, String, TestUser) {
        let (seller, buyer) = (self.user(), self.user());
        let ticket = self.ticket_listed(&seller, "Seat", 2000).await;
        let id = self.reserved(&buyer, &ticket).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        self.ticket_held(&seller, &ticket, 1, Some(&id)).await;
        eventually("the order to be confirmed", || async {
            (self.order_status(&id).await.0 == "awaiting:payment").then_some(())
        })
        .await;
        (id, ticket, buyer)
    }

    /// Publishes the tickets service's reservation (or release, with `holder` None) of a ticket
    /// listed at version 0 as "Seat" for $20 whose terms never changed.
    pub async fn ticket_held(
        &self,
        seller: &TestUser,
        id: &str,
        version: i64,
        holder: Option<&str>,
    ) {
        let event = TicketUpdated {
            id: id.into(),
            version,
            title: "Seat".into(),
            price: 2000,
            user_id: seller.id.clone(),
            status: if holder.is_some() {
                TicketStatus::Reserved
            } else {
                TicketStatus::ForSale
            },
            order_id: holder.map(str::to_owned),
            terms_version: Some(0),
            terms: SaleTerms::default(),
            delivery: None,
        };
        publish_event(self.bus(), &event).await;
    }

    /// The order's status and cancel reason in the database.
    pub async fn order_status(&self, id: &str) -> (String, Option<String>) {
        sqlx::query_as("SELECT status, cancel_reason FROM orders WHERE id = $1")
            .bind(id)
            .fetch_one(self.db.pool())
            .await
            .unwrap()
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

    /// `POST /api/orders`; a `&str` body is sent as written.
    pub async fn order(&self, user: Option<&TestUser>, body: impl Into<Body>) -> Response {
        let url = "/api/orders";
        self.service.send(Method::POST, url, user, body).await
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
        self.service.get(path, user).await
    }

    pub async fn delete(&self, user: Option<&TestUser>, id: &str) -> Response {
        self.service
            .delete(&format!("/api/orders/{id}"), user)
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

pub fn error(message: &str) -> Value {
    json!({"errors": [{"message": message}]})
}
