//! The value parsers of the settings: each returns the one-line error that names the variable and
//! the form it expects.

use std::convert::Infallible;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use adapters_outbound::SmsUrl;
use domain::duration::whole_duration;
use secrecy::SecretString;

use super::*;

/// A setting's value parser (for clap's `value_parser`): `accept` makes the setting of the
/// trimmed value, or `None` when it cannot; then the error names the variable, the value and
/// `expected`.
pub(super) fn checked<T>(
    name: &'static str,
    expected: &'static str,
    accept: impl Fn(&str) -> Option<T> + Clone + Send + Sync + 'static,
) -> impl Fn(&str) -> Result<T, ConfigError> + Clone + Send + Sync + 'static {
    move |value: &str| {
        let value = value.trim();
        accept(value).ok_or_else(|| ConfigError {
            name,
            value: value.to_owned(),
            expected: expected.into(),
        })
    }
}

/// A value parser for whatever [`FromStr`] reads.
pub(super) fn parsed<T: FromStr>(
    name: &'static str,
    expected: &'static str,
) -> impl Fn(&str) -> Result<T, ConfigError> + Clone + Send + Sync + 'static {
    checked(name, expected, |value| value.parse().ok())
}

/// A value parser for an integer in `range`.
pub(super) fn integer<T>(
    name: &'static str,
    range: RangeInclusive<T>,
    expected: &'static str,
) -> impl Fn(&str) -> Result<T, ConfigError> + Clone + Send + Sync + 'static
where
    T: FromStr + PartialOrd + Clone + Send + Sync + 'static,
{
    checked(name, expected, move |value| {
        value.parse().ok().filter(|n| range.contains(n))
    })
}

/// Any text, trimmed.
#[allow(clippy::unnecessary_wraps)] // The shape clap's `value_parser` takes.
pub(super) fn text(value: &str) -> Result<String, Infallible> {
    Ok(value.trim().to_owned())
}

/// Any text, trimmed, kept out of `Debug` output.
#[allow(clippy::unnecessary_wraps)] // The shape clap's `value_parser` takes.
pub(super) fn secret(value: &str) -> Result<SecretString, Infallible> {
    Ok(SecretString::from(value.trim()))
}

/// `SMS_INBOUND_SECRET`: at least 16 bytes.
pub(super) fn sms_inbound_secret(value: &str) -> Result<SecretString, ConfigError> {
    let value = value.trim();
    if value.len() >= 16 {
        return Ok(SecretString::from(value));
    }
    Err(ConfigError {
        name: "SMS_INBOUND_SECRET",
        value: format!("<{} bytes>", value.len()),
        expected: "at least 16 bytes".into(),
    })
}

/// `CURSOR_SECRET`: at least [`http_actix::CursorKey::MIN_LEN`] bytes.
pub(super) fn cursor_secret(value: &str) -> Result<SecretString, ConfigError> {
    let value = value.trim();
    if value.len() >= http_actix::CursorKey::MIN_LEN {
        return Ok(SecretString::from(value));
    }
    // The value is a secret: the message gives its length only.
    Err(ConfigError {
        name: "CURSOR_SECRET",
        value: format!("<{} bytes>", value.len()),
        expected: "at least 32 bytes".into(),
    })
}

pub(super) fn log_format(value: &str) -> Option<LogFormat> {
    match value {
        "pretty" => Some(LogFormat::Pretty),
        "json" => Some(LogFormat::Json),
        _ => None,
    }
}

pub(super) fn boolean(value: &str) -> Option<bool> {
    match value {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

/// `https://a.example, http://localhost:3000/` as origins (no trailing slash); `None` unless each
/// is `http://` or `https://` without blanks.
pub(super) fn origins(value: &str) -> Option<Vec<String>> {
    let origins: Vec<String> = value
        .split(',')
        .map(|o| o.trim().trim_end_matches('/').to_owned())
        .filter(|o| !o.is_empty())
        .collect();
    let valid = |o: &String| {
        (o.starts_with("http://") || o.starts_with("https://")) && !o.contains(char::is_whitespace)
    };
    origins.iter().all(valid).then_some(origins)
}

/// A duration from 1 s to 365 days.
pub(super) fn disable_after(value: &str) -> Option<chrono::Duration> {
    whole_duration(value)
        .filter(|d| *d > chrono::Duration::zero() && *d <= chrono::Duration::days(365))
}

/// `duration` in whole milliseconds, for a default shown in `--help`.
pub(super) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// A URL with its password replaced by `***`, for error messages; a user name without a password
/// is replaced too (it may be an API key, as in `kavenegar://API_KEY@…`).
pub(super) fn redacted_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(mut parsed) if !parsed.username().is_empty() => {
            let _ = parsed.set_username("***");
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => "<not a URL>".to_owned(),
    }
}

/// An `http://` or `https://` URL with a host and no query or fragment, to which a path can be
/// added.
pub(super) fn otlp_endpoint(value: &str) -> Option<url::Url> {
    let url = url::Url::parse(value).ok()?;
    let usable = matches!(url.scheme(), "http" | "https")
        && url.host().is_some()
        && url.query().is_none()
        && url.fragment().is_none();
    usable.then_some(url)
}

/// `SMS_URL`: `none`, or a gateway's URL. The message of a bad one shows it without its secrets.
pub(super) fn sms_url(value: &str) -> Result<SmsTransport, ConfigError> {
    let value = value.trim();
    if value == "none" {
        return Ok(SmsTransport::Off);
    }
    SmsUrl::parse(value)
        .map(SmsTransport::Gateway)
        .map_err(|error| ConfigError {
            name: "SMS_URL",
            value: redacted_url(value),
            expected: error.to_string().into(),
        })
}

/// A path, trimmed.
#[allow(clippy::unnecessary_wraps)] // The shape clap's `value_parser` takes.
pub(super) fn path(value: &str) -> Result<PathBuf, Infallible> {
    Ok(PathBuf::from(value.trim()))
}

/// `10.0.0.0/8, 192.0.2.7` as networks (an address is a network of one); `None` if an entry is
/// neither.
pub(super) fn trusted_proxies(value: &str) -> Option<http_actix::TrustedProxies> {
    value
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            entry.parse::<ipnet::IpNet>().ok().or_else(|| {
                entry
                    .parse::<std::net::IpAddr>()
                    .ok()
                    .map(ipnet::IpNet::from)
            })
        })
        .collect::<Option<Vec<_>>>()
        .map(http_actix::TrustedProxies::new)
}
