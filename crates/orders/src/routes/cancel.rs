use axum::extract::State;
use axum::http::StatusCode;
use gittix_shared::error::ErrorBody;
use gittix_shared::id::PathId;
use gittix_shared::openapi::responses::DatabaseUnavailable;
use gittix_shared::session::RequireUser;
use gittix_shared::ApiResult;

use crate::store::OrderStore;

#[utoipa::path(delete, path = "/api/orders/{id}", operation_id = "cancelOrder", tag = "orders", security(("session" = [])), params(("id" = String, Path, description = "The order's id")), responses(
    (status = 204, description = "Cancelled (or already was): publishes order:cancelled"),
    (status = 400, description = "The order is complete", body = ErrorBody),
    (status = 401, description = "Signed out, or another user's order", body = ErrorBody),
    (status = 404, description = "No order has this id", body = ErrorBody),
    DatabaseUnavailable,
))]
/// `DELETE /api/orders/:id`: the buyer cancels; publishes `order:cancelled` (reason `cancelled`).
/// A completed order cannot be cancelled; cancelling a cancelled one changes nothing.
pub(crate) async fn cancel(
    State(orders): State<OrderStore>,
    RequireUser(buyer): RequireUser,
    id: PathId,
) -> ApiResult<StatusCode> {
    orders.cancel_for(id.get()?, &buyer.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
