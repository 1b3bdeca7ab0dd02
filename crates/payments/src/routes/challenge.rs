use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use gittix_shared::error::ErrorBody;
use gittix_shared::id::PathId;
use gittix_shared::json::JsonBody;
use gittix_shared::openapi::responses::DatabaseUnavailable;
use gittix_shared::session::RequireUser;
use gittix_shared::ApiResult;
use serde::Deserialize;

use crate::payments::Payments;
use crate::routes::create::Payment;

/// The buyer's answer to the test challenge.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct Answer {
    /// `true` for "Complete", `false` for "Fail".
    complete: bool,
}

#[utoipa::path(post, path = "/api/payments/{id}/challenge", operation_id = "answerChallenge", tag = "payments", security(("session" = [])),
    params(("id" = String, Path, description = "The payment attempt's id")),
    request_body = Answer, responses(
    (status = 201, description = "Completed: the order is complete", body = Payment),
    (status = 400, description = "Failed: the attempt is declined and the order may be paid again; or the body is not an answer", body = ErrorBody),
    (status = 401, description = "Signed out, or another user's payment", body = ErrorBody),
    (status = 404, description = "No payment attempt has this id, or Stripe's keys are configured (Stripe.js plays the challenge)", body = ErrorBody),
    (status = 503, description = "The orders service did not decide the order in time: the payment will be settled shortly", body = ErrorBody),
    DatabaseUnavailable,
))]
/// `POST /api/payments/:id/challenge` `{complete}`: in simulator mode, the buyer's answer to the
/// 3-D Secure challenge GitTix plays in place of Stripe's ("Complete" or "Fail").
pub(crate) async fn answer(
    State(payments): State<Payments>,
    RequireUser(buyer): RequireUser,
    id: PathId,
    JsonBody(answer): JsonBody<Answer>,
) -> ApiResult<(StatusCode, Json<Payment>)> {
    let paid = payments
        .answer_challenge(&buyer.id, id.get()?, answer.complete)
        .await?;
    Ok(paid.into())
}
