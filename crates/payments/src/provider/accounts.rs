//! The Connect half of the provider port: sellers' connected (Express) accounts, their hosted
//! onboarding, and the transfers that pay them (separate charges and transfers, design section
//! 8). Both adapters implement it: [`super::simulator::SimulatedStripe`] and
//! [`super::stripe::StripeProvider`], tested by one conformance suite (tests/accounts.rs).

use async_trait::async_trait;

use super::Unavailable;

/// A seller's connected account as GitTix needs to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    /// Stripe can pay out to it: onboarding is complete and nothing is due.
    pub payouts_enabled: bool,
    /// The seller finished the onboarding form (Stripe may still be verifying it).
    pub details_submitted: bool,
}

/// Where the hosted onboarding sends the seller back: `return_url` once the form is left,
/// `refresh_url` when the link has expired and a new one is needed.
#[derive(Debug, Clone)]
pub struct OnboardingReturn {
    pub refresh_url: String,
    pub return_url: String,
}

/// A seller's share of one payment, moved to the seller's account.
#[derive(Debug, Clone)]
pub struct TransferRequest {
    /// The seller's connected account.
    pub destination: String,
    pub amount_cents: i64,
    /// The buyer's charge (`ch_...`) the money comes from: the transfer waits for its funds.
    pub source_transaction: String,
    /// The order: ties the transfer to its payment in Stripe's dashboard.
    pub transfer_group: String,
    /// GitTix's payout, stored on the transfer (metadata `gittix_payout_id`).
    pub payout_id: String,
    pub idempotency_key: String,
}

/// Why a transfer was not made.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// Stripe refused it outright (a bad request, an account that cannot take it): it was not
    /// made, and Stripe would replay the refusal to the same idempotency key, so a later try
    /// takes a new one.
    #[error("transfer refused: {0}")]
    Refused(String),
    /// No answer, or a failure of Stripe's: it may or may not have been made. Asked again
    /// under the same idempotency key, which answers with the first outcome.
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

#[async_trait]
pub trait ConnectedAccounts: Send + Sync + 'static {
    /// Creates a seller's Express account, able to receive transfers. The idempotency key
    /// (one per seller) makes a repeated call return the same account.
    async fn create_account(
        &self,
        seller_id: &str,
        email: Option<&str>,
        idempotency_key: &str,
    ) -> Result<Account, Unavailable>;

    /// The account as the provider knows it now.
    async fn account(&self, account_id: &str) -> Result<Account, Unavailable>;

    /// A single-use link to the hosted onboarding of `account_id`.
    async fn onboarding_link(
        &self,
        account_id: &str,
        back: &OnboardingReturn,
    ) -> Result<String, Unavailable>;

    /// Moves a seller's share to the seller's account; returns the transfer's id (`tr_...`).
    async fn transfer(&self, request: &TransferRequest) -> Result<String, TransferError>;

    /// Takes a transfer back in full (the sale was refunded after the payout); returns the
    /// reversal's id (`trr_...`).
    async fn reverse_transfer(
        &self,
        transfer_id: &str,
        idempotency_key: &str,
    ) -> Result<String, Unavailable>;

    /// The simulator, when this is it: its onboarding is played on a GitTix page.
    fn simulator(&self) -> Option<&super::simulator::SimulatedStripe> {
        None
    }
}
