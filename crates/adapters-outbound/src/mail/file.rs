//! Invitation emails written to the development outbox instead of sent (`OUTBOX_DIR/mail/`).

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use domain::webhooks::delivery::InvitationEmail;
use domain::webhooks::ports::{MailResult, Mailer};
use domain::Email;
use lettre::message::Mailbox;

use super::build_email;
use super::message::compose;
use crate::outbox::{write_new, OutboxDir};

/// Writes each email as `OUTBOX_DIR/mail/<UTC time>-<UUID>.eml`: the whole message as the SMTP
/// mailer would send it (headers, plain text and HTML parts), which a mail client opens as is.
///
/// It composes exactly as [`super::SmtpMailer`] does, so a stored delivery reads the same whichever
/// of the two sends it. A file that cannot be written is a [`MailResult::Transient`].
#[derive(Clone, Debug)]
pub struct FileMailer {
    dir: PathBuf,
    from: Mailbox,
}

impl FileMailer {
    /// A mailer into `outbox`'s `mail/` directory (created when the first email is written),
    /// with `from` as every email's `From`.
    pub fn new(outbox: &OutboxDir, from: Mailbox) -> Self {
        Self {
            dir: outbox.path().join("mail"),
            from,
        }
    }

    /// The directory emails are written to (absolute), for the start-up log.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[async_trait]
impl Mailer for FileMailer {
    fn compose(&self, email: &InvitationEmail) -> String {
        compose(email).to_stored()
    }

    fn compose_text(&self, subject: &str, text: &str) -> String {
        super::message::compose_text(subject, text).to_stored()
    }

    fn compose_notice(&self, subject: &str, text: &str, calendar: &str) -> String {
        super::message::compose_notice(subject, text, calendar).to_stored()
    }

    async fn send(&self, to: &Email, message: &str) -> MailResult {
        let email = match build_email(&self.from, to, message) {
            Ok(email) => email,
            Err(refused) => return refused,
        };
        match write_new(self.dir.clone(), "eml", email.formatted()).await {
            Ok(path) => {
                tracing::info!(path = %path.display(), "an email was written to the outbox");
                MailResult::Sent
            }
            Err(reason) => MailResult::Transient(reason),
        }
    }
}
