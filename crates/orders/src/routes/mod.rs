//! `/api/orders*`: one module per route; every route needs a signed-in user. Each route is
//! declared once, with its OpenAPI entry, in [`router`].

mod cancel;
mod create;
mod list;
mod refusal;
mod show;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::OrdersState;

/// Handlers sharing a path share one `routes!`; each takes its path from `#[utoipa::path]`.
pub(crate) fn router() -> OpenApiRouter<OrdersState> {
    OpenApiRouter::new()
        .routes(routes!(create::create, list::list))
        .routes(routes!(show::show, cancel::cancel))
}
