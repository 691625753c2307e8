//! The invitation email's words (docs/api.md, "Email to invitees"), and the form in which a
//! composed email is stored with its delivery.
//!
//! Names, titles and notes are user input: every one of them is HTML-escaped in the HTML part,
//! and the subject is kept to one line (lettre encodes headers; removing line breaks as well
//! leaves no way to add a header even if that changed).

use chrono::{DateTime, Utc};
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
}

/// A plain-text message: a code, a notice.
pub(super) fn compose_text(subject: &str, text: &str) -> StoredMessage {
    StoredMessage {
        subject: one_line(subject),
        text: text.to_owned(),
        html: String::new(),
        calendar: String::new(),
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

/// The email for an invitation, or for a seat that opened up.
pub(super) fn compose(email: &InvitationEmail) -> StoredMessage {
    if email.promoted {
        return compose_promotion(email);
    }
    if email.cancelled {
        return compose_cancellation(email);
    }
    let invitee = email.invitee_name.as_str();
    let sender = email.sender_name.as_str();
    let title = email.event_title.as_str();
    let id = email.invitation_id.to_string();
    let note = email.message.as_ref().map(|note| note.as_str());
    let expiry = expiry_line(email.expires_at);

    let subject = one_line(&if email.resent {
        format!("Reminder: {sender} invited you to {title}")
    } else {
        format!("{sender} invited you to {title}")
    });

    let mut text = format!("Hello {invitee},\n\n");
    if email.resent {
        text.push_str(&format!(
            "A reminder: {sender} invited you to \"{title}\", and the invitation is waiting for your answer.\n"
        ));
    } else {
        text.push_str(&format!("{sender} invited you to \"{title}\".\n"));
    }
    if let Some(note) = note {
        text.push_str(&format!("\n{sender} wrote:\n"));
        for line in note.lines() {
            text.push_str(&format!("> {line}\n"));
        }
    }
    text.push_str(&format!("\n{expiry}\n\n"));
    match &email.link {
        Some(link) => text.push_str(&format!(
            "To answer (yes, maybe or no), open:\n\n\x20   {link}\n\n\
             The link is yours alone: it answers for you. You can also answer in Event Manager.\n\n\
             The invitation's id: {id}\n"
        )),
        None => text.push_str(&format!(
            "To answer, accept or reject the invitation in Event Manager, or through the API:\n\n\
             \x20   PATCH /api/v1/invitations/{id}\n\
             \x20   {{\"status\": \"accepted\"}}   to accept, or\n\
             \x20   {{\"status\": \"rejected\"}}   to reject.\n\n\
             The invitation's id: {id}\n"
        )),
    }

    let (invitee, sender, title) = (escape(invitee), escape(sender), escape(title));
    let mut html =
        String::from("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n");
    html.push_str(&format!("<p>Hello {invitee},</p>\n"));
    if email.resent {
        html.push_str(&format!(
            "<p>A reminder: {sender} invited you to <strong>{title}</strong>, and the invitation is waiting for your answer.</p>\n"
        ));
    } else {
        html.push_str(&format!(
            "<p>{sender} invited you to <strong>{title}</strong>.</p>\n"
        ));
    }
    if let Some(note) = note {
        let note = note.lines().map(escape).collect::<Vec<_>>().join("<br>\n");
        html.push_str(&format!(
            "<p>{sender} wrote:</p>\n<blockquote>{note}</blockquote>\n"
        ));
    }
    html.push_str(&format!("<p>{}</p>\n", escape(&expiry)));
    match &email.link {
        Some(link) => html.push_str(&format!(
            "<p><a href=\"{link}\">Answer the invitation: yes, maybe or no</a></p>\n\
             <p>The link is yours alone: it answers for you. You can also answer in Event \
             Manager.</p>\n",
            link = escape(link),
        )),
        None => html.push_str(&format!(
            "<p>To answer, accept or reject the invitation in Event Manager, or through the API:</p>\n\
             <pre>PATCH /api/v1/invitations/{id}\n\
             {{\"status\": \"accepted\"}}   to accept, or\n\
             {{\"status\": \"rejected\"}}   to reject.</pre>\n"
        )),
    }
    html.push_str(&format!(
        "<p>The invitation's id: <code>{id}</code></p>\n</body></html>\n"
    ));

    StoredMessage {
        subject,
        text,
        html,
        calendar: email.calendar.clone().unwrap_or_default(),
    }
}

/// The email of a waitlisted invitee promoted to a seat (docs/api.md, "Capacity and the
/// waitlist").
fn compose_promotion(email: &InvitationEmail) -> StoredMessage {
    let invitee = email.invitee_name.as_str();
    let title = email.event_title.as_str();
    let id = email.invitation_id.to_string();
    let subject = one_line(&format!("A seat opened up: you are in for {title}"));
    let text = format!(
        "Hello {invitee},\n\n\
         Good news: a seat opened up at \"{title}\", and you are in. Your place on the waitlist \
         became a seat, and you are now a member of the event.\n\n\
         If you can no longer come, leave the event in Event Manager, so that the next person on \
         the waitlist gets your seat.\n\n\
         The invitation's id: {id}\n"
    );
    let (invitee, title) = (escape(invitee), escape(title));
    let html = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n\
         <p>Hello {invitee},</p>\n\
         <p>Good news: a seat opened up at <strong>{title}</strong>, and you are in. Your place on \
         the waitlist became a seat, and you are now a member of the event.</p>\n\
         <p>If you can no longer come, leave the event in Event Manager, so that the next person \
         on the waitlist gets your seat.</p>\n\
         <p>The invitation's id: <code>{id}</code></p>\n\
         </body></html>\n"
    );
    StoredMessage {
        subject,
        text,
        html,
        calendar: String::new(),
    }
}

/// The email of an invitation that was cancelled, by a host or with its event: nothing to do, and
/// the `METHOD:CANCEL` that takes the event out of the invitee's calendar.
fn compose_cancellation(email: &InvitationEmail) -> StoredMessage {
    let invitee = email.invitee_name.as_str();
    let sender = email.sender_name.as_str();
    let title = email.event_title.as_str();
    let id = email.invitation_id.to_string();
    let subject = one_line(&format!("Cancelled: {sender}'s invitation to {title}"));
    let text = format!(
        "Hello {invitee},\n\n\
         Your invitation from {sender} to \"{title}\" was cancelled. There is nothing you need to \
         do; if you added the event to your calendar, this email takes it out.\n\n\
         The invitation's id: {id}\n"
    );
    let (invitee, sender, title) = (escape(invitee), escape(sender), escape(title));
    let html = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n\
         <p>Hello {invitee},</p>\n\
         <p>Your invitation from {sender} to <strong>{title}</strong> was cancelled. There is \
         nothing you need to do; if you added the event to your calendar, this email takes it \
         out.</p>\n\
         <p>The invitation's id: <code>{id}</code></p>\n\
         </body></html>\n"
    );
    StoredMessage {
        subject,
        text,
        html,
        calendar: email.calendar.clone().unwrap_or_default(),
    }
}

/// "Answer by 12 December 2026, 10:00 UTC.", or "It does not expire."
fn expiry_line(expires_at: Option<DateTime<Utc>>) -> String {
    match expires_at {
        Some(at) => format!("Answer by {}.", at.format("%-d %B %Y, %H:%M UTC")),
        None => "It does not expire.".to_owned(),
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
            invitee_name: text("Sara <script>alert(1)</script>"),
            sender_name: text("Olivia & \"Co\""),
            event_title: text("<script>steal()</script> Launch party"),
            message: note.map(text),
            expires_at: expires.map(|at| at.parse().unwrap()),
            link: None,
            calendar: None,
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
                part.contains("Answer by 12 December 2026, 10:00 UTC."),
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
}
