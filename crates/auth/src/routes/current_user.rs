use axum::Json;
use gittix_shared::session::{CurrentUser, UserPayload};
use serde::Serialize;

#[derive(Serialize)]
pub(crate) struct CurrentUserResponse {
    #[serde(rename = "currentUser")]
    current_user: Option<UserPayload>,
}

/// `GET /api/users/currentuser`: who the cookie says is signed in, from the token alone (no
/// database read), or `null`.
pub(crate) async fn current_user(CurrentUser(user): CurrentUser) -> Json<CurrentUserResponse> {
    Json(CurrentUserResponse { current_user: user })
}
