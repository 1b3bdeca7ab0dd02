//! `/api/users/*`: one module per route.

mod account;
mod current_user;
mod signin;
mod signout;
mod signup;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AuthState;

/// The auth service's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    signup::signup,
    signin::signin,
    signout::signout,
    current_user::current_user,
    account::update_account,
))]
pub(crate) struct AuthApi;

pub(crate) fn router() -> Router<AuthState> {
    Router::new()
        .route("/api/users/signup", post(signup::signup))
        .route("/api/users/signin", post(signin::signin))
        .route("/api/users/signout", post(signout::signout))
        .route(
            "/api/users/currentuser",
            get(current_user::current_user).patch(account::update_account),
        )
}

/// An account: the body of every successful account answer.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct UserResponse {
    pub id: String,
    pub email: String,
}

impl From<crate::store::User> for UserResponse {
    fn from(user: crate::store::User) -> Self {
        Self {
            id: user.id,
            email: user.email,
        }
    }
}
