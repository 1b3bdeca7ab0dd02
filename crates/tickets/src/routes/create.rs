use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use gittix_shared::json::JsonBody;
use gittix_shared::session::RequireUser;
use gittix_shared::ApiResult;

use super::TicketBody;
use crate::rules::validate;
use crate::store::TicketStore;
use crate::ticket::Ticket;

/// `POST /api/tickets` `{title, price}`: lists a ticket for sale; publishes `ticket:created`.
pub(crate) async fn create(
    State(tickets): State<TicketStore>,
    RequireUser(seller): RequireUser,
    JsonBody(body): JsonBody<TicketBody>,
) -> ApiResult<(StatusCode, Json<Ticket>)> {
    let valid = validate(body.title.as_ref(), body.price.as_ref())?;
    let ticket = tickets
        .create(&seller.id, &valid.title, valid.price_cents)
        .await?;
    Ok((StatusCode::CREATED, Json(ticket)))
}
