//! The notifications service's settings: where its emails go and how it retries them.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::mail::{files::MailFiles, smtp::Smtp, Mailer};
use crate::sender::RetryPolicy;

const DEFAULT_MAIL_FROM: &str = "GitTix <no-reply@gittix.localhost>";
const DEFAULT_MAIL_RETRY_SECONDS: f64 = 5.0;
const DEFAULT_DELIVERY_REMINDER_HOURS: f64 = 12.0;

/// Settings of the notifications service.
#[derive(Debug, Clone, clap::Args)]
pub struct NotificationsConfig {
    /// The SMTP server the emails go through: `smtp://host:port` (no TLS),
    /// `smtp://host:port?tls=required` (STARTTLS), `smtps://host:port` (TLS from the start),
    /// with `user:password@` before the host to sign in. Embedded mode without it writes each
    /// email as an `.eml` file under the data directory's `mail/`; `serve notifications`
    /// requires it.
    #[arg(long, env = "SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// The sender of every email.
    #[arg(long, env = "MAIL_FROM", default_value = DEFAULT_MAIL_FROM)]
    pub mail_from: String,

    /// Seconds before an email the mail server did not take is tried again; the wait doubles
    /// with each failure up to 15 minutes, and an email still unsent after a day is given up.
    #[arg(long, env = "MAIL_RETRY_SECONDS", default_value_t = DEFAULT_MAIL_RETRY_SECONDS, value_parser = positive_seconds)]
    pub mail_retry_seconds: f64,

    /// Hours before a sold ticket's delivery deadline that its seller is reminded, if the file
    /// is still missing (at half the time left, when the deadline is nearer than that).
    #[arg(long, env = "DELIVERY_REMINDER_HOURS", default_value_t = DEFAULT_DELIVERY_REMINDER_HOURS, value_parser = positive_hours)]
    pub delivery_reminder_hours: f64,
}

impl Default for NotificationsConfig {
    fn default() -> Self {
        Self {
            smtp_url: None,
            mail_from: DEFAULT_MAIL_FROM.to_owned(),
            mail_retry_seconds: DEFAULT_MAIL_RETRY_SECONDS,
            delivery_reminder_hours: DEFAULT_DELIVERY_REMINDER_HOURS,
        }
    }
}

impl NotificationsConfig {
    /// The mail port: SMTP when `SMTP_URL` is set, otherwise `.eml` files in `mail_dir` (embedded
    /// mode), and an error when neither is given (`serve notifications`).
    pub fn mailer(&self, mail_dir: Option<&Path>) -> anyhow::Result<Arc<dyn Mailer>> {
        match (&self.smtp_url, mail_dir) {
            (Some(url), _) => Ok(Arc::new(Smtp::new(url, &self.mail_from)?)),
            (None, Some(dir)) => Ok(Arc::new(MailFiles::new(dir, &self.mail_from)?)),
            (None, None) => anyhow::bail!(
                "SMTP_URL is not set; `serve notifications` sends its emails through an SMTP server"
            ),
        }
    }

    pub(crate) fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            first_delay: Duration::from_secs_f64(self.mail_retry_seconds),
            ..RetryPolicy::default()
        }
    }

    pub(crate) fn reminder_lead(&self) -> Duration {
        Duration::from_secs_f64(self.delivery_reminder_hours * 3600.0)
    }
}

/// A positive number of seconds, at most an hour (the wait doubles from it).
fn positive_seconds(text: &str) -> Result<f64, String> {
    positive_at_most(text, 3600.0)
}

/// A positive number of hours, at most a year.
fn positive_hours(text: &str) -> Result<f64, String> {
    positive_at_most(text, 366.0 * 24.0)
}

fn positive_at_most(text: &str, most: f64) -> Result<f64, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number"))?;
    if value.is_finite() && value > 0.0 && value <= most {
        Ok(value)
    } else {
        Err(format!("{text:?} is not between 0 and {most}"))
    }
}
