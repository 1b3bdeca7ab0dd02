use axum::extract::{Query, State};
use axum::Json;
use gittix_shared::error::ErrorBody;
use gittix_shared::id::known_id;
use gittix_shared::openapi::responses::DatabaseUnavailable;
use gittix_shared::session::RequireUser;
use gittix_shared::time::iso8601;
use gittix_shared::validation::Validator;
use gittix_shared::ApiResult;
use serde::{Deserialize, Serialize};

use crate::payments::Payments;
use crate::store::Charge;

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
    /// In dollars, as the order's price.
    #[serde(serialize_with = "gittix_shared::money::serialize_dollars")]
    #[schema(value_type = f64, example = 19.99)]
    amount: i64,
    /// ISO-8601, UTC.
    created_at: String,
}

impl From<Charge> for Attempt {
    fn from(charge: Charge) -> Self {
        Self {
            id: charge.id,
            status: charge.status.as_str().to_owned(),
            amount: charge.amount,
            created_at: iso8601(charge.created_at),
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
