//! Webhooks (docs/api.md, "Webhooks"): endpoints a user registers to receive, by HTTP `POST`, the
//! changes they receive in their feed (R12), signed as Standard Webhooks v1 says.
//!
//! Everything here is a value or a rule: the endpoint's URL and where it may point (no private
//! addresses unless allowed: docs/security.md, "Webhooks and SSRF"), its secret and the signature
//! made with it, and the filter of change kinds. Sending is the `WebhookSender` port's.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use crate::changes::{ChangeId, ChangeKind};
use crate::{UserId, WebhookId};

pub mod delivery;
mod delivery_service;
mod messages;
pub mod ports;
mod service;

pub use delivery_service::*;
pub use service::*;

/// Where webhook deliveries may go (`WEBHOOK_ALLOW_PRIVATE`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DestinationPolicy {
    /// Only `https://` URLs whose host is a public address (the default): a webhook cannot make
    /// the service call into its own network.
    #[default]
    PublicOnly,
    /// Any `http://` or `https://` URL, private addresses included: for tests and local use.
    AllowPrivate,
}

/// Why a URL cannot be a webhook's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WebhookUrlError {
    /// Longer than [`WebhookUrl::MAX_LEN`].
    #[error("longer than {max} characters")]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// Not an absolute URL with a host.
    #[error("not an absolute URL")]
    Invalid,
    /// Not `https://` (nor `http://` where private destinations are allowed).
    #[error("not an https URL")]
    Scheme,
    /// It carries a user name or password.
    #[error("it carries credentials")]
    Credentials,
    /// It has a `#fragment`, which is never sent.
    #[error("it has a fragment")]
    Fragment,
    /// Its host is an address that is not public (loopback, private, link-local, ...), or a
    /// name that is local by definition (`localhost`).
    #[error("its host is not a public address")]
    NotPublic,
}

/// A webhook's endpoint: an absolute `https://` URL (or `http://` where private destinations are
/// allowed), without credentials or fragment, in its normalized form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    /// The longest URL accepted, in characters of its normalized form.
    pub const MAX_LEN: usize = 2048;

    /// Reads a URL a user gave. A host that is an IP address must be public under
    /// [`DestinationPolicy::PublicOnly`]; a name is resolved, and checked, when the webhook is
    /// created and again at every delivery (the `WebhookSender` port).
    ///
    /// # Errors
    /// [`WebhookUrlError`] naming the first rule broken.
    pub fn parse(raw: &str, policy: DestinationPolicy) -> Result<Self, WebhookUrlError> {
        if raw.chars().count() > Self::MAX_LEN {
            return Err(WebhookUrlError::TooLong { max: Self::MAX_LEN });
        }
        let url = url::Url::parse(raw.trim()).map_err(|_| WebhookUrlError::Invalid)?;
        match (url.scheme(), policy) {
            ("https", _) | ("http", DestinationPolicy::AllowPrivate) => {}
            _ => return Err(WebhookUrlError::Scheme),
        }
        let Some(host) = url.host() else {
            return Err(WebhookUrlError::Invalid);
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(WebhookUrlError::Credentials);
        }
        if url.fragment().is_some() {
            return Err(WebhookUrlError::Fragment);
        }
        if policy == DestinationPolicy::PublicOnly {
            let public = match host {
                url::Host::Ipv4(ip) => is_public(IpAddr::V4(ip)),
                url::Host::Ipv6(ip) => is_public(IpAddr::V6(ip)),
                url::Host::Domain(name) => {
                    let name = name.trim_end_matches('.');
                    name != "localhost" && !name.ends_with(".localhost")
                }
            };
            if !public {
                return Err(WebhookUrlError::NotPublic);
            }
        }
        let normalized = String::from(url);
        if normalized.chars().count() > Self::MAX_LEN {
            return Err(WebhookUrlError::TooLong { max: Self::MAX_LEN });
        }
        Ok(Self(normalized))
    }

    /// Wraps a URL read back from storage (checked when written; the sender checks its
    /// destination again at every delivery).
    pub fn from_stored(stored: String) -> Self {
        Self(stored)
    }

    /// The URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The host, lowercased and without a trailing dot (an IPv6 address in brackets): what the
    /// per-host limit counts.
    pub fn host(&self) -> String {
        url::Url::parse(&self.0)
            .ok()
            .and_then(|url| {
                url.host_str()
                    .map(|host| host.trim_end_matches('.').to_ascii_lowercase())
            })
            .unwrap_or_default()
    }

    /// The host, when it is an IP address (brackets of IPv6 removed).
    pub fn ip_host(&self) -> Option<IpAddr> {
        match url::Url::parse(&self.0).ok()?.host()? {
            url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
            url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
            url::Host::Domain(_) => None,
        }
    }
}

/// Whether an address is on the public internet: not unspecified, loopback, private (RFC 1918,
/// unique local), shared (CGNAT), link-local, documentation, benchmarking, multicast, broadcast
/// or reserved; IPv4 inside IPv6 (mapped, NAT64) is judged as IPv4.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let reserved = a == 0                                  // "this network"
        || a == 10                                          // private
        || (a == 100 && (64..=127).contains(&b))            // shared address space (CGNAT)
        || a == 127                                         // loopback
        || (a == 169 && b == 254)                           // link-local (cloud metadata)
        || (a == 172 && (16..=31).contains(&b))             // private
        || (a == 192 && b == 0 && c == 0)                   // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2)                   // documentation
        || (a == 192 && b == 88 && c == 99)                 // 6to4 relay anycast
        || (a == 192 && b == 168)                           // private
        || (a == 198 && (18..=19).contains(&b))             // benchmarking
        || (a == 198 && b == 51 && c == 100)                // documentation
        || (a == 203 && b == 0 && c == 113)                 // documentation
        || a >= 224; // multicast, reserved, broadcast
    !reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let segments = ip.segments();
    // NAT64 (64:ff9b::/96) carries an IPv4 address in its last 32 bits.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [.., hi, lo] = segments;
        return is_public_v4(Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo)));
    }
    let first = segments[0];
    let global_unicast = (first & 0xe000) == 0x2000; // 2000::/3
                                                     // 2001::/23 (IETF assignments, Teredo) and 2001:db8::/32 (documentation); 2002::/16 (6to4,
                                                     // which tunnels to any IPv4 address).
    let reserved =
        (first == 0x2001 && (segments[1] < 0x0200 || segments[1] == 0x0db8)) || first == 0x2002;
    global_unicast && !reserved
}

/// A webhook's signing secret: `whsec_` and the base64 of [`WebhookSecret::BYTES`] random bytes,
/// as Standard Webhooks writes it. Shown to its owner once, at creation; its `Debug` hides it.
#[derive(Clone)]
pub struct WebhookSecret(SecretString);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(…)")
    }
}

impl WebhookSecret {
    /// What every secret starts with.
    pub const PREFIX: &'static str = "whsec_";
    /// Random bytes in a new secret (Standard Webhooks asks for 24 to 64).
    pub const BYTES: usize = 32;

    /// The secret made of these random bytes.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        Self(SecretString::from(format!(
            "{}{}",
            Self::PREFIX,
            STANDARD.encode(bytes)
        )))
    }

    /// Wraps a secret read back from storage.
    pub fn from_stored(stored: String) -> Self {
        Self(SecretString::from(stored))
    }

    /// The secret as its owner and storage see it (`whsec_…`).
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// The key: the bytes after the prefix (base64), or the whole text's bytes for a secret that
    /// does not have that form (never made here).
    fn key(&self) -> Vec<u8> {
        let text = self.expose();
        text.strip_prefix(Self::PREFIX)
            .and_then(|encoded| STANDARD.decode(encoded).ok())
            .unwrap_or_else(|| text.as_bytes().to_vec())
    }

    /// The `webhook-signature` header of a message: `v1,` and the base64 of the HMAC-SHA256 of
    /// `{id}.{timestamp}.{body}` keyed by the secret's bytes (Standard Webhooks v1).
    pub fn sign(&self, message_id: &str, timestamp: i64, body: &str) -> String {
        // HMAC takes keys of any length, so this cannot fail.
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key())
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(message_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body.as_bytes());
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

/// Why a list of change kinds is not a webhook's filter.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WebhookEventsError {
    /// An empty list (leave it out to receive every kind).
    #[error("no kinds")]
    Empty,
    /// An entry that names no kind.
    #[error("unknown kind at {index}")]
    Unknown {
        /// Its position in the list.
        index: usize,
    },
}

/// The kinds of change a webhook receives.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum WebhookEvents {
    /// Every kind, including kinds added later.
    #[default]
    All,
    /// These kinds only: at least one, each once, in [`ChangeKind::ALL`]'s order.
    Only(Vec<ChangeKind>),
}

impl WebhookEvents {
    /// Reads wire names (`invitation.created`, ...); duplicates count once.
    ///
    /// # Errors
    /// [`WebhookEventsError`] for an empty list or a name that is not a kind.
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<Self, WebhookEventsError> {
        if names.is_empty() {
            return Err(WebhookEventsError::Empty);
        }
        let kinds = names
            .iter()
            .enumerate()
            .map(|(index, name)| {
                ChangeKind::parse(name.as_ref()).ok_or(WebhookEventsError::Unknown { index })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::of_kinds(kinds))
    }

    /// The filter of these kinds; [`WebhookEvents::All`] when none.
    pub fn of_kinds(kinds: impl IntoIterator<Item = ChangeKind>) -> Self {
        let given: Vec<ChangeKind> = kinds.into_iter().collect();
        let kinds: Vec<ChangeKind> = ChangeKind::ALL
            .into_iter()
            .filter(|kind| given.contains(kind))
            .collect();
        if kinds.is_empty() {
            Self::All
        } else {
            Self::Only(kinds)
        }
    }

    /// Whether a change of `kind` passes.
    pub fn includes(&self, kind: ChangeKind) -> bool {
        match self {
            Self::All => true,
            Self::Only(kinds) => kinds.contains(&kind),
        }
    }

    /// The kinds listed; `None` for every kind.
    pub fn kinds(&self) -> Option<&[ChangeKind]> {
        match self {
            Self::All => None,
            Self::Only(kinds) => Some(kinds),
        }
    }
}

/// Why an endpoint stopped receiving.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DisableReason {
    /// It answered `410 Gone`.
    Gone,
    /// Its deliveries failed for the whole of the disable period (`WEBHOOK_DISABLE_AFTER`, 5
    /// days by default) without one success.
    Failing,
    /// Its endpoint never proved it wants the traffic: the verification's retry schedule ran out.
    Unverified,
}

impl DisableReason {
    /// The wire and storage name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Gone => "gone",
            Self::Failing => "failing",
            Self::Unverified => "unverified",
        }
    }

    /// Reads a storage name.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Gone, Self::Failing, Self::Unverified]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

/// A disabled endpoint's when and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Disabled {
    /// When.
    pub at: DateTime<Utc>,
    /// Why.
    pub reason: DisableReason,
}

/// A registered endpoint.
#[derive(Clone, Debug)]
pub struct Webhook {
    /// Its id.
    pub id: WebhookId,
    /// Whose it is: it receives what this user receives (R12).
    pub owner: UserId,
    /// Where deliveries go.
    pub url: WebhookUrl,
    /// Which kinds.
    pub events: WebhookEvents,
    /// What deliveries are signed with.
    pub secret: WebhookSecret,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// The last change numbered when it was registered: it receives the changes after it.
    pub starts_after: ChangeId,
    /// Since when its deliveries fail without a success between, if they do.
    pub failing_since: Option<DateTime<Utc>>,
    /// Set once it no longer receives.
    pub disabled: Option<Disabled>,
    /// When its endpoint proved it wants the traffic (docs/api.md, "Verifying an endpoint");
    /// until then it receives nothing.
    pub verified_at: Option<DateTime<Utc>>,
}

/// Where a webhook stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WebhookStatus {
    /// Its endpoint has not yet answered a verification challenge: it receives nothing.
    PendingVerification,
    /// It receives deliveries.
    Active,
    /// It receives nothing more.
    Disabled,
}

impl Webhook {
    /// The most endpoints one user may have.
    pub const MAX_PER_USER: u32 = 10;

    /// Whether it receives a change of `kind` numbered `id` (its owner being a recipient): only
    /// once verified, so the changes made while it was pending are never sent to it.
    pub fn receives(&self, id: ChangeId, kind: ChangeKind) -> bool {
        self.status() == WebhookStatus::Active
            && id > self.starts_after
            && self.events.includes(kind)
    }

    /// Where it stands.
    pub fn status(&self) -> WebhookStatus {
        match (self.disabled, self.verified_at) {
            (Some(_), _) => WebhookStatus::Disabled,
            (None, None) => WebhookStatus::PendingVerification,
            (None, Some(_)) => WebhookStatus::Active,
        }
    }
}

/// A verification challenge (docs/api.md, "Verifying an endpoint"): what the endpoint is sent,
/// signed like a delivery, and must echo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge(String);

impl Challenge {
    /// A new challenge: base64url of two fresh UUIDv7s (over 100 random bits; a challenge needs
    /// to be fresh, not secret).
    pub fn generate() -> Self {
        use base64::Engine as _;
        let mut bytes = uuid::Uuid::now_v7().as_bytes().to_vec();
        bytes.extend_from_slice(uuid::Uuid::now_v7().as_bytes());
        Self(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    /// A challenge of a known value (tests).
    pub fn of(value: &str) -> Self {
        Self(value.to_owned())
    }

    /// The value.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The body the endpoint is sent: `{"type": "webhook.verification", "challenge": "…"}`.
    pub fn body(&self) -> String {
        serde_json::json!({"type": "webhook.verification", "challenge": self.0}).to_string()
    }

    /// Whether an answer echoes it: a `2xx` whose body is the JSON `{"challenge": "…"}` with the
    /// same value, or the bare value as text (spaces around it aside). An answer that returns the
    /// request itself (its `"type": "webhook.verification"`), as an endpoint that mirrors any
    /// body would, proves nothing and does not count.
    pub fn echoed(&self, status: u16, body: &str) -> bool {
        if !(200..300).contains(&status) {
            return false;
        }
        if body.trim() == self.0 {
            return true;
        }
        let Ok(answer) = serde_json::from_str::<serde_json::Value>(body) else {
            return false;
        };
        let mirrored = answer.get("type").and_then(|t| t.as_str()) == Some("webhook.verification");
        !mirrored && answer.get("challenge").and_then(|c| c.as_str()) == Some(self.0.as_str())
    }
}

/// A webhook whose endpoint is due to be asked to verify, claimed for one attempt (docs/api.md,
/// "Verifying an endpoint").
#[derive(Clone, Debug)]
pub struct PendingVerification {
    /// The webhook.
    pub webhook: Webhook,
    /// Attempts made before this one.
    pub attempts: u32,
    /// This claim: the attempt is recorded only while it holds.
    pub claim: uuid::Uuid,
}

/// What a verification attempt came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerificationOutcome {
    /// The endpoint echoed the challenge: the webhook is active from this time, and receives the
    /// changes numbered after `from` (none made while it was pending).
    Verified {
        /// When.
        at: DateTime<Utc>,
        /// The last change numbered then.
        from: ChangeId,
    },
    /// Not echoed: asked again at this time.
    RetryAt(DateTime<Utc>),
    /// Not echoed, and the schedule ran out: disabled (`unverified`) at this time.
    GaveUp(DateTime<Utc>),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(raw: &str) -> Result<WebhookUrl, WebhookUrlError> {
        WebhookUrl::parse(raw, DestinationPolicy::PublicOnly)
    }

    #[test]
    fn signatures_match_the_standard_webhooks_test_vector() {
        // The example of the Standard Webhooks specification (and of its reference libraries).
        let secret = WebhookSecret::from_stored("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into());
        assert_eq!(
            secret.sign(
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                r#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_new_secret_carries_its_bytes_after_the_prefix() {
        let secret = WebhookSecret::from_bytes(&[7; WebhookSecret::BYTES]);
        let encoded = secret.expose().strip_prefix("whsec_").unwrap();
        assert_eq!(STANDARD.decode(encoded).unwrap(), [7; WebhookSecret::BYTES]);
        assert_eq!(format!("{secret:?}"), "WebhookSecret(…)");
    }

    #[test]
    fn only_public_https_urls_are_accepted_by_default() {
        assert_eq!(
            public("https://hooks.example.com/in?x=1").unwrap().as_str(),
            "https://hooks.example.com/in?x=1"
        );
        assert_eq!(
            public("  https://Example.COM  ").unwrap().as_str(),
            "https://example.com/"
        );
        assert_eq!(public("http://example.com/"), Err(WebhookUrlError::Scheme));
        assert_eq!(public("ftp://example.com/"), Err(WebhookUrlError::Scheme));
        assert_eq!(public("example.com/hook"), Err(WebhookUrlError::Invalid));
        assert_eq!(public("https://"), Err(WebhookUrlError::Invalid));
        assert_eq!(
            public("https://u:p@example.com/"),
            Err(WebhookUrlError::Credentials)
        );
        assert_eq!(
            public("https://example.com/#x"),
            Err(WebhookUrlError::Fragment)
        );
        for private in [
            "https://127.0.0.1/",
            "https://10.1.2.3/",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/",
            "https://[::ffff:192.168.0.1]/",
            "https://[fd00::1]/",
            "https://localhost:8443/",
            "https://api.localhost/",
            "https://0.0.0.0/",
            "https://2130706433/", // 127.0.0.1 written as a number
        ] {
            assert_eq!(
                public(private),
                Err(WebhookUrlError::NotPublic),
                "{private}"
            );
        }
        assert!(public("https://8.8.8.8/").is_ok());
        assert!(public("https://[2606:4700:4700::1111]/").is_ok());
        let long = format!("https://example.com/{}", "a".repeat(WebhookUrl::MAX_LEN));
        assert_eq!(
            public(&long),
            Err(WebhookUrlError::TooLong {
                max: WebhookUrl::MAX_LEN
            })
        );
    }

    #[test]
    fn allowing_private_destinations_allows_plain_http_and_loopback() {
        let url = WebhookUrl::parse(
            "http://127.0.0.1:9000/hook",
            DestinationPolicy::AllowPrivate,
        )
        .unwrap();
        assert_eq!(url.ip_host(), Some(IpAddr::from([127, 0, 0, 1])));
        assert_eq!(
            WebhookUrl::parse("ftp://127.0.0.1/", DestinationPolicy::AllowPrivate),
            Err(WebhookUrlError::Scheme)
        );
    }

    #[test]
    fn addresses_are_public_only_outside_the_special_ranges() {
        let public: [IpAddr; 4] = [
            [93, 184, 216, 34].into(),
            [100, 128, 0, 1].into(),
            "2a00:1450:4001::1".parse().unwrap(),
            "64:ff9b::808:808".parse().unwrap(),
        ];
        for ip in public {
            assert!(is_public(ip), "{ip}");
        }
        let special: [IpAddr; 14] = [
            [0, 1, 2, 3].into(),
            [100, 64, 0, 1].into(),
            [172, 31, 255, 255].into(),
            [192, 168, 1, 1].into(),
            [198, 18, 0, 1].into(),
            [224, 0, 0, 1].into(),
            [255, 255, 255, 255].into(),
            "::".parse().unwrap(),
            "fe80::1".parse().unwrap(),
            "ff02::1".parse().unwrap(),
            "2001:db8::1".parse().unwrap(),
            "2002:c0a8:0101::1".parse().unwrap(),
            "64:ff9b::a00:1".parse().unwrap(),
            "::ffff:127.0.0.1".parse().unwrap(),
        ];
        for ip in special {
            assert!(!is_public(ip), "{ip}");
        }
    }

    #[test]
    fn the_filter_reads_wire_names_once_each_and_refuses_empty_or_unknown_lists() {
        let events = WebhookEvents::parse(&[
            "invitation.accepted",
            "invitation.created",
            "invitation.accepted",
        ])
        .unwrap();
        assert_eq!(
            events.kinds(),
            Some(
                &[
                    ChangeKind::InvitationCreated,
                    ChangeKind::InvitationAccepted
                ][..]
            )
        );
        assert!(events.includes(ChangeKind::InvitationCreated));
        assert!(!events.includes(ChangeKind::EventDeleted));
        assert_eq!(
            WebhookEvents::parse::<&str>(&[]),
            Err(WebhookEventsError::Empty)
        );
        assert_eq!(
            WebhookEvents::parse(&["invitation.created", "invitation.sent"]),
            Err(WebhookEventsError::Unknown { index: 1 })
        );
        assert!(WebhookEvents::All.includes(ChangeKind::EventDeleted));
        assert_eq!(WebhookEvents::All.kinds(), None);
    }

    #[test]
    fn an_endpoint_receives_later_changes_of_its_kinds_while_verified_and_enabled() {
        let mut webhook = Webhook {
            id: WebhookId::generate(),
            owner: UserId::generate(),
            url: WebhookUrl::from_stored("https://example.com/".into()),
            events: WebhookEvents::of_kinds([ChangeKind::InvitationCreated]),
            secret: WebhookSecret::from_bytes(&[1; 32]),
            created_at: Utc::now(),
            starts_after: ChangeId(10),
            failing_since: None,
            disabled: None,
            verified_at: None,
        };
        assert_eq!(webhook.status(), WebhookStatus::PendingVerification);
        assert!(!webhook.receives(ChangeId(11), ChangeKind::InvitationCreated));
        webhook.verified_at = Some(Utc::now());
        assert_eq!(webhook.status(), WebhookStatus::Active);
        assert!(!webhook.receives(ChangeId(10), ChangeKind::InvitationCreated));
        assert!(webhook.receives(ChangeId(11), ChangeKind::InvitationCreated));
        assert!(!webhook.receives(ChangeId(11), ChangeKind::InvitationAccepted));
        webhook.disabled = Some(Disabled {
            at: Utc::now(),
            reason: DisableReason::Gone,
        });
        assert!(!webhook.receives(ChangeId(12), ChangeKind::InvitationCreated));
        assert_eq!(webhook.status(), WebhookStatus::Disabled);
    }
}
