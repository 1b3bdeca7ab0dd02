use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use gittix_shared::json::JsonBody;
use gittix_shared::session::RequireUser;
use gittix_shared::validation::{lenient_string, Validator};
use gittix_shared::ApiResult;
use serde::Deserialize;

use crate::order::OrderJson;
use crate::store::OrderStore;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateOrder {
    #[serde(default, deserialize_with = "lenient_string")]
    ticket_id: Option<String>,
}

/// `POST /api/orders` `{ticketId}`: reserves the ticket for the lock window; publishes `order:created`.
pub(crate) async fn create(
    State(orders): State<OrderStore>,
    RequireUser(buyer): RequireUser,
    JsonBody(body): JsonBody<CreateOrder>,
) -> ApiResult<(StatusCode, Json<OrderJson>)> {
    let ticket_id = body
        .ticket_id
        .map(|id| id.trim().to_owned())
        .unwrap_or_default();
    Validator::new()
        .check(
            !ticket_id.is_empty(),
            "ticketId",
            "TicketId must be provided",
        )
        .finish()?;
    let order = orders.create(&buyer.id, &ticket_id).await??;
    Ok((StatusCode::CREATED, Json(order.into())))
}
