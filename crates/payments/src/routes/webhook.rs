use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use gittix_shared::error::ErrorBody;
use gittix_shared::openapi::responses::{BodyTooLarge, DatabaseUnavailable};
use gittix_shared::time::unix_seconds;
use gittix_shared::{ApiError, ApiResult};

use crate::stripe_events::{Receipt, StripeEvents};

#[utoipa::path(post, path = "/api/payments/webhook", operation_id = "stripeWebhook", tag = "payments",
    params(("Stripe-Signature" = String, Header, description = "`t=<unix seconds>,v1=<hex HMAC-SHA256>`, checked against STRIPE_WEBHOOK_SECRET within 300 s")),
    request_body(content = Object, content_type = "application/json", description = "A Stripe event"),
    responses(
    (status = 200, description = "Received (or received before: `duplicate`)", body = Object, example = json!({"received": true})),
    (status = 400, description = "Webhooks are not configured, the signature is wrong or stale, the body is not a Stripe event, or the charge is not settled yet (Stripe retries)", body = ErrorBody),
    BodyTooLarge,
    DatabaseUnavailable,
))]
/// `POST /api/payments/webhook`: events Stripe sends about charges. Refunds made in Stripe's
/// dashboard mark the charge refunded (and publish `charge:refunded`); disputes are recorded.
pub(crate) async fn webhook(
    State(stripe_events): State<StripeEvents>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    // The raw body (the signature covers its exact bytes), with errors in the API's shape.
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        _ => ApiError::bad_request("Could not read the request body"),
    })?;
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok());
    let now = i64::try_from(unix_seconds()).unwrap_or(i64::MAX);
    Ok(Json(
        match stripe_events.receive(signature, &body, now).await? {
            Receipt::Applied => serde_json::json!({"received": true}),
            Receipt::Duplicate => serde_json::json!({"received": true, "duplicate": true}),
        },
    ))
}
