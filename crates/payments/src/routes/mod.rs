//! `/api/payments`.

mod create;

use axum::routing::post;
use axum::Router;

use crate::PaymentsState;

pub(crate) fn router() -> Router<PaymentsState> {
    Router::new().route("/api/payments", post(create::create))
}
