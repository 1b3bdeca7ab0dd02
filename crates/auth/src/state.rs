use axum::extract::FromRef;
use gittix_shared::http::TrustProxy;
use gittix_shared::session::Sessions;

use crate::accounts::Accounts;

/// What the auth routes share.
#[derive(Clone, FromRef)]
pub(crate) struct AuthState {
    pub accounts: Accounts,
    pub sessions: Sessions,
    pub trust_proxy: TrustProxy,
}
