//! The recorded emails: written by the listeners in the transaction that applies their event,
//! then claimed, sent and settled by the sender.

use gittix_shared::db::Db;
use gittix_shared::time::unix_millis;
use sqlx::AnyConnection;

use crate::emails::Rendered;

gittix_shared::wire_enum! {
    /// Where a recorded email stands.
    pub enum Status {
        /// Waiting for its `next_attempt_at`: new, or the mail server failed it for now.
        Pending = "pending",
        Sent = "sent",
        /// Refused for good (a 5xx answer, no such address), or still unsent after a day.
        Failed = "failed",
        /// A reminder made moot before it was due (the ticket was delivered).
        Cancelled = "cancelled",
    }
}

gittix_shared::wire_enum! {
    /// Which email a record is: one of each kind per event at most.
    pub enum Kind {
        Welcome = "welcome",
        Verification = "verification",
        PasswordReset = "password_reset",
        Receipt = "receipt",
        TicketReady = "ticket_ready",
        Sold = "sold",
        DeliveryReminder = "delivery_reminder",
        Undelivered = "undelivered",
        PayoutSent = "payout_sent",
        Refund = "refund",
        OrderExpired = "order_expired",
    }
}

impl Kind {
    /// Whether the email holds a sign-in secret (a reset or verification link): its words are
    /// erased from the record once it is settled, so the database keeps no working link.
    fn holds_a_link_secret(self) -> bool {
        matches!(
            self,
            Self::Welcome | Self::Verification | Self::PasswordReset
        )
    }
}

/// An email to record for the event being applied.
pub(crate) struct NewMessage {
    pub kind: Kind,
    pub user_id: String,
    pub recipient: String,
    pub rendered: Rendered,
    /// The sale it is about, for a reminder that a delivery cancels.
    pub order_id: Option<String>,
    /// When to send it (unix ms): now, or later for a reminder.
    pub send_at: i64,
    /// When what it says stops being true (a link's expiry, unix ms): an email still unsent then
    /// is cancelled rather than sent late.
    pub expires_at: Option<i64>,
}

/// Records `message` for the event `event_id`, in the caller's transaction (the one that records
/// the event in the inbox).
pub(crate) async fn record(
    tx: &mut AnyConnection,
    event_id: &str,
    message: NewMessage,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO messages (id, event_id, kind, user_id, recipient, subject, text_body, html_body, \
         order_id, status, next_attempt_at, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (event_id, kind) DO NOTHING",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(event_id)
    .bind(message.kind)
    .bind(message.user_id)
    .bind(message.recipient)
    .bind(message.rendered.subject)
    .bind(message.rendered.text)
    .bind(message.rendered.html)
    .bind(message.order_id)
    .bind(Status::Pending)
    .bind(message.send_at)
    .bind(message.expires_at)
    .bind(unix_millis())
    .execute(tx)
    .await?;
    Ok(())
}

/// Cancels the pending reminders of the sale `order_id` (its delivery is decided).
pub(crate) async fn cancel_reminders(tx: &mut AnyConnection, order_id: &str) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE messages SET status = $3 WHERE order_id = $1 AND kind = $2 AND status = $4",
    )
    .bind(order_id)
    .bind(Kind::DeliveryReminder)
    .bind(Status::Cancelled)
    .bind(Status::Pending)
    .execute(tx)
    .await?;
    Ok(())
}

/// A pending email, as the sender reads it.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct Pending {
    pub id: String,
    pub kind: Kind,
    pub recipient: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub order_id: Option<String>,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub expires_at: Option<i64>,
}

/// A sender's hold on one pending email, until `until`: only the holder settles it.
#[derive(Debug)]
pub(crate) struct Claim {
    id: String,
    kind: Kind,
    until: i64,
}

/// The store of recorded emails, for the sender.
#[derive(Clone)]
pub(crate) struct Messages {
    db: Db,
}

impl Messages {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Up to `limit` pending emails due at `now`, the longest waiting first.
    pub async fn due(&self, now: i64, limit: i64) -> sqlx::Result<Vec<Pending>> {
        sqlx::query_as(
            "SELECT id, kind, recipient, subject, text_body, html_body, order_id, attempts, \
             next_attempt_at, expires_at FROM messages \
             WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await
    }

    /// When the next pending email falls due, if any.
    pub async fn next_due_at(&self) -> sqlx::Result<Option<i64>> {
        sqlx::query_scalar("SELECT MIN(next_attempt_at) FROM messages WHERE status = 'pending'")
            .fetch_one(self.db.pool())
            .await
    }

    /// Takes `message` for sending until `until` (unix ms), if no other sender has it. Another
    /// sender (a second replica) that read the same row finds `next_attempt_at` moved and
    /// leaves it; a sender that dies holding it lets it fall due again at `until`. The sender
    /// must be done with it before `until` (it gives the mail port less time than that).
    pub async fn claim(&self, message: &Pending, until: i64) -> sqlx::Result<Option<Claim>> {
        let claimed = sqlx::query(
            "UPDATE messages SET next_attempt_at = $3 \
             WHERE id = $1 AND status = 'pending' AND next_attempt_at = $2",
        )
        .bind(&message.id)
        .bind(message.next_attempt_at)
        .bind(until)
        .execute(self.db.pool())
        .await?;
        Ok((claimed.rows_affected() == 1).then(|| Claim {
            id: message.id.clone(),
            kind: message.kind,
            until,
        }))
    }

    /// Records the email sent; false if the claim had lapsed and another sender took it.
    pub async fn sent(&self, claim: &Claim) -> sqlx::Result<bool> {
        self.settle(claim, Status::Sent, 1, None, Some(unix_millis()), 0)
            .await
    }

    /// The mail server failed it for now: try again at `retry_at`.
    pub async fn retry(&self, claim: &Claim, error: &str, retry_at: i64) -> sqlx::Result<bool> {
        self.settle(claim, Status::Pending, 1, Some(error), None, retry_at)
            .await
    }

    pub async fn failed(&self, claim: &Claim, error: &str) -> sqlx::Result<bool> {
        self.settle(claim, Status::Failed, 1, Some(error), None, 0)
            .await
    }

    /// Found moot when due (a reminder for a delivered ticket, a link past its expiry):
    /// nothing was attempted.
    pub async fn cancelled(&self, claim: &Claim, why: &str) -> sqlx::Result<bool> {
        self.settle(claim, Status::Cancelled, 0, Some(why), None, 0)
            .await
    }

    /// Records the outcome of one attempt (`attempted` is 1) or of none (0), if `claim` still
    /// holds the email (a claim that lapsed settles nothing: the email is another's now);
    /// returns whether it did.
    async fn settle(
        &self,
        claim: &Claim,
        status: Status,
        attempted: i64,
        error: Option<&str>,
        sent_at: Option<i64>,
        next_attempt_at: i64,
    ) -> sqlx::Result<bool> {
        let erase = status != Status::Pending && claim.kind.holds_a_link_secret();
        let settled = sqlx::query(
            "UPDATE messages SET status = $2, attempts = attempts + $3, last_error = $4, sent_at = $5, \
             next_attempt_at = $6, \
             text_body = CASE WHEN $7 THEN '' ELSE text_body END, \
             html_body = CASE WHEN $7 THEN '' ELSE html_body END \
             WHERE id = $1 AND status = 'pending' AND next_attempt_at = $8",
        )
        .bind(&claim.id)
        .bind(status)
        .bind(attempted)
        .bind(error)
        .bind(sent_at)
        .bind(next_attempt_at)
        .bind(erase)
        .bind(claim.until)
        .execute(self.db.pool())
        .await?;
        Ok(settled.rows_affected() == 1)
    }

    /// Whether the delivery of the sale `order_id` is decided (a reminder is then moot).
    pub async fn delivery_decided(&self, order_id: &str) -> sqlx::Result<bool> {
        let found: Option<String> =
            sqlx::query_scalar("SELECT order_id FROM deliveries_decided WHERE order_id = $1")
                .bind(order_id)
                .fetch_optional(self.db.pool())
                .await?;
        Ok(found.is_some())
    }
}
