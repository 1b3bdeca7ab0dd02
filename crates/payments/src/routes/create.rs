use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use gittix_shared::error::ErrorBody;
use gittix_shared::http::ClientIp;
use gittix_shared::id::known_id;
use gittix_shared::json::JsonBody;
use gittix_shared::openapi::responses::{BodyTooLarge, TooManyRequests};
use gittix_shared::session::RequireUser;
use gittix_shared::validation::{lenient_string, Validator};
use gittix_shared::ApiResult;
use serde::{Deserialize, Serialize};

use crate::payments::Payments;
use crate::routes::PaymentBudgets;

/// What to charge, and with which card: a `token` or a `paymentMethod`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Pay {
    /// A Stripe card token, as the original client sends (`tok_visa` with the simulator or
    /// Stripe's test mode).
    #[serde(default, deserialize_with = "lenient_string")]
    #[schema(value_type = String, example = "tok_visa")]
    token: Option<String>,
    /// A Stripe payment method from Stripe.js (`pm_card_visa` in test mode); instead of `token`.
    #[serde(default, deserialize_with = "lenient_string")]
    #[schema(value_type = String, example = "pm_card_visa")]
    payment_method: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    #[schema(value_type = String, required = true)]
    order_id: Option<String>,
}

/// The charge that paid the order.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Paid {
    id: String,
}

#[utoipa::path(post, path = "/api/payments", operation_id = "pay", tag = "payments", security(("session" = [])),
    request_body = Pay, responses(
    (status = 201, description = "Charged: publishes charge:created", body = Paid),
    (status = 400, description = "A field is missing, the body is not JSON, the order is not confirmed (after waiting up to 2 s), cancelled, paid or expired, or the card was declined (its message)", body = ErrorBody),
    (status = 401, description = "Signed out, or another user's order", body = ErrorBody),
    (status = 404, description = "No order has this id (yet: payments learns of orders through events)", body = ErrorBody),
    (status = 503, description = "The database cannot be reached, or the card processor did not answer (\"the payment will be settled shortly\": the charge is settled later, and the order completes or its ticket is released)", body = ErrorBody),
    BodyTooLarge,
    TooManyRequests,
))]
/// `POST /api/payments` `{token | paymentMethod, orderId}`: charges the order's price (authorized,
/// then captured while the order is open); publishes `charge:created`
/// (or `charge:failed` with the card's decline message).
pub(crate) async fn create(
    State(payments): State<Payments>,
    State(budgets): State<PaymentBudgets>,
    ClientIp(client): ClientIp,
    RequireUser(buyer): RequireUser,
    JsonBody(body): JsonBody<Pay>,
) -> ApiResult<(StatusCode, Json<Paid>)> {
    // Every attempt counts, refused ones too: card testing is mostly declines.
    budgets.per_client.spend(client).await?;
    budgets.per_user.spend(&buyer.id).await?;
    let mut validator = Validator::new();
    let payment_method = body
        .payment_method
        .as_deref()
        .map(str::trim)
        .filter(|id| !id.is_empty());
    // The original client sends `token`; Stripe.js v3 gives a payment method.
    let card = match payment_method {
        Some(id) => Some(id),
        None => validator.required_text(
            body.token.as_deref().map(str::trim),
            "token",
            "Token",
            "Token must be provided",
        ),
    }
    .unwrap_or_default();
    let order_id = validator
        .required_text(
            body.order_id.as_deref().map(str::trim),
            "orderId",
            "OrderId",
            "OrderId must be provided",
        )
        .unwrap_or_default();
    validator.finish()?;
    // Not an id: no order has it (404), and the database is not asked.
    let id = payments.pay(&buyer.id, known_id(order_id)?, card).await?;
    Ok((StatusCode::CREATED, Json(Paid { id })))
}
