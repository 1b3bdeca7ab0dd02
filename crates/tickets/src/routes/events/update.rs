use axum::extract::State;
use axum::Json;
use gittix_shared::error::ErrorBody;
use gittix_shared::fees::Fees;
use gittix_shared::id::PathId;
use gittix_shared::json::JsonBody;
use gittix_shared::openapi::responses::{BodyTooLarge, DatabaseUnavailable};
use gittix_shared::session::RequireUser;
use gittix_shared::ApiResult;

use super::EventBody;
use crate::event::Event;
use crate::event_rules::validate_now;
use crate::event_store::EventStore;

#[utoipa::path(put, path = "/api/events/{id}", operation_id = "updateEvent", tag = "events", security(("session" = [])),
    params(("id" = String, Path, description = "The event's id")),
    request_body = EventBody, responses(
    (status = 200, description = "Corrected, `version` + 1: publishes event:updated", body = Event),
    (status = 400, description = "A field is invalid, the body is not JSON, \"This event already exists\", or \"An event with sold tickets cannot be changed\"", body = ErrorBody),
    (status = 401, description = "Signed out, or another user's event", body = ErrorBody),
    (status = 404, description = "No event has this id", body = ErrorBody),
    BodyTooLarge,
    DatabaseUnavailable,
))]
/// `PUT /api/events/:id` `{name, venue, city, startsAt}`: whoever created the event corrects
/// it, until a ticket for it has sold; publishes `event:updated`.
pub(crate) async fn update(
    State(events): State<EventStore>,
    State(fees): State<Fees>,
    RequireUser(editor): RequireUser,
    id: PathId,
    JsonBody(body): JsonBody<EventBody>,
) -> ApiResult<Json<Event>> {
    let valid = validate_now(
        body.name.as_ref(),
        body.venue.as_ref(),
        body.city.as_ref(),
        body.starts_at.as_ref(),
    )?;
    let corrected = events.correct(id.get()?, &editor.id, &valid).await?;
    Ok(Json(Event::new(corrected, &fees)))
}
