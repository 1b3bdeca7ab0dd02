use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use gittix_shared::error::ErrorBody;
use gittix_shared::fees::Fees;
use gittix_shared::json::JsonBody;
use gittix_shared::openapi::responses::{BodyTooLarge, DatabaseUnavailable, SignedOut};
use gittix_shared::session::RequireUser;
use gittix_shared::ApiResult;

use super::{event_to_list_for, TicketBody};
use crate::event_store::EventStore;
use crate::rules::{validate, within_resale_cap};
use crate::store::TicketStore;
use crate::ticket::TicketJson;
use crate::ListingRules;

#[utoipa::path(post, path = "/api/tickets", operation_id = "createTicket", tag = "tickets", security(("session" = [])),
    request_body = TicketBody, responses(
    (status = 201, description = "Listed: publishes ticket:created", body = TicketJson),
    (status = 400, description = "A field is invalid (the event unknown or started, the price above the resale cap), or the body is not JSON", body = ErrorBody),
    SignedOut,
    BodyTooLarge,
    DatabaseUnavailable,
))]
/// `POST /api/tickets` `{title, price, eventId?, section?, row?, seat?, faceValue?}`: lists a
/// ticket for sale; publishes `ticket:created`.
pub(crate) async fn create(
    State(tickets): State<TicketStore>,
    State(events): State<EventStore>,
    State(rules): State<ListingRules>,
    RequireUser(seller): RequireUser,
    State(fees): State<Fees>,
    JsonBody(body): JsonBody<TicketBody>,
) -> ApiResult<Response> {
    let valid = validate(&body.fields())?;
    let event = event_to_list_for(&events, valid.event_id.as_deref()).await?;
    within_resale_cap(
        valid.price_cents,
        valid.face_value_cents,
        rules.resale_cap_percent,
    )?;
    let event_id = event.as_ref().map(|e| e.id.as_str());
    let ticket = tickets.create(&seller.id, &valid, event_id).await?;
    Ok((StatusCode::CREATED, Json(TicketJson::new(&ticket, &fees))).into_response())
}
