//! The mail port: hand one email to whatever delivers it. Two adapters pass the same
//! conformance suite (tests/notifications/mail_port.rs): `.eml` files in a directory (embedded
//! mode without a mail server) and SMTP (lettre).

pub mod files;
pub mod smtp;

use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::Message;

/// One email, rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// Unique per email: its `Message-ID` is `<id@gittix>`, so a mail client can tell a copy
    /// sent again after a crash from a new email.
    pub id: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Why an email was not delivered.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The server may take it later (it is down, busy, or answered 4xx): try again.
    #[error("temporary failure: {0}")]
    Temporary(String),
    /// It never will (a 5xx answer, an address that is not one): record it, do not retry.
    #[error("permanent failure: {0}")]
    Permanent(String),
}

#[async_trait::async_trait]
pub trait Mailer: Send + Sync {
    /// Delivers `mail`; returns once the server (or the file) has it.
    async fn send(&self, mail: &Mail) -> Result<(), SendError>;
}

/// `mail` as a MIME message from `from`: a text and an HTML alternative of the same words.
pub(crate) fn message(from: &Mailbox, mail: &Mail) -> Result<Message, SendError> {
    let to: Mailbox = mail
        .to
        .parse()
        .map_err(|e| SendError::Permanent(format!("recipient {:?}: {e}", mail.to)))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(&mail.subject)
        .message_id(Some(format!("<{}@gittix>", mail.id)))
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(mail.text.clone()),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(mail.html.clone()),
                ),
        )
        .map_err(|e| SendError::Permanent(format!("building the message: {e}")))
}

/// The sender's mailbox from `MAIL_FROM`.
pub(crate) fn sender(from: &str) -> anyhow::Result<Mailbox> {
    from.parse()
        .map_err(|e| anyhow::anyhow!("MAIL_FROM {from:?} is not an address: {e}"))
}
