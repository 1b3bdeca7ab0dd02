//! The tickets service: sellers list, edit and withdraw tickets; buyers browse them. A ticket is
//! reserved, released and sold by the orders service's events, and every change is announced with
//! `ticket:created` or `ticket:updated` through the outbox.

mod for_sale_cache;
mod listeners;
mod listing;
mod routes;
mod rules;
mod store;
mod ticket;

use std::sync::Arc;

use axum::extract::FromRef;
use axum::Router;
use gittix_shared::bus::Bus;
use gittix_shared::db::{Db, Migrations};
use gittix_shared::listener::{Listener, ListenerSettings};
use gittix_shared::session::Sessions;

use crate::store::TicketStore;

/// This service's part of the OpenAPI document, derived from its handlers.
pub fn openapi() -> utoipa::openapi::OpenApi {
    <routes::TicketsApi as utoipa::OpenApi>::openapi()
}

/// The tickets schema for both backends.
pub static MIGRATIONS: Migrations = Migrations {
    sqlite: sqlx::migrate!("migrations/sqlite"),
    postgres: sqlx::migrate!("migrations/postgres"),
};

/// The consumer group of the tickets service.
pub const CONSUMER_GROUP: &str = "tickets-service";

#[derive(Clone, FromRef)]
pub(crate) struct TicketsState {
    pub tickets: TicketStore,
    pub sessions: Sessions,
}

/// A running tickets service.
pub struct TicketsService {
    state: TicketsState,
}

impl TicketsService {
    /// Applies the tickets migrations to `db` and prepares the service.
    pub async fn start(db: Db, sessions: Sessions) -> anyhow::Result<Self> {
        db.migrate(&MIGRATIONS).await?;
        Ok(Self {
            state: TicketsState {
                tickets: TicketStore::new(db),
                sessions,
            },
        })
    }

    /// Keeps the answer of `GET /api/tickets` (no parameters) between changes. Only for a
    /// process that is the only writer of the tickets database: embedded mode, not replicas
    /// sharing PostgreSQL, whose changes it would not see.
    pub fn caching_for_sale(mut self) -> Self {
        self.state.tickets = self.state.tickets.caching_for_sale();
        self
    }

    /// The routes under `/api/tickets`.
    pub fn router(&self) -> Router {
        routes::router().with_state(self.state.clone())
    }

    /// The consumer group applying order events to tickets; start it with [`Listener::start`].
    pub fn listener(&self, bus: Arc<dyn Bus>, settings: ListenerSettings) -> Listener {
        listeners::listener(self.state.tickets.clone(), bus, settings)
    }
}

#[cfg(test)]
mod dump_tmp {
    #[test]
    fn dump_openapi_tmp() {
        let doc = super::openapi();
        std::fs::write(std::env::var("DUMP_TO").unwrap(), serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    }
}
