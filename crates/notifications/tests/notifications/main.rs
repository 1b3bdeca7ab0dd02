//! The mail port's conformance suite on both adapters (`.eml` files and the test command's SMTP
//! server), and the notifications service in both topologies: which event makes which email,
//! to whom, with which links, once.

mod mail_port;
mod service;

use std::path::PathBuf;
use std::sync::Arc;

use gittix_notifications::mail::files::MailFiles;
use gittix_notifications::mail::smtp::Smtp;
use gittix_notifications::Mailer;
use tempfile::TempDir;

const FROM: &str = "GitTix <no-reply@gittix.test>";

/// The two adapters of the mail port.
#[derive(Debug, Clone, Copy)]
pub enum Adapter {
    Files,
    Smtp,
}

/// A mailer of either adapter and the directory where what it sends can be read back.
pub struct TestMailer {
    pub mailer: Arc<dyn Mailer>,
    pub inbox: PathBuf,
    _dir: Option<TempDir>,
}

impl TestMailer {
    pub fn new(adapter: Adapter) -> Self {
        match adapter {
            Adapter::Files => {
                let dir = tempfile::tempdir().unwrap();
                let mailer = MailFiles::new(dir.path(), FROM).unwrap();
                Self {
                    mailer: Arc::new(mailer),
                    inbox: dir.path().to_owned(),
                    _dir: Some(dir),
                }
            }
            Adapter::Smtp => Self {
                mailer: Arc::new(Smtp::new(&gittix_testing::mail::smtp_url(), FROM).unwrap()),
                inbox: gittix_testing::mail::smtp_maildir(),
                _dir: None,
            },
        }
    }
}
