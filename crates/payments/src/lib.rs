//! The payments service: a buyer pays for an order with a card token; the charge goes to Stripe
//! (or a simulator with Stripe's test tokens). It keeps a replica of orders, publishes
//! `charge:created` / `charge:failed`, and refunds (`charge:refunded`) any successful charge of
//! an order that ended without a sale.

mod listeners;
mod payments;
pub mod provider;
mod routes;
mod store;
pub mod webhook;

use std::sync::Arc;

use axum::extract::FromRef;
use axum::Router;
use gittix_shared::bus::Bus;
use gittix_shared::db::{Db, Migrations};
use gittix_shared::listener::{Listener, ListenerSettings};
use gittix_shared::session::Sessions;
use tokio::task::JoinHandle;

use payments::Payments;
pub use payments::MAX_DECLINED_ATTEMPTS;
use provider::PaymentProvider;
use store::PaymentStore;

/// This service's part of the OpenAPI document, derived from its handlers.
pub fn openapi() -> utoipa::openapi::OpenApi {
    <routes::PaymentsApi as utoipa::OpenApi>::openapi()
}

/// The payments schema for both backends.
pub static MIGRATIONS: Migrations = Migrations {
    sqlite: sqlx::migrate!("migrations/sqlite"),
    postgres: sqlx::migrate!("migrations/postgres"),
};

/// The consumer group of the payments service.
pub const CONSUMER_GROUP: &str = "payments-service";

/// Settings of the payments service.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PaymentsArgs {
    /// Stripe's secret key. Without it, embedded mode uses a simulator of Stripe's test mode
    /// (`tok_visa` pays, `tok_chargeDeclined` is declined); `serve payments` requires it.
    #[arg(long, env = "STRIPE_SECRET_KEY", hide_env_values = true)]
    pub stripe_secret_key: Option<String>,
    /// Stripe's API base URL; point it at a Stripe-compatible server to stand in for Stripe.
    #[arg(
        long,
        env = "STRIPE_API_BASE",
        default_value = "https://api.stripe.com"
    )]
    pub stripe_api_base: String,
    /// The signing secret of the Stripe webhook endpoint (`whsec_...`); without it the webhook
    /// route refuses every call.
    #[arg(long, env = "STRIPE_WEBHOOK_SECRET", hide_env_values = true)]
    pub stripe_webhook_secret: Option<String>,
    /// How long a call to Stripe may take before its outcome counts as unknown (and is settled
    /// later by asking again with the same idempotency key).
    #[arg(long, env = "STRIPE_TIMEOUT_SECONDS", default_value_t = 30)]
    pub stripe_timeout_seconds: u64,
}

impl PaymentsArgs {
    /// Stripe when a key is set, else the simulator.
    pub fn provider(&self) -> Arc<dyn PaymentProvider> {
        match &self.stripe_secret_key {
            Some(key) => Arc::new(
                provider::stripe::StripeProvider::new(&self.stripe_api_base, key).with_timeout(
                    std::time::Duration::from_secs(self.stripe_timeout_seconds.max(1)),
                ),
            ),
            None => Arc::new(provider::simulator::SimulatedStripe::default()),
        }
    }
}

#[derive(Clone, FromRef)]
pub(crate) struct PaymentsState {
    pub payments: Payments,
    pub store: PaymentStore,
    pub sessions: Sessions,
    pub webhook_secret: WebhookSecret,
}

/// The Stripe webhook signing secret, if configured.
#[derive(Clone)]
pub(crate) struct WebhookSecret(pub Option<String>);

/// A running payments service.
pub struct PaymentsService {
    state: PaymentsState,
}

impl PaymentsService {
    /// Applies the payments migrations to `db` and prepares the service.
    pub async fn start(
        db: Db,
        sessions: Sessions,
        provider: Arc<dyn PaymentProvider>,
        webhook_secret: Option<String>,
    ) -> anyhow::Result<Self> {
        db.migrate(&MIGRATIONS).await?;
        let store = PaymentStore::new(db);
        let payments = Payments::new(store.clone(), provider);
        Ok(Self {
            state: PaymentsState {
                payments,
                store,
                sessions,
                webhook_secret: WebhookSecret(webhook_secret),
            },
        })
    }

    /// The routes under `/api/payments`.
    pub fn router(&self) -> Router {
        routes::router().with_state(self.state.clone())
    }

    /// The consumer group keeping the orders replica and refunding; start it with [`Listener::start`].
    pub fn listener(&self, bus: Arc<dyn Bus>, settings: ListenerSettings) -> Listener {
        listeners::listener(self.state.payments.clone(), bus, settings)
    }

    /// Settles charges whose outcome is unknown and refunds left undone, every few seconds.
    pub fn spawn_reconciliation(&self) -> JoinHandle<()> {
        self.state.payments.spawn_reconciliation()
    }

    /// One round of reconciliation now, for attempts unsettled for at least `unsettled_for`.
    pub async fn reconcile(&self, unsettled_for: std::time::Duration) -> anyhow::Result<()> {
        Ok(self.state.payments.reconcile(unsettled_for).await?)
    }
}
