//! Texts through Kannel, the open-source SMS gateway, by its smsbox's sendsms HTTP interface.
//!
//! Followed: the Kannel 1.4.5 User's Guide, chapter 7 "Setting up a SMS Gateway", sections
//! "Using the HTTP interface to send SMS messages" (tables "SMS Push (send-sms) CGI Variables" and
//! "SMS Push reply codes") and "SendSMS-user configurations". A text is one `GET /cgi-bin/sendsms` with
//! `username`, `password`, `to`, `text`, `from`, `charset=UTF-8` and `coding` (0 for GSM 7-bit,
//! 2 for UCS-2), plus `smsc` when the URL names one. Kannel answers `202` with
//! `0: Accepted for delivery` or `3: Queued for later delivery` (no SMSC connected: it keeps the
//! text and sends it once one is), a `4xx` when the request can never succeed, and `503` for a
//! passing failure.
//!
//! Texts longer than one segment need the `sendsms-user` group to allow them (`max-messages = 3`
//! and `concatenation = true`); with fewer, Kannel sends only what fits.

use std::time::Duration;

use async_trait::async_trait;
use domain::messages::ports::{SmsResult, SmsSender};
use domain::messages::{Sms, SmsEncoding};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::config::{KannelConfig, SmsGateway};
use super::http::{client, exchange, SmsClientError, Verdict};

/// Sends texts through one Kannel smsbox.
///
/// Cheap to clone (the connection pool is shared); one per process is enough. `Debug` hides the
/// password.
#[derive(Clone, Debug)]
pub struct KannelSender {
    client: reqwest::Client,
    sendsms: Url,
    username: String,
    password: SecretString,
    from: String,
    smsc: Option<String>,
    timeout: Duration,
}

impl KannelSender {
    /// A sender for this Kannel; every send takes at most `timeout`, from connecting to reading
    /// the answer. Nothing is connected yet.
    ///
    /// # Errors
    /// [`SmsClientError`] when the HTTP client cannot be set up.
    pub fn new(config: KannelConfig, timeout: Duration) -> Result<Self, SmsClientError> {
        let mut sendsms = config.base;
        sendsms.set_path("/cgi-bin/sendsms");
        Ok(Self {
            client: client(timeout)?,
            sendsms,
            username: config.username,
            password: config.password,
            from: config.from,
            smsc: config.smsc,
            timeout,
        })
    }
}

#[async_trait]
impl SmsSender for KannelSender {
    async fn send(&self, sms: &Sms) -> SmsResult {
        let coding = match sms.text.encoding() {
            SmsEncoding::Gsm7 => "0",
            SmsEncoding::Ucs2 => "2",
        };
        let mut query = vec![
            ("username", self.username.as_str()),
            ("password", self.password.expose_secret()),
            ("to", sms.to.as_str()),
            ("from", self.from.as_str()),
            ("text", sms.text.as_str()),
            ("charset", "UTF-8"),
            ("coding", coding),
        ];
        if let Some(smsc) = &self.smsc {
            query.push(("smsc", smsc));
        }
        let request = self.client.get(self.sendsms.clone()).query(&query);
        match exchange(SmsGateway::Kannel, request, self.timeout).await {
            Ok(answer) => {
                if answer.body.starts_with("3:") {
                    tracing::warn!(
                        "Kannel queued a text for later delivery: it has no SMSC connected"
                    );
                }
                Verdict::of(answer.status).result(
                    SmsGateway::Kannel,
                    &answer.status.to_string(),
                    &answer.body,
                )
            }
            Err(no_answer) => no_answer,
        }
    }
}
