//! Value objects. Each has private fields and a fallible constructor, so that holding one is proof
//! that the value is valid (parse, don't validate). Errors say what is wrong in domain terms; the
//! HTTP layer owns field names and the sentences users read.

use std::fmt;
use std::str::FromStr;

use phonenumber::country;
use secrecy::{ExposeSecret, SecretString};

/// An email address, trimmed and lowercased so that addresses differing only in case are one (R3).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

/// Why a string is not an [`Email`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid email address")]
pub struct EmailError;

impl Email {
    /// The longest address accepted (RFC 5321's path limit).
    pub const MAX_LEN: usize = 254;

    /// Normalizes (trims and lowercases) an email address, then checks the normalized form: what
    /// is checked is exactly what is stored. Lowercasing can lengthen text (`Ⱥ` is 2 bytes, `ⱥ`
    /// 3), so checking before it would let an address past the length limits that its stored form
    /// breaks.
    ///
    /// # Errors
    /// [`EmailError`] when the normalized text is longer than [`Email::MAX_LEN`] bytes or is not an
    /// address.
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let normalized = raw.trim().to_lowercase();
        if normalized.len() > Self::MAX_LEN || normalized.chars().any(char::is_control) {
            return Err(EmailError);
        }
        let parsed = email_address::EmailAddress::from_str(&normalized).map_err(|_| EmailError)?;
        // Display names ("Ann <ann@x.io>") parse too; an address is the bare form only.
        if parsed.email() != normalized || !parsed.domain().contains('.') {
            return Err(EmailError);
        }
        if !Self::is_deliverable_form(parsed.local_part(), parsed.domain()) {
            return Err(EmailError);
        }
        Ok(Self(normalized))
    }

    /// Whether an address RFC 5322 allows is also one a mailbox provider hands out, and not a way
    /// to steer the relay: no quoted local part (`"a b"@x.io`), no source route through the relay
    /// (`%` as in `victim%other.host@x.io`, `!` as in UUCP bang paths), and a domain that is a
    /// name, not an address (`[192.0.2.1]`, `192.0.2.1`), which would send mail to a host
    /// directly.
    fn is_deliverable_form(local: &str, domain: &str) -> bool {
        let routes = |c: char| matches!(c, '"' | '%' | '!' | '\\');
        !local.contains(routes)
            && !domain.starts_with('[')
            && domain.parse::<std::net::IpAddr>().is_err()
            && !domain.split('.').all(|label| {
                // Every label numeric: an IPv4 address in one of its shorter forms (`10.1`).
                !label.is_empty() && label.bytes().all(|b| b.is_ascii_digit())
            })
    }

    /// Wraps an address read back from storage, which [`Email::parse`] normalized and checked when
    /// it was written. It is not checked again: a row accepted once stays readable even if the
    /// rules tighten later (docs/security.md).
    pub fn from_stored(stored: String) -> Self {
        Self(stored)
    }

    /// The normalized address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The region that national phone numbers (without `+`) are read in (`DEFAULT_PHONE_REGION`, R3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhoneRegion(country::Id);

/// An ISO 3166 region code that the phone number library does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown phone region {0:?}: expected an ISO 3166-1 alpha-2 code such as IR or US")]
pub struct UnknownRegion(pub String);

impl PhoneRegion {
    /// Parses a two-letter region code such as `IR`.
    ///
    /// # Errors
    /// [`UnknownRegion`] for anything that is not a known region code.
    pub fn parse(code: &str) -> Result<Self, UnknownRegion> {
        let upper = code.trim().to_ascii_uppercase();
        country::Id::from_str(&upper)
            .map(Self)
            .map_err(|_| UnknownRegion(code.to_owned()))
    }

    /// The region code, e.g. `IR`.
    pub fn code(&self) -> &str {
        self.0.as_ref()
    }
}

impl Default for PhoneRegion {
    fn default() -> Self {
        Self(country::Id::IR)
    }
}

/// `raw` with every Persian (U+06F0–U+06F9) and Arabic-Indic (U+0660–U+0669) digit replaced by
/// the ASCII digit of the same value, so that `۰۹۳۵۲۸۶۴۸۱۲` reads as `09352864812`: what a Persian
/// or Arabic keyboard types into a mobile, a login or a code. Borrowed when there is none.
pub fn ascii_digits(raw: &str) -> std::borrow::Cow<'_, str> {
    let value = |c: char| match c {
        '\u{06F0}'..='\u{06F9}' => Some(c as u32 - 0x06F0),
        '\u{0660}'..='\u{0669}' => Some(c as u32 - 0x0660),
        _ => None,
    };
    if !raw.chars().any(|c| value(c).is_some()) {
        return std::borrow::Cow::Borrowed(raw);
    }
    raw.chars()
        .map(|c| {
            value(c)
                .and_then(|digit| char::from_digit(digit, 10))
                .unwrap_or(c)
        })
        .collect()
}

/// A phone number normalized to E.164 (`+989352864812`), so that every way of writing one number
/// compares equal (R3).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mobile(String);

/// Why a string is not a [`Mobile`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid phone number")]
pub struct MobileError;

impl Mobile {
    /// Parses a number written nationally (`09352864812`, read in `region`) or internationally
    /// (`+98 935 286 4812`, `0098 935 286 4812`), in ASCII, Persian or Arabic-Indic digits
    /// ([`ascii_digits`]).
    ///
    /// # Errors
    /// [`MobileError`] when the text is not a valid phone number.
    pub fn parse(raw: &str, region: PhoneRegion) -> Result<Self, MobileError> {
        let ascii = ascii_digits(raw);
        let trimmed = ascii.trim();
        // Only digits, spaces and the usual separators; the library is lenient with letters.
        let allowed =
            |c: char| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')' | '.');
        if trimmed.is_empty() || trimmed.len() > 32 || !trimmed.chars().all(allowed) {
            return Err(MobileError);
        }
        let number = phonenumber::parse(Some(region.0), trimmed).map_err(|_| MobileError)?;
        if !phonenumber::is_valid(&number) {
            return Err(MobileError);
        }
        Ok(Self(
            number.format().mode(phonenumber::Mode::E164).to_string(),
        ))
    }

    /// Wraps a number read back from storage, which [`Mobile::parse`] normalized to E.164 when it
    /// was written. It is not parsed again (no phone-number library call on every read), and a row
    /// accepted once stays readable even if the numbering plan's metadata changes.
    pub fn from_stored(stored: String) -> Self {
        Self(stored)
    }

    /// The number in E.164 form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the number belongs to one of `regions` (where SMS may be sent: premium and foreign
    /// numbers cost real money).
    pub fn in_regions(&self, regions: &[PhoneRegion]) -> bool {
        phonenumber::parse(None, &self.0)
            .ok()
            .and_then(|number| number.country().id())
            .is_some_and(|id| regions.iter().any(|region| region.0 == id))
    }
}

impl AsRef<str> for Mobile {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Mobile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A way to reach a user: an email or a mobile number (R2).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Contact {
    /// An entry holding `@`.
    Email(Email),
    /// Any other entry.
    Mobile(Mobile),
}

impl Contact {
    /// Reads one entry: trimmed, `None` when blank; with `@` an email, otherwise a mobile (R2).
    ///
    /// # Errors
    /// `Some(Err(()))` when the entry is neither a valid email nor a valid mobile.
    pub fn parse(raw: &str, region: PhoneRegion) -> Option<Result<Self, InvalidContact>> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return None;
        }
        Some(if trimmed.contains('@') {
            Email::parse(trimmed)
                .map(Contact::Email)
                .map_err(|_| InvalidContact)
        } else {
            Mobile::parse(trimmed, region)
                .map(Contact::Mobile)
                .map_err(|_| InvalidContact)
        })
    }
}

/// An entry that is neither an email nor a phone number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("neither a valid email address nor a valid phone number")]
pub struct InvalidContact;

/// What a user logs in with: their email or their mobile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Login {
    /// Log in by email.
    Email(Email),
    /// Log in by mobile.
    Mobile(Mobile),
}

impl Login {
    /// Reads a login the way [`Contact::parse`] reads an entry; `None` when it is neither.
    pub fn parse(raw: &str, region: PhoneRegion) -> Option<Self> {
        match Contact::parse(raw, region)? {
            Ok(Contact::Email(email)) => Some(Self::Email(email)),
            Ok(Contact::Mobile(mobile)) => Some(Self::Mobile(mobile)),
            Err(InvalidContact) => None,
        }
    }
}

/// A new password: 8 to 128 characters. A [`SecretString`]: never printed, zeroed when dropped.
#[derive(Clone)]
pub struct Password(SecretString);

/// Why a string is not an acceptable [`Password`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Fewer than [`Password::MIN_CHARS`] characters.
    #[error("shorter than {min} characters")]
    TooShort {
        /// The fewest characters allowed.
        min: usize,
    },
    /// More than [`Password::MAX_CHARS`] characters.
    #[error("longer than {max} characters")]
    TooLong {
        /// The most characters allowed.
        max: usize,
    },
}

impl Password {
    /// The fewest characters a password has.
    pub const MIN_CHARS: usize = 8;
    /// The most characters a password has.
    pub const MAX_CHARS: usize = 128;

    /// Checks the length rules (docs/api.md, "POST /api/v1/register"). The password is kept as
    /// typed (no trimming).
    ///
    /// # Errors
    /// [`PasswordError`] naming the broken bound.
    pub fn parse(raw: String) -> Result<Self, PasswordError> {
        match raw.chars().count() {
            n if n < Self::MIN_CHARS => Err(PasswordError::TooShort {
                min: Self::MIN_CHARS,
            }),
            n if n > Self::MAX_CHARS => Err(PasswordError::TooLong {
                max: Self::MAX_CHARS,
            }),
            _ => Ok(Self(raw.into())),
        }
    }

    /// Wraps a password typed at login, where only the stored hash decides.
    pub fn unchecked(raw: String) -> Self {
        Self(raw.into())
    }

    /// The secret, for the hasher only.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Password").field(&self.0).finish()
    }
}

impl PartialEq for Password {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for Password {}

/// Trimmed text of bounded length without control or invisible characters: names, titles,
/// descriptions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text(String);

/// Why a string is not an acceptable [`Text`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Blank after trimming.
    #[error("blank")]
    Blank,
    /// Longer than allowed.
    #[error("longer than {max} characters")]
    TooLong {
        /// The most characters allowed.
        max: usize,
    },
    /// Holds a control character other than a line break or tab (where allowed), or an invisible
    /// character that can disguise text ([`Text::is_disguising`]).
    #[error("contains a forbidden character")]
    ForbiddenCharacter,
}

impl Text {
    /// Checks that `raw` is at most `max` characters as sent, then trims it and checks it is not
    /// blank, with no control characters (line breaks and tabs are allowed only where
    /// `multiline`) and no character that [`Text::is_disguising`].
    ///
    /// # Errors
    /// [`TextError`] naming the broken rule.
    pub fn parse(raw: &str, max: usize, multiline: bool) -> Result<Self, TextError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(TextError::Blank);
        }
        // The limit is on the text as sent, as the API's schema states it (`maxLength`): spaces
        // around it count, though they are not kept.
        if raw.chars().count() > max {
            return Err(TextError::TooLong { max });
        }
        let allowed = |c: char| {
            (!c.is_control() || (multiline && matches!(c, '\n' | '\t' | '\r')))
                && !Self::is_disguising(c)
        };
        if !trimmed.chars().all(allowed) {
            return Err(TextError::ForbiddenCharacter);
        }
        if !trimmed
            .chars()
            .any(|c| !c.is_whitespace() && !Self::is_joiner(c))
        {
            // Nothing visible: only joiners between the spaces.
            return Err(TextError::Blank);
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// Whether `c` is an invisible character that can disguise what text says: bidirectional
    /// embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069, e.g. U+202E turning
    /// `exe.pdf` around), the zero-width space U+200B, word joiner and invisible operators
    /// (U+2060–U+2064), the byte-order mark U+FEFF, U+180E and the interlinear annotation marks
    /// (U+FFF9–U+FFFB).
    ///
    /// The zero-width joiner and non-joiner (U+200D, U+200C) and the direction marks (U+200E,
    /// U+200F, U+061C) are allowed: Persian and Arabic words and emoji sequences need them, and
    /// they cannot reorder text.
    pub fn is_disguising(c: char) -> bool {
        matches!(
            c,
            '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                | '\u{200B}'
                | '\u{2060}'..='\u{2064}'
                | '\u{FEFF}'
                | '\u{180E}'
                | '\u{FFF9}'..='\u{FFFB}'
        )
    }

    fn is_joiner(c: char) -> bool {
        matches!(
            c,
            '\u{200C}' | '\u{200D}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
        )
    }

    /// Wraps text read back from storage, which was checked when it was written.
    pub fn from_stored(text: String) -> Self {
        Self(text)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where an invitation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InvitationStatus {
    /// Sent, not answered yet.
    Pending,
    /// The invitee said "maybe": not final, no seat; still answerable, and it expires as a pending
    /// one does (docs/api.md, "Answering: maybe, guests and comments").
    Tentative,
    /// The invitee accepted and became a member.
    Accepted,
    /// The invitee accepted a full event and waits for a seat (docs/api.md, "Capacity and the
    /// waitlist").
    Waitlisted,
    /// The invitee declined.
    Rejected,
    /// The sender, the event's owner or a co-host withdrew it while it was pending.
    Cancelled,
    /// Its `expires_at` passed while it was pending ([`crate::invitations::Invitation::status_at`]).
    Expired,
}

impl InvitationStatus {
    /// Every status, in the order of docs/api.md.
    pub const ALL: [Self; 7] = [
        Self::Pending,
        Self::Tentative,
        Self::Accepted,
        Self::Waitlisted,
        Self::Rejected,
        Self::Cancelled,
        Self::Expired,
    ];

    /// The wire and storage spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Tentative => "tentative",
            Self::Accepted => "accepted",
            Self::Waitlisted => "waitlisted",
            Self::Rejected => "rejected",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
        }
    }

    /// Reads the wire and storage spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == s)
    }

    /// Whether it still runs out at its `expires_at`: unanswered, or "maybe".
    pub const fn expires(self) -> bool {
        matches!(self, Self::Pending | Self::Tentative)
    }

    /// Whether it is the one live invitation its invitee may hold to the event (R7): pending,
    /// "maybe" or waitlisted.
    pub const fn is_live(self) -> bool {
        matches!(self, Self::Pending | Self::Tentative | Self::Waitlisted)
    }
}

impl fmt::Display for InvitationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The invitee's answer (R10; docs/api.md, "Answering: maybe, guests and comments"): yes and no
/// are final, "maybe" is not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Join the event (or its waitlist, when it is full).
    Accept,
    /// Maybe: no seat, and the invitation stays answerable.
    Tentative,
    /// Decline; the sender may not invite this user to this event again (R8).
    Reject,
}

impl Answer {
    /// Reads `accepted`, `tentative`, `rejected` or its synonym `declined`; anything else is not
    /// an answer.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "accepted" => Some(Self::Accept),
            "tentative" => Some(Self::Tentative),
            "rejected" | "declined" => Some(Self::Reject),
            _ => None,
        }
    }

    /// The status an invitation takes with this answer (an accepted one may be waitlisted
    /// instead, when the event is full).
    pub const fn status(self) -> InvitationStatus {
        match self {
            Self::Accept => InvitationStatus::Accepted,
            Self::Tentative => InvitationStatus::Tentative,
            Self::Reject => InvitationStatus::Rejected,
        }
    }
}

/// The `status` filter of the invitation lists: `all` (`None`) or one status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatusFilter(Option<InvitationStatus>);

impl StatusFilter {
    /// Every status.
    pub const ALL: Self = Self(None);

    /// Reads `all` or one status: `pending`, `tentative`, `accepted`, `waitlisted`, `rejected`,
    /// `cancelled`, `expired`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "all" => Some(Self::ALL),
            other => InvitationStatus::parse(other).map(|status| Self(Some(status))),
        }
    }

    /// Only invitations with this status.
    pub const fn only(status: InvitationStatus) -> Self {
        Self(Some(status))
    }

    /// The status to keep, or `None` for all.
    pub const fn status(self) -> Option<InvitationStatus> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ir() -> PhoneRegion {
        PhoneRegion::default()
    }

    #[test]
    fn persian_and_arabic_indic_digits_read_as_ascii_in_mobiles_and_logins() {
        assert_eq!(ascii_digits("۰۹۳۵۲۸۶۴۸۱۲"), "09352864812");
        assert_eq!(ascii_digits("٠٩٣٥٢٨٦٤٨١٢"), "09352864812");
        assert_eq!(ascii_digits("+۹۸ 935 ٢٨٦ 4812"), "+98 935 286 4812");
        assert!(matches!(
            ascii_digits("0935"),
            std::borrow::Cow::Borrowed(_)
        ));
        let seed = Mobile::parse("09352864812", ir()).unwrap();
        assert_eq!(Mobile::parse("۰۹۳۵۲۸۶۴۸۱۲", ir()), Ok(seed.clone()));
        assert_eq!(Mobile::parse("٠٩٣٥٢٨٦٤٨١٢", ir()), Ok(seed.clone()));
        assert_eq!(
            Login::parse(" ۰۹۳۵ ۲۸۶ ۴۸۱۲ ", ir()),
            Some(Login::Mobile(seed.clone()))
        );
        assert_eq!(
            Contact::parse("۰۹۳۵۲۸۶۴۸۱۲", ir()),
            Some(Ok(Contact::Mobile(seed)))
        );
        // Other scripts' digits are not read as numbers.
        assert_eq!(Mobile::parse("०९३५२८६४८१२", ir()), Err(MobileError));
    }

    #[test]
    fn r3_every_spelling_of_an_iranian_mobile_is_one_number() {
        let spellings = [
            "09352864812",
            "+989352864812",
            "+98 935 286 4812",
            "0098 935 286 4812",
        ];
        for spelling in spellings {
            let mobile = Mobile::parse(spelling, ir()).unwrap();
            assert_eq!(mobile.as_str(), "+989352864812", "{spelling}");
        }
    }

    #[test]
    fn r3_national_numbers_are_read_in_the_configured_region() {
        let us = PhoneRegion::parse("us").unwrap();
        assert_eq!(
            Mobile::parse("(201) 555-0123", us).unwrap().as_str(),
            "+12015550123"
        );
        assert!(Mobile::parse("09352864812", us).is_err());
    }

    #[test]
    fn the_seed_numbers_are_valid_iranian_mobiles() {
        for n in ["09352864812", "09303030300", "09332114546", "09332131456"] {
            assert!(Mobile::parse(n, ir()).is_ok(), "{n}");
        }
    }

    #[test]
    fn garbage_is_not_a_mobile() {
        for n in [
            "12",
            "0935abc4812",
            "hello",
            "+",
            "0'; DROP TABLE users;--",
            "0935\u{0}2864812",
        ] {
            assert_eq!(Mobile::parse(n, ir()), Err(MobileError), "{n:?}");
        }
    }

    #[test]
    fn r3_emails_differing_only_in_case_are_equal() {
        let a = Email::parse("  Someone@Example.COM ").unwrap();
        let b = Email::parse("someone@example.com").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "someone@example.com");
    }

    #[test]
    fn invalid_emails_are_refused() {
        for e in [
            "@",
            "a@",
            "@b.c",
            "a b@c.d",
            "Ann <ann@x.io>",
            "a@localhost",
            "a@b@c.d",
            // Forms that steer the relay or skip DNS names: an IP literal, a bare address, a
            // quoted local part, a source route.
            "a@[192.0.2.1]",
            "a@[ipv6:2001:db8::1]",
            "a@192.0.2.1",
            "a@10.1",
            "\"a b\"@example.com",
            "\"a\"@example.com",
            "victim%relay.example@example.com",
            "host!victim@example.com",
        ] {
            assert_eq!(Email::parse(e), Err(EmailError), "{e:?}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse(&long), Err(EmailError));
        // What providers do hand out stays an address.
        for e in [
            "a.b+tag@example.com",
            "o'brien@example.ie",
            "x_y-z@mail.example.co.uk",
            "a@1example.com",
            "a@example.123x",
        ] {
            assert!(Email::parse(e).is_ok(), "{e:?}");
        }
    }

    #[test]
    fn r2_entries_are_trimmed_blank_skipped_and_classified_by_at_sign() {
        assert_eq!(Contact::parse("   ", ir()), None);
        assert_eq!(Contact::parse("", ir()), None);
        assert!(matches!(
            Contact::parse(" a@b.io ", ir()),
            Some(Ok(Contact::Email(_)))
        ));
        assert!(matches!(
            Contact::parse(" 09352864812 ", ir()),
            Some(Ok(Contact::Mobile(_)))
        ));
        assert_eq!(
            Contact::parse("not-an@email", ir()),
            Some(Err(InvalidContact))
        );
        assert_eq!(
            Contact::parse("not a number", ir()),
            Some(Err(InvalidContact))
        );
    }

    #[test]
    fn passwords_must_be_8_to_128_characters() {
        assert_eq!(
            Password::parse("1234567".into()),
            Err(PasswordError::TooShort { min: 8 })
        );
        assert!(Password::parse("12345678".into()).is_ok());
        assert!(Password::parse("é".repeat(128)).is_ok());
        assert_eq!(
            Password::parse("x".repeat(129)),
            Err(PasswordError::TooLong { max: 128 })
        );
        let printed = format!("{:?}", Password::unchecked("secret".into()));
        assert!(!printed.contains("secret"), "{printed}");
    }

    #[test]
    fn text_is_trimmed_bounded_and_free_of_control_characters() {
        assert_eq!(Text::parse("  Ann ", 100, false).unwrap().as_str(), "Ann");
        assert_eq!(Text::parse(" ", 100, false), Err(TextError::Blank));
        assert_eq!(
            Text::parse(&"x".repeat(101), 100, false),
            Err(TextError::TooLong { max: 100 })
        );
        // The limit is on the text as sent (the schema's `maxLength`), spaces around it included.
        assert_eq!(
            Text::parse(&format!("\t{}", "x".repeat(100)), 100, false),
            Err(TextError::TooLong { max: 100 })
        );
        assert!(Text::parse(&format!(" {} ", "x".repeat(98)), 100, false).is_ok());
        assert_eq!(
            Text::parse("a\u{0}b", 100, false),
            Err(TextError::ForbiddenCharacter)
        );
        assert!(Text::parse("line\nline", 100, true).is_ok());
        assert!(Text::parse("line\nline", 100, false).is_err());
        assert_eq!(
            Text::parse("'; DROP TABLE x; --", 100, false)
                .unwrap()
                .as_str(),
            "'; DROP TABLE x; --"
        );
    }

    #[test]
    fn text_refuses_characters_that_disguise_it_but_keeps_persian_and_emoji() {
        for disguised in [
            "Invoice\u{202E}fdp.exe",
            "Ann\u{200B}",
            "\u{FEFF}Party",
            "a\u{2066}b\u{2069}",
            "x\u{2060}y",
        ] {
            assert_eq!(
                Text::parse(disguised, 100, false),
                Err(TextError::ForbiddenCharacter),
                "{disguised:?}"
            );
        }
        for fine in [
            "می\u{200C}خواهم",
            "👨\u{200D}👩\u{200D}👧",
            "שלום\u{200F} 2026",
        ] {
            assert!(Text::parse(fine, 100, false).is_ok(), "{fine:?}");
        }
        assert_eq!(
            Text::parse(" \u{200D}\u{200C} ", 100, false),
            Err(TextError::Blank)
        );
    }

    #[test]
    fn emails_are_checked_after_lowercasing_so_what_is_stored_passes_the_checks() {
        // 32 × 'Ⱥ' is a 64-byte local part; lowercased ('ⱥ', 3 bytes) it is 96 bytes, over the
        // 64 that an address allows, so it is refused rather than stored.
        let expanding = format!("{}@example.com", "Ⱥ".repeat(32));
        assert_eq!(Email::parse(&expanding), Err(EmailError));
        for raw in [
            "İ@example.com",
            "ß@example.com",
            "ǅ@example.com",
            "Ⱥ@example.com",
        ] {
            if let Ok(email) = Email::parse(raw) {
                assert_eq!(Email::parse(email.as_str()), Ok(email.clone()), "{raw}");
                assert_eq!(email.as_str(), raw.to_lowercase(), "{raw}");
            }
        }
    }

    #[test]
    fn stored_values_are_trusted_as_stored() {
        let odd = "not re-checked".to_owned();
        assert_eq!(Email::from_stored(odd.clone()).as_str(), odd);
        assert_eq!(Mobile::from_stored(odd.clone()).as_str(), odd);
    }

    #[test]
    fn answers_are_accepted_tentative_and_rejected_or_declined() {
        assert_eq!(Answer::parse("accepted"), Some(Answer::Accept));
        assert_eq!(Answer::parse("tentative"), Some(Answer::Tentative));
        assert_eq!(Answer::parse("rejected"), Some(Answer::Reject));
        assert_eq!(Answer::parse("declined"), Some(Answer::Reject));
        for other in ["pending", "waitlisted", "Accepted", "", "yes", "maybe"] {
            assert_eq!(Answer::parse(other), None);
        }
    }

    #[test]
    fn status_filters_are_all_or_one_status() {
        assert_eq!(StatusFilter::parse("all"), Some(StatusFilter::ALL));
        assert_eq!(
            StatusFilter::parse("pending").unwrap().status(),
            Some(InvitationStatus::Pending)
        );
        assert_eq!(StatusFilter::parse("unknown"), None);
    }

    #[test]
    fn regions_are_iso_codes() {
        assert_eq!(PhoneRegion::parse("ir").unwrap(), PhoneRegion::default());
        assert!(PhoneRegion::parse("XX").is_err());
    }
}
