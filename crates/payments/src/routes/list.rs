use axum::extract::{Query, State};
use axum::Json;
use gittix_shared::error::ErrorBody;
use gittix_shared::id::{known_id, PathId};
use gittix_shared::openapi::responses::DatabaseUnavailable;
use gittix_shared::session::RequireUser;
use gittix_shared::time::iso8601;
use gittix_shared::validation::Validator;
use gittix_shared::ApiResult;
use serde::{Deserialize, Serialize};

use crate::payments::Payments;
use crate::store::{Charge, ChargeStatus};

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ForOrder {
    /// The order whose payment attempts to list.
    order_id: Option<String>,
}

/// One payment attempt.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Attempt {
    id: String,
    /// `created`, `requires_action`, `authorized`, `failed`, `completed` or `refunded`.
    #[schema(example = "completed")]
    status: String,
    /// In dollars: the order's total (its price and the buyer fee).
    #[serde(serialize_with = "gittix_shared::money::serialize_dollars")]
    #[schema(value_type = f64, example = 19.99)]
    amount: i64,
    /// ISO-8601, UTC.
    created_at: String,
    order_id: String,
    /// While the attempt waits for 3-D Secure (`requires_action`): what Stripe.js needs to
    /// play the challenge.
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
    /// Why a `failed` attempt failed, in words for the buyer.
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_reason: Option<String>,
}

impl From<Charge> for Attempt {
    fn from(charge: Charge) -> Self {
        let waiting = charge.status == ChargeStatus::RequiresAction;
        let failed = charge.status == ChargeStatus::Failed;
        Self {
            id: charge.id,
            status: charge.status.as_str().to_owned(),
            amount: charge.amount,
            created_at: iso8601(charge.created_at),
            order_id: charge.order_id,
            client_secret: charge.client_secret.filter(|_| waiting),
            failure_reason: charge.failure_reason.filter(|_| failed),
        }
    }
}

#[utoipa::path(get, path = "/api/payments", operation_id = "listPayments", tag = "payments", security(("session" = [])),
    params(ForOrder), responses(
    (status = 200, description = "The caller's payment attempts for the order, oldest first", body = [Attempt]),
    (status = 400, description = "orderId is missing", body = ErrorBody),
    (status = 401, description = "Signed out, or another user's order", body = ErrorBody),
    (status = 404, description = "No order has this id", body = ErrorBody),
    DatabaseUnavailable,
))]
/// `GET /api/payments?orderId=`: the caller's payment attempts for one order.
pub(crate) async fn list(
    State(payments): State<Payments>,
    RequireUser(buyer): RequireUser,
    Query(query): Query<ForOrder>,
) -> ApiResult<Json<Vec<Attempt>>> {
    let mut validator = Validator::new();
    let order_id = validator
        .required_text(
            query.order_id.as_deref().map(str::trim),
            "orderId",
            "OrderId",
            "OrderId must be provided",
        )
        .unwrap_or_default();
    validator.finish()?;
    let attempts = payments.attempts(&buyer.id, known_id(order_id)?).await?;
    Ok(Json(attempts.into_iter().map(Attempt::from).collect()))
}

#[utoipa::path(get, path = "/api/payments/{id}", operation_id = "showPayment", tag = "payments", security(("session" = [])),
    params(("id" = String, Path, description = "The payment attempt's id")),
    responses(
    (status = 200, description = "The attempt; one waiting for 3-D Secure is asked of Stripe first", body = Attempt),
    (status = 401, description = "Signed out, or another user's payment", body = ErrorBody),
    (status = 404, description = "No payment attempt has this id", body = ErrorBody),
    DatabaseUnavailable,
))]
/// `GET /api/payments/:id`: one of the caller's payment attempts, as it stands now.
pub(crate) async fn show(
    State(payments): State<Payments>,
    RequireUser(buyer): RequireUser,
    id: PathId,
) -> ApiResult<Json<Attempt>> {
    let attempt = payments.attempt(&buyer.id, id.get()?).await?;
    Ok(Json(attempt.into()))
}
