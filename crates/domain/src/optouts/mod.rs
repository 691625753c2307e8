//! Opting out of invitation messages (docs/api.md, "Stopping invitation messages"): every
//! invitation email names a link (`List-Unsubscribe`, RFC 8058's one-click `POST` too) that stops
//! further invitation messages to its address, from that sender or from everyone; a text answered
//! `STOP` stops them to that number from everyone. The invitations themselves are still made and
//! shown in the app: only the messages stop.
//!
//! A link's token needs no storage: it is the contact and the sender, signed with
//! HMAC-SHA256 under a key every process shares ([`UnsubscribeKey`]).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::UserId;

pub mod ports;
mod service;

pub use service::*;

#[cfg(test)]
mod tests;

/// Whose invitation messages a contact no longer gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OptOutScope {
    /// One sender's.
    Sender(UserId),
    /// Everyone's.
    Everyone,
}

/// A contact's opt-out, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptOut {
    /// The contact, normalized (an email lowercased, a mobile in E.164).
    pub contact: String,
    /// Whose messages stop.
    pub scope: OptOutScope,
    /// When.
    pub at: DateTime<Utc>,
}

/// The opt-outs of some contacts: asks whether a message from a sender may go to one of them.
#[derive(Clone, Debug, Default)]
pub struct OptOuts(Vec<OptOut>);

impl OptOuts {
    /// The opt-outs found.
    pub fn new(found: Vec<OptOut>) -> Self {
        Self(found)
    }

    /// Whether `contact` (normalized) has stopped everyone's invitation messages.
    pub fn stops_everyone(&self, contact: &str) -> bool {
        self.0
            .iter()
            .any(|opt_out| opt_out.contact == contact && opt_out.scope == OptOutScope::Everyone)
    }

    /// Whether `contact` (normalized) has stopped the invitation messages of `sender`.
    pub fn stops(&self, contact: &str, sender: UserId) -> bool {
        self.0.iter().any(|opt_out| {
            opt_out.contact == contact
                && (opt_out.scope == OptOutScope::Everyone
                    || opt_out.scope == OptOutScope::Sender(sender))
        })
    }
}

/// The key that signs unsubscribe links: derived from a secret every process shares, so a link
/// made by one process is read by any other.
#[derive(Clone)]
pub struct UnsubscribeKey([u8; 32]);

impl std::fmt::Debug for UnsubscribeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UnsubscribeKey(…)")
    }
}

/// What an unsubscribe link names: a contact and the sender of the message it came in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnsubscribeLink {
    /// The contact, normalized.
    pub contact: String,
    /// The sender.
    pub sender: UserId,
}

impl UnsubscribeKey {
    /// Bytes of the tag a token carries.
    const TAG: usize = 16;
    /// The longest contact a token may name (an email's limit).
    const CONTACT_MAX: usize = 254;

    /// The key derived from `secret` (the service's shared secret): HMAC-SHA256 of a label, so
    /// that it signs nothing else the secret signs.
    pub fn new(secret: &[u8]) -> Self {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(secret).unwrap_or_else(|_| unreachable!("any length"));
        mac.update(b"event-manager unsubscribe links v1");
        Self(mac.finalize().into_bytes().into())
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!("any length"))
    }

    /// The token of a link to stop `sender`'s messages to `contact`: the base64url of the
    /// sender's id and the contact, a dot, and the base64url of the tag.
    pub fn token(&self, link: &UnsubscribeLink) -> String {
        let mut body = link.sender.as_uuid().as_bytes().to_vec();
        body.extend_from_slice(link.contact.as_bytes());
        let mut mac = self.mac();
        mac.update(&body);
        let tag = mac.finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&body),
            URL_SAFE_NO_PAD.encode(&tag[..Self::TAG])
        )
    }

    /// What a presented token names, or `None` when it is not one of ours (any byte changed, or
    /// made with another key); the tag is compared in constant time.
    pub fn read(&self, token: &str) -> Option<UnsubscribeLink> {
        if token.len() > (16 + Self::CONTACT_MAX).div_ceil(3) * 4 + 1 + 22 {
            return None;
        }
        let (body, tag) = token.split_once('.')?;
        let body = URL_SAFE_NO_PAD.decode(body).ok()?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        if body.len() <= 16 || tag.len() != Self::TAG {
            return None;
        }
        let mut mac = self.mac();
        mac.update(&body);
        mac.verify_truncated_left(&tag).ok()?;
        let sender = uuid::Uuid::from_slice(&body[..16]).ok()?;
        let contact = String::from_utf8(body[16..].to_vec()).ok()?;
        Some(UnsubscribeLink {
            contact,
            sender: UserId::from_uuid(sender),
        })
    }
}

/// Whether a text's words ask to stop (docs/api.md, "Stopping invitation messages"): `STOP` and
/// the usual words for it, in any case, alone on the text; Persian «لغو» too.
pub fn asks_to_stop(text: &str) -> bool {
    let word = text.trim().trim_end_matches(['.', '!']).to_lowercase();
    matches!(
        word.as_str(),
        "stop" | "stopall" | "unsubscribe" | "cancel" | "end" | "quit" | "لغو" | "توقف"
    )
}
