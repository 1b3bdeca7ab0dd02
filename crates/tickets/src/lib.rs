//! The tickets service: the events tickets are sold for; sellers list, edit and withdraw
//! tickets and upload each one's file; buyers browse them and, once theirs is delivered,
//! download it. A ticket is reserved, released and sold by the orders service's events, and
//! every change is announced (`event:*`, `ticket:*`, `delivery:scheduled`) through the outbox.

mod config;
mod delivery;
mod event;
mod event_listing;
mod event_rules;
mod event_store;
mod file_rules;
mod for_sale_cache;
mod listeners;
mod listing;
mod refusal;
mod routes;
mod rules;
mod store;
mod ticket;

use axum::extract::FromRef;
use gittix_shared::config::Mode;
use gittix_shared::db::{Db, Migrations};
use gittix_shared::fees::Fees;
use gittix_shared::pruning::{Keep, Retention};
use gittix_shared::service::{Platform, Service};
use gittix_shared::session::Sessions;

pub use crate::config::TicketsConfig;
use crate::event_store::EventStore;
use crate::store::TicketStore;

/// The tickets schema for both backends.
pub static MIGRATIONS: Migrations = gittix_shared::crate_migrations!();

/// What the tickets database forgets, and when: applied events, and ended orders once no late
/// `order:created` of theirs can still arrive (the bus keeps a message for a week).
const PRUNED: [Retention; 2] = [
    Retention::INBOX,
    Retention {
        table: "ended_orders",
        column: "ended_at",
        keep: Keep::Inbox,
    },
];

/// The consumer group of the tickets service.
pub const CONSUMER_GROUP: &str = "tickets-service";

/// This service's part of the OpenAPI document: its routes' own declarations.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes::router().into_openapi()
}

#[derive(Clone, FromRef)]
pub(crate) struct TicketsState {
    pub tickets: TicketStore,
    pub events: EventStore,
    pub sessions: Sessions,
    pub rules: ListingRules,
    /// What a buyer pays on top of a price.
    pub fees: Fees,
}

/// What a seller's listing must respect beyond its fields' own rules.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ListingRules {
    /// `RESALE_PRICE_CAP_PERCENT`.
    pub resale_cap_percent: Option<u32>,
}

/// Migrates `db`, starts the consumer group applying order events to tickets, and returns the
/// routes under `/api/tickets` with the relay of `db`'s outbox.
pub async fn build(config: &TicketsConfig, db: Db, platform: &Platform) -> anyhow::Result<Service> {
    db.migrate(&MIGRATIONS).await?;
    let tickets = TicketStore::new(db.clone()).with_delivery_rules(config.delivery_rules());
    // In embedded mode this process is the only writer of the tickets database, so the answer of
    // `GET /api/tickets` can be kept between changes. Replicas sharing PostgreSQL would not see
    // each other's changes, so there it stays off.
    let tickets = match platform.mode {
        Mode::Embedded => tickets.caching_for_sale(),
        Mode::Distributed => tickets,
    };
    let listener = platform
        .start(listeners::listener(tickets.clone(), platform))
        .await?;
    let state = TicketsState {
        events: EventStore::new(tickets.clone()),
        tickets,
        sessions: platform.sessions.clone(),
        rules: ListingRules {
            resale_cap_percent: config.resale_price_cap_percent,
        },
        fees: platform.fees,
    };
    Ok(Service::new("tickets", routes::router().with_state(state))
        .with_database(&db, platform)
        .with_pruning(&db, PRUNED.to_vec(), platform)
        .with_tasks(listener))
}
