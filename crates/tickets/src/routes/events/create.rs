use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use gittix_shared::error::ErrorBody;
use gittix_shared::fees::Fees;
use gittix_shared::json::JsonBody;
use gittix_shared::openapi::responses::{BodyTooLarge, DatabaseUnavailable, SignedOut};
use gittix_shared::session::RequireUser;
use gittix_shared::ApiResult;

use super::EventBody;
use crate::event::Event;
use crate::event_rules::validate_now;
use crate::event_store::EventStore;

#[utoipa::path(post, path = "/api/events", operation_id = "createEvent", tag = "events", security(("session" = [])),
    request_body = EventBody, responses(
    (status = 201, description = "Created: publishes event:created", body = Event),
    (status = 400, description = "A field is invalid, the body is not JSON, or \"This event already exists\"", body = ErrorBody),
    SignedOut,
    BodyTooLarge,
    DatabaseUnavailable,
))]
/// `POST /api/events` `{name, venue, city, startsAt}`: creates an event tickets can be listed
/// for; publishes `event:created`.
pub(crate) async fn create(
    State(events): State<EventStore>,
    State(fees): State<Fees>,
    RequireUser(creator): RequireUser,
    JsonBody(body): JsonBody<EventBody>,
) -> ApiResult<(StatusCode, Json<Event>)> {
    let valid = validate_now(
        body.name.as_ref(),
        body.venue.as_ref(),
        body.city.as_ref(),
        body.starts_at.as_ref(),
    )?;
    let event = events.create(&creator.id, &valid).await?;
    Ok((StatusCode::CREATED, Json(Event::new(event, &fees))))
}
