use axum::extract::{Path, State};
use axum::Json;
use gittix_shared::session::RequireUser;
use gittix_shared::ApiResult;

use super::owned_by;
use crate::order::OrderJson;
use crate::store::OrderStore;

/// `GET /api/orders/:id`: one of the caller's orders.
pub(crate) async fn show(
    State(orders): State<OrderStore>,
    RequireUser(buyer): RequireUser,
    Path(id): Path<String>,
) -> ApiResult<Json<OrderJson>> {
    let order = owned_by(orders.find(&id).await?, &buyer)?;
    Ok(Json(order.into()))
}
