use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use gittix_shared::error::ErrorBody;
use gittix_shared::fees::Fees;
use gittix_shared::id::PathId;
use gittix_shared::openapi::responses::DatabaseUnavailable;
use gittix_shared::ApiResult;

use crate::event_store::EventStore;
use crate::ticket::{tickets_json, TicketJson};

#[utoipa::path(get, path = "/api/events/{id}/tickets", operation_id = "listEventTickets", tag = "events", params(("id" = String, Path, description = "The event's id")), responses(
    (status = 200, description = "The event's tickets for sale, cheapest first", body = Vec<TicketJson>),
    (status = 404, description = "No event has this id", body = ErrorBody),
    DatabaseUnavailable,
))]
/// `GET /api/events/:id/tickets`: its tickets for sale, cheapest first.
pub(crate) async fn tickets(
    State(events): State<EventStore>,
    State(fees): State<Fees>,
    id: PathId,
) -> ApiResult<Response> {
    let tickets = events.tickets_for_sale(id.get()?).await?;
    Ok(Json(tickets_json(&tickets, &fees)).into_response())
}
