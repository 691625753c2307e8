//! The `SMS_URL` setting (docs/operations.md, "Text messages"): which gateway sends text messages,
//! where it is and how we sign in, read once at start so that a mistake stops the service with one
//! clear line instead of failing every text later.
//!
//! Query values are percent-decoded, and a `+` stays a `+` (it is not a space here), so that
//! `from=+15551234567` means what it says. Unknown query parameters are refused rather than
//! ignored: a misspelt `smsc=` would otherwise route texts somewhere else without a word.

use std::fmt;
use std::time::Duration;

use percent_encoding::percent_decode_str;
use secrecy::SecretString;
use url::Url;

/// The form of a Kannel `SMS_URL`.
const KANNEL_FORM: &str = "kannel://USER:PASS@HOST:PORT?from=SENDER[&smsc=ID]";
/// The form of a Kavenegar `SMS_URL`.
const KAVENEGAR_FORM: &str = "kavenegar://API_KEY@api.kavenegar.com[?sender=NUMBER]";
/// The form of a Twilio `SMS_URL`.
const TWILIO_FORM: &str = "twilio://ACCOUNT_SID:AUTH_TOKEN@api.twilio.com?from=+15551234567";

/// The SMS gateways `SMS_URL` can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmsGateway {
    /// Kannel's sendsms HTTP interface (`kannel://`, `kannel+https://`).
    Kannel,
    /// Kavenegar's REST API (`kavenegar://`).
    Kavenegar,
    /// Twilio's Programmable Messaging REST API (`twilio://`).
    Twilio,
}

impl SmsGateway {
    /// The form of this gateway's `SMS_URL`, as error messages show it.
    pub const fn form(self) -> &'static str {
        match self {
            Self::Kannel => KANNEL_FORM,
            Self::Kavenegar => KAVENEGAR_FORM,
            Self::Twilio => TWILIO_FORM,
        }
    }

    /// The gateway's name, for logs and for the reasons stored with a failed text.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Kannel => "Kannel",
            Self::Kavenegar => "Kavenegar",
            Self::Twilio => "Twilio",
        }
    }
}

impl fmt::Display for SmsGateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why `SMS_URL` cannot be used. Its text names the form expected and never repeats a secret.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SmsUrlError {
    /// Not a URL, or a scheme that names no gateway.
    #[error("expected {KANNEL_FORM}, {KAVENEGAR_FORM} or {TWILIO_FORM}")]
    Unknown,
    /// A gateway's URL with something wrong in it.
    #[error("{problem}; expected {}", .gateway.form())]
    Invalid {
        /// The gateway the scheme names.
        gateway: SmsGateway,
        /// What is wrong.
        problem: SmsUrlProblem,
    },
}

/// What is wrong in a gateway's `SMS_URL`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SmsUrlProblem {
    /// No host.
    #[error("the URL has no host")]
    Host,
    /// No port where one is needed (Kannel's sendsms port has no standard number).
    #[error("the URL has no port")]
    Port,
    /// Credentials missing, incomplete or not percent-encoded UTF-8.
    #[error("the credentials are missing, incomplete or not percent-encoded UTF-8")]
    Credentials,
    /// A path or fragment: nothing is read from them, so a setting there would be ignored.
    #[error("the URL must not have a path or fragment")]
    Extra,
    /// A required query parameter is missing or empty.
    #[error("the query has no {0}=")]
    Missing(&'static str),
    /// A query parameter this gateway does not read.
    #[error("the query parameter {0:?} is not one this gateway reads")]
    UnknownParameter(String),
    /// A query parameter given twice.
    #[error("the query parameter {0}= is given twice")]
    Repeated(String),
    /// A query value that is not percent-encoded UTF-8.
    #[error("the query is not percent-encoded UTF-8")]
    Encoding,
    /// A `+http` URL to a host other than this machine: it would send the credentials in clear.
    #[error("a +http URL sends credentials in clear and may only point at 127.0.0.1, [::1] or localhost")]
    NotLoopback,
}

/// Where texts go through Kannel: its smsbox's sendsms interface.
#[derive(Clone, Debug)]
pub struct KannelConfig {
    /// `http://HOST:PORT/` (`https://` for `kannel+https://`).
    pub base: Url,
    /// The `username` of a `sendsms-user` group.
    pub username: String,
    /// Its `password`. `Debug` hides it.
    pub password: SecretString,
    /// The sender (`from`): a number, or a name where the SMSC allows one.
    pub from: String,
    /// The SMSC to route through (`smsc`), for a Kannel with several.
    pub smsc: Option<String>,
}

/// Where texts go through Kavenegar.
#[derive(Clone, Debug)]
pub struct KavenegarConfig {
    /// `https://api.kavenegar.com/` (`http://` for a local stand-in).
    pub base: Url,
    /// The API key, which Kavenegar takes in the path. `Debug` hides it.
    pub api_key: SecretString,
    /// The sending line (`sender`); Kavenegar's default line for the account when `None`.
    pub sender: Option<String>,
}

/// Where texts go through Twilio.
#[derive(Clone, Debug)]
pub struct TwilioConfig {
    /// `https://api.twilio.com/` (`http://` for a local stand-in).
    pub base: Url,
    /// The account SID (`AC…`), in the path and as the basic-auth user.
    pub account_sid: String,
    /// The auth token, the basic-auth password. `Debug` hides it.
    pub auth_token: SecretString,
    /// The sender (`From`): a Twilio number in E.164, or an alphanumeric sender ID.
    pub from: String,
}

/// The gateway that sends text messages, read from `SMS_URL`.
#[derive(Clone, Debug)]
pub enum SmsUrl {
    /// `kannel://USER:PASS@HOST:PORT?from=SENDER[&smsc=ID]`, or `kannel+https://…` for a sendsms
    /// interface behind TLS.
    Kannel(KannelConfig),
    /// `kavenegar://API_KEY@api.kavenegar.com[?sender=NUMBER]`, or `kavenegar+http://…` to a
    /// stand-in on this machine.
    Kavenegar(KavenegarConfig),
    /// `twilio://ACCOUNT_SID:AUTH_TOKEN@api.twilio.com?from=SENDER`, or `twilio+http://…` to a
    /// stand-in on this machine.
    Twilio(TwilioConfig),
}

impl SmsUrl {
    /// The default bound of one send: 15 seconds.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

    /// Reads `SMS_URL`.
    ///
    /// # Errors
    /// [`SmsUrlError`] naming the first problem and the form expected.
    pub fn parse(url: &str) -> Result<Self, SmsUrlError> {
        let parsed = Url::parse(url.trim()).map_err(|_| SmsUrlError::Unknown)?;
        let (gateway, http_scheme) = match parsed.scheme() {
            "kannel" => (SmsGateway::Kannel, "http"),
            "kannel+https" => (SmsGateway::Kannel, "https"),
            "kavenegar" => (SmsGateway::Kavenegar, "https"),
            "kavenegar+http" => (SmsGateway::Kavenegar, "http"),
            "twilio" => (SmsGateway::Twilio, "https"),
            "twilio+http" => (SmsGateway::Twilio, "http"),
            _ => return Err(SmsUrlError::Unknown),
        };
        let invalid = |problem| SmsUrlError::Invalid { gateway, problem };
        let parts = Parts::read(&parsed, http_scheme, gateway).map_err(invalid)?;
        match gateway {
            SmsGateway::Kannel => parts.kannel().map(Self::Kannel),
            SmsGateway::Kavenegar => parts.kavenegar().map(Self::Kavenegar),
            SmsGateway::Twilio => parts.twilio().map(Self::Twilio),
        }
        .map_err(invalid)
    }

    /// The gateway it names.
    pub fn gateway(&self) -> SmsGateway {
        match self {
            Self::Kannel(_) => SmsGateway::Kannel,
            Self::Kavenegar(_) => SmsGateway::Kavenegar,
            Self::Twilio(_) => SmsGateway::Twilio,
        }
    }
}

/// The URL without its secrets, for the start-up log: `kannel://eventmanager:***@host:13013?…`.
impl fmt::Display for SmsUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secure = |base: &Url| base.scheme() == "https";
        match self {
            Self::Kannel(config) => {
                let scheme = if secure(&config.base) {
                    "kannel+https"
                } else {
                    "kannel"
                };
                write!(
                    f,
                    "{scheme}://{}:***@{}?from={}",
                    config.username,
                    authority(&config.base),
                    config.from
                )?;
                if let Some(smsc) = &config.smsc {
                    write!(f, "&smsc={smsc}")?;
                }
                Ok(())
            }
            Self::Kavenegar(config) => {
                let scheme = if secure(&config.base) {
                    "kavenegar"
                } else {
                    "kavenegar+http"
                };
                write!(f, "{scheme}://***@{}", authority(&config.base))?;
                if let Some(sender) = &config.sender {
                    write!(f, "?sender={sender}")?;
                }
                Ok(())
            }
            Self::Twilio(config) => {
                let scheme = if secure(&config.base) {
                    "twilio"
                } else {
                    "twilio+http"
                };
                write!(
                    f,
                    "{scheme}://{}:***@{}?from={}",
                    config.account_sid,
                    authority(&config.base),
                    config.from
                )
            }
        }
    }
}

fn authority(base: &Url) -> String {
    let host = base.host_str().unwrap_or_default();
    match base.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// The pieces of a gateway's URL, checked for what every gateway needs.
struct Parts {
    base: Url,
    user: String,
    password: Option<String>,
    query: Vec<(String, String)>,
}

impl Parts {
    fn read(parsed: &Url, http_scheme: &str, gateway: SmsGateway) -> Result<Self, SmsUrlProblem> {
        // These schemes are not special to the URL standard: the host is kept as written, IPv6
        // in brackets, which is also how an http URL writes it.
        let host = match parsed.host() {
            Some(url::Host::Domain(name)) if !name.is_empty() => name.to_ascii_lowercase(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
            _ => return Err(SmsUrlProblem::Host),
        };
        if !matches!(parsed.path(), "" | "/") || parsed.fragment().is_some() {
            return Err(SmsUrlProblem::Extra);
        }
        if http_scheme == "http" && gateway != SmsGateway::Kannel && !is_loopback(&host) {
            return Err(SmsUrlProblem::NotLoopback);
        }
        let port = parsed.port();
        if gateway == SmsGateway::Kannel && port.is_none() {
            return Err(SmsUrlProblem::Port);
        }
        let authority = match port {
            Some(port) => format!("{host}:{port}"),
            None => host,
        };
        let base = Url::parse(&format!("{http_scheme}://{authority}/"))
            .map_err(|_| SmsUrlProblem::Host)?;
        let user = decode(parsed.username()).ok_or(SmsUrlProblem::Credentials)?;
        let password = match parsed.password() {
            Some(password) => Some(decode(password).ok_or(SmsUrlProblem::Credentials)?),
            None => None,
        };
        let mut query: Vec<(String, String)> = Vec::new();
        for pair in parsed.query().unwrap_or_default().split('&') {
            if pair.is_empty() {
                continue;
            }
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = decode(name).ok_or(SmsUrlProblem::Encoding)?;
            let value = decode(value).ok_or(SmsUrlProblem::Encoding)?;
            if query.iter().any(|(known, _)| *known == name) {
                return Err(SmsUrlProblem::Repeated(name));
            }
            query.push((name, value));
        }
        Ok(Self {
            base,
            user,
            password,
            query,
        })
    }

    /// Fails on a parameter outside `known`.
    fn only(&self, known: &[&str]) -> Result<(), SmsUrlProblem> {
        match self
            .query
            .iter()
            .find(|(name, _)| !known.contains(&name.as_str()))
        {
            Some((name, _)) => Err(SmsUrlProblem::UnknownParameter(name.clone())),
            None => Ok(()),
        }
    }

    /// A parameter's value; `None` when it is absent or blank.
    fn optional(&self, name: &str) -> Option<String> {
        self.query
            .iter()
            .find(|(known, _)| known == name)
            .map(|(_, value)| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    }

    fn required(&self, name: &'static str) -> Result<String, SmsUrlProblem> {
        self.optional(name).ok_or(SmsUrlProblem::Missing(name))
    }

    /// User and password, both present and not empty.
    fn user_and_password(&self) -> Result<(String, SecretString), SmsUrlProblem> {
        match &self.password {
            Some(password) if !self.user.is_empty() && !password.is_empty() => {
                Ok((self.user.clone(), SecretString::from(password.clone())))
            }
            _ => Err(SmsUrlProblem::Credentials),
        }
    }

    fn kannel(self) -> Result<KannelConfig, SmsUrlProblem> {
        self.only(&["from", "smsc"])?;
        let (username, password) = self.user_and_password()?;
        Ok(KannelConfig {
            username,
            password,
            from: self.required("from")?,
            smsc: self.optional("smsc"),
            base: self.base,
        })
    }

    fn kavenegar(self) -> Result<KavenegarConfig, SmsUrlProblem> {
        self.only(&["sender"])?;
        if self.user.is_empty() || self.password.is_some() {
            return Err(SmsUrlProblem::Credentials);
        }
        Ok(KavenegarConfig {
            api_key: SecretString::from(self.user.clone()),
            sender: self.optional("sender"),
            base: self.base,
        })
    }

    fn twilio(self) -> Result<TwilioConfig, SmsUrlProblem> {
        self.only(&["from"])?;
        let (account_sid, auth_token) = self.user_and_password()?;
        Ok(TwilioConfig {
            account_sid,
            auth_token,
            from: self.required("from")?,
            base: self.base,
        })
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Percent-decodes `part` as UTF-8; `None` when it is not.
fn decode(part: &str) -> Option<String> {
    percent_decode_str(part)
        .decode_utf8()
        .ok()
        .map(|decoded| decoded.into_owned())
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    fn invalid(gateway: SmsGateway, problem: SmsUrlProblem) -> Option<SmsUrlError> {
        Some(SmsUrlError::Invalid { gateway, problem })
    }

    #[test]
    fn kannel_urls_give_the_sendsms_interface_credentials_sender_and_smsc() {
        let url = "kannel://event%20manager:p%40ss%2Bw@Kannel.Example:13013/?from=+98100&smsc=MCI";
        let SmsUrl::Kannel(config) = SmsUrl::parse(url).unwrap() else {
            panic!("not Kannel");
        };
        assert_eq!(config.base.as_str(), "http://kannel.example:13013/");
        assert_eq!(config.username, "event manager");
        assert_eq!(config.password.expose_secret(), "p@ss+w");
        assert_eq!(config.from, "+98100");
        assert_eq!(config.smsc.as_deref(), Some("MCI"));

        let SmsUrl::Kannel(config) =
            SmsUrl::parse("kannel+https://u:p@[::1]:13013?from=EventMgr").unwrap()
        else {
            panic!("not Kannel");
        };
        assert_eq!(config.base.as_str(), "https://[::1]:13013/");
        assert_eq!(config.smsc, None);
    }

    #[test]
    fn kavenegar_urls_give_the_api_key_and_the_optional_sender() {
        let parsed =
            SmsUrl::parse("kavenegar://ABC-123@api.kavenegar.com?sender=10004346").unwrap();
        assert_eq!(parsed.gateway(), SmsGateway::Kavenegar);
        let SmsUrl::Kavenegar(config) = parsed else {
            panic!("not Kavenegar");
        };
        assert_eq!(config.base.as_str(), "https://api.kavenegar.com/");
        assert_eq!(config.api_key.expose_secret(), "ABC-123");
        assert_eq!(config.sender.as_deref(), Some("10004346"));

        let SmsUrl::Kavenegar(config) =
            SmsUrl::parse("kavenegar+http://KEY@127.0.0.1:8080").unwrap()
        else {
            panic!("not Kavenegar");
        };
        assert_eq!(config.base.as_str(), "http://127.0.0.1:8080/");
        assert_eq!(config.sender, None);
    }

    #[test]
    fn twilio_urls_keep_the_plus_of_the_sender() {
        let SmsUrl::Twilio(config) =
            SmsUrl::parse("twilio://AC123:tok3n@api.twilio.com?from=+15551234567").unwrap()
        else {
            panic!("not Twilio");
        };
        assert_eq!(config.base.as_str(), "https://api.twilio.com/");
        assert_eq!(config.account_sid, "AC123");
        assert_eq!(config.auth_token.expose_secret(), "tok3n");
        assert_eq!(config.from, "+15551234567");
        let SmsUrl::Twilio(config) =
            SmsUrl::parse("twilio+http://AC1:t@localhost:9999?from=%2B15551234567").unwrap()
        else {
            panic!("not Twilio");
        };
        assert_eq!(config.base.as_str(), "http://localhost:9999/");
        assert_eq!(config.from, "+15551234567");
    }

    #[test]
    fn bad_urls_are_named_with_the_form_expected() {
        use SmsGateway::{Kannel, Kavenegar, Twilio};
        use SmsUrlProblem as P;
        let cases = [
            ("", Some(SmsUrlError::Unknown)),
            ("smtp://mail.example.com", Some(SmsUrlError::Unknown)),
            ("kannel:nothing", invalid(Kannel, P::Host)),
            ("kannel://u:p@host?from=x", invalid(Kannel, P::Port)),
            (
                "kannel://u@host:13013?from=x",
                invalid(Kannel, P::Credentials),
            ),
            (
                "kannel://u:p@host:13013",
                invalid(Kannel, P::Missing("from")),
            ),
            (
                "kannel://u:p@host:13013?from=",
                invalid(Kannel, P::Missing("from")),
            ),
            (
                "kannel://u:p@host:13013?from=x&smcs=A",
                invalid(Kannel, P::UnknownParameter("smcs".to_owned())),
            ),
            (
                "kannel://u:p@host:13013?from=x&from=y",
                invalid(Kannel, P::Repeated("from".to_owned())),
            ),
            (
                "kannel://u:p@host:13013/cgi-bin/sendsms?from=x",
                invalid(Kannel, P::Extra),
            ),
            (
                "kannel://u:p@host:13013?from=%FF",
                invalid(Kannel, P::Encoding),
            ),
            (
                "kavenegar://api.kavenegar.com",
                invalid(Kavenegar, P::Credentials),
            ),
            (
                "kavenegar://k:p@api.kavenegar.com",
                invalid(Kavenegar, P::Credentials),
            ),
            (
                "kavenegar+http://k@api.kavenegar.com",
                invalid(Kavenegar, P::NotLoopback),
            ),
            (
                "twilio://AC1@api.twilio.com?from=x",
                invalid(Twilio, P::Credentials),
            ),
            (
                "twilio://AC1:t@api.twilio.com",
                invalid(Twilio, P::Missing("from")),
            ),
            (
                "twilio+http://AC1:t@10.0.0.1?from=x",
                invalid(Twilio, P::NotLoopback),
            ),
        ];
        for (url, expected) in cases {
            assert_eq!(SmsUrl::parse(url).err(), expected, "{url}");
        }
        assert_eq!(
            SmsUrl::parse("kannel://u:p@host:13013")
                .unwrap_err()
                .to_string(),
            "the query has no from=; expected kannel://USER:PASS@HOST:PORT?from=SENDER[&smsc=ID]"
        );
        assert!(SmsUrlError::Unknown.to_string().contains("twilio://"));
    }

    #[test]
    fn secrets_stay_out_of_errors_debug_and_display() {
        let error = SmsUrl::parse("kannel://u:hunter2@host:13013?from=x&to=y").unwrap_err();
        assert!(!error.to_string().contains("hunter2"));
        for url in [
            "kannel://u:hunter2@host:13013?from=x",
            "kavenegar://hunter2@api.kavenegar.com?sender=1000",
            "twilio://AC1:hunter2@api.twilio.com?from=+15551234567",
        ] {
            let parsed = SmsUrl::parse(url).unwrap();
            assert!(!format!("{parsed:?}").contains("hunter2"), "{parsed:?}");
            assert!(!parsed.to_string().contains("hunter2"), "{parsed}");
        }
        assert_eq!(
            SmsUrl::parse("kannel://u:hunter2@host:13013?from=x&smsc=A")
                .unwrap()
                .to_string(),
            "kannel://u:***@host:13013?from=x&smsc=A"
        );
    }
}
