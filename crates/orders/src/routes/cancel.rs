use axum::extract::{Path, State};
use axum::http::StatusCode;
use gittix_shared::error::ErrorBody;
use gittix_shared::session::RequireUser;
use gittix_shared::{ApiError, ApiResult};

use super::owned_by;
use crate::order::Status;
use crate::store::OrderStore;

#[utoipa::path(delete, path = "/api/orders/{id}", operation_id = "cancelOrder", tag = "orders", security(("session" = [])), params(("id" = String, Path, description = "The order's id")), responses(
    (status = 204, description = "Cancelled (or already was): publishes order:cancelled"),
    (status = 400, description = "The order is complete", body = ErrorBody),
    (status = 401, description = "Signed out, or another user's order", body = ErrorBody),
    (status = 404, description = "No order has this id", body = ErrorBody),
    (status = 503, description = "The service's database cannot be reached", body = ErrorBody),
))]
/// `DELETE /api/orders/:id`: the buyer cancels; publishes `order:cancelled` (reason `cancelled`).
/// A completed order cannot be cancelled; cancelling a cancelled one changes nothing.
pub(crate) async fn cancel(
    State(orders): State<OrderStore>,
    RequireUser(buyer): RequireUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    owned_by(orders.find(&id).await?, &buyer)?;
    if orders.cancel(&id, "cancelled").await?.is_none() {
        let current = orders.find(&id).await?.ok_or(ApiError::NotFound)?;
        if current.status == Status::Complete.as_str() {
            return Err(ApiError::bad_request("Cannot cancel a completed order"));
        }
    }
    Ok(StatusCode::NO_CONTENT)
}
