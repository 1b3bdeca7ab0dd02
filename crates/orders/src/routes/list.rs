use axum::extract::State;
use axum::Json;
use gittix_shared::openapi::responses::{DatabaseUnavailable, SignedOut};
use gittix_shared::session::RequireUser;
use gittix_shared::ApiResult;

use crate::order::OrderJson;
use crate::store::OrderStore;

#[utoipa::path(get, path = "/api/orders", operation_id = "listOrders", tag = "orders", security(("session" = [])), responses(
    (status = 200, description = "The caller's orders, oldest first", body = Vec<OrderJson>),
    SignedOut,
    DatabaseUnavailable,
))]
/// `GET /api/orders`: the caller's orders, oldest first, each with its ticket.
pub(crate) async fn list(
    State(orders): State<OrderStore>,
    RequireUser(buyer): RequireUser,
) -> ApiResult<Json<Vec<OrderJson>>> {
    let mine = orders.list_for(&buyer.id).await?;
    Ok(Json(mine.into_iter().map(OrderJson::from).collect()))
}
