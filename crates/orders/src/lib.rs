//! The orders service: a buyer reserves a ticket for a lock window (15 minutes by default), sees
//! and cancels their orders. It keeps a replica of tickets from `ticket:*` events and enforces
//! "never two active orders for one ticket" with a unique index.

mod listeners;
mod order;
mod routes;
mod store;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRef;
use axum::Router;
use gittix_shared::bus::Bus;
use gittix_shared::db::{Db, Migrations};
use gittix_shared::listener::{Listener, ListenerSettings};
use gittix_shared::session::Sessions;

use crate::store::OrderStore;

/// This service's part of the OpenAPI document, derived from its handlers.
pub fn openapi() -> utoipa::openapi::OpenApi {
    <routes::OrdersApi as utoipa::OpenApi>::openapi()
}

/// The orders schema for both backends.
pub static MIGRATIONS: Migrations = Migrations {
    sqlite: sqlx::migrate!("migrations/sqlite"),
    postgres: sqlx::migrate!("migrations/postgres"),
};

/// The consumer group of the orders service.
pub const CONSUMER_GROUP: &str = "orders-service";

/// Settings of the orders service.
#[derive(Debug, Clone, clap::Args)]
pub struct OrdersArgs {
    /// How long an order holds its ticket while the buyer pays, in seconds.
    #[arg(long, env = "ORDER_LOCK_SECONDS", default_value_t = 15 * 60)]
    pub order_lock_seconds: u64,
}

impl Default for OrdersArgs {
    fn default() -> Self {
        Self {
            order_lock_seconds: 15 * 60,
        }
    }
}

#[derive(Clone, FromRef)]
pub(crate) struct OrdersState {
    pub orders: OrderStore,
    pub sessions: Sessions,
}

/// A running orders service.
pub struct OrdersService {
    state: OrdersState,
}

impl OrdersService {
    /// Applies the orders migrations to `db` and prepares the service.
    pub async fn start(db: Db, sessions: Sessions, args: &OrdersArgs) -> anyhow::Result<Self> {
        db.migrate(&MIGRATIONS).await?;
        let lock_window = Duration::from_secs(args.order_lock_seconds);
        Ok(Self {
            state: OrdersState {
                orders: OrderStore::new(db, lock_window),
                sessions,
            },
        })
    }

    /// The routes under `/api/orders`.
    pub fn router(&self) -> Router {
        routes::router().with_state(self.state.clone())
    }

    /// The consumer group keeping the ticket replica; start it with [`Listener::start`].
    pub fn listener(&self, bus: Arc<dyn Bus>, settings: ListenerSettings) -> Listener {
        listeners::listener(self.state.orders.clone(), bus, settings)
    }
}
