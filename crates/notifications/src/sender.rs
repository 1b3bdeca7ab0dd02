//! The sender: delivers the recorded emails that are due through the mail port, one at a time,
//! and records each outcome. It wakes when a listener records an email, when the next one
//! falls due, and at least every [`MAX_IDLE`] (another replica may have recorded one).
//!
//! An email is claimed before it is sent (its `next_attempt_at` moved past the send, which is
//! cut off at half the claim), so two replicas never send it both, only the claim's holder
//! records the outcome, and a sender that dies mid-send leaves it to be sent again once the
//! claim lapses. That one case, a crash between the server's acceptance and the record of
//! it, can send an email twice; both copies carry the same `Message-ID`.

use std::sync::Arc;
use std::time::Duration;

use gittix_shared::db::Db;
use gittix_shared::metrics;
use gittix_shared::time::{millis, unix_millis};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::mail::{Mail, Mailer, SendError};
use crate::messages::{Claim, Kind, Messages, Pending};

/// The longest the sender sleeps without looking for due emails.
const MAX_IDLE: Duration = Duration::from_secs(2);
/// Emails read per look.
const BATCH: i64 = 50;

/// How the sender retries an email the mail server failed for now.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// The wait after the first failure; it doubles with each failure up to `max_delay`.
    pub first_delay: Duration,
    pub max_delay: Duration,
    /// Attempts after which an email is given up (`failed`): about a day at the defaults.
    pub max_attempts: i64,
    /// How long a claimed email is kept from other senders; a send is given half of it.
    pub claim_for: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            first_delay: Duration::from_secs(5),
            max_delay: Duration::from_secs(15 * 60),
            max_attempts: 100,
            claim_for: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The wait after the `attempts`-th failed attempt.
    fn delay(&self, attempts: i64) -> Duration {
        let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
        (self.first_delay * 2u32.pow(doublings)).min(self.max_delay)
    }
}

pub(crate) fn spawn(
    db: Db,
    mailer: Arc<dyn Mailer>,
    policy: RetryPolicy,
    recorded: Arc<Notify>,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    let messages = Messages::new(db);
    tokio::spawn(async move {
        while !shutdown.is_cancelled() {
            let wait = match send_due(&messages, &*mailer, &policy, &shutdown).await {
                // A full batch: there may be more due at once.
                Ok(sent) if sent >= BATCH => Duration::ZERO,
                Ok(_) => until_next_due(&messages).await,
                Err(error) => {
                    tracing::warn!(%error, "reading or recording emails failed; trying again");
                    Duration::from_secs(1)
                }
            };
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = recorded.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    })
}

/// How long until the next pending email is due, at most [`MAX_IDLE`].
async fn until_next_due(messages: &Messages) -> Duration {
    match messages.next_due_at().await {
        Ok(Some(at)) => {
            let ms = u64::try_from(at - unix_millis()).unwrap_or(0);
            Duration::from_millis(ms).min(MAX_IDLE)
        }
        Ok(None) | Err(_) => MAX_IDLE,
    }
}

/// Sends the emails due now; returns how many were read. Stops between two emails at shutdown.
async fn send_due(
    messages: &Messages,
    mailer: &dyn Mailer,
    policy: &RetryPolicy,
    shutdown: &CancellationToken,
) -> sqlx::Result<i64> {
    let now = unix_millis();
    let due = messages.due(now, BATCH).await?;
    let read = i64::try_from(due.len()).unwrap_or(BATCH);
    for message in due {
        if shutdown.is_cancelled() {
            break;
        }
        let claim_until = unix_millis() + millis(policy.claim_for);
        if let Some(claim) = messages.claim(&message, claim_until).await? {
            send_one(messages, mailer, policy, message, &claim, shutdown).await?;
        }
    }
    Ok(read)
}

async fn send_one(
    messages: &Messages,
    mailer: &dyn Mailer,
    policy: &RetryPolicy,
    message: Pending,
    claim: &Claim,
    shutdown: &CancellationToken,
) -> sqlx::Result<()> {
    let kind = message.kind;
    if message.expires_at.is_some_and(|at| at <= unix_millis()) {
        messages
            .cancelled(claim, "its link expired before it could be sent")
            .await?;
        return Ok(());
    }
    if kind == Kind::DeliveryReminder {
        if let Some(order_id) = &message.order_id {
            if messages.delivery_decided(order_id).await? {
                messages
                    .cancelled(claim, "the ticket's delivery is decided")
                    .await?;
                return Ok(());
            }
        }
    }
    let mail = Mail {
        id: message.id.clone(),
        to: message.recipient,
        subject: message.subject,
        text: message.text_body,
        html: message.html_body,
    };
    // Done well inside the claim, so no other sender takes the email while this one sends it.
    let sent = tokio::time::timeout(policy.claim_for / 2, mailer.send(&mail))
        .await
        .unwrap_or_else(|_| Err(SendError::Temporary("the mail server took too long".into())));
    match sent {
        Ok(()) => {
            // The server has it: what is left must not be lost, or the email would be sent
            // again once the claim lapses. So the record waits out a database outage.
            if !record_until_done(|| messages.sent(claim), shutdown).await {
                // Held so long (a database outage longer than the claim) that another sender
                // took the email: it may go out twice.
                tracing::warn!(id = %message.id, kind = %kind, "a sent email's claim lapsed before it was recorded");
            }
            metrics::email_sent(kind.as_str());
        }
        Err(SendError::Permanent(error)) => {
            tracing::warn!(id = %message.id, kind = %kind, %error, "email refused for good");
            messages.failed(claim, &error).await?;
            metrics::email_failed(kind.as_str());
        }
        Err(SendError::Temporary(error)) => {
            let attempts = message.attempts + 1;
            if attempts >= policy.max_attempts {
                tracing::error!(id = %message.id, kind = %kind, %error, attempts, "email given up");
                let error = format!("given up after {attempts} attempts: {error}");
                messages.failed(claim, &error).await?;
                metrics::email_failed(kind.as_str());
            } else {
                tracing::warn!(id = %message.id, kind = %kind, %error, attempts, "email deferred");
                let retry_at = unix_millis() + millis(policy.delay(attempts));
                messages.retry(claim, &error, retry_at).await?;
                metrics::email_deferred(kind.as_str());
            }
        }
    }
    Ok(())
}

/// Runs `record` until it succeeds (or shutdown), waiting a second more after each failure (up
/// to ten); returns what it returned, false at shutdown.
async fn record_until_done<F, Fut>(mut record: F, shutdown: &CancellationToken) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = sqlx::Result<bool>>,
{
    let mut wait = Duration::from_secs(1);
    loop {
        match record().await {
            Ok(recorded) => return recorded,
            Err(error) => tracing::warn!(%error, "recording a sent email failed; trying again"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return false,
            () = tokio::time::sleep(wait) => {}
        }
        wait = (wait + Duration::from_secs(1)).min(Duration::from_secs(10));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_from_the_first_delay_to_the_cap() {
        let policy = RetryPolicy {
            first_delay: Duration::from_secs(5),
            max_delay: Duration::from_secs(60),
            ..RetryPolicy::default()
        };
        let waits: Vec<u64> = (1..=6).map(|n| policy.delay(n).as_secs()).collect();
        assert_eq!(waits, [5, 10, 20, 40, 60, 60]);
    }
}
