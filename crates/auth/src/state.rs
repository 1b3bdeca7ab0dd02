use axum::extract::FromRef;
use gittix_shared::http::TrustProxy;
use gittix_shared::session::Sessions;

use crate::accounts::Accounts;
use crate::store::UserStore;

/// What the auth routes share.
#[derive(Clone, FromRef)]
pub(crate) struct AuthState {
    pub accounts: Accounts,
    /// The same store as the accounts', for the revocations of sign-outs.
    pub users: UserStore,
    pub sessions: Sessions,
    pub trust_proxy: TrustProxy,
}
