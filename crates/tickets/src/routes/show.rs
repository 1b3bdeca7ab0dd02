use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use gittix_shared::error::ErrorBody;
use gittix_shared::fees::Fees;
use gittix_shared::id::PathId;
use gittix_shared::openapi::responses::DatabaseUnavailable;
use gittix_shared::{ApiError, ApiResult};

use crate::store::TicketStore;
use crate::ticket::TicketJson;

#[utoipa::path(get, path = "/api/tickets/{id}", operation_id = "showTicket", tag = "tickets", params(("id" = String, Path, description = "The ticket's id")), responses(
    (status = 200, description = "The ticket, whatever its status", body = TicketJson),
    (status = 404, description = "No ticket has this id", body = ErrorBody),
    DatabaseUnavailable,
))]
/// `GET /api/tickets/:id`: any ticket, whatever its status.
pub(crate) async fn show(
    State(tickets): State<TicketStore>,
    State(fees): State<Fees>,
    id: PathId,
) -> ApiResult<Response> {
    let ticket = tickets.find(id.get()?).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(TicketJson::new(&ticket, &fees)).into_response())
}
