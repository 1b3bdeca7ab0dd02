//! What signing up, signing in, changing an account and resetting its password do once the
//! request is valid: the limits, the password checks and the writes, with no HTTP in them.

use std::net::IpAddr;

use gittix_shared::error::DomainResult;

use crate::password;
use crate::rate_limit::SignInLimiter;
use crate::refusal::Refusal;
use crate::store::{email_key, AccountChange, User, UserStore};

#[derive(Clone)]
pub(crate) struct Accounts {
    pub users: UserStore,
    pub limiter: SignInLimiter,
}

/// A change of a signed-in account, confirmed by its current password.
pub(crate) struct Change {
    pub current_password: String,
    pub email: Option<String>,
    pub password: Option<String>,
}

impl Accounts {
    /// Creates the account, with its password hashed; counts against `client`'s sign-up limit.
    pub async fn sign_up(
        &self,
        client: IpAddr,
        email: &str,
        password: String,
    ) -> DomainResult<User, Refusal> {
        self.limiter.check_sign_up(client).await?;
        let password_hash = password::hash(password).await?;
        self.users
            .create(email, &password_hash, &new_link_token())
            .await
    }

    /// The account of `email` if `password` is its password; the attempt counts against the
    /// limits of `client` and of the account.
    pub async fn sign_in(
        &self,
        client: IpAddr,
        email: &str,
        password: String,
    ) -> DomainResult<User, Refusal> {
        self.limiter.check(client, &email_key(email)).await?;
        let user = self.users.find_by_email(email).await?;
        // An unknown account is checked against a decoy hash, so timing does not tell it apart.
        let matches =
            password::verify(password, user.as_ref().map(|u| u.password_hash.clone())).await?;
        match user {
            Some(user) if matches => Ok(user),
            _ => Err(Refusal::InvalidCredentials.into()),
        }
    }

    /// Applies `change` to the account `id` and revokes its sessions begun before
    /// `revoke_before` (unix ms). Checking the current password counts as a sign-in attempt, so
    /// a stolen cookie can neither take over the account nor guess its password quickly.
    pub async fn change(
        &self,
        client: IpAddr,
        id: &str,
        change: Change,
        revoke_before: i64,
    ) -> DomainResult<User, Refusal> {
        let user = self
            .users
            .find_by_id(id)
            .await?
            .ok_or(Refusal::NoSuchUser)?;
        self.limiter.check(client, &email_key(&user.email)).await?;
        if !password::verify(change.current_password, Some(user.password_hash)).await? {
            return Err(Refusal::InvalidCredentials.into());
        }
        let password_hash = match change.password {
            Some(p) => Some(password::hash(p).await?),
            None => None,
        };
        let change = AccountChange {
            email: change.email,
            password_hash,
        };
        self.users
            .update(&user.id, change, revoke_before, &new_link_token())
            .await
    }

    /// Starts a reset of the password of `email`'s account, if there is one (the link goes
    /// out by email); counts against `client`'s password-reset limit either way, and answers
    /// the same either way. An address that was sent three links in ten minutes for this
    /// client (or twenty in an hour for all) gets no more for now, silently: nobody floods one
    /// mailbox, and a stranger's requests never spend the owner's share.
    pub async fn request_password_reset(
        &self,
        client: IpAddr,
        email: &str,
    ) -> DomainResult<(), Refusal> {
        self.limiter.check_password_reset(client).await?;
        let send = self
            .limiter
            .allows_reset_email(client, &email_key(email))
            .await?;
        Ok(self
            .users
            .request_reset(email, &new_link_token(), send)
            .await?)
    }

    /// Confirms the account's email with the link of the welcome email (or one sent again).
    pub async fn verify_email(&self, token: &str) -> DomainResult<User, Refusal> {
        self.users.verify_email(token).await
    }

    /// Emails the account `id` a new verification link, unless its email is verified already;
    /// counts against the account's limit either way (each costs an email).
    pub async fn resend_verification(&self, id: &str) -> DomainResult<User, Refusal> {
        self.limiter.check_verification_email(id).await?;
        self.users.resend_verification(id, &new_link_token()).await
    }

    /// Sets a new password with a reset link's `token` (once), ending every session of the
    /// account begun before `revoke_before`.
    pub async fn reset_password(
        &self,
        client: IpAddr,
        token: &str,
        password: String,
        revoke_before: i64,
    ) -> DomainResult<User, Refusal> {
        self.limiter.check_password_reset(client).await?;
        let password_hash = password::hash(password).await?;
        self.users
            .reset_password(token, &password_hash, revoke_before)
            .await
    }
}

/// The secret of an emailed link (password reset, email verification): 32 random bytes, in hex.
fn new_link_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
