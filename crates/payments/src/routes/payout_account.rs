use axum::extract::State;
use axum::Json;
use gittix_shared::error::ErrorBody;
use gittix_shared::openapi::responses::{DatabaseUnavailable, SignedOut};
use gittix_shared::session::RequireUser;
use gittix_shared::ApiResult;
use serde::Serialize;

use crate::seller_accounts::{AccountStatus, SellerAccounts};

/// Where the seller completes the onboarding.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct OnboardingLink {
    /// Stripe's hosted onboarding (single use), or in simulator mode the GitTix page that plays it.
    #[schema(example = "https://connect.stripe.com/setup/e/acct_1Nv0FGQ9RKHgCVdK/abc")]
    url: String,
}

/// Whether the seller can be paid out to.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = PayoutAccount)]
pub(crate) struct AccountState {
    /// `none` (no account yet), `pending` (onboarding not complete) or `enabled`.
    #[schema(value_type = String, example = "pending")]
    status: AccountStatus,
}

#[utoipa::path(post, path = "/api/payouts/account", operation_id = "startPayoutOnboarding", tag = "payouts", security(("session" = [])), responses(
    (status = 200, description = "The seller's Stripe Connect account, made on the first call, and a fresh onboarding link", body = OnboardingLink),
    SignedOut,
    (status = 503, description = "The database cannot be reached, or Stripe did not answer (nothing changed; try again)", body = ErrorBody),
))]
/// `POST /api/payouts/account`: starts or resumes the seller's onboarding.
pub(crate) async fn start(
    State(accounts): State<SellerAccounts>,
    RequireUser(seller): RequireUser,
) -> ApiResult<Json<OnboardingLink>> {
    let url = accounts
        .onboarding_link(&seller.id, Some(&seller.email))
        .await?;
    Ok(Json(OnboardingLink { url }))
}

#[utoipa::path(get, path = "/api/payouts/account", operation_id = "showPayoutAccount", tag = "payouts", security(("session" = [])), responses(
    (status = 200, description = "Whether the caller can be paid out to (a pending account is asked about at Stripe)", body = AccountState),
    SignedOut,
    DatabaseUnavailable,
))]
/// `GET /api/payouts/account`: `none`, `pending` or `enabled`.
pub(crate) async fn show(
    State(accounts): State<SellerAccounts>,
    RequireUser(seller): RequireUser,
) -> ApiResult<Json<AccountState>> {
    let status = accounts.status(&seller.id).await?;
    Ok(Json(AccountState { status }))
}

#[utoipa::path(post, path = "/api/payouts/account/onboarding", operation_id = "completeSimulatedOnboarding", tag = "payouts", security(("session" = [])), responses(
    (status = 200, description = "The simulated onboarding is complete: the account is enabled", body = AccountState),
    SignedOut,
    (status = 404, description = "The caller has no account yet, or Stripe's keys are configured (Stripe's hosted form onboards)", body = ErrorBody),
    DatabaseUnavailable,
))]
/// `POST /api/payouts/account/onboarding`: in simulator mode, the seller completes the onboarding
/// page GitTix plays in place of Stripe's form.
pub(crate) async fn complete_simulated(
    State(accounts): State<SellerAccounts>,
    RequireUser(seller): RequireUser,
) -> ApiResult<Json<AccountState>> {
    let status = accounts.complete_simulated_onboarding(&seller.id).await?;
    Ok(Json(AccountState { status }))
}
