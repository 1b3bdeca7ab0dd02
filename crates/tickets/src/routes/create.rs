use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use gittix_shared::error::ErrorBody;
use gittix_shared::json::JsonBody;
use gittix_shared::openapi::responses::{BodyTooLarge, DatabaseUnavailable, SignedOut};
use gittix_shared::session::RequireUser;
use gittix_shared::ApiResult;

use super::TicketBody;
use crate::rules::validate;
use crate::store::TicketStore;
use crate::ticket::Ticket;

#[utoipa::path(post, path = "/api/tickets", operation_id = "createTicket", tag = "tickets", security(("session" = [])),
    request_body = TicketBody, responses(
    (status = 201, description = "Listed: publishes ticket:created", body = Ticket),
    (status = 400, description = "A field is invalid, or the body is not JSON", body = ErrorBody),
    SignedOut,
    BodyTooLarge,
    DatabaseUnavailable,
))]
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
