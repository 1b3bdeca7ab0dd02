//! `/api/payments`: each route declared once, with its OpenAPI entry.

mod create;
mod refusal;
mod webhook;

use axum::extract::FromRef;
use gittix_shared::session::Sessions;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::payments::Payments;
use crate::stripe_events::StripeEvents;

/// What the handlers read.
#[derive(Clone, FromRef)]
pub(crate) struct PaymentsState {
    pub payments: Payments,
    pub stripe_events: StripeEvents,
    pub sessions: Sessions,
}

pub(crate) fn router() -> OpenApiRouter<PaymentsState> {
    OpenApiRouter::new()
        .routes(routes!(create::create))
        .routes(routes!(webhook::webhook))
}
