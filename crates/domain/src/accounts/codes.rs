//! One-time codes that prove a contact (docs/api.md, "Proving contacts"): 6 random digits, kept
//! only as a keyed hash, valid for a while and for a few tries.

use std::fmt;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::ports::SecretSource;
use crate::values::ascii_digits;

/// A code as sent or as typed: exactly 6 ASCII digits. Its `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct OneTimeCode(String);

/// A typed code that is not 6 digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a code is 6 digits")]
pub struct CodeFormatError;

impl OneTimeCode {
    /// How many digits a code has.
    pub const DIGITS: usize = 6;

    /// Reads a typed code: spaces around it ignored, Persian and Arabic-Indic digits read as
    /// ASCII ones.
    ///
    /// # Errors
    /// [`CodeFormatError`] unless 6 digits remain.
    pub fn parse(raw: &str) -> Result<Self, CodeFormatError> {
        let digits = ascii_digits(raw.trim()).into_owned();
        if digits.len() == Self::DIGITS && digits.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(digits))
        } else {
            Err(CodeFormatError)
        }
    }

    /// A uniformly random code from `source`.
    pub fn generate(source: &dyn SecretSource) -> Self {
        // The largest multiple of 10^6 that fits a u32: values at or above it are drawn again,
        // so that every code is equally likely.
        const SPAN: u32 = 1_000_000;
        const ZONE: u32 = u32::MAX - u32::MAX % SPAN;
        loop {
            let mut bytes = [0_u8; 4];
            source.fill(&mut bytes);
            let value = u32::from_le_bytes(bytes);
            if value < ZONE {
                return Self(format!("{:06}", value % SPAN));
            }
        }
    }

    /// The digits, to send.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for OneTimeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OneTimeCode(******)")
    }
}

/// The key codes are hashed with: the same for every process on one database, so that a dump of
/// the database alone does not let anyone try the million codes offline.
#[derive(Clone)]
pub struct CodeKey([u8; 32]);

impl CodeKey {
    /// A key of 32 secret bytes.
    pub const fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes a key of any length.
        Hmac::<Sha256>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!())
    }

    /// The stored form of `code` sent for `purpose` to `contact`: HMAC-SHA256 over all three, so
    /// that a code proves only what it was sent for.
    pub fn digest(&self, code: &OneTimeCode, purpose: &str, contact: &str) -> CodeDigest {
        let mut mac = self.mac();
        mac.update(Self::message(code, purpose, contact).as_bytes());
        CodeDigest(mac.finalize().into_bytes().to_vec())
    }

    /// Whether `code` is the one stored as `digest`, compared in constant time.
    pub fn matches(
        &self,
        code: &OneTimeCode,
        purpose: &str,
        contact: &str,
        digest: &CodeDigest,
    ) -> bool {
        let mut mac = self.mac();
        mac.update(Self::message(code, purpose, contact).as_bytes());
        mac.verify_slice(&digest.0).is_ok()
    }

    fn message(code: &OneTimeCode, purpose: &str, contact: &str) -> String {
        format!("{purpose}\n{contact}\n{}", code.0)
    }
}

impl fmt::Debug for CodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CodeKey(..)")
    }
}

/// A code's stored form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeDigest(pub Vec<u8>);

/// How codes work: their life, their tries, and how often one contact, account or client address
/// may be sent one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodePolicy {
    /// How long a code can be used (10 minutes).
    pub ttl: Duration,
    /// Tries before a code is void (5).
    pub max_attempts: u32,
    /// The least time between two codes to one contact (60 s).
    pub resend_after: Duration,
    /// Codes to one contact per hour (5).
    pub per_contact_hourly: u32,
    /// Codes per account per day (`CODES_PER_ACCOUNT_DAILY`, 20).
    pub per_account_daily: u32,
    /// Codes asked for from one client address per day (`CODES_PER_ADDRESS_DAILY`, 50).
    pub per_address_daily: u32,
}

impl Default for CodePolicy {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(10 * 60),
            max_attempts: 5,
            resend_after: Duration::from_secs(60),
            per_contact_hourly: 5,
            per_account_daily: 20,
            per_address_daily: 50,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Bytes(std::sync::Mutex<Vec<u8>>);

    impl SecretSource for Bytes {
        fn fill(&self, buf: &mut [u8]) {
            let mut bytes = self.0.lock().unwrap();
            for b in buf.iter_mut() {
                *b = bytes.remove(0);
            }
        }
    }

    #[test]
    fn codes_are_six_digits_and_persian_or_arabic_indic_digits_read_as_ascii() {
        assert_eq!(OneTimeCode::parse(" 012345 ").unwrap().expose(), "012345");
        assert_eq!(OneTimeCode::parse("۰۱۲۳۴۵").unwrap().expose(), "012345");
        assert_eq!(OneTimeCode::parse("٠١٢٣٤٥").unwrap().expose(), "012345");
        for bad in ["12345", "1234567", "12a456", "", "12 456", "１２３４５６"] {
            assert_eq!(OneTimeCode::parse(bad), Err(CodeFormatError), "{bad:?}");
        }
        assert_eq!(
            format!("{:?}", OneTimeCode::parse("123456").unwrap()),
            "OneTimeCode(******)"
        );
    }

    #[test]
    fn generated_codes_are_drawn_again_above_the_last_whole_million() {
        // u32::MAX itself is in the biased zone; the next draw, 7, gives 000007.
        let mut bytes = u32::MAX.to_le_bytes().to_vec();
        bytes.extend(7_u32.to_le_bytes());
        let code = OneTimeCode::generate(&Bytes(std::sync::Mutex::new(bytes)));
        assert_eq!(code.expose(), "000007");
    }

    #[test]
    fn a_digest_matches_only_its_code_purpose_and_contact() {
        let key = CodeKey::new([7; 32]);
        let code = OneTimeCode::parse("123456").unwrap();
        let digest = key.digest(&code, "email", "ann@example.com");
        assert!(key.matches(&code, "email", "ann@example.com", &digest));
        let other = OneTimeCode::parse("123457").unwrap();
        assert!(!key.matches(&other, "email", "ann@example.com", &digest));
        assert!(!key.matches(&code, "login", "ann@example.com", &digest));
        assert!(!key.matches(&code, "email", "bob@example.com", &digest));
        assert!(!CodeKey::new([8; 32]).matches(&code, "email", "ann@example.com", &digest));
        assert!(!digest.0.windows(6).any(|w| w == b"123456"));
    }
}
