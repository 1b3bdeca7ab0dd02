//! Sign-in rate limits, per client address and per account, so guessing passwords is slow both
//! from one machine against many accounts and from many machines against one account.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::refusal::Refusal;

/// How often keys whose quota has refilled are forgotten.
const CLEANUP_PERIOD: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy)]
pub struct SignInLimits {
    pub per_account_per_minute: NonZeroU32,
    pub per_client_per_minute: NonZeroU32,
}

#[derive(Clone)]
pub struct SignInLimiter {
    per_account: Arc<DefaultKeyedRateLimiter<String>>,
    per_client: Arc<DefaultKeyedRateLimiter<IpAddr>>,
}

impl SignInLimiter {
    pub fn new(limits: SignInLimits) -> Self {
        Self {
            per_account: Arc::new(RateLimiter::keyed(Quota::per_minute(
                limits.per_account_per_minute,
            ))),
            per_client: Arc::new(RateLimiter::keyed(Quota::per_minute(
                limits.per_client_per_minute,
            ))),
        }
    }

    /// Counts one attempt by `client` on the account `email_key`; refused once either is over
    /// its quota.
    pub fn check(&self, client: IpAddr, email_key: &str) -> Result<(), Refusal> {
        let now = DefaultClock::default().now();
        let too_many = |retry_after: Duration| Refusal::TooManyAttempts { retry_after };
        self.per_client
            .check_key(&client)
            .map_err(|not_until| too_many(not_until.wait_time_from(now)))?;
        self.per_account
            .check_key(&email_key.to_owned())
            .map_err(|not_until| too_many(not_until.wait_time_from(now)))
    }

    /// Forgets keys whose quota has refilled, once a minute, so memory stays bounded; stops
    /// when `shutdown` fires.
    pub fn spawn_cleanup(&self, shutdown: CancellationToken) -> JoinHandle<()> {
        let limiter = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(CLEANUP_PERIOD);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    () = shutdown.cancelled() => return,
                }
                limiter.per_account.retain_recent();
                limiter.per_client.retain_recent();
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(account: u32, client: u32) -> SignInLimiter {
        SignInLimiter::new(SignInLimits {
            per_account_per_minute: NonZeroU32::new(account).unwrap(),
            per_client_per_minute: NonZeroU32::new(client).unwrap(),
        })
    }

    #[test]
    fn an_account_is_limited_across_clients() {
        let l = limiter(2, 100);
        assert!(l.check([10, 0, 0, 1].into(), "a@b.co").is_ok());
        assert!(l.check([10, 0, 0, 2].into(), "a@b.co").is_ok());
        let err = l.check([10, 0, 0, 3].into(), "a@b.co").unwrap_err();
        assert!(
            matches!(err, Refusal::TooManyAttempts { retry_after } if retry_after >= Duration::from_secs(1)),
            "{err:?}"
        );
        assert!(l.check([10, 0, 0, 3].into(), "other@b.co").is_ok());
    }

    #[test]
    fn a_client_is_limited_across_accounts() {
        let l = limiter(100, 2);
        let ip: IpAddr = [10, 0, 0, 1].into();
        assert!(l.check(ip, "a@b.co").is_ok());
        assert!(l.check(ip, "b@b.co").is_ok());
        assert!(l.check(ip, "c@b.co").is_err());
        assert!(l.check([10, 0, 0, 2].into(), "c@b.co").is_ok());
    }

    #[tokio::test]
    async fn the_cleanup_stops_when_the_shutdown_fires() {
        let shutdown = CancellationToken::new();
        let cleanup = limiter(1, 1).spawn_cleanup(shutdown.clone());
        shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(5), cleanup)
            .await
            .expect("the cleanup stopped")
            .unwrap();
    }
}
