//! `/api/users/*`: one module per route.

mod account;
mod current_user;
mod password_reset;
mod refusal;
mod signin;
mod signout;
mod signup;
mod verify_email;

use axum::Json;
use axum_extra::extract::CookieJar;
use gittix_shared::events::SessionRevoked;
use gittix_shared::session::Sessions;
use gittix_shared::ApiResult;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AuthState;

/// The info of this part of the document, from this crate's manifest (`OpenApiRouter::new()`
/// would take utoipa-axum's). The paths come from the routes.
#[derive(utoipa::OpenApi)]
struct AuthApi;

/// The routes under `/api/users`, each with its OpenAPI entry.
pub(crate) fn router() -> OpenApiRouter<AuthState> {
    OpenApiRouter::with_openapi(<AuthApi as utoipa::OpenApi>::openapi())
        .routes(routes!(signup::signup))
        .routes(routes!(signin::signin))
        .routes(routes!(signout::signout))
        .routes(routes!(signout::signout_everywhere))
        .routes(routes!(current_user::current_user, account::update_account))
        .routes(routes!(password_reset::request_reset))
        .routes(routes!(password_reset::confirm_reset))
        .routes(routes!(verify_email::verify_email))
        .routes(routes!(verify_email::resend))
}

/// An account: the body of every successful account answer.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct UserResponse {
    pub id: String,
    pub email: String,
    /// Whether the account has confirmed this email (by the link of its welcome email).
    #[serde(rename = "emailVerified")]
    pub email_verified: bool,
}

impl From<crate::store::User> for UserResponse {
    fn from(user: crate::store::User) -> Self {
        Self {
            email_verified: user.email_verified(),
            id: user.id,
            email: user.email,
        }
    }
}

/// The answer to a change that ended the user's sessions begun before `revoked_before`: this
/// replica refuses them at once (the others when `session:revoked` reaches them), and the
/// answer signs the user in again with a session that begins after it.
pub(crate) fn signed_in_again(
    sessions: &Sessions,
    jar: CookieJar,
    user: crate::store::User,
    revoked_before: i64,
) -> ApiResult<(CookieJar, Json<UserResponse>)> {
    sessions.revoke(&SessionRevoked {
        user_id: user.id.clone(),
        sid: None,
        before: Some(revoked_before),
    });
    let token = sessions.issue_with(&user.id, &user.email, user.email_verified())?;
    Ok((jar.add(sessions.sign_in_cookie(token)), Json(user.into())))
}
