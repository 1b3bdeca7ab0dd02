//! `/api/payments`.

mod create;
mod webhook;

use axum::routing::post;
use axum::Router;

use crate::PaymentsState;

/// The payments service's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(create::create, webhook::webhook))]
pub(crate) struct PaymentsApi;

pub(crate) fn router() -> Router<PaymentsState> {
    Router::new()
        .route("/api/payments", post(create::create))
        .route("/api/payments/webhook", post(webhook::webhook))
}
