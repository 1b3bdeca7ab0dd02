//! Emails through an SMTP server, with lettre: TLS when `SMTP_URL` asks for it (`smtps://`, or
//! `?tls=required` for STARTTLS), credentials from the URL.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::{message, sender, Mail, Mailer, SendError};

/// How long one conversation with the server may take before it counts as a temporary failure.
const SMTP_TIMEOUT: Duration = Duration::from_secs(15);

pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    timeout: Duration,
}

impl Smtp {
    pub fn new(url: &str, from: &str) -> anyhow::Result<Self> {
        Self::with_timeout(url, from, SMTP_TIMEOUT)
    }

    /// A conversation longer than `timeout` fails the send for now.
    pub fn with_timeout(url: &str, from: &str, timeout: Duration) -> anyhow::Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| anyhow::anyhow!("SMTP_URL is not an SMTP server's address: {e}"))?
            .timeout(Some(timeout))
            .build();
        Ok(Self {
            transport,
            from: sender(from)?,
            timeout,
        })
    }
}

#[async_trait::async_trait]
impl Mailer for Smtp {
    async fn send(&self, mail: &Mail) -> Result<(), SendError> {
        let message = message(&self.from, mail)?;
        // lettre's timeout bounds each read and write, but not the wait for the server's
        // greeting: a server that accepts and says nothing would hold the send forever.
        let answered = tokio::time::timeout(self.timeout, self.transport.send(message))
            .await
            .map_err(|_| SendError::Temporary(format!("no answer within {:?}", self.timeout)))?;
        match answered {
            Ok(_) => Ok(()),
            // A 5xx answer: this server will never take this email (an unknown mailbox, say).
            Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
            // 4xx, a refused connection, a timeout, a broken TLS handshake: maybe later.
            Err(e) => Err(SendError::Temporary(e.to_string())),
        }
    }
}
