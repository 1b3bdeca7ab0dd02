//! `/api/tickets*` and `/api/events*`: one module per route, each declaring its path and its
//! OpenAPI entry once.

mod bought;
mod create;
mod events;
mod file;
mod list;
mod mine;
mod refusal;
mod show;
mod update;
mod withdraw;

use gittix_shared::time::unix_millis;
use gittix_shared::validation::Validator;
use gittix_shared::ApiResult;
use serde::Deserialize;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::event::EventRow;
use crate::event_store::EventStore;
use crate::rules::TicketFields;
use crate::TicketsState;

pub(crate) fn router() -> OpenApiRouter<TicketsState> {
    OpenApiRouter::with_openapi(Schemas::openapi())
        .routes(routes!(list::list, create::create))
        // A static segment wins over `{id}`; ticket ids are UUIDs, never "mine" or "bought".
        .routes(routes!(mine::mine))
        .routes(routes!(bought::bought))
        .routes(routes!(show::show, update::update, withdraw::withdraw))
        .routes(routes!(file::upload, file::download))
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

/// The body of create and update: fields read leniently, then validated by `rules`. Every field
/// but the original two is optional; on update, one left out keeps its value.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TicketBody {
    /// Not empty once trimmed (invisible characters alone are empty), at most 200 characters, no control characters.
    #[serde(default)]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200)]
    title: Option<serde_json::Value>,
    /// In dollars: more than 0, at most 1000000, at most 2 decimals (a numeric string is read too).
    /// With `RESALE_PRICE_CAP_PERCENT` and a `faceValue`, at most that share of it.
    #[serde(default)]
    #[schema(value_type = f64, required = true, exclusive_minimum = 0, maximum = 1000000, example = 19.99)]
    price: Option<gittix_shared::money::JsonPrice>,
    /// The event it is for: one that has not started.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    event_id: Option<serde_json::Value>,
    /// At most 20 characters; empty clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 20, example = "Balcony")]
    section: Option<serde_json::Value>,
    /// At most 20 characters; empty clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 20, example = "K")]
    row: Option<serde_json::Value>,
    /// At most 20 characters; empty clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 20, example = "14")]
    seat: Option<serde_json::Value>,
    /// The price printed on the ticket, in dollars, as `price`.
    #[serde(default)]
    #[schema(value_type = Option<f64>, example = 45)]
    face_value: Option<gittix_shared::money::JsonPrice>,
}

impl TicketBody {
    fn fields(&self) -> TicketFields<'_> {
        TicketFields {
            title: self.title.as_ref(),
            price: self.price.as_ref(),
            event_id: self.event_id.as_ref(),
            section: self.section.as_ref(),
            row: self.row.as_ref(),
            seat: self.seat.as_ref(),
            face_value: self.face_value.as_ref(),
        }
    }
}

/// The event `event_id` names, which a ticket can be listed for: one that exists and has not
/// started (a 400 against `eventId` otherwise).
async fn event_to_list_for(
    events: &EventStore,
    event_id: Option<&str>,
) -> ApiResult<Option<EventRow>> {
    let Some(event_id) = event_id else {
        return Ok(None);
    };
    let event = match event_id {
        "" => None,
        id => events.find(id).await?,
    };
    let mut validator = Validator::new();
    match &event {
        None => validator.check(false, "eventId", "No event has this id"),
        Some(event) => validator.check(
            event.starts_at > unix_millis(),
            "eventId",
            "The event has started",
        ),
    };
    validator.finish()?;
    Ok(event)
}
