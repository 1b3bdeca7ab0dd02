use axum::extract::State;
use axum::Json;
use gittix_shared::openapi::responses::{DatabaseUnavailable, SignedOut};
use gittix_shared::session::RequireUser;
use gittix_shared::ApiResult;

use crate::store::TicketStore;
use crate::ticket::Ticket;

#[utoipa::path(get, path = "/api/tickets/mine", operation_id = "myTickets", tag = "tickets", security(("session" = [])), responses(
    (status = 200, description = "The caller's tickets in every status, newest first", body = Vec<Ticket>),
    SignedOut,
    DatabaseUnavailable,
))]
/// `GET /api/tickets/mine`: the caller's own tickets in every status, newest first, so a seller
/// can follow what is for sale, reserved, sold or withdrawn.
pub(crate) async fn mine(
    State(tickets): State<TicketStore>,
    RequireUser(seller): RequireUser,
) -> ApiResult<Json<Vec<Ticket>>> {
    Ok(Json(tickets.listed_by(&seller.id).await?))
}
