//! `/api/payments`: each route declared once, with its OpenAPI entry.

mod challenge;
mod create;
mod list;
mod payout_account;
mod payouts;
mod refusal;
mod webhook;

use axum::extract::FromRef;
use gittix_shared::http::TrustProxy;
use gittix_shared::ratelimit::Budget;
use gittix_shared::session::Sessions;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::payments::Payments;
use crate::payouts::store::PayoutStore;
use crate::seller_accounts::SellerAccounts;
use crate::stripe_events::StripeEvents;

/// What the handlers read.
#[derive(Clone, FromRef)]
pub(crate) struct PaymentsState {
    pub payments: Payments,
    pub stripe_events: StripeEvents,
    pub sessions: Sessions,
    pub budgets: PaymentBudgets,
    pub trust_proxy: TrustProxy,
    pub accounts: SellerAccounts,
    pub payouts: PayoutStore,
}

/// The limits on payment attempts: per buyer, and per client address whoever is signed in.
#[derive(Clone)]
pub(crate) struct PaymentBudgets {
    pub per_user: Budget,
    pub per_client: Budget,
}

pub(crate) fn router() -> OpenApiRouter<PaymentsState> {
    OpenApiRouter::new()
        .routes(routes!(create::create, list::list))
        .routes(routes!(list::show))
        .routes(routes!(challenge::answer))
        .routes(routes!(webhook::webhook))
        .routes(routes!(payout_account::start, payout_account::show))
        .routes(routes!(payout_account::complete_simulated))
        .routes(routes!(payouts::list))
}
