use axum::extract::{Path, State};
use axum::Json;
use gittix_shared::{ApiError, ApiResult};

use crate::store::TicketStore;
use crate::ticket::Ticket;

/// `GET /api/tickets/:id`: any ticket, whatever its status.
pub(crate) async fn show(
    State(tickets): State<TicketStore>,
    Path(id): Path<String>,
) -> ApiResult<Json<Ticket>> {
    tickets.find(&id).await?.map(Json).ok_or(ApiError::NotFound)
}
