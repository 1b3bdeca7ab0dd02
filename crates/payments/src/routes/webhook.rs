use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use gittix_shared::error::ErrorBody;
use gittix_shared::time::unix_seconds;
use gittix_shared::{ApiError, ApiResult};

use crate::store::PaymentStore;
use crate::webhook::{verify, StripeEvent};
use crate::WebhookSecret;

#[utoipa::path(post, path = "/api/payments/webhook", operation_id = "stripeWebhook", tag = "payments",
    params(("Stripe-Signature" = String, Header, description = "`t=<unix seconds>,v1=<hex HMAC-SHA256>`, checked against STRIPE_WEBHOOK_SECRET within 300 s")),
    request_body(content = Object, content_type = "application/json", description = "A Stripe event"),
    responses(
    (status = 200, description = "Received (or received before: `duplicate`)", body = Object, example = json!({"received": true})),
    (status = 400, description = "Webhooks are not configured, the signature is wrong or stale, the body is not a Stripe event, or the charge is not settled yet (Stripe retries)", body = ErrorBody),
    (status = 413, description = "The body is over the size limit", body = ErrorBody),
    (status = 503, description = "The service's database cannot be reached", body = ErrorBody),
))]
/// `POST /api/payments/webhook`: events Stripe sends about charges. Refunds made in Stripe's
/// dashboard mark the charge refunded (and publish `charge:refunded`); disputes are recorded.
pub(crate) async fn webhook(
    State(store): State<PaymentStore>,
    State(WebhookSecret(secret)): State<WebhookSecret>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    // The raw body (the signature covers its exact bytes), with errors in the API's shape.
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        _ => ApiError::bad_request("Could not read the request body"),
    })?;
    let secret = secret.ok_or_else(|| {
        ApiError::bad_request("Webhooks are not configured (STRIPE_WEBHOOK_SECRET)")
    })?;
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok());
    let now = i64::try_from(unix_seconds()).unwrap_or(i64::MAX);
    verify(&secret, signature, &body, now)
        .map_err(|_| ApiError::bad_request("Invalid webhook signature"))?;
    let event: StripeEvent = serde_json::from_slice(&body)
        .map_err(|_| ApiError::bad_request("Webhook body is not a Stripe event"))?;
    if store.webhook_event_seen(&event.id).await? {
        return Ok(Json(
            serde_json::json!({"received": true, "duplicate": true}),
        ));
    }
    let object = &event.data.object;
    let text = |field: &str| {
        object
            .get(field)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    match event.kind.as_str() {
        "charge.refunded" => {
            let ours = match object
                .pointer("/metadata/gittix_charge_id")
                .and_then(serde_json::Value::as_str)
            {
                Some(id) => store.charge_by_id(id).await?,
                None => store.charge_by_stripe_id(&text("id")).await?,
            };
            if let Some(charge) = ours {
                if charge.status == "created" {
                    // Our attempt is not settled yet; answer an error so Stripe sends it again.
                    return Err(ApiError::bad_request("Charge not settled yet; retry later"));
                }
                let refund_id = object
                    .pointer("/refunds/data/0/id")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("refunded-in-stripe");
                // Only a completed charge moves to refunded; one refunded by GitTix stays as is.
                store.refunded(&charge, refund_id).await?;
            }
        }
        "charge.dispute.created" | "charge.dispute.updated" | "charge.dispute.closed" => {
            let amount = object
                .get("amount")
                .and_then(serde_json::Value::as_i64)
                .unwrap_or_default();
            store
                .record_dispute(
                    &text("id"),
                    &text("charge"),
                    &text("reason"),
                    &text("status"),
                    amount,
                )
                .await?;
            tracing::warn!(dispute = %text("id"), charge = %text("charge"), "a charge is disputed");
        }
        other => tracing::debug!(kind = other, "webhook event ignored"),
    }
    // Recorded after its effect (which is idempotent), so a crash in between only repeats it.
    store.record_webhook_event(&event.id, &event.kind).await?;
    Ok(Json(serde_json::json!({"received": true})))
}
