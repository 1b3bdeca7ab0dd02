use axum::extract::State;
use axum::http::StatusCode;
use gittix_shared::error::ErrorBody;
use gittix_shared::id::PathId;
use gittix_shared::openapi::responses::DatabaseUnavailable;
use gittix_shared::session::RequireUser;
use gittix_shared::ApiResult;

use crate::store::TicketStore;

#[utoipa::path(delete, path = "/api/tickets/{id}", operation_id = "withdrawTicket", tag = "tickets", security(("session" = [])), params(("id" = String, Path, description = "The ticket's id")), responses(
    (status = 204, description = "Withdrawn (or already was): publishes ticket:updated"),
    (status = 400, description = "The ticket is reserved or sold", body = ErrorBody),
    (status = 401, description = "Signed out, or another user's ticket", body = ErrorBody),
    (status = 404, description = "No ticket has this id", body = ErrorBody),
    DatabaseUnavailable,
))]
/// `DELETE /api/tickets/:id`: the seller withdraws a ticket that is for sale; publishes
/// `ticket:updated` with status `withdrawn`. Withdrawing it again changes nothing (204).
pub(crate) async fn withdraw(
    State(tickets): State<TicketStore>,
    RequireUser(seller): RequireUser,
    id: PathId,
) -> ApiResult<StatusCode> {
    tickets.withdraw(id.get()?, &seller.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
