//! Where messages and traces go: the email and SMS transports and the trace export, as the
//! settings chose them.

use adapters_outbound::{FileMailer, FileSmsSender, SmsUrl, SmtpConfig, SmtpSecurity};

/// How invitation emails go out (`SMTP_URL`).
#[derive(Clone, Debug)]
pub enum EmailTransport {
    /// `SMTP_URL` unset: each email is written to a file in `OUTBOX_DIR/mail`, for development.
    Files(FileMailer),
    /// `SMTP_URL=none`: no email (no email deliveries are made or claimed).
    Off,
    /// A mail server.
    Smtp(SmtpConfig),
}

/// What the start-up log says: `files in /srv/data/outbox/mail (SMTP_URL unset)`,
/// `smtp://user:***@mail.example.com:587` (never the password), `off (SMTP_URL=none)`.
impl std::fmt::Display for EmailTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Files(mailer) => {
                write!(f, "files in {} (SMTP_URL unset)", mailer.dir().display())
            }
            Self::Off => f.write_str("off (SMTP_URL=none)"),
            Self::Smtp(smtp) => {
                let scheme = match smtp.security {
                    SmtpSecurity::StartTlsWhenOffered => "smtp",
                    SmtpSecurity::ImplicitTls => "smtps",
                };
                let host = if smtp.host.contains(':') {
                    format!("[{}]", smtp.host)
                } else {
                    smtp.host.clone()
                };
                let mut shown = match url::Url::parse(&format!("{scheme}://{host}:{}", smtp.port)) {
                    Ok(url) => url,
                    Err(_) => return write!(f, "{scheme}://{host}:{}", smtp.port),
                };
                if let Some(credentials) = &smtp.credentials {
                    let _ = shown.set_username(&credentials.user);
                    let _ = shown.set_password(Some("***"));
                }
                f.write_str(shown.as_str().trim_end_matches('/'))
            }
        }
    }
}

/// How text messages go out (`SMS_URL`).
#[derive(Clone, Debug)]
pub enum SmsTransport {
    /// `SMS_URL` unset: each text is written to a file in `OUTBOX_DIR/sms`, for development.
    Files(FileSmsSender),
    /// `SMS_URL=none`: no texts.
    Off,
    /// A gateway.
    Gateway(SmsUrl),
}

/// What the start-up log says: `files in /srv/data/outbox/sms (SMS_URL unset)`,
/// `kavenegar://***@api.kavenegar.com` (never a password, key or token), `off (SMS_URL=none)`.
impl std::fmt::Display for SmsTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Files(sender) => write!(f, "files in {} (SMS_URL unset)", sender.dir().display()),
            Self::Off => f.write_str("off (SMS_URL=none)"),
            Self::Gateway(url) => write!(f, "{url}"),
        }
    }
}

/// Where spans are exported, over OTLP/HTTP with protobuf bodies (docs/operations.md, "Traces").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceExport {
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`: the collector's base URL, such as `http://localhost:4318`.
    pub endpoint: url::Url,
    /// `OTEL_SERVICE_NAME` (default `event-manager`).
    pub service_name: String,
}

impl TraceExport {
    /// Where spans are posted: the base URL with `/v1/traces` added to its path, as the
    /// OpenTelemetry specification has it for `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub fn traces_url(&self) -> String {
        format!("{}/v1/traces", self.endpoint.as_str().trim_end_matches('/'))
    }
}
