use axum::extract::State;
use axum::Json;
use axum_extra::extract::CookieJar;
use gittix_shared::events::SessionRevoked;
use gittix_shared::openapi::responses::{DatabaseUnavailable, SignedOut};
use gittix_shared::session::{CurrentUser, RequireUser, Sessions};
use gittix_shared::time::unix_millis;
use gittix_shared::ApiResult;

use crate::store::UserStore;

/// `POST /api/users/signout`: ends this session (`session:revoked` with its `sid`, so a copy of
/// the cookie stops working everywhere too) and replaces the cookie with an expired one.
/// Signed out already, it only clears the cookie.
#[utoipa::path(post, path = "/api/users/signout", operation_id = "signOut", tag = "users", responses(
    (status = 200, description = "Signed out: the session is revoked (session:revoked) and its cookie cleared", body = Object, example = json!({})),
    DatabaseUnavailable,
))]
pub(crate) async fn signout(
    State(sessions): State<Sessions>,
    State(users): State<UserStore>,
    CurrentUser(user): CurrentUser,
    jar: CookieJar,
) -> ApiResult<(CookieJar, Json<serde_json::Value>)> {
    if let Some(user) = user {
        let revoked = SessionRevoked {
            user_id: user.id,
            sid: Some(user.sid),
            before: None,
        };
        users.revoke(&revoked).await?;
        sessions.revoke(&revoked);
    }
    Ok((
        jar.add(sessions.sign_out_cookie()),
        Json(serde_json::json!({})),
    ))
}

/// `POST /api/users/signout-everywhere`: ends every session of the signed-in user, this one
/// included, on every device.
#[utoipa::path(post, path = "/api/users/signout-everywhere", operation_id = "signOutEverywhere", tag = "users", security(("session" = [])), responses(
    (status = 200, description = "Every session of the user is revoked (session:revoked) and this cookie cleared", body = Object, example = json!({})),
    SignedOut,
    DatabaseUnavailable,
))]
pub(crate) async fn signout_everywhere(
    State(sessions): State<Sessions>,
    State(users): State<UserStore>,
    RequireUser(user): RequireUser,
    jar: CookieJar,
) -> ApiResult<(CookieJar, Json<serde_json::Value>)> {
    let revoked = SessionRevoked {
        user_id: user.id,
        sid: None,
        before: Some(unix_millis() + 1),
    };
    users.revoke(&revoked).await?;
    sessions.revoke(&revoked);
    Ok((
        jar.add(sessions.sign_out_cookie()),
        Json(serde_json::json!({})),
    ))
}
