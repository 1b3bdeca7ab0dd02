use axum::extract::State;
use axum::Json;
use axum_extra::extract::CookieJar;
use gittix_shared::session::Sessions;

/// `POST /api/users/signout`: replaces the session cookie with an expired one.
#[utoipa::path(post, path = "/api/users/signout", operation_id = "signOut", tag = "users", responses(
    (status = 200, description = "Signed out: the session cookie is cleared", body = Object, example = json!({})),
))]
pub(crate) async fn signout(
    State(sessions): State<Sessions>,
    jar: CookieJar,
) -> (CookieJar, Json<serde_json::Value>) {
    (
        jar.add(sessions.sign_out_cookie()),
        Json(serde_json::json!({})),
    )
}
