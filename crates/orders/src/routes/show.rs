use axum::extract::State;
use axum::Json;
use gittix_shared::error::ErrorBody;
use gittix_shared::id::PathId;
use gittix_shared::openapi::responses::DatabaseUnavailable;
use gittix_shared::session::RequireUser;
use gittix_shared::ApiResult;

use crate::order::OrderJson;
use crate::store::OrderStore;

#[utoipa::path(get, path = "/api/orders/{id}", operation_id = "showOrder", tag = "orders", security(("session" = [])), params(("id" = String, Path, description = "The order's id")), responses(
    (status = 200, description = "The order", body = OrderJson),
    (status = 401, description = "Signed out, or another user's order", body = ErrorBody),
    (status = 404, description = "No order has this id", body = ErrorBody),
    DatabaseUnavailable,
))]
/// `GET /api/orders/:id`: one of the caller's orders.
pub(crate) async fn show(
    State(orders): State<OrderStore>,
    RequireUser(buyer): RequireUser,
    id: PathId,
) -> ApiResult<Json<OrderJson>> {
    let order = orders.find_for(id.get()?, &buyer.id).await?;
    Ok(Json(order.into()))
}
