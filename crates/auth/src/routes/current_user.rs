use axum::Json;
use gittix_shared::session::{CurrentUser, UserPayload};
use serde::Serialize;

/// Who is signed in, or `null`.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct CurrentUserResponse {
    #[serde(rename = "currentUser")]
    current_user: Option<UserPayload>,
}

#[utoipa::path(get, path = "/api/users/currentuser", operation_id = "currentUser", tag = "users", security((), ("session" = [])), responses(
    (status = 200, description = "The session's user, or null when signed out", body = CurrentUserResponse),
))]
/// `GET /api/users/currentuser`: who the cookie says is signed in, from the token alone (no
/// database read), or `null`.
pub(crate) async fn current_user(CurrentUser(user): CurrentUser) -> Json<CurrentUserResponse> {
    Json(CurrentUserResponse { current_user: user })
}
