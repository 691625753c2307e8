//! Reading what an endpoint answered, and wording what went wrong (docs/api.md, "Webhooks").
//!
//! The start of the answer's body and the failure's sentence are stored with the attempt and shown
//! to the endpoint's owner, who may be anyone: the body is read only up to
//! [`AttemptRecord::BODY_MAX`] bytes (an endpoint could answer gigabytes), and a failure is
//! described by what happened ("connection refused"), never by the error chain, which can name our
//! own addresses and libraries.

use std::error::Error as StdError;
use std::io;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use domain::webhooks::delivery::AttemptRecord;
use tokio::time::{timeout_at, Instant};

use super::guard::Refusal;

/// Up to [`AttemptRecord::BODY_MAX`] bytes of the body, as (lossy) UTF-8, read chunk by chunk
/// until the limit, the end, an error or `deadline`, whichever comes first; the rest is never
/// read (dropping the response closes the connection).
pub(super) async fn read_body_start(response: &mut reqwest::Response, deadline: Instant) -> String {
    let mut start: Vec<u8> = Vec::new();
    while start.len() < AttemptRecord::BODY_MAX {
        match timeout_at(deadline, response.chunk()).await {
            Ok(Ok(Some(chunk))) => {
                let room = AttemptRecord::BODY_MAX - start.len();
                start.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            Ok(Ok(None) | Err(_)) | Err(_) => break,
        }
    }
    // A multi-byte character cut at the limit becomes U+FFFD, which may run past the limit again.
    AttemptRecord::truncate_body(&String::from_utf8_lossy(&start))
}

/// `Retry-After` as a wait from `now`: delay-seconds, or an HTTP-date (IMF-fixdate, or the
/// obsolete RFC 850 and asctime forms that RFC 9110 still asks recipients to read). A date in the
/// past is no wait; anything else is `None`.
pub(super) fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<chrono::Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // More digits than fit are a very long wait; the domain caps it anyway.
        let seconds = value.parse::<i64>().unwrap_or(i64::MAX);
        return Some(chrono::Duration::try_seconds(seconds).unwrap_or(chrono::Duration::MAX));
    }
    let date = http_date(value)?;
    Some((date - now).max(chrono::Duration::zero()))
}

fn http_date(value: &str) -> Option<DateTime<Utc>> {
    if let Ok(date) = DateTime::parse_from_rfc2822(value) {
        return Some(date.with_timezone(&Utc));
    }
    ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"]
        .into_iter()
        .find_map(|format| NaiveDateTime::parse_from_str(value, format).ok())
        .map(|naive| naive.and_utc())
}

/// "15 s", or "500 ms" for a timeout that is not whole seconds.
pub(crate) fn seconds_or_ms(duration: Duration) -> String {
    if duration.subsec_millis() == 0 {
        format!("{} s", duration.as_secs())
    } else {
        format!("{} ms", duration.as_millis())
    }
}

/// A short sentence for the endpoint's owner saying why a request got no answer.
pub(crate) fn describe_failure(error: &reqwest::Error, timeout: Duration) -> String {
    if error.is_timeout() && error.is_connect() {
        let bound = super::WebhookSenderConfig::CONNECT_TIMEOUT.min(timeout);
        return format!("could not connect within {}", seconds_or_ms(bound));
    }
    if error.is_timeout() {
        return format!("timed out after {}", seconds_or_ms(timeout));
    }
    let chain: Vec<&(dyn StdError + 'static)> =
        std::iter::successors(error.source(), |&cause| cause.source()).collect();
    // Our resolver's refusal first: hyper-util wraps it in its own "dns error".
    if let Some(refusal) = chain
        .iter()
        .find_map(|cause| cause.downcast_ref::<Refusal>())
    {
        return refusal.to_string();
    }
    for cause in &chain {
        if let Some(io) = cause.downcast_ref::<io::Error>() {
            if let Some(sentence) = describe_io(innermost(io), error.is_connect()) {
                return sentence.to_owned();
            }
        }
        // The system resolver's failure, under `AllowPrivate`: hyper-util's `ConnectError`,
        // whose text is exactly this (its cause is getaddrinfo's own message).
        if cause.to_string() == "dns error" {
            return Refusal::Unresolvable.to_string();
        }
    }
    if error.is_connect() {
        "could not connect".to_owned()
    } else {
        "the connection ended without a complete answer".to_owned()
    }
}

/// The I/O error inside I/O errors: hyper-rustls wraps rustls's (`InvalidData`) in another
/// (`Other`), and an I/O error's `source` skips the one it wraps.
fn innermost(mut error: &io::Error) -> &io::Error {
    while let Some(inner) = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<io::Error>())
    {
        error = inner;
    }
    error
}

fn describe_io(error: &io::Error, connecting: bool) -> Option<&'static str> {
    Some(match error.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused",
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => {
            "the connection was reset"
        }
        io::ErrorKind::HostUnreachable | io::ErrorKind::NetworkUnreachable => {
            "the host is unreachable"
        }
        // rustls reports its errors as invalid data, while connecting.
        io::ErrorKind::InvalidData if connecting => {
            let about_certificate = error
                .get_ref()
                .is_some_and(|inner| inner.to_string().contains("certificate"));
            if about_certificate {
                "the TLS certificate was not accepted"
            } else {
                "the TLS handshake failed"
            }
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-12-12T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn retry_after_reads_seconds() {
        assert_eq!(
            parse_retry_after("120", now()),
            Some(chrono::Duration::seconds(120))
        );
        assert_eq!(
            parse_retry_after(" 0 ", now()),
            Some(chrono::Duration::zero())
        );
        assert_eq!(
            parse_retry_after("99999999999999999999999", now()),
            Some(chrono::Duration::MAX)
        );
        for bad in ["", "-5", "1.5", "soon", "12 s"] {
            assert_eq!(parse_retry_after(bad, now()), None, "{bad:?}");
        }
    }

    #[test]
    fn retry_after_reads_http_dates_in_every_form() {
        let in_90_s = Some(chrono::Duration::seconds(90));
        assert_eq!(
            parse_retry_after("Sat, 12 Dec 2026 10:01:30 GMT", now()),
            in_90_s
        );
        assert_eq!(
            parse_retry_after("Saturday, 12-Dec-26 10:01:30 GMT", now()),
            in_90_s
        );
        assert_eq!(
            parse_retry_after("Sat Dec 12 10:01:30 2026", now()),
            in_90_s
        );
        assert_eq!(
            parse_retry_after("Sat, 12 Dec 2026 09:00:00 GMT", now()),
            Some(chrono::Duration::zero())
        );
        assert_eq!(
            parse_retry_after("Sat, 32 Dec 2026 09:00:00 GMT", now()),
            None
        );
    }

    #[test]
    fn timeouts_are_worded_in_seconds_or_milliseconds() {
        assert_eq!(seconds_or_ms(Duration::from_secs(15)), "15 s");
        assert_eq!(seconds_or_ms(Duration::from_millis(500)), "500 ms");
    }
}
