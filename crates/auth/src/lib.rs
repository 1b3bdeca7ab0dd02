//! The auth service: accounts and sign-in state.
//!
//! It owns the users table, issues the session cookie every other service reads, and publishes
//! `user:created` and `user:updated` through its outbox.

mod config;
mod credentials;
mod password;
mod rate_limit;
mod routes;
mod state;
mod store;

use axum::Router;
use gittix_shared::db::{Db, Migrations};
use gittix_shared::http::TrustProxy;
use gittix_shared::session::Sessions;

pub use config::AuthArgs;

/// This service's part of the OpenAPI document, derived from its handlers.
pub fn openapi() -> utoipa::openapi::OpenApi {
    <routes::AuthApi as utoipa::OpenApi>::openapi()
}

use crate::rate_limit::SignInLimiter;
use crate::state::AuthState;
use crate::store::UserStore;

/// The auth schema for both backends.
pub static MIGRATIONS: Migrations = Migrations {
    sqlite: sqlx::migrate!("migrations/sqlite"),
    postgres: sqlx::migrate!("migrations/postgres"),
};

/// A running auth service: migrated storage and the state its routes share.
pub struct AuthService {
    state: AuthState,
}

impl AuthService {
    /// Applies the auth migrations to `db` and prepares the service.
    pub async fn start(
        db: Db,
        sessions: Sessions,
        args: &AuthArgs,
        trust_proxy: TrustProxy,
    ) -> anyhow::Result<Self> {
        db.migrate(&MIGRATIONS).await?;
        let limiter = SignInLimiter::new(args.signin_limits());
        limiter.spawn_cleanup();
        Ok(Self {
            state: AuthState {
                users: UserStore::new(db),
                sessions,
                limiter,
                trust_proxy,
            },
        })
    }

    /// The routes under `/api/users`.
    pub fn router(&self) -> Router {
        routes::router().with_state(self.state.clone())
    }
}
