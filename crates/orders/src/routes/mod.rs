//! `/api/orders*`: one module per route; every route needs a signed-in user.

mod cancel;
mod create;
mod list;
mod show;

use axum::routing::{get, post};
use axum::Router;
use gittix_shared::session::UserPayload;
use gittix_shared::ApiError;

use crate::order::Order;
use crate::OrdersState;

/// The orders service's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(create::create, list::list, show::show, cancel::cancel))]
pub(crate) struct OrdersApi;

pub(crate) fn router() -> Router<OrdersState> {
    Router::new()
        .route("/api/orders", post(create::create).get(list::list))
        .route("/api/orders/{id}", get(show::show).delete(cancel::cancel))
}

/// The order if it exists (404 otherwise) and belongs to `user` (401 otherwise).
pub(crate) fn owned_by(order: Option<Order>, user: &UserPayload) -> Result<Order, ApiError> {
    let order = order.ok_or(ApiError::NotFound)?;
    if order.user_id == user.id {
        Ok(order)
    } else {
        Err(ApiError::NotAuthorized)
    }
}
