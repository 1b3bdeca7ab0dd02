//! The auth service: accounts and sign-in state.
//!
//! It owns the users table, issues the session cookie every other service reads, and publishes
//! `user:created` and `user:updated` through its outbox.

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
use gittix_shared::service::{Platform, Service};

pub use config::AuthConfig;

use crate::accounts::Accounts;
use crate::rate_limit::SignInLimiter;
use crate::state::AuthState;
use crate::store::UserStore;

/// The auth schema for both backends.
pub static MIGRATIONS: Migrations = gittix_shared::crate_migrations!();

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
    Ok(Service::new("auth", routes::router().with_state(state)).with_database(&db, platform))
}

/// This service's part of the OpenAPI document, from the routes it declares.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes::router().into_openapi()
}
