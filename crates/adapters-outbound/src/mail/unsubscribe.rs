//! `List-Unsubscribe` (RFC 2369) and `List-Unsubscribe-Post` (RFC 8058): the headers with which
//! mail clients offer a one-click "unsubscribe" for an invitation email (docs/api.md, "Stopping
//! invitation messages"). The link is the service's own, ASCII and free of spaces and angle
//! brackets (its token is base64url), so it is written as it is.

use lettre::message::header::{Header, HeaderName, HeaderValue};

/// `List-Unsubscribe: <https://…/unsubscribe/{token}>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct ListUnsubscribe(pub(super) String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let link = s.trim().trim_start_matches('<').trim_end_matches('>');
        Ok(Self(link.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), format!("<{}>", self.0))
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click`: a `POST` of that body to the link
/// unsubscribes at once, without a page (RFC 8058).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

/// Whether `link` can go in the header as it is: printable ASCII without spaces or brackets.
pub(super) fn fits(link: &str) -> bool {
    !link.is_empty()
        && link.len() <= 900
        && link
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'<' && b != b'>' && b != b',')
}
