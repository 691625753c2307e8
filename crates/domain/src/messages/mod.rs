//! Messages to people outside the API: the rules of an SMS text (its encoding and how many
//! segments it takes) and the port that sends one (docs/api.md, "Text messages to invitees").

use chrono::{DateTime, Utc};

use crate::accounts::codes::OneTimeCode;
use crate::accounts::ports::CodePurpose;
use crate::accounts::{Channel, Locale};
use crate::i18n::{self, Arg};
use crate::{Contact, Email, MessageId, Mobile};

pub mod ports;
mod service;

pub use service::{MessageAttempt, MessageService};

/// The longest text, in segments, that the service sends: longer texts are refused before they
/// reach a gateway (a gateway would bill every segment).
pub const MAX_SEGMENTS: usize = 3;

/// How an SMS text travels: GSM 03.38's 7-bit default alphabet when every character is in it,
/// else UCS-2 (Persian, Arabic, emoji, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmsEncoding {
    /// 160 septets in one segment, 153 per segment of a longer text.
    Gsm7,
    /// 70 UTF-16 code units in one segment, 67 per segment of a longer text.
    Ucs2,
}

impl SmsEncoding {
    /// The encoding `text` needs.
    pub fn of(text: &str) -> Self {
        if text.chars().all(|c| gsm7_septets(c).is_some()) {
            Self::Gsm7
        } else {
            Self::Ucs2
        }
    }

    fn single_segment(self) -> usize {
        match self {
            Self::Gsm7 => 160,
            Self::Ucs2 => 70,
        }
    }

    fn multi_segment(self) -> usize {
        match self {
            Self::Gsm7 => 153,
            Self::Ucs2 => 67,
        }
    }
}

/// The septets a character takes in the GSM 7-bit default alphabet (2 for the extension table's
/// characters), or `None` when it is not in the alphabet.
fn gsm7_septets(c: char) -> Option<usize> {
    const BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
                         ¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
    const EXTENSION: &str = "^{}\\[~]|€\u{c}";
    if BASIC.contains(c) {
        Some(1)
    } else if EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// The text of an SMS: not blank, and at most [`MAX_SEGMENTS`] segments in its encoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmsText {
    text: String,
    encoding: SmsEncoding,
    segments: usize,
}

/// Why a text cannot be sent as an SMS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SmsTextError {
    /// Nothing to send.
    #[error("an SMS needs some text")]
    Blank,
    /// It would take more than [`MAX_SEGMENTS`] segments.
    #[error("the text takes {segments} SMS segments; at most {MAX_SEGMENTS} are sent")]
    TooLong {
        /// The segments it would take.
        segments: usize,
    },
}

impl SmsText {
    /// Checks `text`: not blank, at most [`MAX_SEGMENTS`] segments.
    ///
    /// # Errors
    /// [`SmsTextError::Blank`] or [`SmsTextError::TooLong`].
    pub fn new(text: impl Into<String>) -> Result<Self, SmsTextError> {
        let text = text.into();
        if text.trim().is_empty() {
            return Err(SmsTextError::Blank);
        }
        let encoding = SmsEncoding::of(&text);
        let units = match encoding {
            SmsEncoding::Gsm7 => text.chars().filter_map(gsm7_septets).sum(),
            SmsEncoding::Ucs2 => text.encode_utf16().count(),
        };
        let segments = if units <= encoding.single_segment() {
            1
        } else {
            units.div_ceil(encoding.multi_segment())
        };
        if segments > MAX_SEGMENTS {
            return Err(SmsTextError::TooLong { segments });
        }
        Ok(Self {
            text,
            encoding,
            segments,
        })
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Its encoding.
    pub fn encoding(&self) -> SmsEncoding {
        self.encoding
    }

    /// How many segments it takes (1 to [`MAX_SEGMENTS`]).
    pub fn segments(&self) -> usize {
        self.segments
    }
}

/// One SMS: a text to a mobile number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sms {
    /// Where it goes.
    pub to: Mobile,
    /// What it says.
    pub text: SmsText,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin_text_is_gsm7_and_persian_is_ucs2() {
        assert_eq!(
            SmsEncoding::of("Launch party, Friday 18:00 @ HQ"),
            SmsEncoding::Gsm7
        );
        assert_eq!(SmsEncoding::of("دعوت به جشن"), SmsEncoding::Ucs2);
        assert_eq!(SmsEncoding::of("Party 🎉"), SmsEncoding::Ucs2);
    }

    #[test]
    fn segments_follow_each_encodings_single_and_concatenated_sizes() {
        let segments = |text: String| SmsText::new(text).map(|t| t.segments());
        assert_eq!(segments("a".repeat(160)), Ok(1));
        assert_eq!(segments("a".repeat(161)), Ok(2));
        assert_eq!(segments("a".repeat(459)), Ok(3));
        assert_eq!(
            segments("a".repeat(460)),
            Err(SmsTextError::TooLong { segments: 4 })
        );
        // The extension table's characters take two septets.
        assert_eq!(segments("€".repeat(80)), Ok(1));
        assert_eq!(segments("€".repeat(81)), Ok(2));
        assert_eq!(segments("س".repeat(70)), Ok(1));
        assert_eq!(segments("س".repeat(71)), Ok(2));
        assert_eq!(segments("س".repeat(201)), Ok(3));
        assert_eq!(
            segments("س".repeat(202)),
            Err(SmsTextError::TooLong { segments: 4 })
        );
    }

    #[test]
    fn a_blank_text_is_refused() {
        assert_eq!(SmsText::new("  \n"), Err(SmsTextError::Blank));
    }
}

/// Where a message goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recipient {
    /// An email address.
    Email(Email),
    /// A mobile, by SMS.
    Sms(Mobile),
}

impl Recipient {
    /// The channel's name: `email` or `sms`.
    pub const fn channel(&self) -> &'static str {
        match self {
            Self::Email(_) => "email",
            Self::Sms(_) => "sms",
        }
    }

    /// The address, normalized.
    pub fn address(&self) -> &str {
        match self {
            Self::Email(email) => email.as_str(),
            Self::Sms(mobile) => mobile.as_str(),
        }
    }
}

impl From<Contact> for Recipient {
    fn from(contact: Contact) -> Self {
        match contact {
            Contact::Email(email) => Self::Email(email),
            Contact::Mobile(mobile) => Self::Sms(mobile),
        }
    }
}

/// A message to one person, to store in the outbox and send after the request committed
/// (docs/operations.md, "Messages").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingMessage {
    /// Its id.
    pub id: MessageId,
    /// Where it goes.
    pub recipient: Recipient,
    /// What it is for (`code`, `invitation`), for the operator.
    pub purpose: &'static str,
    /// The subject line of an email (SMS have none).
    pub subject: String,
    /// The text. For an SMS it fits in [`MAX_SEGMENTS`] segments.
    pub text: String,
    /// When it was made: also when its first attempt is due.
    pub created_at: DateTime<Utc>,
}

impl OutgoingMessage {
    /// The message carrying a code to `contact`, in `locale`: short enough for one SMS segment
    /// in English, and for two in Persian.
    pub fn code(
        contact: Contact,
        code: &OneTimeCode,
        purpose: CodePurpose,
        ttl_minutes: i64,
        locale: Locale,
        now: DateTime<Utc>,
    ) -> Self {
        let id = match purpose {
            CodePurpose::Prove(Channel::Email) => "code-prove-email",
            CodePurpose::Prove(Channel::Mobile) => "code-prove-mobile",
            CodePurpose::Login => "code-login",
        };
        let args = [
            ("code", Arg::from(code.expose())),
            ("minutes", Arg::from(ttl_minutes)),
        ];
        Self {
            id: MessageId::generate(),
            recipient: contact.into(),
            purpose: "code",
            subject: i18n::text(locale, "code-subject", &args),
            text: i18n::text(locale, id, &args),
            created_at: now,
        }
    }
}
