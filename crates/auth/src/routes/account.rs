use axum::extract::State;
use axum::Json;
use axum_extra::extract::CookieJar;
use gittix_shared::error::ErrorBody;
use gittix_shared::http::ClientIp;
use gittix_shared::json::JsonBody;
use gittix_shared::openapi::responses::{BodyTooLarge, DatabaseUnavailable, SignedOut};
use gittix_shared::session::{RequireUser, Sessions};
use gittix_shared::time::unix_millis;
use gittix_shared::validation::{lenient_string, Validator};
use gittix_shared::ApiResult;
use serde::Deserialize;

use super::UserResponse;
use crate::accounts::{Accounts, Change};
use crate::credentials::{check_email, check_new_password, normalize_email, normalize_password};

/// A change of email or password (or both), confirmed by the current password.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UpdateAccount {
    #[serde(default, deserialize_with = "lenient_string")]
    #[schema(value_type = String, required = true)]
    current_password: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    #[schema(value_type = String, format = "email", max_length = 254)]
    email: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    #[schema(value_type = String, min_length = 4, max_length = 20)]
    password: Option<String>,
}

#[utoipa::path(patch, path = "/api/users/currentuser", operation_id = "updateAccount", tag = "users", security(("session" = [])),
    request_body = UpdateAccount, responses(
    (status = 200, description = "Changed: publishes user:updated, revokes every other session of the user (session:revoked) and sets a new session cookie", body = UserResponse),
    (status = 400, description = "A field is invalid, the body is not JSON, the email is in use, or \"Invalid credentials\"", body = ErrorBody),
    SignedOut,
    BodyTooLarge,
    // Not the shared `TooManyRequests`: this answer also documents its header.
    (status = 429, description = "Too many attempts; see Retry-After", body = ErrorBody,
        headers(("Retry-After" = u64, description = "Seconds until the next attempt is allowed"))),
    DatabaseUnavailable,
))]
/// `PATCH /api/users/currentuser` `{currentPassword, email?, password?}`: changes the signed-in
/// user's email or password, publishes `user:updated`, ends every other session of the user,
/// and reissues the cookie.
///
/// The current password is required, and checking it counts as a sign-in attempt, so a stolen
/// cookie can neither take over the account nor guess its password quickly.
pub(crate) async fn update_account(
    State(accounts): State<Accounts>,
    State(sessions): State<Sessions>,
    RequireUser(signed_in): RequireUser,
    ClientIp(client): ClientIp,
    jar: CookieJar,
    JsonBody(body): JsonBody<UpdateAccount>,
) -> ApiResult<(CookieJar, Json<UserResponse>)> {
    let current_password = normalize_password(body.current_password);
    let email = normalize_email(body.email);
    let password = normalize_password(body.password);
    let mut validator = Validator::new();
    validator.required_text(
        current_password.as_deref(),
        "currentPassword",
        "Current password",
        "You must supply your current password",
    );
    validator.check(
        email.is_some() || password.is_some(),
        "email",
        "Supply a new email or a new password",
    );
    if email.is_some() {
        check_email(&mut validator, email.as_deref());
    }
    if password.is_some() {
        check_new_password(&mut validator, "password", password.as_deref());
    }
    validator.finish()?;

    let change = Change {
        current_password: current_password.unwrap_or_default(),
        email,
        password,
    };
    // Every session begun before this instant ends, this one too; the new cookie's session
    // begins after it and is kept.
    let revoke_before = unix_millis();
    let user = accounts
        .change(client, &signed_in.id, change, revoke_before)
        .await?;
    super::signed_in_again(&sessions, jar, user, revoke_before)
}
