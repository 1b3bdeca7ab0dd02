//! The users table, on SQLite or PostgreSQL through one code path.
//!
//! Every change writes its event to the outbox in the same transaction, so an account never
//! exists without its `user:created`, nor changes without its `user:updated`.

use gittix_shared::db::{is_unique_violation, Db};
use gittix_shared::error::{DomainError, DomainResult};
use gittix_shared::events::{
    PasswordResetRequested, SessionRevoked, UserCreated, UserUpdated, VerificationRequested,
};
use gittix_shared::outbox;
use gittix_shared::time::unix_millis;

use crate::refusal::Refusal;

/// A stored account.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct User {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub version: i64,
    /// When the current email was confirmed (unix ms); `None` until it is.
    pub email_verified_at: Option<i64>,
}

impl User {
    pub fn email_verified(&self) -> bool {
        self.email_verified_at.is_some()
    }
}

/// The columns of [`User`], for every query that reads one.
const USER_COLUMNS: &str = "id, email, password_hash, version, email_verified_at";

/// The form in which emails are compared: one account per address whatever its case.
pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A change to an account; `None` keeps the current value.
#[derive(Debug, Default)]
pub struct AccountChange {
    pub email: Option<String>,
    pub password_hash: Option<String>,
}

#[derive(Clone)]
pub struct UserStore {
    db: Db,
}

impl UserStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Creates an account, its `user:created` event and the verification link of its welcome
    /// email (`verify_token`). The unique index on `email_key` decides between concurrent
    /// sign-ups with one address: exactly one succeeds.
    pub async fn create(
        &self,
        email: &str,
        password_hash: &str,
        verify_token: &str,
    ) -> DomainResult<User, Refusal> {
        let user = User {
            id: uuid::Uuid::now_v7().to_string(),
            email: email.to_owned(),
            password_hash: password_hash.to_owned(),
            version: 0,
            email_verified_at: None,
        };
        let now = unix_millis();
        let mut tx = self.db.pool().begin().await?;
        sqlx::query(
            "INSERT INTO users (id, email, email_key, password_hash, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(&user.id)
        .bind(&user.email)
        .bind(email_key(email))
        .bind(&user.password_hash)
        .bind(user.version)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(email_in_use_or_database)?;
        let event = UserCreated {
            id: user.id.clone(),
            email: user.email.clone(),
            version: user.version,
        };
        outbox::enqueue(&mut tx, &event).await?;
        issue_verification(&mut tx, &user, verify_token, true).await?;
        outbox::commit(tx, &self.db).await?;
        Ok(user)
    }

    pub async fn find_by_email(&self, email: &str) -> sqlx::Result<Option<User>> {
        sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE email_key = $1"
        ))
        .bind(email_key(email))
        .fetch_optional(self.db.pool())
        .await
    }

    pub async fn find_by_id(&self, id: &str) -> sqlx::Result<Option<User>> {
        sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await
    }

    /// Records `session:revoked`: every service refuses the sessions it names once it arrives.
    pub async fn revoke(&self, revoked: &SessionRevoked) -> sqlx::Result<()> {
        let mut tx = self.db.pool().begin().await?;
        outbox::enqueue(&mut tx, revoked).await?;
        outbox::commit(tx, &self.db).await
    }

    /// Applies `change`, bumps the version, and records `user:updated` with the new state and,
    /// in the same transaction, the revocation of every session begun before `revoke_before`
    /// (unix ms), so an account never changes without its other sessions ending. A new email
    /// is unverified, and gets a verification link (`verify_token`).
    pub async fn update(
        &self,
        id: &str,
        change: AccountChange,
        revoke_before: i64,
        verify_token: &str,
    ) -> DomainResult<User, Refusal> {
        let mut tx = self.db.pool().begin().await?;
        let old_key: Option<String> = sqlx::query_scalar(&format!(
            "SELECT email_key FROM users WHERE id = $1{}",
            self.db.lock_rows()
        ))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let old_key = old_key.ok_or(Refusal::NoSuchUser)?;
        let new_key = change.email.as_deref().map(email_key);
        let email_changes = new_key.as_ref().is_some_and(|key| *key != old_key);
        let user: Option<User> = sqlx::query_as(&format!(
            "UPDATE users SET \
                 email = COALESCE($2, email), \
                 email_key = COALESCE($3, email_key), \
                 password_hash = COALESCE($4, password_hash), \
                 email_verified_at = CASE WHEN $6 THEN NULL ELSE email_verified_at END, \
                 version = version + 1, \
                 updated_at = $5 \
             WHERE id = $1 \
             RETURNING {USER_COLUMNS}"
        ))
        .bind(id)
        .bind(change.email)
        .bind(new_key)
        .bind(change.password_hash)
        .bind(unix_millis())
        .bind(email_changes)
        .fetch_optional(&mut *tx)
        .await
        .map_err(email_in_use_or_database)?;
        let user = user.ok_or(Refusal::NoSuchUser)?;
        changed_and_revoked(&mut tx, &user, revoke_before).await?;
        if email_changes {
            issue_verification(&mut tx, &user, verify_token, false).await?;
        }
        outbox::commit(tx, &self.db).await?;
        Ok(user)
    }
}

/// How long a password-reset link works.
pub const RESET_LINK_LIFETIME_MS: i64 = 30 * 60 * 1000;

/// The form in which a reset token is kept: its SHA-256, so a copy of the database opens no
/// account.
pub fn reset_token_hash(token: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(token.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

impl UserStore {
    /// Starts a password reset for the account of `email`, if there is one: records the hash of
    /// `token` and publishes `user:password-reset-requested` (which carries the token to the
    /// email) in one transaction. For an unknown email the transaction writes a decoy link that
    /// expired before it was made (pruned with the others), so both answers cost a commit and
    /// their timing says less about which addresses have accounts. Without `send` (the
    /// address's limit of links is spent) a known address is treated as an unknown one.
    pub async fn request_reset(&self, email: &str, token: &str, send: bool) -> sqlx::Result<()> {
        let user = self.find_by_email(email).await?.filter(|_| send);
        let expires_at = unix_millis() + RESET_LINK_LIFETIME_MS;
        let mut tx = self.db.pool().begin().await?;
        sqlx::query(
            "INSERT INTO password_resets (token_hash, user_id, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(reset_token_hash(token))
        .bind(user.as_ref().map_or("", |u| u.id.as_str()))
        .bind(if user.is_some() { expires_at } else { 0 })
        .execute(&mut *tx)
        .await?;
        let Some(user) = user else {
            tx.commit().await?;
            return Ok(());
        };
        let event = PasswordResetRequested {
            user_id: user.id,
            email: user.email,
            token: token.to_owned(),
            expires_at,
        };
        outbox::enqueue(&mut tx, &event).await?;
        outbox::commit(tx, &self.db).await
    }

    /// Uses the reset link of `token` once: sets the account's password to `password_hash`,
    /// ends every link of the account, and revokes its sessions begun before `revoke_before`,
    /// with `user:updated` and `session:revoked`, all in one transaction. The conditional
    /// update of the link decides between two uses at once: one wins, the other is refused.
    pub async fn reset_password(
        &self,
        token: &str,
        password_hash: &str,
        revoke_before: i64,
    ) -> DomainResult<User, Refusal> {
        let now = unix_millis();
        let mut tx = self.db.pool().begin().await?;
        let user_id: Option<String> = sqlx::query_scalar(
            "UPDATE password_resets SET used_at = $2 \
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING user_id",
        )
        .bind(reset_token_hash(token))
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let user_id = user_id.ok_or(Refusal::InvalidResetLink)?;
        // Any other link sent to the account is spent too: the password it would reset is gone.
        sqlx::query(
            "UPDATE password_resets SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL",
        )
        .bind(&user_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let user: Option<User> = sqlx::query_as(&format!(
            "UPDATE users SET password_hash = $2, version = version + 1, updated_at = $3 \
             WHERE id = $1 RETURNING {USER_COLUMNS}"
        ))
        .bind(&user_id)
        .bind(password_hash)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let user = user.ok_or(Refusal::InvalidResetLink)?;
        changed_and_revoked(&mut tx, &user, revoke_before).await?;
        outbox::commit(tx, &self.db).await?;
        Ok(user)
    }
}

/// How long an email-verification link works.
pub const VERIFICATION_LINK_LIFETIME_MS: i64 = 7 * 24 * 60 * 60 * 1000;

impl UserStore {
    /// Confirms the email of the link of `token`, once: the account's email is verified if it
    /// is still the address the link was sent to. The conditional update of the link decides
    /// between two uses at once.
    pub async fn verify_email(&self, token: &str) -> DomainResult<User, Refusal> {
        let now = unix_millis();
        let mut tx = self.db.pool().begin().await?;
        let link: Option<(String, String)> = sqlx::query_as(
            "UPDATE email_verifications SET used_at = $2 \
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING user_id, email_key",
        )
        .bind(reset_token_hash(token))
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let (user_id, confirmed_key) = link.ok_or(Refusal::InvalidVerificationLink)?;
        let user: Option<User> = sqlx::query_as(&format!(
            "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $3) \
             WHERE id = $1 AND email_key = $2 RETURNING {USER_COLUMNS}"
        ))
        .bind(&user_id)
        .bind(&confirmed_key)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let user = user.ok_or(Refusal::InvalidVerificationLink)?;
        tx.commit().await?;
        Ok(user)
    }

    /// Sends the account `id` a new verification link (`token`) unless its email is verified
    /// already; returns the account.
    pub async fn resend_verification(&self, id: &str, token: &str) -> DomainResult<User, Refusal> {
        let user = self.find_by_id(id).await?.ok_or(Refusal::NoSuchUser)?;
        if user.email_verified() {
            return Ok(user);
        }
        let mut tx = self.db.pool().begin().await?;
        issue_verification(&mut tx, &user, token, false).await?;
        outbox::commit(tx, &self.db).await?;
        Ok(user)
    }
}

/// Records a verification link for `user`'s current email (the hash of `token`) and the event
/// that carries the token to the email, in the caller's transaction.
async fn issue_verification(
    tx: &mut sqlx::AnyConnection,
    user: &User,
    token: &str,
    welcome: bool,
) -> sqlx::Result<()> {
    let expires_at = unix_millis() + VERIFICATION_LINK_LIFETIME_MS;
    sqlx::query(
        "INSERT INTO email_verifications (token_hash, user_id, email_key, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(reset_token_hash(token))
    .bind(&user.id)
    .bind(email_key(&user.email))
    .bind(expires_at)
    .execute(&mut *tx)
    .await?;
    let event = VerificationRequested {
        user_id: user.id.clone(),
        email: user.email.clone(),
        token: token.to_owned(),
        expires_at,
        welcome,
    };
    outbox::enqueue(tx, &event).await?;
    Ok(())
}

/// Records, in the change's own transaction, `user:updated` for `user` and `session:revoked`
/// for its sessions begun before `revoke_before`: an account never changes without its old
/// sessions ending.
async fn changed_and_revoked(
    tx: &mut sqlx::AnyConnection,
    user: &User,
    revoke_before: i64,
) -> sqlx::Result<()> {
    let updated = UserUpdated {
        id: user.id.clone(),
        email: user.email.clone(),
        version: user.version,
    };
    outbox::enqueue(tx, &updated).await?;
    let revoked = SessionRevoked {
        user_id: user.id.clone(),
        sid: None,
        before: Some(revoke_before),
    };
    outbox::enqueue(tx, &revoked).await?;
    Ok(())
}

fn email_in_use_or_database(error: sqlx::Error) -> DomainError<Refusal> {
    if is_unique_violation(&error) {
        Refusal::EmailInUse.into()
    } else {
        DomainError::Storage(error)
    }
}
