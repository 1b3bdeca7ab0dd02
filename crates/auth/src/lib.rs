//! The auth service: accounts and sign-in state.
//!
//! It owns the users table and the password-reset links, issues the session cookie every other
//! service reads, and publishes `user:created`, `user:updated`, `session:revoked` and
//! `user:password-reset-requested` through its outbox.

mod accounts;
mod config;
mod credentials;
mod password;
mod rate_limit;
mod refusal;
mod routes;
mod state;
mod store;

use gittix_shared::db::{Db, Migrations};
use gittix_shared::pruning::{Keep, Retention};
use gittix_shared::service::{Platform, Service};

pub use config::AuthConfig;

use crate::accounts::Accounts;
use crate::rate_limit::SignInLimiter;
use crate::state::AuthState;
use crate::store::UserStore;

/// The auth schema for both backends.
pub static MIGRATIONS: Migrations = gittix_shared::crate_migrations!();

/// What the auth database forgets: password-reset and email-verification links a day after
/// they expired. An expired link can never be used, so the day is only a margin for clocks
/// that disagree.
const PRUNED: [Retention; 2] = [
    Retention {
        table: "password_resets",
        column: "expires_at",
        keep: Keep::For(std::time::Duration::from_secs(24 * 60 * 60)),
    },
    Retention {
        table: "email_verifications",
        column: "expires_at",
        keep: Keep::For(std::time::Duration::from_secs(24 * 60 * 60)),
    },
];

/// Migrates `db` and returns the running service: the routes under `/api/users`, the relay of
/// its outbox (stopping on `platform.shutdown`), and limits on the platform's rate limiter.
pub async fn build(config: &AuthConfig, db: Db, platform: &Platform) -> anyhow::Result<Service> {
    db.migrate(&MIGRATIONS).await?;
    let limiter = SignInLimiter::new(platform.limiter.clone(), config.signin_limits());
    let users = UserStore::new(db.clone());
    let state = AuthState {
        accounts: Accounts {
            users: users.clone(),
            limiter,
        },
        users,
        sessions: platform.sessions.clone(),
        trust_proxy: platform.trust_proxy,
    };
    Ok(Service::new("auth", routes::router().with_state(state))
        .with_database(&db, platform)
        .with_pruning(&db, PRUNED.to_vec(), platform))
}

/// This service's part of the OpenAPI document, from the routes it declares.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes::router().into_openapi()
}
