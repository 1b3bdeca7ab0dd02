use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use axum_extra::extract::CookieJar;
use gittix_shared::json::JsonBody;
use gittix_shared::session::Sessions;
use gittix_shared::validation::{lenient_string, Validator};
use gittix_shared::ApiResult;
use serde::Deserialize;

use super::UserResponse;
use crate::credentials::{check_email, check_new_password, normalize_email, normalize_password};
use crate::password;
use crate::store::UserStore;

#[derive(Deserialize)]
pub(crate) struct SignUp {
    #[serde(default, deserialize_with = "lenient_string")]
    email: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    password: Option<String>,
}

/// `POST /api/users/signup`: creates the account and signs it in.
pub(crate) async fn signup(
    State(users): State<UserStore>,
    State(sessions): State<Sessions>,
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

    let password_hash = password::hash(password).await?;
    let user = users.create(&email, &password_hash).await?;
    let token = sessions.issue(&user.id, &user.email)?;
    let jar = jar.add(sessions.sign_in_cookie(token));
    Ok((StatusCode::CREATED, jar, Json(user.into())))
}
