//! The limits of auth, on the shared rate-limit port (one budget for every replica in
//! distributed mode):
//!
//! - sign-in attempts per client address, whatever the account: guessing across accounts from
//!   one machine is slow;
//! - sign-in attempts per account *from each client*: guessing one account's password is slow,
//!   and a stranger's failed attempts spend the stranger's budget only, never the owner's (a
//!   limit per account alone let ten wrong passwords from anyone lock the owner out);
//! - sign-ups per client address (each costs an argon2 hash and an account);
//! - password resets per client address, requests and confirmations alike (a request may send
//!   an email to anybody's address);
//! - verification links sent again, per account (3 in 10 minutes); reset links per address,
//!   from each client (3 in 10 minutes) and from all together (20 an hour), where a request
//!   over the limit is answered as usual and sends nothing.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use gittix_shared::error::{DomainError, DomainResult};
use gittix_shared::ratelimit::{Decision, Limit, Limiter};

use crate::refusal::Refusal;

/// Emails of one kind (reset links, verification links sent again) an account may be sent: a
/// few, for a lost or late email, but no way to flood an address with mail.
const EMAILS_PER_ACCOUNT: Limit = Limit {
    max: 3,
    per: std::time::Duration::from_secs(10 * 60),
};

/// Reset emails one address is sent from every client together: a bound on a flood from many
/// addresses, loose enough that strangers spending it rarely keep the owner's link from going.
const RESET_EMAILS_PER_ADDRESS: Limit = Limit {
    max: 20,
    per: std::time::Duration::from_secs(60 * 60),
};

#[derive(Debug, Clone, Copy)]
pub struct SignInLimits {
    pub per_account_per_minute: NonZeroU32,
    pub per_client_per_minute: NonZeroU32,
    pub signups_per_client_per_minute: NonZeroU32,
    pub password_resets_per_client_per_minute: NonZeroU32,
}

#[derive(Clone)]
pub struct SignInLimiter {
    limiter: Arc<dyn Limiter>,
    limits: SignInLimits,
}

impl SignInLimiter {
    pub fn new(limiter: Arc<dyn Limiter>, limits: SignInLimits) -> Self {
        Self { limiter, limits }
    }

    /// Counts one sign-in attempt by `client` on the account `email_key`; refused once the
    /// client is over its limit, or over its limit for that account.
    pub async fn check(&self, client: IpAddr, email_key: &str) -> DomainResult<(), Refusal> {
        let per_client = Limit::per_minute(self.limits.per_client_per_minute.get());
        self.hit(&format!("signin:client:{client}"), per_client)
            .await?;
        let per_account = Limit::per_minute(self.limits.per_account_per_minute.get());
        self.hit(&format!("signin:account:{email_key}:{client}"), per_account)
            .await
    }

    /// Counts one sign-up by `client`.
    pub async fn check_sign_up(&self, client: IpAddr) -> DomainResult<(), Refusal> {
        let limit = Limit::per_minute(self.limits.signups_per_client_per_minute.get());
        self.hit(&format!("signup:client:{client}"), limit).await
    }

    /// Counts one password-reset request or confirmation by `client`.
    pub async fn check_password_reset(&self, client: IpAddr) -> DomainResult<(), Refusal> {
        let limit = Limit::per_minute(self.limits.password_resets_per_client_per_minute.get());
        self.hit(&format!("reset:client:{client}"), limit).await
    }

    /// Counts one reset email to the account `email_key` asked for by `client`; false once
    /// that client had its share for the address (3 in 10 minutes), or the address had its
    /// share from every client (20 an hour). The request is then answered as usual and sends
    /// nothing. Counted per client first, so a stranger who keeps asking spends their own
    /// budget and never the owner's.
    pub async fn allows_reset_email(
        &self,
        client: IpAddr,
        email_key: &str,
    ) -> DomainResult<bool, Refusal> {
        for (key, limit) in [
            (
                format!("reset:account:{email_key}:{client}"),
                EMAILS_PER_ACCOUNT,
            ),
            (
                format!("reset:account:{email_key}"),
                RESET_EMAILS_PER_ADDRESS,
            ),
        ] {
            match self.hit(&key, limit).await {
                Ok(()) => {}
                Err(DomainError::Refused(Refusal::TooManyAttempts { .. })) => return Ok(false),
                Err(other) => return Err(other),
            }
        }
        Ok(true)
    }

    /// Counts one verification email asked for by the account `user_id`.
    pub async fn check_verification_email(&self, user_id: &str) -> DomainResult<(), Refusal> {
        self.hit(&format!("verify:user:{user_id}"), EMAILS_PER_ACCOUNT)
            .await
    }

    async fn hit(&self, key: &str, limit: Limit) -> DomainResult<(), Refusal> {
        match self.limiter.hit(key, limit).await? {
            Decision::Allowed => Ok(()),
            Decision::Refused { retry_after } => {
                Err(DomainError::Refused(Refusal::TooManyAttempts {
                    retry_after,
                }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use gittix_shared::ratelimit::LocalLimiter;

    use super::*;

    fn limiter(account: u32, client: u32) -> SignInLimiter {
        SignInLimiter::new(
            Arc::new(LocalLimiter::default()),
            SignInLimits {
                per_account_per_minute: NonZeroU32::new(account).unwrap(),
                per_client_per_minute: NonZeroU32::new(client).unwrap(),
                signups_per_client_per_minute: NonZeroU32::new(1).unwrap(),
                password_resets_per_client_per_minute: NonZeroU32::new(1).unwrap(),
            },
        )
    }

    #[tokio::test]
    async fn an_account_is_limited_per_client_so_a_stranger_cannot_lock_the_owner_out() {
        let l = limiter(2, 100);
        let (stranger, owner): (IpAddr, IpAddr) = ([10, 0, 0, 1].into(), [10, 0, 0, 2].into());
        assert!(l.check(stranger, "a@b.co").await.is_ok());
        assert!(l.check(stranger, "a@b.co").await.is_ok());
        let err = l.check(stranger, "a@b.co").await.unwrap_err();
        assert!(
            matches!(err, DomainError::Refused(Refusal::TooManyAttempts { retry_after }) if retry_after >= Duration::from_secs(1)),
            "{err:?}"
        );
        assert!(l.check(owner, "a@b.co").await.is_ok());
        assert!(l.check(stranger, "other@b.co").await.is_ok());
    }

    #[tokio::test]
    async fn a_client_is_limited_across_accounts() {
        let l = limiter(100, 2);
        let ip: IpAddr = [10, 0, 0, 1].into();
        assert!(l.check(ip, "a@b.co").await.is_ok());
        assert!(l.check(ip, "b@b.co").await.is_ok());
        assert!(l.check(ip, "c@b.co").await.is_err());
        assert!(l.check([10, 0, 0, 2].into(), "c@b.co").await.is_ok());
    }

    #[tokio::test]
    async fn sign_ups_are_limited_per_client() {
        let l = limiter(100, 100);
        assert!(l.check_sign_up([10, 0, 0, 1].into()).await.is_ok());
        assert!(l.check_sign_up([10, 0, 0, 1].into()).await.is_err());
        assert!(l.check_sign_up([10, 0, 0, 2].into()).await.is_ok());
    }
}
