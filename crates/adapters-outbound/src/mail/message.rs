//! The invitation email's words (docs/api.md, "Email to invitees"), and the form in which a
//! composed email is stored with its delivery.
//!
//! Names, titles and notes are user input: every one of them is HTML-escaped in the HTML part,
//! and the subject is kept to one line (lettre encodes headers; removing line breaks as well
//! leaves no way to add a header even if that changed).

use domain::i18n::{self, Arg};
use domain::webhooks::delivery::InvitationEmail;
use serde::{Deserialize, Serialize};

/// A composed email as stored with its delivery: every attempt sends exactly this.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct StoredMessage {
    /// One line.
    pub(super) subject: String,
    /// The `text/plain` part.
    pub(super) text: String,
    /// The `text/html` part; empty for a plain-text message (a code).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(super) html: String,
    /// The `text/calendar; method=REQUEST` part (iMIP, RFC 6047); empty for none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(super) calendar: String,
    /// The link that stops further invitation messages, for the `List-Unsubscribe` headers;
    /// empty for none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(super) unsubscribe: String,
}

/// A plain-text message: a code, a notice.
pub(super) fn compose_text(subject: &str, text: &str) -> StoredMessage {
    StoredMessage {
        subject: one_line(subject),
        text: text.to_owned(),
        html: String::new(),
        calendar: String::new(),
        unsubscribe: String::new(),
    }
}

/// A plain-text notice, with an iCalendar part unless `calendar` is empty.
pub(super) fn compose_notice(subject: &str, text: &str, calendar: &str) -> StoredMessage {
    StoredMessage {
        calendar: calendar.to_owned(),
        ..compose_text(subject, text)
    }
}

impl StoredMessage {
    /// The stored form: JSON.
    pub(super) fn to_stored(&self) -> String {
        // A struct of strings always serializes; the fallback only keeps this free of panics.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads the stored form back; `None` when it is not a message.
    pub(super) fn from_stored(stored: &str) -> Option<Self> {
        serde_json::from_str(stored).ok()
    }
}

/// The words of one email, in its reader's language.
struct Words<'a> {
    email: &'a InvitationEmail,
}

impl Words<'_> {
    fn say(&self, id: &str, args: &[(&str, Arg)]) -> String {
        i18n::text(self.email.locale, id, args)
    }

    /// "Hello Sara," (or a greeting to nobody by name, for a held invitation), with `name` as the
    /// part writes a name.
    fn greeting(&self, name: impl Fn(&str) -> String) -> String {
        let invitee = match &self.email.invitee_name {
            Some(invitee) => name(invitee.as_str()),
            None => self.say("someone", &[]),
        };
        self.say("greeting", &[("name", invitee.into())])
    }

    /// "Answer by Friday 15 January 2027, 18:00 (Asia/Tehran).", or "It does not expire."
    fn expiry(&self) -> String {
        match self.email.expires_at {
            Some(at) => {
                let when = self.email.time_zone.describe(self.email.locale, at);
                self.say("invite-answer-by", &[("when", when.into())])
            }
            None => self.say("invite-no-expiry", &[]),
        }
    }

    fn id_line(&self, id: &str) -> String {
        self.say("invite-id", &[("id", id.into())])
    }

    /// The HTML document around `body`, in the reader's language and direction.
    fn html(&self, body: &str) -> String {
        let locale = self.email.locale;
        format!(
            "<!DOCTYPE html>\n<html lang=\"{}\" dir=\"{}\"><head><meta charset=\"utf-8\"></head><body>\n{body}</body></html>\n",
            locale.as_str(),
            i18n::direction(locale),
        )
    }
}

/// The title quoted for text, or strong for HTML.
fn quoted(words: &Words<'_>, title: &str) -> String {
    words.say("quoted", &[("text", title.into())])
}

fn strong(title: &str) -> String {
    format!("<strong>{}</strong>", escape(title))
}

/// The email for an invitation, or for a seat that opened up, in its reader's language
/// (docs/api.md, "Languages").
pub(super) fn compose(email: &InvitationEmail) -> StoredMessage {
    let mut message = if email.promoted {
        compose_promotion(email)
    } else if email.cancelled {
        compose_cancellation(email)
    } else {
        compose_invitation(email)
    };
    if let Some(link) = &email.unsubscribe {
        // The last line of both parts, and the headers mail clients offer as "unsubscribe".
        let words = Words { email };
        let line = words.say("unsubscribe-line", &[]);
        message
            .text
            .push_str(&format!("\n--\n{line}\n\x20   {link}\n"));
        let footer = format!(
            "<hr>\n<p><small>{} <a href=\"{link}\">{}</a></small></p>\n",
            escape(&line),
            escape(&words.say("unsubscribe-button", &[])),
            link = escape(link),
        );
        message.html =
            message
                .html
                .replacen("</body></html>", &format!("{footer}</body></html>"), 1);
        message.unsubscribe = link.clone();
    }
    message
}

/// The email of a new or resent invitation.
fn compose_invitation(email: &InvitationEmail) -> StoredMessage {
    let words = Words { email };
    let sender = email.sender_name.as_str();
    let title = email.event_title.as_str();
    let id = email.invitation_id.to_string();
    let note = email.message.as_ref().map(|note| note.as_str());
    let expiry = words.expiry();
    let (subject_id, invited_id) = if email.resent {
        ("invite-subject-resent", "invite-resent")
    } else {
        ("invite-subject", "invite-invited")
    };
    let subject = one_line(&words.say(
        subject_id,
        &[("sender", sender.into()), ("title", title.into())],
    ));

    let mut text = format!("{}\n\n", words.greeting(str::to_owned));
    text.push_str(&words.say(
        invited_id,
        &[
            ("sender", sender.into()),
            ("title", quoted(&words, title).into()),
        ],
    ));
    text.push('\n');
    if let Some(note) = note {
        text.push_str(&format!(
            "\n{}\n",
            words.say("invite-wrote", &[("sender", sender.into())])
        ));
        for line in note.lines() {
            text.push_str(&format!("> {line}\n"));
        }
    }
    text.push_str(&format!("\n{expiry}\n\n"));
    match &email.link {
        Some(link) => text.push_str(&format!(
            "{}\n\n\x20   {link}\n\n{}\n\n{}\n",
            words.say("invite-open-link", &[]),
            words.say("invite-link-yours", &[]),
            words.id_line(&id),
        )),
        None => text.push_str(&format!(
            "{}\n\n\
             \x20   PATCH /api/v1/invitations/{id}\n\
             \x20   {{\"status\": \"accepted\"}}   {}\n\
             \x20   {{\"status\": \"rejected\"}}   {}\n\n{}\n",
            words.say("invite-answer-api", &[]),
            words.say("invite-api-accept", &[]),
            words.say("invite-api-reject", &[]),
            words.id_line(&id),
        )),
    }

    let sender_html = escape(sender);
    let mut body = format!("<p>{}</p>\n", words.greeting(escape));
    body.push_str(&format!(
        "<p>{}</p>\n",
        words.say(
            invited_id,
            &[
                ("sender", sender_html.as_str().into()),
                ("title", strong(title).into())
            ],
        )
    ));
    if let Some(note) = note {
        let note = note.lines().map(escape).collect::<Vec<_>>().join("<br>\n");
        body.push_str(&format!(
            "<p>{}</p>\n<blockquote>{note}</blockquote>\n",
            words.say("invite-wrote", &[("sender", sender_html.as_str().into())])
        ));
    }
    body.push_str(&format!("<p>{}</p>\n", escape(&expiry)));
    match &email.link {
        Some(link) => body.push_str(&format!(
            "<p><a href=\"{link}\">{}</a></p>\n<p>{}</p>\n",
            escape(&words.say("invite-link-button", &[])),
            escape(&words.say("invite-link-yours", &[])),
            link = escape(link),
        )),
        None => body.push_str(&format!(
            "<p>{}</p>\n\
             <pre dir=\"ltr\">PATCH /api/v1/invitations/{id}\n\
             {{\"status\": \"accepted\"}}   {}\n\
             {{\"status\": \"rejected\"}}   {}</pre>\n",
            escape(&words.say("invite-answer-api", &[])),
            escape(&words.say("invite-api-accept", &[])),
            escape(&words.say("invite-api-reject", &[])),
        )),
    }
    body.push_str(&format!(
        "<p>{}</p>\n",
        words.id_line(&format!("<code>{id}</code>"))
    ));

    StoredMessage {
        subject,
        text,
        html: words.html(&body),
        calendar: email.calendar.clone().unwrap_or_default(),
        unsubscribe: String::new(),
    }
}

/// The email of a waitlisted invitee promoted to a seat (docs/api.md, "Capacity and the
/// waitlist").
fn compose_promotion(email: &InvitationEmail) -> StoredMessage {
    let words = Words { email };
    let title = email.event_title.as_str();
    let id = email.invitation_id.to_string();
    let subject = one_line(&words.say("promoted-subject", &[("title", title.into())]));
    let leave = words.say("promoted-leave", &[]);
    let text = format!(
        "{}\n\n{}\n\n{leave}\n\n{}\n",
        words.greeting(str::to_owned),
        words.say("promoted-body", &[("title", quoted(&words, title).into())]),
        words.id_line(&id),
    );
    let body = format!(
        "<p>{}</p>\n<p>{}</p>\n<p>{}</p>\n<p>{}</p>\n",
        words.greeting(escape),
        words.say("promoted-body", &[("title", strong(title).into())]),
        escape(&leave),
        words.id_line(&format!("<code>{id}</code>")),
    );
    StoredMessage {
        subject,
        text,
        html: words.html(&body),
        calendar: String::new(),
        unsubscribe: String::new(),
    }
}

/// The email of an invitation that was cancelled, by a host or with its event: nothing to do, and
/// the `METHOD:CANCEL` that takes the event out of the invitee's calendar.
fn compose_cancellation(email: &InvitationEmail) -> StoredMessage {
    let words = Words { email };
    let sender = email.sender_name.as_str();
    let title = email.event_title.as_str();
    let id = email.invitation_id.to_string();
    let subject = one_line(&words.say(
        "cancelled-subject",
        &[("sender", sender.into()), ("title", title.into())],
    ));
    let text = format!(
        "{}\n\n{}\n\n{}\n",
        words.greeting(str::to_owned),
        words.say(
            "cancelled-body",
            &[
                ("sender", sender.into()),
                ("title", quoted(&words, title).into())
            ]
        ),
        words.id_line(&id),
    );
    let body = format!(
        "<p>{}</p>\n<p>{}</p>\n<p>{}</p>\n",
        words.greeting(escape),
        words.say(
            "cancelled-body",
            &[
                ("sender", escape(sender).into()),
                ("title", strong(title).into())
            ]
        ),
        words.id_line(&format!("<code>{id}</code>")),
    );
    StoredMessage {
        subject,
        text,
        html: words.html(&body),
        calendar: email.calendar.clone().unwrap_or_default(),
        unsubscribe: String::new(),
    }
}

/// `text` with every control character (line breaks first of all) turned into a space.
pub(super) fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// `text` safe between HTML tags and inside quoted attribute values.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use domain::{Email, InvitationId, Text};

    use super::*;

    fn text(s: &str) -> Text {
        Text::from_stored(s.to_owned())
    }

    fn invitation(resent: bool, note: Option<&str>, expires: Option<&str>) -> InvitationEmail {
        InvitationEmail {
            to: Email::parse("sara@example.com").unwrap(),
            resent,
            promoted: false,
            cancelled: false,
            invitation_id: "01a21a05-9441-76f9-a0c7-06ec14569ae0"
                .parse::<InvitationId>()
                .unwrap(),
            invitee_name: Some(text("Sara <script>alert(1)</script>")),
            sender_name: text("Olivia & \"Co\""),
            event_title: text("<script>steal()</script> Launch party"),
            message: note.map(text),
            expires_at: expires.map(|at| at.parse().unwrap()),
            link: None,
            calendar: None,
            locale: domain::i18n::Locale::En,
            time_zone: domain::events::TimeZone::UTC,
            unsubscribe: None,
        }
    }

    #[test]
    fn user_input_is_escaped_in_the_html_part() {
        let message = compose(&invitation(
            false,
            Some("Rooftop <script>x()</script>\nBring 'a' friend"),
            None,
        ));
        assert!(!message.html.contains("<script>"), "{}", message.html);
        assert!(message
            .html
            .contains("Sara &lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(message
            .html
            .contains("&lt;script&gt;steal()&lt;/script&gt; Launch party"));
        assert!(message.html.contains("Olivia &amp; &quot;Co&quot;"));
        assert!(message
            .html
            .contains("Rooftop &lt;script&gt;x()&lt;/script&gt;<br>\nBring &#39;a&#39; friend"));
        // The plain text part says it as typed.
        assert!(message
            .text
            .contains("Hello Sara <script>alert(1)</script>,"));
        assert!(message
            .text
            .contains("> Rooftop <script>x()</script>\n> Bring 'a' friend\n"));
    }

    #[test]
    fn it_says_who_invited_them_to_what_until_when_and_how_to_answer() {
        let message = compose(&invitation(false, None, Some("2026-12-12T10:00:00Z")));
        assert_eq!(
            message.subject,
            "Olivia & \"Co\" invited you to <script>steal()</script> Launch party"
        );
        assert!(message
            .text
            .contains("Olivia & \"Co\" invited you to \"<script>steal()</script> Launch party\"."));
        for part in [&message.text, &message.html] {
            assert!(
                part.contains("Answer by Saturday 12 December 2026, 10:00 (UTC)."),
                "{part}"
            );
            assert!(part.contains("PATCH /api/v1/invitations/01a21a05-9441-76f9-a0c7-06ec14569ae0"));
            assert!(part.contains("accepted"));
            assert!(part.contains("rejected"));
            assert!(!part.contains("wrote:"), "no note, no quote");
        }
        assert!(message.html.contains("{\"status\": \"accepted\"}"));
        assert!(message.text.contains("{\"status\": \"rejected\"}"));
    }

    #[test]
    fn with_a_link_it_says_to_open_it_in_both_parts() {
        let mut email = invitation(false, None, None);
        email.link = Some("https://events.example.com/i/abc_-123".to_owned());
        let message = compose(&email);
        assert!(message.text.contains(
            "To answer (yes, maybe or no), open:\n\n    https://events.example.com/i/abc_-123\n"
        ));
        assert!(message
            .html
            .contains("<a href=\"https://events.example.com/i/abc_-123\">"));
        assert!(!message.text.contains("PATCH"));
    }

    #[test]
    fn a_cancellation_says_so_and_carries_its_calendar() {
        let mut email = invitation(false, None, None);
        email.cancelled = true;
        email.calendar = Some("BEGIN:VCALENDAR\r\nMETHOD:CANCEL\r\nEND:VCALENDAR\r\n".to_owned());
        let message = compose(&email);
        assert!(
            message.subject.starts_with("Cancelled: "),
            "{}",
            message.subject
        );
        assert!(message.text.contains("was cancelled"), "{}", message.text);
        assert!(message.html.contains("was cancelled"), "{}", message.html);
        assert!(!message.text.contains("To answer"), "nothing to answer");
        assert!(message.calendar.contains("METHOD:CANCEL"));
    }

    #[test]
    fn reminders_and_invitations_without_expiry_say_so() {
        let message = compose(&invitation(true, None, None));
        assert!(message.subject.starts_with("Reminder: "));
        assert!(message.text.contains("A reminder: "));
        assert!(message.html.contains("A reminder: "));
        assert!(message.text.contains("It does not expire."));
        assert!(!message.text.contains("Answer by"));
    }

    #[test]
    fn the_subject_is_one_line() {
        let mut email = invitation(false, None, None);
        email.event_title = text("Party\r\nBcc: everyone@example.com");
        let subject = compose(&email).subject;
        assert!(!subject.contains(['\r', '\n']));
        assert!(subject.ends_with("Party  Bcc: everyone@example.com"));
    }

    #[test]
    fn the_stored_form_reads_back() {
        let message = compose(&invitation(
            true,
            Some("See you"),
            Some("2026-12-12T10:00:00Z"),
        ));
        let stored = message.to_stored();
        assert_eq!(StoredMessage::from_stored(&stored), Some(message));
        assert_eq!(StoredMessage::from_stored("{\"subject\": 1}"), None);
        assert_eq!(StoredMessage::from_stored("Hello"), None);
    }

    #[test]
    fn a_persian_reader_gets_it_in_persian_right_to_left_with_both_dates() {
        let mut email = invitation(false, Some("Rooftop"), Some("2026-12-12T10:00:00Z"));
        email.locale = domain::i18n::Locale::Fa;
        email.time_zone = domain::events::TimeZone::parse("Asia/Tehran").unwrap();
        email.invitee_name = Some(text("سارا"));
        email.link = Some("https://events.example.com/i/abc_-123".to_owned());
        let message = compose(&email);
        assert!(message.subject.contains("شما را به"), "{}", message.subject);
        assert!(message.text.starts_with("سلام سارا،\n"), "{}", message.text);
        // 10:00 UTC is 13:30 in Tehran; 21 Azar 1405 is 12 December 2026.
        assert!(
            message.text.contains(
                "تا شنبه ۲۱ آذر ۱۴۰۵ (۱۲ دسامبر ۲۰۲۶)، ساعت ۱۳:۳۰ (Asia/Tehran) پاسخ دهید."
            ),
            "{}",
            message.text
        );
        assert!(
            message
                .text
                .contains("https://events.example.com/i/abc_-123"),
            "links keep their digits"
        );
        assert!(
            message.html.contains("<html lang=\"fa\" dir=\"rtl\">"),
            "{}",
            message.html
        );
        assert!(!message.html.contains("<script>"), "{}", message.html);
        assert!(
            !message.text.contains("Answer"),
            "nothing in English: {}",
            message.text
        );
    }

    #[test]
    fn a_held_invitation_greets_nobody_by_name() {
        let mut email = invitation(false, None, None);
        email.invitee_name = None;
        assert!(compose(&email).text.starts_with("Hello there,\n"));
        email.locale = domain::i18n::Locale::Fa;
        assert!(compose(&email).text.starts_with("سلام دوست عزیز،\n"));
    }
}
