use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use axum_extra::extract::CookieJar;
use gittix_shared::error::ErrorBody;
use gittix_shared::http::ClientIp;
use gittix_shared::json::JsonBody;
use gittix_shared::openapi::responses::{BodyTooLarge, DatabaseUnavailable};
use gittix_shared::session::Sessions;
use gittix_shared::validation::{lenient_string, Validator};
use gittix_shared::ApiResult;
use serde::Deserialize;

use super::UserResponse;
use crate::accounts::Accounts;
use crate::credentials::{check_email, check_new_password, normalize_email, normalize_password};

/// A new account's credentials.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct SignUp {
    #[serde(default, deserialize_with = "lenient_string")]
    /// A valid address, at most 254 characters; compared case-insensitively.
    #[schema(value_type = String, required = true, format = "email", max_length = 254)]
    email: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    /// 4 to 20 characters once trimmed.
    #[schema(value_type = String, required = true, min_length = 4, max_length = 20)]
    password: Option<String>,
}

/// `POST /api/users/signup`: creates the account and signs it in.
#[utoipa::path(post, path = "/api/users/signup", operation_id = "signUp", tag = "users", request_body = SignUp, responses(
    (status = 201, description = "Signed up and signed in: sets the session cookie", body = UserResponse),
    (status = 400, description = "A field is invalid, the body is not JSON, or the email is in use", body = ErrorBody),
    BodyTooLarge,
    // Not the shared `TooManyRequests`: this answer also documents its header.
    (status = 429, description = "Too many sign-ups from this client; see Retry-After", body = ErrorBody,
        headers(("Retry-After" = u64, description = "Seconds until the next attempt is allowed"))),
    DatabaseUnavailable,
))]
pub(crate) async fn signup(
    State(accounts): State<Accounts>,
    State(sessions): State<Sessions>,
    ClientIp(client): ClientIp,
    jar: CookieJar,
    JsonBody(body): JsonBody<SignUp>,
) -> ApiResult<(StatusCode, CookieJar, Json<UserResponse>)> {
    let email = normalize_email(body.email);
    let password = normalize_password(body.password);
    let mut validator = Validator::new();
    check_email(&mut validator, email.as_deref());
    check_new_password(&mut validator, "password", password.as_deref());
    validator.finish()?;
    let (email, password) = (email.unwrap_or_default(), password.unwrap_or_default());

    let user = accounts.sign_up(client, &email, password).await?;
    let token = sessions.issue_with(&user.id, &user.email, user.email_verified())?;
    let jar = jar.add(sessions.sign_in_cookie(token));
    Ok((StatusCode::CREATED, jar, Json(user.into())))
}
