//! Emails as `.eml` files in a directory: what embedded mode does without a mail server, so a
//! person trying GitTix on a laptop can open each email (any mail client reads the format).

use std::path::{Path, PathBuf};

use lettre::message::Mailbox;

use super::{message, sender, Mail, Mailer, SendError};

pub struct MailFiles {
    dir: PathBuf,
    from: Mailbox,
}

impl MailFiles {
    /// Writes into `dir`, created if missing. The emails hold sign-in secrets (reset and
    /// verification links): the directory is its owner's only (0700), as each file (0600).
    pub fn new(dir: &Path, from: &str) -> anyhow::Result<Self> {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)))
            .map_err(|e| anyhow::anyhow!("creating the mail directory {}: {e}", dir.display()))?;
        Ok(Self {
            dir: dir.to_owned(),
            from: sender(from)?,
        })
    }

    /// Where the file of the email `id` is written.
    pub fn path_of(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.eml"))
    }
}

#[async_trait::async_trait]
impl Mailer for MailFiles {
    async fn send(&self, mail: &Mail) -> Result<(), SendError> {
        let bytes = message(&self.from, mail)?.formatted();
        let path = self.path_of(&mail.id);
        // Written whole, then renamed: a reader (or a crash) never sees half an email, and a
        // second send of the same email replaces the first instead of adding a copy.
        let partial = self.dir.join(format!(".{}.eml.partial", mail.id));
        let (from, to) = (partial, path.clone());
        let written = tokio::task::spawn_blocking(move || {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&from)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
            std::fs::rename(&from, &to)
        })
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e)));
        written.map_err(|e| SendError::Temporary(format!("writing {}: {e}", path.display())))?;
        tracing::info!(to = %mail.to, subject = %mail.subject, path = %path.display(), "email written");
        Ok(())
    }
}
