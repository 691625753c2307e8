//! Texts through Kavenegar, an Iranian SMS provider, by its REST API.
//!
//! Followed: Kavenegar's REST API documentation, method `sms/send` and its table of return codes,
//! as their official SDKs (kavenegar-go, kavenegar-node) implement it. A text is one
//! `POST /v1/{API-KEY}/sms/send.json` with the form fields `receptor`, `message` and, when the URL
//! names one, `sender`. The answer is JSON, `{"return": {"status": 200, "message": "…"},
//! "entries": […]}`, and its `return.status` is the verdict (the HTTP status repeats it):
//!
//! - `200`: taken;
//! - `409` (the server cannot answer now), and `429` and `5xx`: try again later;
//! - any other `4xx`: refused, e.g. `411` invalid receptor, `412` invalid sender, `413` empty or
//!   too long a message, `418` not enough credit, `403` invalid API key, `422` characters it
//!   cannot process.
//!
//! The API key is part of the path: requests are never logged, and reqwest's errors are stripped
//! of their URL.

use std::time::Duration;

use async_trait::async_trait;
use domain::messages::ports::{SmsResult, SmsSender};
use domain::messages::Sms;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use super::config::{KavenegarConfig, SmsGateway};
use super::http::{client, exchange, Answer, SmsClientError, Verdict};

/// Sends texts through Kavenegar.
///
/// Cheap to clone (the connection pool is shared); one per process is enough. `Debug` hides the
/// API key.
#[derive(Clone, Debug)]
pub struct KavenegarSender {
    client: reqwest::Client,
    base: Url,
    api_key: SecretString,
    sender: Option<String>,
    timeout: Duration,
}

impl KavenegarSender {
    /// A sender for this account; every send takes at most `timeout`, from connecting to reading
    /// the answer. Nothing is connected yet.
    ///
    /// # Errors
    /// [`SmsClientError`] when the HTTP client cannot be set up.
    pub fn new(config: KavenegarConfig, timeout: Duration) -> Result<Self, SmsClientError> {
        Ok(Self {
            client: client(timeout)?,
            base: config.base,
            api_key: config.api_key,
            sender: config.sender,
            timeout,
        })
    }

    /// `…/v1/{API-KEY}/sms/send.json`, the key percent-encoded as one path segment.
    fn send_url(&self) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().extend([
                "v1",
                self.api_key.expose_secret(),
                "sms",
                "send.json",
            ]);
        }
        url
    }
}

#[async_trait]
impl SmsSender for KavenegarSender {
    async fn send(&self, sms: &Sms) -> SmsResult {
        let mut form = vec![
            ("receptor", sms.to.as_str()),
            ("message", sms.text.as_str()),
        ];
        if let Some(sender) = &self.sender {
            form.push(("sender", sender));
        }
        let request = self.client.post(self.send_url()).form(&form);
        match exchange(SmsGateway::Kavenegar, request, self.timeout).await {
            Ok(answer) => verdict(&answer),
            Err(no_answer) => no_answer,
        }
    }
}

/// Kavenegar's answer: only its `return` matters here.
#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "return")]
    outcome: Outcome,
}

#[derive(Deserialize)]
struct Outcome {
    status: u16,
    #[serde(default)]
    message: String,
}

fn verdict(answer: &Answer) -> SmsResult {
    let gateway = SmsGateway::Kavenegar;
    let Ok(Envelope { outcome }) = serde_json::from_str::<Envelope>(&answer.body) else {
        // Without the JSON there is no verdict: a refusal by its HTTP status, but a success
        // status with no readable body is no proof that the text was taken.
        return match Verdict::of(answer.status) {
            Verdict::Sent => SmsResult::Transient(format!(
                "{gateway} answered {} with a body that is not its JSON",
                answer.status
            )),
            verdict => verdict.result(gateway, &answer.status.to_string(), &answer.body),
        };
    };
    let verdict = match outcome.status {
        200 => Verdict::Sent,
        409 | 429 | 500..=599 => Verdict::Later,
        400..=499 => Verdict::Refused,
        _ => Verdict::Later,
    };
    verdict.result(gateway, &outcome.status.to_string(), &outcome.message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Answer {
        Answer {
            status,
            body: body.to_owned(),
        }
    }

    fn returning(status: u16, message: &str) -> String {
        serde_json::json!({"return": {"status": status, "message": message}, "entries": null})
            .to_string()
    }

    #[test]
    fn the_return_status_decides() {
        assert_eq!(
            verdict(&answer(200, &returning(200, "تایید شد"))),
            SmsResult::Sent
        );
        assert_eq!(
            verdict(&answer(411, &returning(411, "شماره گیرنده معتبر نیست"))),
            SmsResult::Permanent("Kavenegar refused it: 411 شماره گیرنده معتبر نیست".to_owned())
        );
        // The return status wins over an HTTP status that disagrees.
        assert_eq!(
            verdict(&answer(200, &returning(418, "اعتبار کافی نیست"))),
            SmsResult::Permanent("Kavenegar refused it: 418 اعتبار کافی نیست".to_owned())
        );
        for later in [409, 429, 500, 502] {
            assert!(
                matches!(
                    verdict(&answer(later, &returning(later, "بعدا تلاش کنید"))),
                    SmsResult::Transient(_)
                ),
                "{later}"
            );
        }
    }

    #[test]
    fn without_its_json_the_http_status_decides_but_never_as_sent() {
        assert_eq!(
            verdict(&answer(200, "<html>hello</html>")),
            SmsResult::Transient(
                "Kavenegar answered 200 with a body that is not its JSON".to_owned()
            )
        );
        assert_eq!(
            verdict(&answer(502, "Bad Gateway")),
            SmsResult::Transient("Kavenegar asked to try again later: 502 Bad Gateway".to_owned())
        );
        assert_eq!(
            verdict(&answer(404, "")),
            SmsResult::Permanent("Kavenegar refused it: 404".to_owned())
        );
    }
}
