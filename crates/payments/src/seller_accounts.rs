//! Sellers' Stripe Connect accounts (design, section 3, payouts): made once per seller, onboarded
//! through Stripe's hosted form (or the simulator's page), and `enabled` once Stripe can pay out
//! to them, as an `account.updated` webhook or asking Stripe tells.

use std::sync::Arc;

use tokio::sync::Notify;

use gittix_shared::db::{is_unique_violation, Db};
use gittix_shared::time::unix_millis;
use gittix_shared::{DomainError, DomainResult};

use crate::payouts::store::PayoutStore;
use crate::provider::accounts::{Account, ConnectedAccounts, OnboardingReturn};
use crate::refusal::Refusal;

gittix_shared::wire_enum! {
    /// Whether a seller can be paid out to.
    pub enum AccountStatus {
        /// No account yet: `POST /api/payouts/account` makes one.
        None = "none",
        /// Made, but Stripe cannot pay out to it yet: the onboarding is not complete.
        Pending = "pending",
        /// Stripe can pay out to it.
        Enabled = "enabled",
    }
}

impl AccountStatus {
    fn of(account: &Account) -> Self {
        if account.payouts_enabled {
            Self::Enabled
        } else {
            Self::Pending
        }
    }
}

#[derive(Clone)]
pub(crate) struct SellerAccounts {
    db: Db,
    provider: Arc<dyn ConnectedAccounts>,
    /// Where Stripe's onboarding sends sellers back: GitTix's payouts page.
    back: Arc<OnboardingReturn>,
    /// Told when an account becomes enabled: its payouts waiting for it are tried at once.
    pub(crate) enabled: Arc<Notify>,
}

impl SellerAccounts {
    /// `public_url` is where people reach GitTix (`PUBLIC_URL`, no trailing slash).
    pub(crate) fn new(db: Db, provider: Arc<dyn ConnectedAccounts>, public_url: &str) -> Self {
        let back = OnboardingReturn {
            refresh_url: format!("{public_url}/payouts?onboarding=expired"),
            return_url: format!("{public_url}/payouts"),
        };
        Self {
            db,
            provider,
            back: Arc::new(back),
            enabled: Arc::new(Notify::new()),
        }
    }

    /// The seller's account (its Stripe id and status) as recorded.
    async fn recorded(&self, seller: &str) -> sqlx::Result<Option<(String, AccountStatus)>> {
        sqlx::query_as("SELECT stripe_account_id, status FROM seller_accounts WHERE user_id = $1")
            .bind(seller)
            .fetch_optional(self.db.pool())
            .await
    }

    /// Starts or resumes the seller's onboarding: the account is made at Stripe on the first
    /// call (its idempotency key is the seller, so a retried call gets the same account; a
    /// concurrent one is refused by Stripe while the first is in progress) and recorded; every
    /// call gets a fresh single-use link, to the account recorded.
    pub(crate) async fn onboarding_link(
        &self,
        seller: &str,
        email: Option<&str>,
    ) -> DomainResult<String, Refusal> {
        let account_id = match self.recorded(seller).await? {
            Some((id, _)) => id,
            None => {
                let key = format!("gittix-account-{seller}");
                let account = self
                    .provider
                    .create_account(seller, email, &key)
                    .await
                    .map_err(stripe_down)?;
                self.record(seller, &account).await?;
                // Whichever account was recorded first is the seller's.
                self.recorded(seller)
                    .await?
                    .map(|(id, _)| id)
                    .ok_or_else(|| {
                        DomainError::Other(anyhow::anyhow!("the account was not recorded"))
                    })?
            }
        };
        self.provider
            .onboarding_link(&account_id, &self.back)
            .await
            .map_err(stripe_down)
    }

    /// Records a new account; a concurrent call that recorded it first wins, with the same one.
    async fn record(&self, seller: &str, account: &Account) -> sqlx::Result<()> {
        let now = unix_millis();
        let inserted = sqlx::query(
            "INSERT INTO seller_accounts (user_id, stripe_account_id, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(seller)
        .bind(&account.id)
        .bind(AccountStatus::of(account))
        .bind(now)
        .execute(self.db.pool())
        .await;
        match inserted {
            Err(error) if is_unique_violation(&error) => Ok(()),
            other => other.map(|_| ()),
        }
    }

    /// Where the seller's account stands. A pending one is asked about at Stripe, in case its
    /// `account.updated` webhook is late or lost; if Stripe does not answer, the recorded
    /// status stands.
    pub(crate) async fn status(&self, seller: &str) -> sqlx::Result<AccountStatus> {
        match self.recorded(seller).await? {
            None => Ok(AccountStatus::None),
            Some((_, AccountStatus::Enabled)) => Ok(AccountStatus::Enabled),
            Some((id, recorded)) => match self.provider.account(&id).await {
                Ok(account) => self.updated(&account).await.map(|s| s.unwrap_or(recorded)),
                Err(error) => {
                    tracing::warn!(account = %id, %error, "asking Stripe about an account failed");
                    Ok(recorded)
                }
            },
        }
    }

    /// Stripe says `account` is as given (a webhook, or an answer): its status is recorded.
    /// An account is never moved back from enabled to pending here: payouts are held by Stripe
    /// itself when it disables an account, and a late, older event must not undo a newer one.
    /// `None` when the account is not one of ours.
    pub(crate) async fn updated(&self, account: &Account) -> sqlx::Result<Option<AccountStatus>> {
        let status = AccountStatus::of(account);
        if status == AccountStatus::Enabled {
            let enabled = sqlx::query(
                "UPDATE seller_accounts SET status = $2, updated_at = $3                  WHERE stripe_account_id = $1 AND status <> $2",
            )
            .bind(&account.id)
            .bind(status)
            .bind(unix_millis())
            .execute(self.db.pool())
            .await?;
            if enabled.rows_affected() == 1 {
                PayoutStore::new(self.db.clone())
                    .wake_seller(&account.id)
                    .await?;
                self.enabled.notify_one();
            }
        }
        let recorded: Option<AccountStatus> =
            sqlx::query_scalar("SELECT status FROM seller_accounts WHERE stripe_account_id = $1")
                .bind(&account.id)
                .fetch_optional(self.db.pool())
                .await?;
        Ok(recorded)
    }

    /// The seller's recorded account, whatever its status.
    pub(crate) async fn recorded_account(&self, seller: &str) -> sqlx::Result<Option<String>> {
        Ok(self.recorded(seller).await?.map(|(id, _)| id))
    }

    /// The seller's account, if it can be paid out to now (a pending one is asked about at
    /// Stripe first, as [`Self::status`] does).
    pub(crate) async fn payable(&self, seller: &str) -> sqlx::Result<Option<String>> {
        let Some((id, _)) = self.recorded(seller).await? else {
            return Ok(None);
        };
        Ok((self.status(seller).await? == AccountStatus::Enabled).then_some(id))
    }

    /// In simulator mode, the seller completes the onboarding page GitTix plays in place of
    /// Stripe's form.
    pub(crate) async fn complete_simulated_onboarding(
        &self,
        seller: &str,
    ) -> DomainResult<AccountStatus, Refusal> {
        let simulator = self.provider.simulator().ok_or(Refusal::NoSellerAccount)?;
        let (id, _) = self
            .recorded(seller)
            .await?
            .ok_or(Refusal::NoSellerAccount)?;
        let account = simulator
            .complete_onboarding(&id)
            .ok_or(Refusal::NoSellerAccount)?;
        Ok(self.updated(&account).await?.unwrap_or(AccountStatus::None))
    }
}

fn stripe_down(error: crate::provider::Unavailable) -> DomainError<Refusal> {
    tracing::warn!(%error, "a call to Stripe Connect failed");
    Refusal::StripeDown.into()
}
