//! The orders service: a buyer reserves a ticket for a lock window (15 minutes by default), sees
//! and cancels their orders. It keeps a replica of tickets from `ticket:*` events and enforces
//! "never two active orders for one ticket" with a unique index.

mod config;
mod grace;
mod listeners;
mod order;
mod refusal;
mod routes;
mod store;

use axum::extract::FromRef;
use gittix_shared::db::{Db, Migrations};
use gittix_shared::pruning::{Keep, Retention};
use gittix_shared::ratelimit::Budget;
use gittix_shared::service::{Platform, Service};
use gittix_shared::session::Sessions;

pub use crate::config::OrdersConfig;
use crate::store::OrderStore;

/// The orders schema for both backends.
pub static MIGRATIONS: Migrations = gittix_shared::crate_migrations!();

/// What the orders database forgets, and when: applied events, and cooldowns that have passed.
const PRUNED: [Retention; 2] = [
    Retention::INBOX,
    Retention {
        table: "rehold_cooldowns",
        column: "until",
        keep: Keep::For(std::time::Duration::ZERO),
    },
];

/// The consumer group of the orders service.
pub const CONSUMER_GROUP: &str = "orders-service";

/// This service's part of the OpenAPI document, declared with its routes.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes::router().into_openapi()
}

/// The orders service on `db`: migrates it, starts the consumer group that keeps the ticket
/// replica and completes or cancels orders on payment and expiry events (it stops with
/// `platform.shutdown`), and returns the service with the routes under `/api/orders`.
pub async fn build(config: &OrdersConfig, db: Db, platform: &Platform) -> anyhow::Result<Service> {
    db.migrate(&MIGRATIONS).await?;
    let orders = OrderStore::new(db.clone(), config.rules(), platform.fees.buyer);
    let listener = platform
        .start(listeners::listener(orders.clone(), platform))
        .await?;
    let orders_for_grace = orders.clone();
    let state = OrdersState {
        orders,
        sessions: platform.sessions.clone(),
        budget: Budget::per_minute(
            platform.limiter.clone(),
            "orders:user",
            config.orders_per_user_per_minute,
        ),
    };
    Ok(Service::new("orders", routes::router().with_state(state))
        .with_database(&db, platform)
        .with_pruning(&db, PRUNED.to_vec(), platform)
        .with_tasks(listener)
        .with_tasks([grace::spawn(orders_for_grace, platform.shutdown.clone())]))
}

#[derive(Clone, FromRef)]
pub(crate) struct OrdersState {
    pub orders: OrderStore,
    pub sessions: Sessions,
    /// Orders per buyer per minute.
    pub budget: Budget,
}
