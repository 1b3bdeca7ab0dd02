use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use axum_extra::extract::CookieJar;
use gittix_shared::error::ErrorBody;
use gittix_shared::http::ClientIp;
use gittix_shared::json::JsonBody;
use gittix_shared::openapi::responses::{BodyTooLarge, DatabaseUnavailable};
use gittix_shared::session::Sessions;
use gittix_shared::time::unix_millis;
use gittix_shared::validation::{lenient_string, Validator};
use gittix_shared::ApiResult;
use serde::Deserialize;

use super::UserResponse;
use crate::accounts::Accounts;
use crate::credentials::{check_email, check_new_password, normalize_email, normalize_password};

/// Whose password to reset.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct RequestReset {
    #[serde(default, deserialize_with = "lenient_string")]
    #[schema(value_type = String, required = true, format = "email", max_length = 254)]
    email: Option<String>,
}

/// `POST /api/users/password-reset` `{email}`: emails a link that sets a new password, valid
/// for 30 minutes and once, when the address has an account (`user:password-reset-requested`).
/// The answer is the same whether or not it has one, so it tells nobody which addresses do.
#[utoipa::path(post, path = "/api/users/password-reset", operation_id = "requestPasswordReset", tag = "users",
    request_body = RequestReset, responses(
    (status = 202, description = "Accepted: if the address has an account, a reset link is on its way (user:password-reset-requested)", body = Object, example = json!({})),
    (status = 400, description = "The email is invalid, or the body is not JSON", body = ErrorBody),
    BodyTooLarge,
    // Not the shared `TooManyRequests`: this answer also documents its header.
    (status = 429, description = "Too many password resets from this client; see Retry-After", body = ErrorBody,
        headers(("Retry-After" = u64, description = "Seconds until the next attempt is allowed"))),
    DatabaseUnavailable,
))]
pub(crate) async fn request_reset(
    State(accounts): State<Accounts>,
    ClientIp(client): ClientIp,
    JsonBody(body): JsonBody<RequestReset>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let email = normalize_email(body.email);
    let mut validator = Validator::new();
    check_email(&mut validator, email.as_deref());
    validator.finish()?;
    accounts
        .request_password_reset(client, &email.unwrap_or_default())
        .await?;
    Ok((StatusCode::ACCEPTED, Json(serde_json::json!({}))))
}

/// A reset link's token and the new password.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct ConfirmReset {
    #[serde(default, deserialize_with = "lenient_string")]
    #[schema(value_type = String, required = true)]
    token: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    #[schema(value_type = String, required = true, min_length = 4, max_length = 20)]
    password: Option<String>,
}

/// `POST /api/users/password-reset/confirm` `{token, password}`: sets the new password with the
/// link's token, once; ends every other session of the account and signs this one in.
#[utoipa::path(post, path = "/api/users/password-reset/confirm", operation_id = "confirmPasswordReset", tag = "users",
    request_body = ConfirmReset, responses(
    (status = 200, description = "The password is set: publishes user:updated, revokes every other session of the user (session:revoked) and sets a session cookie", body = UserResponse),
    (status = 400, description = "A field is invalid, the body is not JSON, or \"Invalid or expired link\" (unknown, used, or older than 30 minutes)", body = ErrorBody),
    BodyTooLarge,
    (status = 429, description = "Too many password resets from this client; see Retry-After", body = ErrorBody,
        headers(("Retry-After" = u64, description = "Seconds until the next attempt is allowed"))),
    DatabaseUnavailable,
))]
pub(crate) async fn confirm_reset(
    State(accounts): State<Accounts>,
    State(sessions): State<Sessions>,
    ClientIp(client): ClientIp,
    jar: CookieJar,
    JsonBody(body): JsonBody<ConfirmReset>,
) -> ApiResult<(CookieJar, Json<UserResponse>)> {
    let token = body.token.map(|t| t.trim().to_owned());
    let password = normalize_password(body.password);
    let mut validator = Validator::new();
    validator.required_text(token.as_deref(), "token", "Token", "Token must be provided");
    check_new_password(&mut validator, "password", password.as_deref());
    validator.finish()?;

    // Every session begun before this instant ends; the new cookie's begins after it.
    let revoke_before = unix_millis();
    let user = accounts
        .reset_password(
            client,
            &token.unwrap_or_default(),
            password.unwrap_or_default(),
            revoke_before,
        )
        .await?;
    super::signed_in_again(&sessions, jar, user, revoke_before)
}
