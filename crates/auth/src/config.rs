use std::num::NonZeroU32;

use crate::rate_limit::SignInLimits;

const SIGNIN_ATTEMPTS_PER_ACCOUNT_PER_MINUTE: NonZeroU32 = NonZeroU32::new(10).unwrap();
const SIGNIN_ATTEMPTS_PER_CLIENT_PER_MINUTE: NonZeroU32 = NonZeroU32::new(60).unwrap();

/// Settings of the auth service.
#[derive(Debug, Clone, clap::Args)]
pub struct AuthConfig {
    /// Sign-in attempts one account may receive per minute (password checks included).
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
}

impl AuthConfig {
    pub(crate) fn signin_limits(&self) -> SignInLimits {
        SignInLimits {
            per_account_per_minute: self.signin_attempts_per_account,
            per_client_per_minute: self.signin_attempts_per_client,
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            signin_attempts_per_account: SIGNIN_ATTEMPTS_PER_ACCOUNT_PER_MINUTE,
            signin_attempts_per_client: SIGNIN_ATTEMPTS_PER_CLIENT_PER_MINUTE,
        }
    }
}
