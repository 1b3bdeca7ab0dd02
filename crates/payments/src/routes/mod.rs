//! `/api/payments`.

mod create;
mod webhook;

use axum::routing::post;
use axum::Router;

use crate::PaymentsState;

pub(crate) fn router() -> Router<PaymentsState> {
    Router::new()
        .route("/api/payments", post(create::create))
        .route("/api/payments/webhook", post(webhook::webhook))
}
