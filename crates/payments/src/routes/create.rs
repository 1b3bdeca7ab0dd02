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

use crate::payments::{Paid, Payments};
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

/// The payment attempt: `succeeded` (the order is complete), or `requires_action` (the card asks
/// for 3-D Secure: answer the challenge with `clientSecret`, in Stripe.js or at `nextAction.url`).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Payment {
    id: String,
    #[schema(example = "succeeded")]
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_action: Option<NextAction>,
}

/// Where the buyer answers the 3-D Secure challenge.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct NextAction {
    #[schema(example = "/payments/0190a5d4-7c2e-7b3a-9f1e-2d4c6b8a0e1f/challenge")]
    url: String,
}

impl From<Paid> for (StatusCode, Json<Payment>) {
    fn from(paid: Paid) -> Self {
        match paid {
            Paid::Succeeded { id } => (
                StatusCode::CREATED,
                Json(Payment {
                    id,
                    status: "succeeded",
                    client_secret: None,
                    next_action: None,
                }),
            ),
            Paid::RequiresAction { id, client_secret } => (
                StatusCode::ACCEPTED,
                Json(Payment {
                    next_action: Some(NextAction {
                        url: format!("/payments/{id}/challenge"),
                    }),
                    id,
                    status: "requires_action",
                    client_secret: Some(client_secret),
                }),
            ),
        }
    }
}

#[utoipa::path(post, path = "/api/payments", operation_id = "pay", tag = "payments", security(("session" = [])),
    request_body = Pay, responses(
    (status = 201, description = "Paid: the order is complete (publishes charge:authorized, then charge:created once captured)", body = Payment),
    (status = 202, description = "The card asks for 3-D Secure: status requires_action, with the challenge's clientSecret and nextAction; the outcome arrives later", body = Payment),
    (status = 400, description = "A field is missing, the body is not JSON, the order is not confirmed (after waiting up to 2 s), cancelled, paid or expired, the order ended before the payment completed (nothing charged), or the card was declined (its message)", body = ErrorBody),
    (status = 401, description = "Signed out, or another user's order", body = ErrorBody),
    (status = 404, description = "No order has this id (yet: payments learns of orders through events)", body = ErrorBody),
    (status = 503, description = "The database cannot be reached, or the card processor (or the orders service) did not answer in time (\"the payment will be settled shortly\": the attempt is settled later, and the order completes or its ticket is released, with nothing charged)", body = ErrorBody),
    BodyTooLarge,
    TooManyRequests,
))]
/// `POST /api/payments` `{token | paymentMethod, orderId}`: charges the order's total (authorized,
/// then captured while the order is open); publishes `charge:created`
/// (or `charge:failed` with the card's decline message).
pub(crate) async fn create(
    State(payments): State<Payments>,
    State(budgets): State<PaymentBudgets>,
    ClientIp(client): ClientIp,
    RequireUser(buyer): RequireUser,
    JsonBody(body): JsonBody<Pay>,
) -> ApiResult<(StatusCode, Json<Payment>)> {
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
    Ok(payments
        .pay(&buyer.id, known_id(order_id)?, card)
        .await?
        .into())
}
