//! Reading back what was emailed: the `.eml` files of the file adapter, or the Maildir where
//! the test command's SMTP server (scripts/lib/smtp_server.py) stores what it accepted. Both
//! hold one raw message per file; a test finds its own by recipient, since one SMTP server
//! serves every test at once.

use std::path::{Path, PathBuf};

use mail_parser::MessageParser;

/// The SMTP server the test command started, and the Maildir it stores into.
pub fn smtp_url() -> String {
    crate::env::required_var(crate::env::SMTP_URL_VAR)
}

pub fn smtp_maildir() -> PathBuf {
    PathBuf::from(crate::env::required_var(crate::env::SMTP_MAILDIR_VAR))
}

/// A fresh address no other test uses, at a domain the test SMTP server accepts.
pub fn unique_address(who: &str) -> String {
    format!("{who}-{}@example.com", uuid::Uuid::now_v7().simple())
}

/// One received email, parsed.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub to: Vec<String>,
    pub from: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Without the angle brackets.
    pub message_id: String,
    pub file: PathBuf,
}

impl ReceivedMail {
    /// The first link of the text part that starts with `prefix`.
    pub fn link_starting(&self, prefix: &str) -> Option<String> {
        self.text
            .split_whitespace()
            .find(|word| word.starts_with(prefix))
            .map(str::to_owned)
    }
}

/// The files of `dir` (a directory of `.eml` files, or a Maildir: its `new/`), oldest name first.
fn files(dir: &Path) -> Vec<PathBuf> {
    let maildir_new = dir.join("new");
    let dir = if maildir_new.is_dir() {
        maildir_new
    } else {
        dir.to_owned()
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        // Not a file still being written (the adapter's `.partial`, Maildir's tmp/).
        .filter(|path| path.is_file() && !path.to_string_lossy().ends_with(".partial"))
        .collect();
    files.sort();
    files
}

/// Every email in `dir`.
pub fn read_all(dir: &Path) -> Vec<ReceivedMail> {
    files(dir)
        .iter()
        .filter_map(|file| parse(file, &std::fs::read(file).ok()?))
        .collect()
}

/// The emails in `dir` sent to `recipient`. Only files that name it are parsed: the test
/// command's Maildir holds the emails of every test.
pub fn to(dir: &Path, recipient: &str) -> Vec<ReceivedMail> {
    files(dir)
        .iter()
        .filter_map(|file| {
            let raw = std::fs::read(file).ok()?;
            let names_it = raw
                .windows(recipient.len())
                .any(|window| window.eq_ignore_ascii_case(recipient.as_bytes()));
            if names_it {
                parse(file, &raw)
            } else {
                None
            }
        })
        .filter(|mail| mail.to.iter().any(|to| to.eq_ignore_ascii_case(recipient)))
        .collect()
}

/// Waits (up to ten seconds) until `dir` holds `count` emails to `recipient`, and returns them.
pub async fn wait_for(dir: &Path, recipient: &str, count: usize) -> Vec<ReceivedMail> {
    crate::eventually(&format!("{count} email(s) to {recipient}"), || async {
        let found = to(dir, recipient);
        (found.len() >= count).then_some(found)
    })
    .await
}

fn parse(file: &Path, raw: &[u8]) -> Option<ReceivedMail> {
    let message = MessageParser::default().parse(raw)?;
    let addresses = |list: Option<&mail_parser::Address>| -> Vec<String> {
        list.into_iter()
            .flat_map(|address| address.iter())
            .filter_map(|addr| addr.address().map(str::to_owned))
            .collect()
    };
    Some(ReceivedMail {
        to: addresses(message.to()),
        from: addresses(message.from()).join(", "),
        subject: message.subject().unwrap_or_default().to_owned(),
        text: message
            .body_text(0)
            .map(|t| t.into_owned())
            .unwrap_or_default(),
        html: message
            .body_html(0)
            .map(|t| t.into_owned())
            .unwrap_or_default(),
        message_id: message.message_id().unwrap_or_default().to_owned(),
        file: file.to_owned(),
    })
}
