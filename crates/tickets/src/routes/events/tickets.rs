use axum::extract::State;
use axum::Json;
use gittix_shared::error::ErrorBody;
use gittix_shared::id::PathId;
use gittix_shared::openapi::responses::DatabaseUnavailable;
use gittix_shared::ApiResult;

use crate::event_store::EventStore;
use crate::ticket::{Ticket, TicketJson};

#[utoipa::path(get, path = "/api/events/{id}/tickets", operation_id = "listEventTickets", tag = "events", params(("id" = String, Path, description = "The event's id")), responses(
    (status = 200, description = "The event's tickets for sale, cheapest first", body = Vec<TicketJson>),
    (status = 404, description = "No event has this id", body = ErrorBody),
    DatabaseUnavailable,
))]
/// `GET /api/events/:id/tickets`: its tickets for sale, cheapest first.
pub(crate) async fn tickets(
    State(events): State<EventStore>,
    id: PathId,
) -> ApiResult<Json<Vec<Ticket>>> {
    Ok(Json(events.tickets_for_sale(id.get()?).await?))
}
