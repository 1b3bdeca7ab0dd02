use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use axum_extra::extract::CookieJar;
use gittix_shared::error::ErrorBody;
use gittix_shared::json::JsonBody;
use gittix_shared::openapi::responses::{BodyTooLarge, DatabaseUnavailable, SignedOut};
use gittix_shared::session::{CurrentUser, RequireUser, Sessions};
use gittix_shared::validation::{lenient_string, Validator};
use gittix_shared::ApiResult;
use serde::Deserialize;

use super::UserResponse;
use crate::accounts::Accounts;

/// The token of a verification link.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct VerifyEmail {
    #[serde(default, deserialize_with = "lenient_string")]
    #[schema(value_type = String, required = true)]
    token: Option<String>,
}

/// `POST /api/users/verify-email` `{token}`: confirms the account's email with the link of its
/// welcome email (or one sent again), once, while the email is still the one the link was sent
/// to. Anyone holding the link may use it: it proves only that the address receives mail. A
/// request signed in as that account also gets a renewed cookie, whose `currentUser` says
/// `emailVerified: true` at once.
#[utoipa::path(post, path = "/api/users/verify-email", operation_id = "verifyEmail", tag = "users",
    request_body = VerifyEmail, responses(
    (status = 200, description = "The email is verified", body = UserResponse),
    (status = 400, description = "The token is missing, the body is not JSON, or \"Invalid or expired link\" (unknown, used, older than 7 days, or for an address the account no longer has)", body = ErrorBody),
    BodyTooLarge,
    DatabaseUnavailable,
))]
pub(crate) async fn verify_email(
    State(accounts): State<Accounts>,
    State(sessions): State<Sessions>,
    CurrentUser(signed_in): CurrentUser,
    jar: CookieJar,
    JsonBody(body): JsonBody<VerifyEmail>,
) -> ApiResult<(CookieJar, Json<UserResponse>)> {
    let token = body.token.map(|t| t.trim().to_owned());
    let mut validator = Validator::new();
    validator.required_text(token.as_deref(), "token", "Token", "Token must be provided");
    validator.finish()?;
    let user = accounts.verify_email(&token.unwrap_or_default()).await?;
    let jar = match signed_in {
        Some(session) if session.id == user.id => {
            let token = sessions.renewed(&session, true)?;
            jar.add(sessions.sign_in_cookie(token))
        }
        _ => jar,
    };
    Ok((jar, Json(user.into())))
}

/// `POST /api/users/verify-email/resend`: emails the signed-in account a new verification link,
/// unless its email is verified already (the answer says which, and then renews a cookie that
/// said otherwise). Three per account in ten minutes.
#[utoipa::path(post, path = "/api/users/verify-email/resend", operation_id = "resendVerificationEmail", tag = "users",
    security(("session" = [])), responses(
    (status = 202, description = "A new link is on its way (user:verification-requested), or the email was verified already (emailVerified says which)", body = UserResponse),
    SignedOut,
    (status = 429, description = "Three links were asked for in the last ten minutes; see Retry-After", body = ErrorBody,
        headers(("Retry-After" = u64, description = "Seconds until the next request is allowed"))),
    DatabaseUnavailable,
))]
pub(crate) async fn resend(
    State(accounts): State<Accounts>,
    State(sessions): State<Sessions>,
    RequireUser(session): RequireUser,
    jar: CookieJar,
) -> ApiResult<(StatusCode, CookieJar, Json<UserResponse>)> {
    let user = accounts.resend_verification(&session.id).await?;
    // Verified on another device since this cookie was made: the renewed one says so.
    let jar = if user.email_verified() && !session.email_verified {
        jar.add(sessions.sign_in_cookie(sessions.renewed(&session, true)?))
    } else {
        jar
    };
    Ok((StatusCode::ACCEPTED, jar, Json(user.into())))
}
