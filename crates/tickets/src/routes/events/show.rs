use axum::extract::State;
use axum::Json;
use gittix_shared::error::ErrorBody;
use gittix_shared::fees::Fees;
use gittix_shared::id::PathId;
use gittix_shared::openapi::responses::DatabaseUnavailable;
use gittix_shared::{ApiError, ApiResult};

use crate::event::Event;
use crate::event_store::EventStore;

#[utoipa::path(get, path = "/api/events/{id}", operation_id = "showEvent", tag = "events", params(("id" = String, Path, description = "The event's id")), responses(
    (status = 200, description = "The event, with what is for sale for it", body = Event),
    (status = 404, description = "No event has this id", body = ErrorBody),
    DatabaseUnavailable,
))]
/// `GET /api/events/:id`: one event, started or not.
pub(crate) async fn show(
    State(events): State<EventStore>,
    State(fees): State<Fees>,
    id: PathId,
) -> ApiResult<Json<Event>> {
    events
        .find(id.get()?)
        .await?
        .map(|row| Json(Event::new(row, &fees)))
        .ok_or(ApiError::NotFound)
}
