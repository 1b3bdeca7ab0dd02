use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use gittix_shared::error::ErrorBody;
use gittix_shared::fees::Fees;
use gittix_shared::id::PathId;
use gittix_shared::json::JsonBody;
use gittix_shared::openapi::responses::{BodyTooLarge, DatabaseUnavailable};
use gittix_shared::session::RequireUser;
use gittix_shared::{ApiError, ApiResult};

use super::{event_to_list_for, TicketBody};
use crate::event::EventRow;
use crate::event_store::EventStore;
use crate::rules::{validate, within_resale_cap, ValidTicket};
use crate::store::TicketStore;
use crate::ticket::{Ticket, TicketJson};
use crate::ListingRules;

#[utoipa::path(put, path = "/api/tickets/{id}", operation_id = "updateTicket", tag = "tickets", security(("session" = [])), params(("id" = String, Path, description = "The ticket's id")), 
    request_body = TicketBody, responses(
    (status = 200, description = "Edited, version + 1: publishes ticket:updated", body = TicketJson),
    (status = 400, description = "A field is invalid, the body is not JSON, or the ticket is reserved, sold or withdrawn", body = ErrorBody),
    (status = 401, description = "Signed out, or another user's ticket", body = ErrorBody),
    (status = 404, description = "No ticket has this id", body = ErrorBody),
    BodyTooLarge,
    DatabaseUnavailable,
))]
/// `PUT /api/tickets/:id` `{title, price, ...}`: the seller edits a ticket that is for sale; an
/// optional field left out keeps its value. Checked in the design's order: signed in, valid,
/// exists, not reserved or sold, owned.
pub(crate) async fn update(
    State(tickets): State<TicketStore>,
    State(events): State<EventStore>,
    State(rules): State<ListingRules>,
    RequireUser(seller): RequireUser,
    id: PathId,
    State(fees): State<Fees>,
    JsonBody(body): JsonBody<TicketBody>,
) -> ApiResult<Response> {
    let valid = validate(&body.fields())?;
    let id = id.get()?;
    let current = tickets.find(id).await?.ok_or(ApiError::NotFound)?;
    let event = event_to_list_for(&events, valid.event_id.as_deref()).await?;
    let edited = merged(current, valid, event);
    within_resale_cap(
        edited.price_cents,
        edited.face_value_cents,
        rules.resale_cap_percent,
    )?;
    let ticket = tickets.edit(id, &seller.id, &edited).await?;
    Ok(Json(TicketJson::new(&ticket, &fees)).into_response())
}

/// `current` with what the edit gives: the title and price, and each optional field it names
/// (an empty seat label clears it). The event's details are copied by the store from the event
/// itself; only which event is decided here.
fn merged(current: Ticket, valid: ValidTicket, event: Option<EventRow>) -> Ticket {
    let label = |given: Option<String>, kept: Option<String>| match given {
        Some(text) if text.is_empty() => None,
        Some(text) => Some(text),
        None => kept,
    };
    Ticket {
        title: valid.title,
        price_cents: valid.price_cents,
        section: label(valid.section, current.section),
        seat_row: label(valid.row, current.seat_row),
        seat: label(valid.seat, current.seat),
        face_value_cents: valid.face_value_cents.or(current.face_value_cents),
        event_id: event.map(|e| e.id).or(current.event_id),
        ..current
    }
}
