use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use gittix_shared::error::ErrorBody;
use gittix_shared::id::known_id;
use gittix_shared::json::JsonBody;
use gittix_shared::openapi::responses::{
    BodyTooLarge, DatabaseUnavailable, SignedOut, TooManyRequests,
};
use gittix_shared::ratelimit::Budget;
use gittix_shared::session::RequireUser;
use gittix_shared::validation::{lenient_string, Validator};
use gittix_shared::ApiResult;
use serde::Deserialize;

use crate::order::OrderJson;
use crate::store::OrderStore;

/// The ticket to reserve.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateOrder {
    #[serde(default, deserialize_with = "lenient_string")]
    #[schema(value_type = String, required = true)]
    ticket_id: Option<String>,
}

#[utoipa::path(post, path = "/api/orders", operation_id = "createOrder", tag = "orders", security(("session" = [])),
    request_body = CreateOrder, responses(
    (status = 201, description = "Reserved until expiresAt: publishes order:created", body = OrderJson),
    (status = 400, description = "ticketId is missing, the body is not JSON, the ticket is reserved or sold, it is the caller's own, the caller already holds MAX_HELD_TICKETS unpaid orders, or the caller's hold on it expired less than REHOLD_COOLDOWN_SECONDS ago", body = ErrorBody),
    SignedOut,
    TooManyRequests,
    (status = 404, description = "No ticket has this id, or it was withdrawn", body = ErrorBody),
    BodyTooLarge,
    DatabaseUnavailable,
))]
/// `POST /api/orders` `{ticketId}`: reserves the ticket for the lock window; publishes `order:created`.
pub(crate) async fn create(
    State(orders): State<OrderStore>,
    State(budget): State<Budget>,
    RequireUser(buyer): RequireUser,
    JsonBody(body): JsonBody<CreateOrder>,
) -> ApiResult<(StatusCode, Json<OrderJson>)> {
    // Every attempt counts, refused ones too: a script hammering sold tickets is slowed as well.
    budget.spend(&buyer.id).await?;
    let mut validator = Validator::new();
    let ticket_id = validator
        .required_text(
            body.ticket_id.as_deref().map(str::trim),
            "ticketId",
            "TicketId",
            "TicketId must be provided",
        )
        .unwrap_or_default();
    validator.finish()?;
    // Not an id: no ticket has it (404), and the database is not asked.
    let order = orders.create(&buyer.id, known_id(ticket_id)?).await?;
    Ok((StatusCode::CREATED, Json(order.into())))
}
