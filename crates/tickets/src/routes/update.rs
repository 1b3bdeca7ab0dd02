use axum::extract::State;
use axum::Json;
use gittix_shared::error::ErrorBody;
use gittix_shared::id::PathId;
use gittix_shared::json::JsonBody;
use gittix_shared::openapi::responses::{BodyTooLarge, DatabaseUnavailable};
use gittix_shared::session::RequireUser;
use gittix_shared::ApiResult;

use super::TicketBody;
use crate::rules::validate;
use crate::store::TicketStore;
use crate::ticket::Ticket;

#[utoipa::path(put, path = "/api/tickets/{id}", operation_id = "updateTicket", tag = "tickets", security(("session" = [])), params(("id" = String, Path, description = "The ticket's id")), 
    request_body = TicketBody, responses(
    (status = 200, description = "Edited, version + 1: publishes ticket:updated", body = Ticket),
    (status = 400, description = "A field is invalid, the body is not JSON, or the ticket is reserved, sold or withdrawn", body = ErrorBody),
    (status = 401, description = "Signed out, or another user's ticket", body = ErrorBody),
    (status = 404, description = "No ticket has this id", body = ErrorBody),
    BodyTooLarge,
    DatabaseUnavailable,
))]
/// `PUT /api/tickets/:id` `{title, price}`: the seller edits a ticket that is for sale.
/// Checked in the design's order: signed in, valid, exists, not reserved or sold, owned.
pub(crate) async fn update(
    State(tickets): State<TicketStore>,
    RequireUser(seller): RequireUser,
    id: PathId,
    JsonBody(body): JsonBody<TicketBody>,
) -> ApiResult<Json<Ticket>> {
    let valid = validate(body.title.as_ref(), body.price.as_ref())?;
    let ticket = tickets
        .edit(id.get()?, &seller.id, &valid.title, valid.price_cents)
        .await?;
    Ok(Json(ticket))
}
