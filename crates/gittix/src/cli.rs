//! The command line: commands, and every setting with its environment variable.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use gittix_auth::AuthConfig;
use gittix_expiration::ExpirationConfig;
use gittix_notifications::NotificationsConfig;
use gittix_orders::OrdersConfig;
use gittix_payments::PaymentsConfig;
use gittix_shared::bus::jetstream::JetStreamSettings;
use gittix_shared::config::{FeeArgs, HttpArgs, LogArgs, PoolArgs, RetentionArgs, SessionArgs};
use gittix_tickets::TicketsConfig;
use gittix_web::WebConfig;

/// GitTix, a ticket resale marketplace.
///
/// With no command, runs every service in one process on one port, keeping its data in SQLite
/// files under DATA_DIR: nothing to install or configure. `gittix serve <service>` runs one service
/// on its own, with PostgreSQL, for a deployment of one process per service behind a gateway.
///
/// Every option can be given as the environment variable shown beside it.
#[derive(Debug, Clone, Parser)]
#[command(name = "gittix", version, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten, next_help_heading = "HTTP")]
    pub http: HttpArgs,

    #[command(flatten, next_help_heading = "Sessions")]
    pub session: SessionArgs,

    #[command(flatten, next_help_heading = "Events")]
    pub retention: RetentionArgs,

    #[command(flatten, next_help_heading = "Embedded mode")]
    pub embedded: EmbeddedArgs,

    #[command(flatten, next_help_heading = "Distributed mode (`serve`)")]
    pub distributed: DistributedArgs,

    #[command(flatten, next_help_heading = "Fees")]
    pub fees: FeeArgs,

    #[command(flatten, next_help_heading = "Auth service")]
    pub auth: AuthConfig,

    #[command(flatten, next_help_heading = "Tickets service")]
    pub tickets: TicketsConfig,

    #[command(flatten, next_help_heading = "Orders service")]
    pub orders: OrdersConfig,

    #[command(flatten, next_help_heading = "Expiration service")]
    pub expiration: ExpirationConfig,

    #[command(flatten, next_help_heading = "Payments service")]
    pub payments: PaymentsConfig,

    #[command(flatten, next_help_heading = "Notifications service")]
    pub notifications: NotificationsConfig,

    #[command(flatten, next_help_heading = "Web pages")]
    pub web: WebConfig,

    #[command(flatten, next_help_heading = "Logging")]
    pub log: LogArgs,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Run every service in one process (the default).
    Run,
    /// Run one service in distributed mode, with its PostgreSQL database from DATABASE_URL.
    Serve {
        #[arg(value_enum)]
        service: Service,
    },
    /// Print a new Ed25519 key pair for the session tokens: the private key (JWT_PRIVATE_KEY,
    /// for auth alone), then the public key (JWT_PUBLIC_KEY, for every other service).
    SessionKeys,
}

/// The services `serve` can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Service {
    /// Accounts and sign-in: /api/users/*
    Auth,
    /// Events, and listing and editing tickets: /api/events*, /api/tickets*
    Tickets,
    /// Reserving tickets: /api/orders*
    Orders,
    /// Timers that expire unpaid orders (health and metrics only)
    Expiration,
    /// Charging cards through Stripe, and paying sellers: /api/payments*, /api/payouts*
    Payments,
    /// Emailing what people must know, through SMTP_URL (health and metrics only)
    Notifications,
    /// The web pages: every path outside /api, calling the APIs at API_URL
    Web,
}

#[derive(Debug, Clone, clap::Args)]
pub struct EmbeddedArgs {
    /// Folder for the SQLite files and the generated session key; created on first run.
    #[arg(long, env = "DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
}

#[derive(Debug, Clone, clap::Args)]
pub struct DistributedArgs {
    /// The service's PostgreSQL database, e.g. postgres://auth:secret@auth-db:5432/auth.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    #[command(flatten)]
    pub pool: PoolArgs,

    /// The NATS server with JetStream that carries the events.
    #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:4222")]
    pub nats_url: String,

    /// The JetStream stream holding every GitTix event (created if missing, file storage).
    #[arg(long, env = "NATS_STREAM", default_value = "GITTIX")]
    pub nats_stream: String,

    /// Prefix of every event subject on NATS (`ticket:created` travels as `gittix.ticket:created`).
    #[arg(long, env = "NATS_SUBJECT_PREFIX", default_value = "gittix.")]
    pub nats_subject_prefix: String,
}

impl DistributedArgs {
    /// The stream keeps messages for `retention`.
    pub fn jetstream(&self, retention: std::time::Duration) -> JetStreamSettings {
        JetStreamSettings {
            stream: self.nats_stream.clone(),
            subject_prefix: self.nats_subject_prefix.clone(),
            max_age: retention,
            ..JetStreamSettings::new(&self.nats_url)
        }
    }
}
