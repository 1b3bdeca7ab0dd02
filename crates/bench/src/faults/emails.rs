//! Email (design, section 7) after a fault: once the load is over and the mail server is back,
//! every email has been sent (but reminders whose time has not come) and none was given up,
//! every completed order's buyer was sent exactly one receipt, and the SMTP server (its Maildir, `GITTIX_E2E_SMTP_MAILDIR`)
//! received each sent email once: no Message-ID twice, none missing.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant};

use gittix_shared::time::unix_millis;

use super::checks::Check;
use crate::counters::count;
use crate::target::Databases;

/// The checks, and how many emails the server holds twice with one Message-ID. `twice_before`
/// is that count after the previous fault; `killed_mid_send` (the fault killed notifications)
/// lets it grow by one: the email accepted by the server but not yet recorded as sent when the
/// process died is sent again, under the same Message-ID. Nothing else may add one.
pub async fn emails(
    databases: &Databases,
    maildir: &Path,
    patience: Duration,
    twice_before: usize,
    killed_mid_send: bool,
) -> anyhow::Result<(Vec<Check>, usize)> {
    let deadline = Instant::now() + patience;
    // Unsent and not waiting for a later time of its own: everything but a reminder not due yet.
    let unsent = || {
        format!(
            "SELECT count(*) FROM messages WHERE status = 'pending' \
             AND (kind <> 'delivery_reminder' OR next_attempt_at <= {})",
            unix_millis()
        )
    };
    let sent_receipts = "SELECT count(*) FROM messages WHERE kind = 'receipt' AND status = 'sent'";
    let completed_sql = "SELECT count(*) FROM orders WHERE status = 'complete'";
    let (mut due, mut receipts, mut completed);
    loop {
        due = count(&databases.notifications, &unsent()).await?;
        receipts = count(&databases.notifications, sent_receipts).await?;
        completed = count(&databases.orders, completed_sql).await?;
        if (due == 0 && receipts == completed) || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let failed = count(
        &databases.notifications,
        "SELECT count(*) FROM messages WHERE status = 'failed'",
    )
    .await?;
    let sent: Vec<String> = sqlx::query_scalar("SELECT id FROM messages WHERE status = 'sent'")
        .fetch_all(databases.notifications.pool())
        .await?;
    let received = message_ids(maildir)?;
    let mut copies: HashMap<&str, usize> = HashMap::new();
    for id in &received {
        *copies.entry(id.as_str()).or_default() += 1;
    }
    let twice = copies.values().filter(|n| **n > 1).count();
    let arrived: HashSet<&str> = copies.keys().copied().collect();
    let missing = sent
        .iter()
        .filter(|id| !arrived.contains(id.as_str()))
        .count();
    // One sender, sending one email at a time: a kill leaves at most one accepted and unrecorded.
    let twice_allowed = twice_before + usize::from(killed_mid_send);
    let checks = vec![
        Check {
            name: "every email was sent (but reminders not due yet), none given up",
            held: due == 0 && failed == 0,
            detail: format!("{} sent, {due} unsent, {failed} given up", sent.len()),
        },
        Check {
            name: "every completed order's buyer was sent exactly one receipt",
            held: receipts == completed,
            detail: format!("{receipts} receipts sent for {completed} completed orders"),
        },
        Check {
            name: "the SMTP server received every sent email once (twice, with one Message-ID, only after a kill of notifications mid-send)",
            held: twice <= twice_allowed && missing == 0,
            detail: format!(
                "{} messages received: {twice} Message-IDs more than once ({} new), {missing} sent emails missing",
                received.len(),
                twice.saturating_sub(twice_before)
            ),
        },
    ];
    Ok((checks, twice))
}

/// The Message-ID (without `<` and `@gittix>`) of every message in the Maildir, one per file.
fn message_ids(maildir: &Path) -> anyhow::Result<Vec<String>> {
    let mut ids = Vec::new();
    for entry in std::fs::read_dir(maildir.join("new"))? {
        let raw = std::fs::read(entry?.path())?;
        let text = String::from_utf8_lossy(&raw);
        // The headers end at the first empty line; Message-ID is one of them.
        let headers = text.split("\r\n\r\n").next().unwrap_or_default();
        let id = headers.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("message-id").then(|| {
                value
                    .trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .trim_end_matches("@gittix")
                    .to_owned()
            })
        });
        ids.extend(id);
    }
    Ok(ids)
}
