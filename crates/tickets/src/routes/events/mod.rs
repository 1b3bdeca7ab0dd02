//! `/api/events*`: the events tickets are sold for, one module per route.

mod create;
mod list;
mod show;
mod tickets;
mod update;

use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::TicketsState;

pub(super) fn router() -> OpenApiRouter<TicketsState> {
    OpenApiRouter::new()
        .routes(routes!(list::list, create::create))
        .routes(routes!(show::show, update::update))
        .routes(routes!(tickets::tickets))
}

/// The body of `POST /api/events` and `PUT /api/events/:id`: fields read leniently, then validated by `event_rules`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EventBody {
    /// 1 to 200 characters once trimmed, no control characters.
    #[serde(default)]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200, example = "Rust Fest")]
    name: Option<serde_json::Value>,
    /// 1 to 200 characters once trimmed, no control characters.
    #[serde(default)]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200, example = "Halle Tony Garnier")]
    venue: Option<serde_json::Value>,
    /// 1 to 100 characters once trimmed, no control characters.
    #[serde(default)]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 100, example = "Lyon")]
    city: Option<serde_json::Value>,
    /// ISO-8601 with its offset, in the future, at most 2 years ahead.
    #[serde(default)]
    #[schema(value_type = String, required = true, example = "2027-06-01T20:00:00+02:00")]
    starts_at: Option<serde_json::Value>,
}
