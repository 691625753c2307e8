//! The `Subject` header, encoded so that mail clients show exactly the text it was given.
//!
//! lettre encodes (RFC 2047) only the words that are not plain ASCII, so a title that *is* plain
//! ASCII but reads like an encoded word (`=?utf-8?b?…?=`) reaches the header raw, and every mail
//! client decodes it: a sender could make the subject say anything, in any script, while the
//! stored title says something else. A subject holding `=?` is therefore encoded whole.

use email_encoding::headers::rfc2047;
use email_encoding::headers::writer::EmailWriter;
use lettre::message::header::{Header, HeaderName, HeaderValue};

/// A `Subject` header shown as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Subject(String);

impl Subject {
    pub(super) fn new(text: String) -> Self {
        Self(text)
    }
}

impl Header for Subject {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Subject")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        if !self.0.contains("=?") {
            return HeaderValue::new(Self::name(), self.0.clone());
        }
        let mut encoded = String::new();
        {
            let mut writer = EmailWriter::new(&mut encoded, "Subject: ".len(), 0, false);
            // Writing to a String cannot fail.
            let _ = rfc2047::encode(&self.0, &mut writer);
        }
        HeaderValue::dangerous_new_pre_encoded(Self::name(), self.0.clone(), encoded)
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use lettre::message::header::Headers;

    use super::*;

    /// The text a mail client shows for a header line: each encoded word decoded.
    fn shown(line: &str) -> String {
        let value = line.trim_start_matches("Subject: ").replace("\r\n ", " ");
        value
            .split(' ')
            .map(|word| {
                match word
                    .strip_prefix("=?utf-8?b?")
                    .and_then(|w| w.strip_suffix("?="))
                {
                    Some(b64) => String::from_utf8(
                        base64::engine::general_purpose::STANDARD
                            .decode(b64)
                            .unwrap(),
                    )
                    .unwrap(),
                    None => word.to_owned(),
                }
            })
            .collect()
    }

    #[test]
    fn a_title_that_reads_like_an_encoded_word_is_shown_as_written() {
        // "=?utf-8?b?SGFja2Vk?=" would be shown as "Hacked".
        let text = "Party =?utf-8?b?SGFja2Vk?= tonight";
        let mut headers = Headers::new();
        headers.set(Subject::new(text.to_owned()));
        let line = headers.to_string();
        assert!(line.starts_with("Subject: =?utf-8?b?"), "{line}");
        assert!(!line.contains("SGFja2Vk?="), "{line}");
        assert_eq!(shown(line.trim_end()), text);
    }

    #[test]
    fn a_plain_subject_is_written_as_lettre_writes_it() {
        let mut headers = Headers::new();
        headers.set(Subject::new("You're invited to Supper".to_owned()));
        assert_eq!(headers.to_string(), "Subject: You're invited to Supper\r\n");
    }
}
