use axum::extract::State;
use axum::Json;
use axum_extra::extract::CookieJar;
use gittix_shared::error::ErrorBody;
use gittix_shared::http::ClientIp;
use gittix_shared::json::JsonBody;
use gittix_shared::session::Sessions;
use gittix_shared::validation::{lenient_string, Validator};
use gittix_shared::{ApiError, ApiResult};
use serde::Deserialize;

use super::UserResponse;
use crate::credentials::{check_email, normalize_email, normalize_password};
use crate::password;
use crate::rate_limit::SignInLimiter;
use crate::store::{email_key, UserStore};

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

/// The one answer for an unknown email and a wrong password, so neither reveals which accounts exist.
pub(crate) fn invalid_credentials() -> ApiError {
    ApiError::bad_request("Invalid credentials")
}

/// `POST /api/users/signin`.
#[utoipa::path(post, path = "/api/users/signin", operation_id = "signIn", tag = "users", request_body = SignIn, responses(
    (status = 200, description = "Signed in: sets the session cookie", body = UserResponse),
    (status = 400, description = "A field is invalid, the body is not JSON, or \"Invalid credentials\"", body = ErrorBody),
    (status = 413, description = "The body is over the size limit", body = ErrorBody),
    (status = 429, description = "Too many attempts from this client or for this account; see Retry-After", body = ErrorBody,
        headers(("Retry-After" = u64, description = "Seconds until the next attempt is allowed"))),
    (status = 503, description = "The service's database cannot be reached", body = ErrorBody),
))]
pub(crate) async fn signin(
    State(users): State<UserStore>,
    State(sessions): State<Sessions>,
    State(limiter): State<SignInLimiter>,
    ClientIp(client): ClientIp,
    jar: CookieJar,
    JsonBody(body): JsonBody<SignIn>,
) -> ApiResult<(CookieJar, Json<UserResponse>)> {
    let email = normalize_email(body.email);
    let password = normalize_password(body.password);
    let mut validator = Validator::new();
    check_email(&mut validator, email.as_deref());
    validator.check(
        password.as_deref().is_some_and(|p| !p.is_empty()),
        "password",
        "You must supply a password",
    );
    validator.finish()?;
    let (email, password) = (email.unwrap_or_default(), password.unwrap_or_default());

    limiter.check(client, &email_key(&email))?;
    let user = users.find_by_email(&email).await?;
    // An unknown account is checked against a decoy hash, so timing does not tell it apart.
    let matches =
        password::verify(password, user.as_ref().map(|u| u.password_hash.clone())).await?;
    match user {
        Some(user) if matches => {
            let token = sessions.issue(&user.id, &user.email)?;
            Ok((jar.add(sessions.sign_in_cookie(token)), Json(user.into())))
        }
        _ => Err(invalid_credentials()),
    }
}
