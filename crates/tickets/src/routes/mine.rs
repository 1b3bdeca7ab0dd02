use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use gittix_shared::fees::Fees;
use gittix_shared::openapi::responses::{DatabaseUnavailable, SignedOut};
use gittix_shared::session::RequireUser;
use gittix_shared::ApiResult;

use crate::store::TicketStore;
use crate::ticket::OwnTicketJson;

#[utoipa::path(get, path = "/api/tickets/mine", operation_id = "myTickets", tag = "tickets", security(("session" = [])), responses(
    (status = 200, description = "The caller's tickets in every status, newest first, with each sale's delivery", body = Vec<OwnTicketJson>),
    SignedOut,
    DatabaseUnavailable,
))]
/// `GET /api/tickets/mine`: the caller's own tickets in every status, newest first, so a seller
/// can follow what is for sale, reserved, sold or withdrawn, and which sale awaits its file.
pub(crate) async fn mine(
    State(tickets): State<TicketStore>,
    State(fees): State<Fees>,
    RequireUser(seller): RequireUser,
) -> ApiResult<Response> {
    let listed = tickets.listed_by(&seller.id).await?;
    let json: Vec<_> = listed
        .iter()
        .map(|(ticket, has_file)| OwnTicketJson::new(ticket, Some(*has_file), &fees))
        .collect();
    Ok(Json(json).into_response())
}
