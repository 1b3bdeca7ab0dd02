use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::Json;
use gittix_shared::error::ErrorBody;
use gittix_shared::fees::Fees;
use gittix_shared::openapi::responses::DatabaseUnavailable;
use gittix_shared::{ApiError, ApiResult};

use crate::event::Event;
use crate::event_listing::{next_link, EventParams, EventQuery};
use crate::event_store::EventStore;
use crate::routes::next_page_headers;

#[utoipa::path(get, path = "/api/events", operation_id = "listEvents", tag = "events", params(EventParams), responses(
    (status = 200, description = "One page of upcoming events, soonest first", body = Vec<Event>,
        headers(("Link" = String, description = "The next page, as `<...>; rel=\"next\"`, when there may be more"))),
    (status = 400, description = "A parameter is invalid", body = ErrorBody),
    DatabaseUnavailable,
))]
/// `GET /api/events`: upcoming events (see `event_listing` for the parameters).
pub(crate) async fn list(
    State(events): State<EventStore>,
    State(fees): State<Fees>,
    RawQuery(query): RawQuery,
) -> ApiResult<(HeaderMap, Json<Vec<Event>>)> {
    let params: EventParams = serde_urlencoded::from_str(&query.unwrap_or_default())
        .map_err(|_| ApiError::bad_request("Query string is not valid"))?;
    let (page, next) = EventQuery::parse(&params)?.run(events.db(), &fees).await?;
    let headers = next_page_headers(next.map(|cursor| next_link(&params, cursor)));
    Ok((headers, Json(page)))
}
