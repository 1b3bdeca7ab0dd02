use std::num::NonZeroU32;

use crate::rate_limit::SignInLimits;

const SIGNIN_ATTEMPTS_PER_ACCOUNT_PER_MINUTE: NonZeroU32 = NonZeroU32::new(10).unwrap();
const SIGNIN_ATTEMPTS_PER_CLIENT_PER_MINUTE: NonZeroU32 = NonZeroU32::new(60).unwrap();
const SIGNUPS_PER_CLIENT_PER_MINUTE: NonZeroU32 = NonZeroU32::new(10).unwrap();
const PASSWORD_RESETS_PER_CLIENT_PER_MINUTE: NonZeroU32 = NonZeroU32::new(5).unwrap();

/// Settings of the auth service.
#[derive(Debug, Clone, clap::Args)]
pub struct AuthConfig {
    /// Sign-in attempts one account may receive per minute from one client address (password
    /// checks included); a stranger's attempts never spend the owner's budget.
    #[arg(
        long,
        env = "SIGNIN_ATTEMPTS_PER_ACCOUNT_PER_MINUTE",
        default_value_t = SIGNIN_ATTEMPTS_PER_ACCOUNT_PER_MINUTE
    )]
    pub signin_attempts_per_account: NonZeroU32,
    /// Sign-in attempts one client address may make per minute, whatever the account.
    #[arg(
        long,
        env = "SIGNIN_ATTEMPTS_PER_CLIENT_PER_MINUTE",
        default_value_t = SIGNIN_ATTEMPTS_PER_CLIENT_PER_MINUTE
    )]
    pub signin_attempts_per_client: NonZeroU32,
    /// Sign-ups one client address may make per minute.
    #[arg(
        long,
        env = "SIGNUPS_PER_CLIENT_PER_MINUTE",
        default_value_t = SIGNUPS_PER_CLIENT_PER_MINUTE
    )]
    pub signups_per_client: NonZeroU32,
    /// Password-reset requests and confirmations one client address may make per minute (each
    /// request may send an email).
    #[arg(
        long,
        env = "PASSWORD_RESETS_PER_CLIENT_PER_MINUTE",
        default_value_t = PASSWORD_RESETS_PER_CLIENT_PER_MINUTE
    )]
    pub password_resets_per_client: NonZeroU32,
}

impl AuthConfig {
    pub(crate) fn signin_limits(&self) -> SignInLimits {
        SignInLimits {
            per_account_per_minute: self.signin_attempts_per_account,
            per_client_per_minute: self.signin_attempts_per_client,
            signups_per_client_per_minute: self.signups_per_client,
            password_resets_per_client_per_minute: self.password_resets_per_client,
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            signin_attempts_per_account: SIGNIN_ATTEMPTS_PER_ACCOUNT_PER_MINUTE,
            signin_attempts_per_client: SIGNIN_ATTEMPTS_PER_CLIENT_PER_MINUTE,
            signups_per_client: SIGNUPS_PER_CLIENT_PER_MINUTE,
            password_resets_per_client: PASSWORD_RESETS_PER_CLIENT_PER_MINUTE,
        }
    }
}
