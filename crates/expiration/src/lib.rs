//! The expiration service: on `order:created` it keeps a durable timer for the order's
//! `expiresAt`, and publishes `order:expired` when the timer falls due. The orders service decides
//! what expiry means (it cancels an order that is not complete).

mod firing;
mod listeners;
pub mod timers;

use std::sync::Arc;

use gittix_shared::bus::Bus;
use gittix_shared::db::Migrations;
use gittix_shared::listener::{Listener, ListenerSettings};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

pub use firing::{Clock, SystemClock};
use timers::Timers;

/// The schema of the SQL timer store (embedded mode).
pub static MIGRATIONS: Migrations = Migrations {
    sqlite: sqlx::migrate!("migrations/sqlite"),
    postgres: sqlx::migrate!("migrations/postgres"),
};

/// The consumer group of the expiration service.
pub const CONSUMER_GROUP: &str = "expiration-service";

/// A running expiration service.
pub struct ExpirationService {
    timers: Arc<dyn Timers>,
    bus: Arc<dyn Bus>,
    /// Wakes the firing loop when a timer is scheduled, so it never sleeps past a new one.
    scheduled: Arc<Notify>,
}

impl ExpirationService {
    pub fn new(timers: Arc<dyn Timers>, bus: Arc<dyn Bus>) -> Self {
        Self {
            timers,
            bus,
            scheduled: Arc::new(Notify::new()),
        }
    }

    /// Starts firing due timers, by the wall clock.
    pub fn spawn_firing(&self) -> JoinHandle<()> {
        self.spawn_firing_with(SystemClock)
    }

    pub fn spawn_firing_with(&self, clock: impl Clock) -> JoinHandle<()> {
        let (timers, bus, scheduled) = (
            self.timers.clone(),
            self.bus.clone(),
            self.scheduled.clone(),
        );
        tokio::spawn(firing::fire_forever(timers, bus, scheduled, clock))
    }

    /// The consumer group scheduling a timer for each new order.
    pub fn listener(&self, settings: ListenerSettings) -> Listener {
        listeners::listener(
            self.timers.clone(),
            self.scheduled.clone(),
            self.bus.clone(),
            settings,
        )
    }
}
