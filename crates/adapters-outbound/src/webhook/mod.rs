//! Webhook deliveries over HTTP (docs/api.md, "Webhooks"): [`HttpWebhookSender`] implements the
//! domain's `WebhookSender` port with reqwest on rustls.
//!
//! One attempt is one `POST` of the stored body with the Standard Webhooks v1 headers, bounded as a
//! whole by the configured timeout, following no redirect and ignoring proxy settings. Under
//! [`DestinationPolicy::PublicOnly`] the destination is checked on the addresses actually
//! connected to, at every attempt ([`guard`]; docs/security.md, "Webhooks and SSRF").

mod answer;
mod guard;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use domain::webhooks::ports::{DestinationRefused, WebhookRequest, WebhookResponse, WebhookSender};
use domain::webhooks::{DestinationPolicy, WebhookUrl};
use reqwest::header::{HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use tokio::time::{timeout_at, Instant};

pub(crate) use self::answer::{describe_failure, seconds_or_ms};
use self::answer::{parse_retry_after, read_body_start};
use self::guard::{Refusal, Target};

/// How [`HttpWebhookSender`] sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookSenderConfig {
    /// Where deliveries may go (`WEBHOOK_ALLOW_PRIVATE`); [`DestinationPolicy::PublicOnly`] by
    /// default.
    pub policy: DestinationPolicy,
    /// The most one attempt may take, from resolving the host to reading the answer's body
    /// ([`WebhookSenderConfig::DEFAULT_TIMEOUT`] by default).
    pub timeout: Duration,
    /// The `User-Agent` of every request ([`WebhookSenderConfig::DEFAULT_USER_AGENT`] by default),
    /// so that receivers can tell our calls apart in their logs.
    pub user_agent: String,
    /// The ports deliveries may go to under [`DestinationPolicy::PublicOnly`]
    /// (`WEBHOOK_ALLOWED_PORTS`; [`WebhookSenderConfig::DEFAULT_ALLOWED_PORTS`] by default).
    pub allowed_ports: Vec<u16>,
}

impl WebhookSenderConfig {
    /// The default bound of one attempt: 15 seconds.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
    /// The most the TCP and TLS connection of one attempt may take, within its whole bound: an
    /// endpoint that never completes a connection frees its delivery slot after this, not after
    /// the whole attempt's bound.
    pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
    /// The ports webhooks may use by default: HTTPS's, and its common alternative.
    pub const DEFAULT_ALLOWED_PORTS: [u16; 2] = [443, 8443];
    /// The default `User-Agent`: `EventManager-Webhooks/` and this crate's version.
    pub const DEFAULT_USER_AGENT: &'static str =
        concat!("EventManager-Webhooks/", env!("CARGO_PKG_VERSION"));
}

impl Default for WebhookSenderConfig {
    fn default() -> Self {
        Self {
            policy: DestinationPolicy::PublicOnly,
            timeout: Self::DEFAULT_TIMEOUT,
            user_agent: Self::DEFAULT_USER_AGENT.to_owned(),
            allowed_ports: Self::DEFAULT_ALLOWED_PORTS.to_vec(),
        }
    }
}

/// Why an [`HttpWebhookSender`] could not be made.
#[derive(Debug, thiserror::Error)]
pub enum WebhookSenderError {
    /// The user agent cannot be an HTTP header's value (a control character, say).
    #[error("the webhook user agent is not a valid HTTP header value")]
    UserAgent,
    /// The HTTP client could not be set up (its TLS configuration, in practice).
    #[error("cannot set up the webhook HTTP client")]
    Client(#[source] reqwest::Error),
}

/// Sends webhook deliveries with reqwest, checking destinations under the configured
/// [`DestinationPolicy`].
///
/// Cheap to clone (the connection pool is shared); one per process is enough.
#[derive(Clone, Debug)]
pub struct HttpWebhookSender {
    client: reqwest::Client,
    policy: DestinationPolicy,
    timeout: Duration,
    allowed_ports: Arc<[u16]>,
}

impl HttpWebhookSender {
    /// A sender with this configuration.
    ///
    /// # Errors
    /// [`WebhookSenderError`] when the user agent is not a header value or the client cannot be
    /// built.
    pub fn new(config: WebhookSenderConfig) -> Result<Self, WebhookSenderError> {
        let user_agent =
            HeaderValue::from_str(&config.user_agent).map_err(|_| WebhookSenderError::UserAgent)?;
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .user_agent(user_agent)
            // A 3xx is the endpoint's answer: following it would let a public URL send us to a
            // private one, past the check of the URL we were given.
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would connect for us, to addresses our resolver never sees.
            .no_proxy()
            .connect_timeout(WebhookSenderConfig::CONNECT_TIMEOUT.min(config.timeout))
            .timeout(config.timeout);
        if config.policy == DestinationPolicy::PublicOnly {
            builder = builder
                .https_only(true)
                .dns_resolver(Arc::new(guard::PublicResolver));
        }
        let client = builder.build().map_err(WebhookSenderError::Client)?;
        Ok(Self {
            client,
            policy: config.policy,
            timeout: config.timeout,
            allowed_ports: config.allowed_ports.into(),
        })
    }

    /// The attempt, once the URL passed [`guard::target`]; gives up at `deadline`.
    async fn attempt(&self, request: &WebhookRequest, deadline: Instant) -> WebhookResponse {
        let sending = self
            .client
            .post(request.url.as_str())
            .header(CONTENT_TYPE, "application/json")
            .header("webhook-id", &request.message_id)
            .header("webhook-timestamp", request.timestamp.to_string())
            .header("webhook-signature", &request.signature)
            .body(request.body.clone())
            .send();
        let mut response = match timeout_at(deadline, sending).await {
            Ok(Ok(response)) => response,
            Ok(Err(error)) => {
                tracing::debug!(url = request.url.as_str(), error = ?error, "webhook attempt failed");
                return WebhookResponse::Failed {
                    error: describe_failure(&error, self.timeout),
                };
            }
            Err(_) => return self.timed_out(),
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, chrono::Utc::now()));
        // The endpoint has answered: a body that is slow or breaks off keeps the status, with
        // what arrived of it by the deadline.
        let body = read_body_start(&mut response, deadline).await;
        WebhookResponse::Answered {
            status,
            retry_after,
            body,
        }
    }

    fn timed_out(&self) -> WebhookResponse {
        WebhookResponse::Failed {
            error: format!("timed out after {}", seconds_or_ms(self.timeout)),
        }
    }
}

#[async_trait]
impl WebhookSender for HttpWebhookSender {
    async fn check_destination(&self, url: &WebhookUrl) -> Result<(), DestinationRefused> {
        if self.policy == DestinationPolicy::AllowPrivate {
            return Ok(());
        }
        let target = guard::target(url, self.policy, &self.allowed_ports)
            .map_err(Refusal::as_port_refusal)?;
        let Target::Name { host, port } = target else {
            return Ok(());
        };
        // Stricter than `send` on purpose: a name with one private address among public ones is
        // refused at creation, whereas a delivery just skips the private ones.
        let resolving = guard::check_every_address(&host, port);
        match tokio::time::timeout(self.timeout, resolving).await {
            Ok(checked) => checked.map_err(Refusal::as_port_refusal),
            Err(_) => Err(DestinationRefused::Unresolvable),
        }
    }

    async fn send(&self, request: &WebhookRequest) -> WebhookResponse {
        let deadline = Instant::now() + self.timeout;
        if let Err(refusal) = guard::target(&request.url, self.policy, &self.allowed_ports) {
            return WebhookResponse::Failed {
                error: refusal.to_string(),
            };
        }
        self.attempt(request, deadline).await
    }
}
