//! What the three HTTP gateways share: the client, one exchange bounded by a deadline, and the
//! wording of what went wrong.
//!
//! Every gateway takes a secret in its request (Kannel and Kavenegar in the URL, Twilio in a
//! header), and reqwest's errors carry the URL: they are stripped of it before anything is logged
//! or described.

use std::time::Duration;

use domain::messages::ports::SmsResult;
use tokio::time::{timeout_at, Instant};

use super::config::SmsGateway;
use crate::webhook::describe_failure;

/// The most of an answer's body that is read: enough for any gateway's verdict, and a gateway
/// that streams more cannot hold the attempt.
const BODY_MAX: usize = 16 * 1024;

/// The most of a gateway's own words kept in a reason.
const REASON_MAX_CHARS: usize = 200;

/// Why an SMS sender could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SmsClientError {
    /// The HTTP client could not be set up (its TLS configuration, in practice).
    #[error("cannot set up the SMS gateway's HTTP client")]
    Client(#[source] reqwest::Error),
}

/// The client every HTTP gateway uses: rustls, no redirects (a gateway's 3xx is an answer, and
/// following it would repeat our credentials to another host), no proxy from the environment
/// (the gateway is the only host we talk to), and the whole exchange bounded by `timeout`.
pub(super) fn client(timeout: Duration) -> Result<reqwest::Client, SmsClientError> {
    reqwest::Client::builder()
        .use_rustls_tls()
        .user_agent(concat!("EventManager-SMS/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(timeout)
        .build()
        .map_err(SmsClientError::Client)
}

/// A gateway's answer: its status and the start of its body.
#[derive(Debug)]
pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) body: String,
}

/// Sends `request` and reads the answer, giving up at `timeout` from now. No answer is a
/// [`SmsResult::Transient`] that says why, in words that name no secret.
pub(super) async fn exchange(
    gateway: SmsGateway,
    request: reqwest::RequestBuilder,
    timeout: Duration,
) -> Result<Answer, SmsResult> {
    let deadline = Instant::now() + timeout;
    let mut response = match timeout_at(deadline, request.send()).await {
        Ok(Ok(response)) => response,
        Ok(Err(error)) => {
            let error = error.without_url();
            tracing::warn!(gateway = gateway.name(), error = ?error, "an SMS gateway did not answer");
            return Err(no_answer(gateway, &describe_failure(&error, timeout)));
        }
        Err(_) => return Err(no_answer(gateway, &timed_out(timeout))),
    };
    let status = response.status().as_u16();
    let mut body = Vec::new();
    while body.len() < BODY_MAX {
        match timeout_at(deadline, response.chunk()).await {
            Ok(Ok(Some(chunk))) => {
                let room = BODY_MAX - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            Ok(Ok(None)) => break,
            // The verdict is in the body: one cut short is no verdict.
            Ok(Err(_)) => {
                return Err(no_answer(
                    gateway,
                    "the connection ended before the whole answer",
                ))
            }
            Err(_) => return Err(no_answer(gateway, &timed_out(timeout))),
        }
    }
    Ok(Answer {
        status,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn timed_out(timeout: Duration) -> String {
    format!("timed out after {}", crate::webhook::seconds_or_ms(timeout))
}

fn no_answer(gateway: SmsGateway, why: &str) -> SmsResult {
    SmsResult::Transient(format!("{gateway} did not answer: {why}"))
}

/// What an HTTP status alone says of a text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Taken.
    Sent,
    /// Try again later: `408`, `429`, `5xx`, and anything that is neither success nor a
    /// refusal (a redirect, say).
    Later,
    /// Refused: the other `4xx`.
    Refused,
}

impl Verdict {
    /// The verdict of an HTTP status.
    pub(super) fn of(status: u16) -> Self {
        match status {
            200..=299 => Self::Sent,
            408 | 429 => Self::Later,
            400..=499 => Self::Refused,
            _ => Self::Later,
        }
    }

    /// The result, with the gateway's `code` and `words` in the reason.
    pub(super) fn result(self, gateway: SmsGateway, code: &str, words: &str) -> SmsResult {
        let words = snippet(words);
        let said = if words.is_empty() {
            code.to_owned()
        } else {
            format!("{code} {words}")
        };
        match self {
            Self::Sent => SmsResult::Sent,
            Self::Later => {
                SmsResult::Transient(format!("{gateway} asked to try again later: {said}"))
            }
            Self::Refused => SmsResult::Permanent(format!("{gateway} refused it: {said}")),
        }
    }
}

/// `text` on one line, trimmed and cut to [`REASON_MAX_CHARS`] characters: a gateway's words as
/// a reason stored with the text.
pub(super) fn snippet(text: &str) -> String {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= REASON_MAX_CHARS {
        line
    } else {
        let mut cut: String = line.chars().take(REASON_MAX_CHARS).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_sent_later_or_refused() {
        for (status, verdict) in [
            (200, Verdict::Sent),
            (201, Verdict::Sent),
            (202, Verdict::Sent),
            (301, Verdict::Later),
            (400, Verdict::Refused),
            (401, Verdict::Refused),
            (403, Verdict::Refused),
            (404, Verdict::Refused),
            (408, Verdict::Later),
            (429, Verdict::Later),
            (500, Verdict::Later),
            (503, Verdict::Later),
        ] {
            assert_eq!(Verdict::of(status), verdict, "{status}");
        }
    }

    #[test]
    fn reasons_are_one_short_line() {
        assert_eq!(
            snippet("  Authorization failed\r\n for sendsms \n"),
            "Authorization failed for sendsms"
        );
        let long = snippet(&"x".repeat(500));
        assert_eq!(long.chars().count(), REASON_MAX_CHARS + 1);
        assert_eq!(
            Verdict::Refused.result(SmsGateway::Kannel, "403", "Authorization failed"),
            SmsResult::Permanent("Kannel refused it: 403 Authorization failed".to_owned())
        );
        assert_eq!(
            Verdict::Later.result(SmsGateway::Twilio, "503", ""),
            SmsResult::Transient("Twilio asked to try again later: 503".to_owned())
        );
    }
}
