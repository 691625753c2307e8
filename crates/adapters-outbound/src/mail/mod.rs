//! Invitation emails over SMTP (docs/api.md, "Email to invitees"): [`SmtpMailer`] implements the
//! domain's `Mailer` port with lettre on rustls; [`FileMailer`] writes the same emails to the
//! development outbox instead.
//!
//! `compose` writes the email once, when the delivery is made, as a small JSON document
//! (subject, plain text, HTML); `send` reads it back at every attempt, so a retry sends exactly
//! what the first attempt did. A send is one SMTP session, bounded as a whole by the timeout; the
//! server's `5xx` is permanent, everything else is worth another attempt.

mod config;
mod file;
mod message;
mod subject;
mod unsubscribe;

use std::time::Duration;

use async_trait::async_trait;
use domain::webhooks::delivery::InvitationEmail;
use domain::webhooks::ports::{MailResult, Mailer};
use domain::Email;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

pub use self::config::{SmtpConfig, SmtpConfigError, SmtpCredentials, SmtpSecurity};
pub use self::file::FileMailer;
use self::message::{compose, one_line, StoredMessage};

/// Sends invitation emails through one SMTP server.
///
/// Each send opens its own session (no pool): emails go out a few at a time from the delivery
/// worker, and a fresh session never fails on a connection the server closed meanwhile.
#[derive(Clone, Debug)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    timeout: Duration,
}

impl SmtpMailer {
    /// A mailer for this server. Nothing is connected yet.
    ///
    /// # Errors
    /// [`SmtpConfigError::Tls`] when the host cannot be a TLS server name.
    pub fn new(config: SmtpConfig) -> Result<Self, SmtpConfigError> {
        let parameters =
            TlsParameters::new(config.host.clone()).map_err(|_| SmtpConfigError::Tls)?;
        let tls = match config.security {
            SmtpSecurity::StartTlsWhenOffered => Tls::Opportunistic(parameters),
            SmtpSecurity::ImplicitTls => Tls::Wrapper(parameters),
        };
        // "Dangerous" only in that lettre leaves the TLS choice to us: it is made just above.
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host)
            .port(config.port)
            .tls(tls)
            .timeout(Some(config.timeout));
        if let Some(credentials) = config.credentials {
            builder = builder.credentials(Credentials::new(
                credentials.user,
                credentials.password.expose_secret().to_owned(),
            ));
        }
        Ok(Self {
            transport: builder.build(),
            from: config.from,
            timeout: config.timeout,
        })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    fn compose(&self, email: &InvitationEmail) -> String {
        compose(email).to_stored()
    }

    fn compose_text(&self, subject: &str, text: &str) -> String {
        message::compose_text(subject, text).to_stored()
    }

    fn compose_notice(&self, subject: &str, text: &str, calendar: &str) -> String {
        message::compose_notice(subject, text, calendar).to_stored()
    }

    async fn send(&self, to: &Email, message: &str) -> MailResult {
        let email = match build_email(&self.from, to, message) {
            Ok(email) => email,
            Err(refused) => return refused,
        };
        match tokio::time::timeout(self.timeout, self.transport.send(email)).await {
            Ok(Ok(_)) => MailResult::Sent,
            Ok(Err(error)) => {
                tracing::warn!(error = ?error, "sending an invitation email failed");
                classify(&error, self.timeout)
            }
            Err(_) => MailResult::Transient(did_not_answer(self.timeout)),
        }
    }
}

/// The email to send: a stored message (from [`Mailer::compose`]) from `from` to `to`. What cannot
/// be built never will be: the error is a [`MailResult::Permanent`].
fn build_email(from: &Mailbox, to: &Email, message: &str) -> Result<Message, MailResult> {
    let Some(stored) = StoredMessage::from_stored(message) else {
        return Err(MailResult::Permanent(
            "the stored message cannot be read".to_owned(),
        ));
    };
    let Ok(address) = to.as_str().parse::<Address>() else {
        return Err(MailResult::Permanent(
            "the address cannot be used for sending".to_owned(),
        ));
    };
    let mut builder = Message::builder()
        .from(from.clone())
        .to(Mailbox::new(None, address))
        .header(subject::Subject::new(one_line(&stored.subject)));
    if unsubscribe::fits(&stored.unsubscribe) {
        builder = builder
            .header(unsubscribe::ListUnsubscribe(stored.unsubscribe.clone()))
            .header(unsubscribe::ListUnsubscribePost);
    }
    let built = if stored.html.is_empty() && stored.calendar.is_empty() {
        builder.singlepart(SinglePart::plain(stored.text))
    } else if stored.html.is_empty() {
        builder.multipart(
            MultiPart::alternative()
                .singlepart(SinglePart::plain(stored.text))
                .singlepart(
                    SinglePart::builder()
                        .header(calendar_type(&stored.calendar))
                        .body(stored.calendar),
                ),
        )
    } else if stored.calendar.is_empty() {
        builder.multipart(MultiPart::alternative_plain_html(stored.text, stored.html))
    } else {
        // iMIP (RFC 6047): the invitation (or its cancellation) as the last alternative, which
        // calendar-aware mail clients show as an event to add (or take out).
        builder.multipart(
            MultiPart::alternative()
                .singlepart(SinglePart::plain(stored.text))
                .singlepart(SinglePart::html(stored.html))
                .singlepart(
                    SinglePart::builder()
                        .header(calendar_type(&stored.calendar))
                        .body(stored.calendar),
                ),
        )
    };
    built.map_err(|error| {
        tracing::warn!(error = %error, "an invitation email could not be built");
        MailResult::Permanent("the message cannot be built".to_owned())
    })
}

/// `text/calendar; charset=utf-8; method=REQUEST` (or `CANCEL`): the part's method is the
/// calendar's own (RFC 6047, 2.4).
fn calendar_type(calendar: &str) -> lettre::message::header::ContentType {
    let method = if calendar.contains("\r\nMETHOD:CANCEL\r\n") {
        "CANCEL"
    } else {
        "REQUEST"
    };
    lettre::message::header::ContentType::parse(&format!(
        "text/calendar; charset=utf-8; method={method}"
    ))
    .unwrap_or(lettre::message::header::ContentType::TEXT_PLAIN)
}

fn did_not_answer(timeout: Duration) -> String {
    format!(
        "the mail server did not finish within {} s",
        timeout.as_secs_f64()
    )
}

/// SMTP reply codes (RFC 4954) that refuse *us*, not the message: our credentials or the
/// security of our session. Permanent as replies, but giving up every email over a setting an
/// operator will fix would lose them; they are retried.
const REFUSING_US: [u16; 4] = [530, 534, 535, 538];

/// The result of a failed send: a permanent `5xx` is [`MailResult::Permanent`]; a `4xx`, a
/// refusal of our credentials, a timeout, TLS and connection failures are
/// [`MailResult::Transient`].
fn classify(error: &lettre::transport::smtp::Error, timeout: Duration) -> MailResult {
    if let Some(code) = error.status() {
        let reply = server_reply(error);
        let code_number = u16::from(code);
        return if error.is_permanent() && !REFUSING_US.contains(&code_number) {
            MailResult::Permanent(format!("the mail server refused it: {code}{reply}"))
        } else if error.is_permanent() {
            MailResult::Transient(format!(
                "the mail server refused our credentials: {code}{reply}"
            ))
        } else {
            MailResult::Transient(format!(
                "the mail server asked to try again later: {code}{reply}"
            ))
        };
    }
    let sentence = if error.is_timeout() {
        did_not_answer(timeout)
    } else if error.is_tls() {
        "the TLS connection to the mail server failed".to_owned()
    } else if refused_connection(error) {
        "the mail server refused the connection".to_owned()
    } else {
        "the conversation with the mail server failed".to_owned()
    };
    MailResult::Transient(sentence)
}

/// " " and the server's own text (lettre keeps it as the error's source), on one line and
/// short; empty when there is none.
fn server_reply(error: &lettre::transport::smtp::Error) -> String {
    const MAX_CHARS: usize = 200;
    let Some(source) = std::error::Error::source(error) else {
        return String::new();
    };
    let text = one_line(&source.to_string());
    let text = text.trim();
    if text.is_empty() {
        return String::new();
    }
    format!(" {}", text.chars().take(MAX_CHARS).collect::<String>())
}

fn refused_connection(error: &lettre::transport::smtp::Error) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return io.kind() == std::io::ErrorKind::ConnectionRefused;
        }
        source = cause.source();
    }
    false
}
