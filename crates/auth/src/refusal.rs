//! Every way the auth domain refuses a request. `routes/refusal.rs` is where each becomes an
//! HTTP answer.

use std::time::Duration;

use gittix_shared::error::DomainError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Another account has this email, compared case-insensitively.
    EmailInUse,
    /// The email and password do not match an account. One refusal for an unknown email and a
    /// wrong password, so neither reveals which accounts exist.
    InvalidCredentials,
    /// The signed-in account does not exist (any more).
    NoSuchUser,
    /// The password-reset link is unknown, used already, or past its 30 minutes.
    InvalidResetLink,
    /// The email-verification link is unknown, used already, expired, or for an address the
    /// account no longer has.
    InvalidVerificationLink,
    /// Too many sign-in attempts from this client or on this account; the next one is allowed
    /// after `retry_after`.
    TooManyAttempts { retry_after: Duration },
}

/// So domain code refuses with `?` or `.into()`.
impl From<Refusal> for DomainError<Refusal> {
    fn from(refusal: Refusal) -> Self {
        Self::Refused(refusal)
    }
}
