use axum::extract::State;
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
use crate::credentials::{check_email, normalize_email, normalize_password};

/// An existing account's credentials.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct SignIn {
    #[serde(default, deserialize_with = "lenient_string")]
    #[schema(value_type = String, required = true, format = "email")]
    email: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    #[schema(value_type = String, required = true)]
    password: Option<String>,
}

/// `POST /api/users/signin`.
#[utoipa::path(post, path = "/api/users/signin", operation_id = "signIn", tag = "users", request_body = SignIn, responses(
    (status = 200, description = "Signed in: sets the session cookie", body = UserResponse),
    (status = 400, description = "A field is invalid, the body is not JSON, or \"Invalid credentials\"", body = ErrorBody),
    BodyTooLarge,
    (status = 429, description = "Too many attempts from this client or for this account; see Retry-After", body = ErrorBody,
        headers(("Retry-After" = u64, description = "Seconds until the next attempt is allowed"))),
    DatabaseUnavailable,
))]
pub(crate) async fn signin(
    State(accounts): State<Accounts>,
    State(sessions): State<Sessions>,
    ClientIp(client): ClientIp,
    jar: CookieJar,
    JsonBody(body): JsonBody<SignIn>,
) -> ApiResult<(CookieJar, Json<UserResponse>)> {
    let email = normalize_email(body.email);
    let password = normalize_password(body.password);
    let mut validator = Validator::new();
    check_email(&mut validator, email.as_deref());
    validator.required_text(
        password.as_deref(),
        "password",
        "Password",
        "You must supply a password",
    );
    validator.finish()?;
    let (email, password) = (email.unwrap_or_default(), password.unwrap_or_default());

    let user = accounts.sign_in(client, &email, password).await?;
    let token = sessions.issue_with(&user.id, &user.email, user.email_verified())?;
    Ok((jar.add(sessions.sign_in_cookie(token)), Json(user.into())))
}
