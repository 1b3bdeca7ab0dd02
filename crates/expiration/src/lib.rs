//! The expiration service: durable timers. On `order:created` it keeps one for the order's
//! `expiresAt` and publishes `order:expired` when it falls due (the orders service decides what
//! expiry means: it cancels an order that is not complete); on `delivery:scheduled` one for a
//! sold ticket's delivery deadline, publishing `delivery:due` (the tickets service decides
//! whether the ticket was delivered in time); on `payout:scheduled` one for a seller's payout,
//! publishing `payout:due` at its release time (payments pays it, or keeps it waiting).

mod config;
mod firing;
mod listeners;
mod timer_kind;
pub mod timers;

use std::sync::Arc;

use gittix_shared::db::{Db, Migrations};
use gittix_shared::http::Probe;
use gittix_shared::pruning::Retention;
use gittix_shared::service::{Platform, Service};
use tokio::sync::Notify;
use utoipa_axum::router::OpenApiRouter;

pub use config::ExpirationConfig;
pub use firing::{Clock, SystemClock};
use timers::redis::RedisTimers;
use timers::sql::SqlTimers;
use timers::Timers;

/// The schema of the SQL timer store (embedded mode).
pub static MIGRATIONS: Migrations = gittix_shared::crate_migrations!();

/// The consumer group of the expiration service.
pub const CONSUMER_GROUP: &str = "expiration-service";

/// Where the service keeps its timers.
pub enum TimerStore {
    /// A table of the service's own database (embedded mode); [`build`] migrates it.
    Sql(Db),
    /// The sorted set of [`ExpirationConfig`]'s Redis (distributed mode).
    Redis,
}

/// The expiration service, firing timers by the wall clock.
pub async fn build(
    config: &ExpirationConfig,
    store: TimerStore,
    platform: &Platform,
) -> anyhow::Result<Service> {
    build_with_clock(config, store, platform, SystemClock).await
}

/// The expiration service, firing timers by `clock`. It has no routes: it schedules a timer for
/// each new order and fires the due ones until the platform's shutdown.
pub async fn build_with_clock(
    config: &ExpirationConfig,
    store: TimerStore,
    platform: &Platform,
    clock: impl Clock,
) -> anyhow::Result<Service> {
    let timers: Arc<dyn Timers> = match &store {
        TimerStore::Sql(db) => {
            db.migrate(&MIGRATIONS).await?;
            Arc::new(SqlTimers::new(db.clone()))
        }
        TimerStore::Redis => Arc::new(
            RedisTimers::connect(&config.redis_url, config.redis_timers_key.clone()).await?,
        ),
    };
    // Wakes the firing loop when a timer is scheduled, so it never sleeps past a new one.
    let scheduled = Arc::new(Notify::new());
    let listener = listeners::listener(timers.clone(), scheduled.clone(), platform);
    let mut tasks = platform.start(listener).await?;
    tasks.push(tokio::spawn(firing::fire_forever(
        timers.clone(),
        platform.bus.clone(),
        scheduled,
        clock,
        platform.shutdown.clone(),
    )));
    let service = Service::new("expiration", OpenApiRouter::new()).with_tasks(tasks);
    Ok(match store {
        TimerStore::Sql(db) => {
            service
                .with_database(&db, platform)
                .with_pruning(&db, vec![Retention::INBOX], platform)
        }
        TimerStore::Redis => service.with_probe("redis unreachable", Arc::new(TimersProbe(timers))),
    })
}

/// `/readyz` asks the Redis holding the timers.
struct TimersProbe(Arc<dyn Timers>);

#[async_trait::async_trait]
impl Probe for TimersProbe {
    async fn probe(&self) -> anyhow::Result<()> {
        self.0.ping().await
    }
}
