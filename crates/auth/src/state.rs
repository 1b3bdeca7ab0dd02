use axum::extract::FromRef;
use gittix_shared::http::TrustProxy;
use gittix_shared::session::Sessions;

use crate::rate_limit::SignInLimiter;
use crate::store::UserStore;

/// What the auth routes share.
#[derive(Clone, FromRef)]
pub(crate) struct AuthState {
    pub users: UserStore,
    pub sessions: Sessions,
    pub limiter: SignInLimiter,
    pub trust_proxy: TrustProxy,
}
