//! The notifications service: the emails people must receive (design, section 7). It listens to
//! the facts of the other services, keeps what its emails need to say (users' addresses, the
//! tickets, events and orders they name), and for each fact that someone must hear of records
//! the email in its database, in the transaction that records the event as applied (the
//! inbox): an event yields its emails once, however often it is delivered. A sender then
//! delivers the recorded emails through the mail port, retrying with backoff while the mail
//! server fails and recording each outcome.
//!
//! Where the code is: `listeners.rs` (which event makes which email), `emails/` (each email's
//! wording and templates), `replicas.rs` (what the emails name), `messages.rs` (the recorded
//! emails), `sender.rs` (sending them), `mail/` (the port and its two adapters: `.eml` files
//! and SMTP).

mod config;
mod emails;
mod listeners;
pub mod mail;
mod messages;
mod replicas;
mod sender;

use std::sync::Arc;
use std::time::Duration;

use gittix_shared::db::{Db, Migrations};
use gittix_shared::pruning::{Keep, Retention};
use gittix_shared::service::{Platform, Service};
use gittix_shared::time::millis;
use tokio::sync::Notify;
use utoipa_axum::router::OpenApiRouter;

pub use config::NotificationsConfig;
pub use mail::{Mail, Mailer, SendError};
pub use sender::RetryPolicy;

/// The schema of the service's database.
pub static MIGRATIONS: Migrations = gittix_shared::crate_migrations!();

/// The consumer group of the notifications service.
pub const CONSUMER_GROUP: &str = "notifications-service";

/// Deployed into a GitTix that has run without it, the service reads the events the bus still
/// keeps (a week): all of them fill its copies, but only those of the last hour before its first
/// start send emails. Older ones would be news no longer.
const EARLIER_EVENTS_EMAILED: Duration = Duration::from_secs(60 * 60);

/// How long the record of a sent (or failed) email is kept.
const MESSAGE_RETENTION: Duration = Duration::from_secs(90 * 24 * 60 * 60);

/// The notifications service on `db`, sending through `mailer`. It has no routes of its own:
/// `/readyz` checks its database (not the mail server: an outage of that only delays emails,
/// which wait in the database).
pub async fn build(
    config: &NotificationsConfig,
    mailer: Arc<dyn Mailer>,
    db: Db,
    platform: &Platform,
) -> anyhow::Result<Service> {
    db.migrate(&MIGRATIONS).await?;
    let first_started_at = first_started_at(&db).await?;
    let recorded = Arc::new(Notify::new());
    let context = listeners::Context {
        db: db.clone(),
        links: emails::Links::new(&platform.public_url),
        fees: platform.fees,
        reminder_lead: config.reminder_lead(),
        recorded: recorded.clone(),
        emails_since: first_started_at - millis(EARLIER_EVENTS_EMAILED),
    };
    let mut tasks = platform
        .start(listeners::listener(context, platform))
        .await?;
    tasks.push(sender::spawn(
        db.clone(),
        mailer,
        config.retry_policy(),
        recorded,
        platform.shutdown.clone(),
    ));
    let messages = Retention {
        table: "messages",
        column: "created_at",
        keep: Keep::For(MESSAGE_RETENTION),
    };
    Ok(Service::new("notifications", OpenApiRouter::new())
        .with_tasks(tasks)
        .with_database(&db, platform)
        .with_pruning(&db, vec![Retention::INBOX, messages], platform))
}

/// When the service first started on `db` (unix ms), recorded the first time.
async fn first_started_at(db: &Db) -> sqlx::Result<i64> {
    sqlx::query(
        "INSERT INTO first_start (id, started_at) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
    )
    .bind(gittix_shared::time::unix_millis())
    .execute(db.pool())
    .await?;
    sqlx::query_scalar("SELECT started_at FROM first_start WHERE id = 1")
        .fetch_one(db.pool())
        .await
}
