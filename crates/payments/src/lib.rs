//! The payments service: a buyer pays for an order with a card token or payment method, through
//! Stripe's PaymentIntents (or a simulator of Stripe's test mode). The amount is authorized
//! (`charge:authorized`, after `charge:started`), captured once orders completed the order
//! (`charge:created`) and released otherwise (`charge:failed`); 3-D Secure answers 202. It keeps
//! a replica of orders, and refunds (`charge:refunded`) any captured payment of an order that
//! ended without a sale. Sellers onboard to Stripe Connect; a delivered sale's share is paid
//! to them by transfer once its hold ends (`payout:*`), and [`ledger`] accounts for every cent.

mod config;
pub mod ledger;
mod listeners;
mod payments;
mod payouts;
pub mod provider;
mod reconciliation;
mod refusal;
mod routes;
mod seller_accounts;
mod store;
mod stripe_events;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use gittix_shared::bus::Bus;
use gittix_shared::db::{Db, Migrations};
use gittix_shared::pruning::{Keep, Retention};
use gittix_shared::ratelimit::Budget;
use gittix_shared::service::{Platform, Service};

pub use config::PaymentsConfig;
use payments::Payments;
use payouts::store::PayoutStore;
use payouts::Payouts;
use provider::accounts::Account;
use provider::{PaymentProvider, Providers};
use routes::{PaymentBudgets, PaymentsState};
use seller_accounts::{AccountStatus, SellerAccounts};
use store::PaymentStore;
use stripe_events::StripeEvents;

/// The payments schema for both backends.
pub static MIGRATIONS: Migrations = gittix_shared::crate_migrations!();

/// The consumer group of the payments service.
pub const CONSUMER_GROUP: &str = "payments-service";

/// How long a handled Stripe webhook event is remembered: Stripe retries one for three days
/// at most, so a week is well past any retry, whatever the bus keeps.
const WEBHOOK_MEMORY: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 60 * 60);

/// What the payments database forgets, and when: applied events, and Stripe webhook events a
/// week after they came.
const PRUNED: [Retention; 2] = [
    Retention::INBOX,
    Retention {
        table: "webhook_events",
        column: "received_at",
        keep: Keep::For(WEBHOOK_MEMORY),
    },
];

/// The payments service, charging and paying sellers through `providers` (the binary passes
/// [`PaymentsConfig::providers`]): migrates `db`, keeps the orders replica and refunds from the
/// bus, and reconciles unsettled charges until the platform's shutdown.
pub async fn build(
    config: &PaymentsConfig,
    providers: Providers,
    db: Db,
    platform: &Platform,
) -> anyhow::Result<Service> {
    db.migrate(&MIGRATIONS).await?;
    let accounts =
        SellerAccounts::new(db.clone(), providers.accounts.clone(), &platform.public_url);
    if let Some(simulator) = providers.accounts.simulator() {
        readopt_accounts(&db, simulator).await?;
    }
    let payments = Payments::new(PaymentStore::new(db.clone()), providers.payments);
    let payouts = Payouts::new(
        PayoutStore::new(db.clone()),
        payments.store.clone(),
        accounts.clone(),
        providers.accounts.clone(),
        config.payout_hold(),
        Duration::from_secs(config.payout_retry_seconds),
    );
    let listener = listeners::listener(
        payments.clone(),
        payouts.clone(),
        platform.fees.seller,
        platform,
    );
    let mut tasks = platform.start(listener).await?;
    tasks.push(tokio::spawn(
        payouts.clone().sweep_until(platform.shutdown.clone()),
    ));
    tasks.push(tokio::spawn(reconciliation::reconcile_until(
        payments.clone(),
        platform.bus.clone(),
        Duration::from_secs(config.reconcile_give_up_seconds),
        platform.shutdown.clone(),
    )));
    let state = PaymentsState {
        stripe_events: StripeEvents::new(
            payments.clone(),
            accounts.clone(),
            [
                &config.stripe_webhook_secret,
                &config.stripe_connect_webhook_secret,
            ]
            .into_iter()
            .flatten()
            .cloned()
            .collect(),
        ),
        accounts,
        payments,
        payouts: payouts.store,
        sessions: platform.sessions.clone(),
        trust_proxy: platform.trust_proxy,
        budgets: PaymentBudgets {
            per_user: Budget::per_minute(
                platform.limiter.clone(),
                "payments:user",
                config.payments_per_user_per_minute,
            ),
            per_client: Budget::per_minute(
                platform.limiter.clone(),
                "payments:client",
                config.payments_per_client_per_minute,
            ),
        },
    };
    let routes = routes::router().with_state(state);
    Ok(Service::new("payments", routes)
        .with_database(&db, platform)
        .with_pruning(&db, PRUNED.to_vec(), platform)
        .with_tasks(tasks))
}

/// Gives the simulator back the accounts recorded before a restart: it keeps nothing itself.
async fn readopt_accounts(
    db: &Db,
    simulator: &provider::simulator::SimulatedStripe,
) -> anyhow::Result<()> {
    let recorded: Vec<(String, AccountStatus)> =
        sqlx::query_as("SELECT stripe_account_id, status FROM seller_accounts")
            .fetch_all(db.pool())
            .await?;
    for (id, status) in recorded {
        let enabled = status == AccountStatus::Enabled;
        simulator.adopt_account(Account {
            id,
            payouts_enabled: enabled,
            details_submitted: enabled,
        });
    }
    Ok(())
}

/// One round of reconciliation now, on a database [`build`] migrated: settles the attempts
/// unsettled for at least `unsettled_for` through `provider`, and makes the refunds left undone.
pub async fn reconcile_once(
    db: Db,
    provider: Arc<dyn PaymentProvider>,
    unsettled_for: Duration,
) -> anyhow::Result<()> {
    let payments = Payments::new(PaymentStore::new(db), provider);
    Ok(payments.reconcile(unsettled_for).await?)
}

/// One round of giving up, now, on a database [`build`] migrated: every attempt still in flight
/// `after` it began is dead-lettered on `bus`; returns how many.
pub async fn give_up_once(db: Db, bus: &dyn Bus, after: Duration) -> anyhow::Result<usize> {
    reconciliation::give_up(&PaymentStore::new(db), bus, after).await
}

/// This service's part of the OpenAPI document, derived from its routes.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes::router().into_openapi()
}
