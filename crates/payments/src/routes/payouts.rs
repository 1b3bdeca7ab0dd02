use axum::extract::State;
use axum::Json;
use gittix_shared::openapi::responses::{DatabaseUnavailable, SignedOut};
use gittix_shared::session::RequireUser;
use gittix_shared::time::iso8601;
use gittix_shared::ApiResult;
use serde::Serialize;

use crate::payouts::store::{Payout, PayoutStatus, PayoutStore};

/// One of the seller's payouts.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Payout)]
pub(crate) struct PayoutJson {
    id: String,
    order_id: String,
    ticket_id: String,
    /// What the seller receives, in dollars: the sale's price less the fee.
    #[serde(serialize_with = "gittix_shared::money::serialize_dollars")]
    #[schema(value_type = f64, example = 17.5)]
    amount: i64,
    /// What the platform keeps of the price (`SELLER_FEE_PERCENT` when the sale completed), in
    /// dollars.
    #[serde(serialize_with = "gittix_shared::money::serialize_dollars")]
    #[schema(value_type = f64, example = 2.5)]
    fee: i64,
    /// `held` (waiting for the release time, the buyer's payment or the seller's account),
    /// `paid`, `failed` (tried again later), `cancelled` (refunded before release) or
    /// `reversed` (refunded after).
    #[schema(value_type = String, example = "held")]
    status: PayoutStatus,
    /// When it is released (ISO-8601, UTC): a hold after the event starts, or after delivery.
    release_at: String,
    /// When the transfer was made (ISO-8601, UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    paid_at: Option<String>,
    /// Why a held or failed payout is not paid yet, in words for the seller.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

impl From<Payout> for PayoutJson {
    fn from(payout: Payout) -> Self {
        let waiting = matches!(payout.status, PayoutStatus::Held | PayoutStatus::Failed);
        Self {
            id: payout.id,
            order_id: payout.order_id,
            ticket_id: payout.ticket_id,
            amount: payout.amount,
            fee: payout.seller_fee,
            status: payout.status,
            release_at: iso8601(payout.release_at),
            paid_at: payout.paid_at.map(iso8601),
            reason: payout.failure_reason.filter(|_| waiting),
        }
    }
}

#[utoipa::path(get, path = "/api/payouts", operation_id = "listPayouts", tag = "payouts", security(("session" = [])), responses(
    (status = 200, description = "The caller's payouts as a seller, newest first", body = [PayoutJson]),
    SignedOut,
    DatabaseUnavailable,
))]
/// `GET /api/payouts`: the caller's payouts, newest first.
pub(crate) async fn list(
    State(payouts): State<PayoutStore>,
    RequireUser(seller): RequireUser,
) -> ApiResult<Json<Vec<PayoutJson>>> {
    let payouts = payouts.of_seller(&seller.id).await?;
    Ok(Json(payouts.into_iter().map(PayoutJson::from).collect()))
}
