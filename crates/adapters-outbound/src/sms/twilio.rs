//! Texts through Twilio's Programmable Messaging REST API.
//!
//! Followed: Twilio's API reference, "Message resource", "Create a Message resource", and "Twilio
//! API responses" for errors. A text is one `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`
//! with HTTP basic authentication (account SID and auth token) and the form fields `To`, `From`
//! and `Body`. Twilio answers `201 Created` with the new message when it has taken the text, and
//! otherwise a JSON error, `{"code": 21211, "message": "…", "more_info": "…", "status": 400}`:
//! `429` (too many requests) and `5xx` are worth another attempt; any other `4xx` (an invalid
//! number, a sender the account does not own, refused credentials) is not.

use std::time::Duration;

use async_trait::async_trait;
use domain::messages::ports::{SmsResult, SmsSender};
use domain::messages::Sms;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use super::config::{SmsGateway, TwilioConfig};
use super::http::{client, exchange, Answer, SmsClientError, Verdict};

/// Sends texts through one Twilio account.
///
/// Cheap to clone (the connection pool is shared); one per process is enough. `Debug` hides the
/// auth token.
#[derive(Clone, Debug)]
pub struct TwilioSender {
    client: reqwest::Client,
    messages: Url,
    account_sid: String,
    auth_token: SecretString,
    from: String,
    timeout: Duration,
}

impl TwilioSender {
    /// A sender for this account; every send takes at most `timeout`, from connecting to reading
    /// the answer. Nothing is connected yet.
    ///
    /// # Errors
    /// [`SmsClientError`] when the HTTP client cannot be set up.
    pub fn new(config: TwilioConfig, timeout: Duration) -> Result<Self, SmsClientError> {
        let mut messages = config.base;
        if let Ok(mut segments) = messages.path_segments_mut() {
            segments.pop_if_empty().extend([
                "2010-04-01",
                "Accounts",
                &config.account_sid,
                "Messages.json",
            ]);
        }
        Ok(Self {
            client: client(timeout)?,
            messages,
            account_sid: config.account_sid,
            auth_token: config.auth_token,
            from: config.from,
            timeout,
        })
    }
}

#[async_trait]
impl SmsSender for TwilioSender {
    async fn send(&self, sms: &Sms) -> SmsResult {
        let form = [
            ("To", sms.to.as_str()),
            ("From", self.from.as_str()),
            ("Body", sms.text.as_str()),
        ];
        let request = self
            .client
            .post(self.messages.clone())
            .basic_auth(&self.account_sid, Some(self.auth_token.expose_secret()))
            .form(&form);
        match exchange(SmsGateway::Twilio, request, self.timeout).await {
            Ok(answer) => verdict(&answer),
            Err(no_answer) => no_answer,
        }
    }
}

/// Twilio's error body; its `code` names the exact problem (docs: "Error and Warning Dictionary").
#[derive(Deserialize)]
struct TwilioError {
    code: Option<u32>,
    #[serde(default)]
    message: String,
}

fn verdict(answer: &Answer) -> SmsResult {
    let words = match serde_json::from_str::<TwilioError>(&answer.body) {
        Ok(TwilioError {
            code: Some(code),
            message,
        }) => format!("({code}) {message}"),
        Ok(TwilioError {
            code: None,
            message,
        }) => message,
        Err(_) => answer.body.clone(),
    };
    Verdict::of(answer.status).result(SmsGateway::Twilio, &answer.status.to_string(), &words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_is_sent_and_errors_keep_twilios_code_and_message() {
        let answer = |status: u16, body: &str| Answer {
            status,
            body: body.to_owned(),
        };
        assert_eq!(
            verdict(&answer(201, r#"{"sid": "SM1", "status": "queued"}"#)),
            SmsResult::Sent
        );
        assert_eq!(
            verdict(&answer(
                400,
                r#"{"code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400}"#
            )),
            SmsResult::Permanent(
                "Twilio refused it: 400 (21211) The 'To' number is not a valid phone number."
                    .to_owned()
            )
        );
        assert_eq!(
            verdict(&answer(
                429,
                r#"{"code": 20429, "message": "Too Many Requests"}"#
            )),
            SmsResult::Transient(
                "Twilio asked to try again later: 429 (20429) Too Many Requests".to_owned()
            )
        );
        assert_eq!(
            verdict(&answer(503, "Service Unavailable")),
            SmsResult::Transient(
                "Twilio asked to try again later: 503 Service Unavailable".to_owned()
            )
        );
    }
}
