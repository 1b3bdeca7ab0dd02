use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use gittix_shared::json::JsonBody;
use gittix_shared::session::RequireUser;
use gittix_shared::validation::{lenient_string, Validator};
use gittix_shared::ApiResult;
use serde::{Deserialize, Serialize};

use crate::payments::Payments;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Pay {
    #[serde(default, deserialize_with = "lenient_string")]
    token: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    order_id: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct Paid {
    id: String,
}

/// `POST /api/payments` `{token, orderId}`: charges the order's price; publishes `charge:created`
/// (or `charge:failed` with the card's decline message).
pub(crate) async fn create(
    State(payments): State<Payments>,
    RequireUser(buyer): RequireUser,
    JsonBody(body): JsonBody<Pay>,
) -> ApiResult<(StatusCode, Json<Paid>)> {
    let token = body.token.map(|t| t.trim().to_owned()).unwrap_or_default();
    let order_id = body
        .order_id
        .map(|o| o.trim().to_owned())
        .unwrap_or_default();
    Validator::new()
        .check(!token.is_empty(), "token", "Token must be provided")
        .check(!order_id.is_empty(), "orderId", "OrderId must be provided")
        .finish()?;
    let id = payments.pay(&buyer.id, &order_id, &token).await?;
    Ok((StatusCode::CREATED, Json(Paid { id })))
}
