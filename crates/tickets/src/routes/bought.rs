use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use gittix_shared::domain::TicketStatus;
use gittix_shared::fees::Fees;
use gittix_shared::openapi::responses::{DatabaseUnavailable, SignedOut};
use gittix_shared::session::RequireUser;
use gittix_shared::ApiResult;

use crate::store::TicketStore;
use crate::ticket::OwnTicketJson;

#[utoipa::path(get, path = "/api/tickets/bought", operation_id = "boughtTickets", tag = "tickets", security(("session" = [])), responses(
    (status = 200, description = "The tickets the caller bought, newest first, with each one's delivery", body = Vec<OwnTicketJson>),
    SignedOut,
    DatabaseUnavailable,
))]
/// `GET /api/tickets/bought`: the caller's bought tickets, each with whether its file is theirs to
/// download (`delivery: delivered`), still awaited, or undelivered and refunded.
pub(crate) async fn bought(
    State(tickets): State<TicketStore>,
    State(fees): State<Fees>,
    RequireUser(buyer): RequireUser,
) -> ApiResult<Response> {
    let held = tickets.bought_by(&buyer.id).await?;
    let json: Vec<_> = held
        .iter()
        // A reservation being paid for is the order's, not yet a bought ticket.
        .filter(|(ticket, _)| ticket.status == TicketStatus::Sold)
        // Whether the seller uploaded a file is the seller's business until it is delivered.
        .map(|(ticket, _)| OwnTicketJson::new(ticket, None, &fees))
        .collect();
    Ok(Json(json).into_response())
}
