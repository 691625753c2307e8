//! The mail server's settings (`SMTP_URL`, `SMTP_FROM`; docs/api.md, "Email to invitees"), read
//! once at start so that a mistake stops the service with one clear line instead of failing every
//! email later.

use std::time::Duration;

use lettre::message::Mailbox;
use percent_encoding::percent_decode_str;
use secrecy::SecretString;

/// How the connection to the mail server is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// `smtp://`: plain SMTP, upgraded with `STARTTLS` when the server offers it (opportunistic:
    /// a server that does not offer it gets the message in clear).
    StartTlsWhenOffered,
    /// `smtps://`: TLS from the first byte (implicit TLS, RFC 8314).
    ImplicitTls,
}

/// The user name and password of `SMTP_URL`, percent-decoded. The password's `Debug` is hidden.
#[derive(Clone, Debug)]
pub struct SmtpCredentials {
    /// The user name.
    pub user: String,
    /// The password.
    pub password: SecretString,
}

/// Where and how invitation emails are sent.
#[derive(Clone, Debug)]
pub struct SmtpConfig {
    /// The mail server's host name or IP address.
    pub host: String,
    /// Its port: the URL's, or [`SmtpConfig::SMTP_PORT`] / [`SmtpConfig::SMTPS_PORT`] by scheme.
    pub port: u16,
    /// `STARTTLS` or implicit TLS, by scheme.
    pub security: SmtpSecurity,
    /// Credentials, when the URL has them.
    pub credentials: Option<SmtpCredentials>,
    /// The `From` of every email (`SMTP_FROM`).
    pub from: Mailbox,
    /// The most one send may take, from connecting to the server's last answer
    /// ([`SmtpConfig::DEFAULT_TIMEOUT`] by default).
    pub timeout: Duration,
}

/// Why `SMTP_URL` or `SMTP_FROM` cannot be used. Its text never repeats the password.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SmtpConfigError {
    /// Not a URL.
    #[error(
        "expected a URL such as smtp://user:password@host:587 or smtps://user:password@host:465"
    )]
    Url,
    /// Neither `smtp://` nor `smtps://`.
    #[error("expected the scheme smtp:// (STARTTLS when offered) or smtps:// (implicit TLS)")]
    Scheme,
    /// No host.
    #[error("the URL has no host")]
    Host,
    /// A path, query or fragment: nothing is read from them, so a setting there would be ignored
    /// silently.
    #[error("the URL must not have a path, query or fragment")]
    Extra,
    /// A user name without a password, or credentials that are not percent-encoded UTF-8.
    #[error("the user name and password must both be given, percent-encoded UTF-8")]
    Credentials,
    /// The host cannot be a TLS server name.
    #[error("the host is not a valid TLS server name")]
    Tls,
    /// `SMTP_FROM` is not a mailbox.
    #[error("expected a mailbox such as `Event Manager <no-reply@example.com>`")]
    From,
}

impl SmtpConfigError {
    /// The setting at fault, for the start error's line (`SMTP_URL: …`).
    pub const fn variable(self) -> &'static str {
        match self {
            Self::From => "SMTP_FROM",
            _ => "SMTP_URL",
        }
    }
}

impl SmtpConfig {
    /// The port of `smtp://` without one.
    pub const SMTP_PORT: u16 = 25;
    /// The port of `smtps://` without one.
    pub const SMTPS_PORT: u16 = 465;
    /// The default bound of one send: 15 seconds.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

    /// Reads `SMTP_URL` (`smtp://[user:password@]host[:port]`, `smtps://…`) and `SMTP_FROM` (a
    /// mailbox, `Name <address>` or a bare address), with the default timeout.
    ///
    /// # Errors
    /// [`SmtpConfigError`] naming the first problem; [`SmtpConfigError::variable`] says which
    /// setting has it.
    pub fn parse(url: &str, from: &str) -> Result<Self, SmtpConfigError> {
        let parsed = url::Url::parse(url.trim()).map_err(|_| SmtpConfigError::Url)?;
        let (security, default_port) = match parsed.scheme() {
            "smtp" => (SmtpSecurity::StartTlsWhenOffered, Self::SMTP_PORT),
            "smtps" => (SmtpSecurity::ImplicitTls, Self::SMTPS_PORT),
            _ => return Err(SmtpConfigError::Scheme),
        };
        // `smtp` is not one of the URL standard's special schemes: the host is kept as written
        // (IPv6 in brackets, which the connection must not see).
        let host = match parsed.host() {
            Some(url::Host::Domain(name)) if !name.is_empty() => name.to_owned(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            _ => return Err(SmtpConfigError::Host),
        };
        if !matches!(parsed.path(), "" | "/") || parsed.query().is_some() {
            return Err(SmtpConfigError::Extra);
        }
        if parsed.fragment().is_some() {
            return Err(SmtpConfigError::Extra);
        }
        let credentials = match (parsed.username(), parsed.password()) {
            ("", None) => None,
            ("", Some(_)) | (_, None) => return Err(SmtpConfigError::Credentials),
            (user, Some(password)) => Some(SmtpCredentials {
                user: decode(user)?,
                password: SecretString::from(decode(password)?),
            }),
        };
        let from = from
            .trim()
            .parse::<Mailbox>()
            .map_err(|_| SmtpConfigError::From)?;
        Ok(Self {
            host,
            port: parsed.port().unwrap_or(default_port),
            security,
            credentials,
            from,
            timeout: Self::DEFAULT_TIMEOUT,
        })
    }
}

fn decode(part: &str) -> Result<String, SmtpConfigError> {
    percent_decode_str(part)
        .decode_utf8()
        .map(|decoded| decoded.into_owned())
        .map_err(|_| SmtpConfigError::Credentials)
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    const FROM: &str = "Event Manager <no-reply@example.com>";

    #[test]
    fn smtp_urls_give_host_port_security_and_decoded_credentials() {
        let config = SmtpConfig::parse(
            "smtp://me%40example.com:p%3Ass%2Fw@mail.example.com:587",
            FROM,
        )
        .unwrap();
        assert_eq!(config.host, "mail.example.com");
        assert_eq!(config.port, 587);
        assert_eq!(config.security, SmtpSecurity::StartTlsWhenOffered);
        let credentials = config.credentials.unwrap();
        assert_eq!(credentials.user, "me@example.com");
        assert_eq!(credentials.password.expose_secret(), "p:ss/w");
        assert_eq!(config.from.email.to_string(), "no-reply@example.com");
        assert_eq!(config.from.name.as_deref(), Some("Event Manager"));
        assert_eq!(config.timeout, Duration::from_secs(15));
    }

    #[test]
    fn ports_default_by_scheme() {
        let plain = SmtpConfig::parse("smtp://localhost", FROM).unwrap();
        assert_eq!((plain.port, plain.credentials.is_none()), (25, true));
        let tls = SmtpConfig::parse("smtps://u:p@[::1]/", "no-reply@example.com").unwrap();
        assert_eq!(
            (tls.host.as_str(), tls.port, tls.security),
            ("::1", 465, SmtpSecurity::ImplicitTls)
        );
    }

    #[test]
    fn bad_settings_are_named() {
        let cases = [
            ("mail.example.com:25", FROM, SmtpConfigError::Scheme),
            ("not a url", FROM, SmtpConfigError::Url),
            ("https://mail.example.com", FROM, SmtpConfigError::Scheme),
            (
                "smtp://mail.example.com/ehlo?tls=required",
                FROM,
                SmtpConfigError::Extra,
            ),
            (
                "smtp://user@mail.example.com",
                FROM,
                SmtpConfigError::Credentials,
            ),
            (
                "smtp://u:%FF@mail.example.com",
                FROM,
                SmtpConfigError::Credentials,
            ),
            ("smtp://mail.example.com", "nobody", SmtpConfigError::From),
            ("smtp://mail.example.com", "", SmtpConfigError::From),
        ];
        for (url, from, expected) in cases {
            assert_eq!(
                SmtpConfig::parse(url, from).err(),
                Some(expected),
                "{url} {from}"
            );
        }
        assert_eq!(SmtpConfigError::From.variable(), "SMTP_FROM");
        assert_eq!(SmtpConfigError::Credentials.variable(), "SMTP_URL");
    }

    #[test]
    fn errors_never_repeat_the_password() {
        let error = SmtpConfig::parse("smtp://u:hunter2@mail.example.com/x", FROM).unwrap_err();
        assert!(!error.to_string().contains("hunter2"));
        assert!(!format!("{error:?}").contains("hunter2"));
    }
}
