//! `/api/tickets*` and `/api/events*`: one module per route, each declaring its path and its
//! OpenAPI entry once.

mod create;
mod events;
mod list;
mod mine;
mod refusal;
mod show;
mod update;
mod withdraw;

use serde::Deserialize;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::TicketsState;

pub(crate) fn router() -> OpenApiRouter<TicketsState> {
    OpenApiRouter::with_openapi(Schemas::openapi())
        .routes(routes!(list::list, create::create))
        // A static segment wins over `{id}`; ticket ids are UUIDs, never "mine".
        .routes(routes!(mine::mine))
        .routes(routes!(show::show, update::update, withdraw::withdraw))
        .merge(events::router())
}

/// The headers of a list's page: `Link: <next>; rel="next"` when there is a next page.
fn next_page_headers(next: Option<String>) -> axum::http::HeaderMap {
    let mut headers = axum::http::HeaderMap::new();
    if let Some(link) = next.and_then(|l| axum::http::HeaderValue::from_str(&l).ok()) {
        headers.insert(axum::http::header::LINK, link);
    }
    headers
}

/// What the document lists beside the routes: the values of the list's `sort`, which no handler
/// names as a type (the parameter is read as text).
#[derive(OpenApi)]
#[openapi(components(schemas(crate::listing::SortParam)))]
struct Schemas;

/// The body of create and update: fields read leniently, then validated by `rules`.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct TicketBody {
    /// Not empty once trimmed (invisible characters alone are empty), at most 200 characters, no control characters.
    #[serde(default)]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200)]
    title: Option<serde_json::Value>,
    /// In dollars: more than 0, at most 1000000, at most 2 decimals (a numeric string is read too).
    #[serde(default)]
    #[schema(value_type = f64, required = true, exclusive_minimum = 0, maximum = 1000000, example = 19.99)]
    price: Option<gittix_shared::money::JsonPrice>,
}
