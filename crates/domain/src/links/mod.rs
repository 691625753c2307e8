//! One-click answers from outside the app (docs/api.md, "Answering from a message"): every
//! invitation email and text carries a link `{PUBLIC_URL}/i/{token}` that opens that one
//! invitation, to look at without an account and to answer with a deliberate `POST`.
//!
//! A link's token is [`LinkToken::BYTES`] random bytes, given only in the message and stored only
//! as its SHA-256 digest. It opens its invitation while the invitation is open (pending or
//! "maybe"), and never again once it is answered for good, cancelled or expired.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::accounts::ports::TokenHash;
use crate::events::Event;
use crate::invitations::InvitationDetails;
use crate::ports::SecretSource;
use crate::{InvitationId, InvitationStatus};

pub mod ports;
mod service;

pub use service::*;

#[cfg(test)]
mod tests;

/// A link's secret token: base64url of [`LinkToken::BYTES`] random bytes. Its `Debug` hides it.
#[derive(Clone)]
pub struct LinkToken(SecretString);

impl std::fmt::Debug for LinkToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkToken(…)")
    }
}

impl LinkToken {
    /// Random bytes in a token: 144 bits, 24 characters in a link.
    pub const BYTES: usize = 18;

    /// A new token from `source`.
    pub fn generate(source: &dyn SecretSource) -> Self {
        let mut bytes = [0u8; Self::BYTES];
        source.fill(&mut bytes);
        Self(SecretString::from(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// The token as the link carries it.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// Its digest: the only form in which it is stored.
    pub fn hash(&self) -> TokenHash {
        Self::digest(self.expose())
    }

    /// The digest of a token a visitor presented, or `None` when it cannot be one (wrong length or
    /// alphabet): such a token is refused without a look-up.
    pub fn digest_presented(presented: &str) -> Option<TokenHash> {
        let plausible = presented.len() == Self::BYTES.div_ceil(3) * 4
            && presented
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        plausible.then(|| Self::digest(presented))
    }

    fn digest(token: &str) -> TokenHash {
        TokenHash(Sha256::digest(token.as_bytes()).to_vec())
    }
}

/// `PUBLIC_URL`: the `http(s)://` origin (and optional path) every link the service sends starts
/// with; never ends in `/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicUrl(String);

/// Why a `PUBLIC_URL` is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("PUBLIC_URL must be an http:// or https:// URL without a query or fragment")]
pub struct PublicUrlError;

impl PublicUrl {
    /// The default: the service's own default address.
    pub const DEFAULT: &'static str = "http://127.0.0.1:8080";

    /// Reads a base URL: `http` or `https`, a host, no user, query or fragment.
    ///
    /// # Errors
    /// [`PublicUrlError`] otherwise.
    pub fn parse(raw: &str) -> Result<Self, PublicUrlError> {
        let url = url::Url::parse(raw.trim()).map_err(|_| PublicUrlError)?;
        let fine = matches!(url.scheme(), "http" | "https")
            && url.host().is_some()
            && url.username().is_empty()
            && url.password().is_none()
            && url.query().is_none()
            && url.fragment().is_none();
        if !fine {
            return Err(PublicUrlError);
        }
        Ok(Self(url.as_str().trim_end_matches('/').to_owned()))
    }

    /// The base, without a trailing `/`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The link of an invitation's token: `{PUBLIC_URL}/i/{token}`.
    pub fn invitation_link(&self, token: &LinkToken) -> String {
        format!("{}/i/{}", self.0, token.expose())
    }

    /// The link that stops invitation messages (docs/api.md, "Stopping invitation messages"):
    /// `{PUBLIC_URL}/unsubscribe/{token}`.
    pub fn unsubscribe_link(&self, token: &str) -> String {
        format!("{}/unsubscribe/{token}", self.0)
    }
}

impl Default for PublicUrl {
    fn default() -> Self {
        Self(Self::DEFAULT.to_owned())
    }
}

/// A link to store with the message that carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewLink {
    /// The invitation it opens.
    pub invitation_id: InvitationId,
    /// The digest of its token.
    pub hash: TokenHash,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

/// What a link opens, as stored: the invitation with its parties, and its event as it stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkedInvitation {
    /// The invitation.
    pub details: InvitationDetails,
    /// Its event.
    pub event: Event,
    /// The language its reader reads: its invitee's, or its sender's while no account has proven
    /// its contact (docs/api.md, "Languages").
    pub locale: crate::accounts::Locale,
}

/// Whether an invitation in `status` still answers to its links: only while it is open.
pub fn opens(status: InvitationStatus) -> bool {
    matches!(
        status,
        InvitationStatus::Pending | InvitationStatus::Tentative
    )
}
