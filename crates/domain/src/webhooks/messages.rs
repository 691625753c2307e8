//! What invitees and followers are told, in their language (docs/api.md, "Email to invitees",
//! "Text messages to invitees", "Change notices", "Languages"): the invitation email's content,
//! the invitation texts, and the notices of a moved or deleted event.

use chrono::{DateTime, Utc};

use crate::accounts::Locale;
use crate::changes::{ChangeKind, ChangeSubject, RecordedChange};
use crate::events::{EventDetails, TimeZone};
use crate::i18n::{self, Arg};
use crate::invitations::InvitationDetails;
use crate::messages::SmsText;
use crate::{Email, InvitationId, Mobile, PhoneRegion, Text};

/// Why an invitee is messaged about their invitation: it was sent, resent, promoted from the
/// waitlist, or cancelled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct MessageOccasion {
    resent: bool,
    promoted: bool,
    cancelled: bool,
}

impl MessageOccasion {
    /// The invitation a change messages its invitee about, and why: `invitation.created`,
    /// `.resent`, `.cancelled`, and `.accepted` by a promotion; `None` for every other change, and
    /// for an invitation given on proof (its contact had its message when it was sent).
    pub(crate) fn of(change: &RecordedChange) -> Option<(&InvitationDetails, Self)> {
        if change.change.is_released() {
            return None;
        }
        let occasion = match change.change.kind() {
            ChangeKind::InvitationCreated => Self::default(),
            ChangeKind::InvitationResent => Self {
                resent: true,
                ..Self::default()
            },
            ChangeKind::InvitationAccepted if change.change.is_promoted() => Self {
                promoted: true,
                ..Self::default()
            },
            ChangeKind::InvitationCancelled => Self {
                cancelled: true,
                ..Self::default()
            },
            _ => return None,
        };
        match change.change.subject() {
            ChangeSubject::Invitation(details) => Some((details, occasion)),
            _ => None,
        }
    }
}

/// `text` cut to `max` characters, with `…` when cut (for texts that must fit their segments).
pub(crate) fn shorten(text: &str, max: usize) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(max).collect();
    if chars.next().is_some() {
        format!("{}…", head.trim_end())
    } else {
        head
    }
}

/// What an invitation email says (docs/api.md, "Email to invitees"): made of an
/// `invitation.created` or `.resent` whose invitee was reached by an email address, or of a
/// promotion from the waitlist (docs/api.md, "Capacity and the waitlist").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvitationEmail {
    /// Where it goes: the address the sender typed, normalized.
    pub to: Email,
    /// Whether the invitation was resent (a reminder) rather than new.
    pub resent: bool,
    /// Whether it tells of a seat that opened up: the waitlisted invitee is in.
    pub promoted: bool,
    /// Whether it tells that the invitation was cancelled (by a host, or with its event).
    pub cancelled: bool,
    /// The invitation.
    pub invitation_id: InvitationId,
    /// The invitee's name; `None` for a held invitation, whose email greets nobody by name.
    pub invitee_name: Option<Text>,
    /// The sender's name.
    pub sender_name: Text,
    /// The event's title.
    pub event_title: Text,
    /// The sender's note.
    pub message: Option<Text>,
    /// When it stops being answerable, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// The one-click link to look at and answer it (docs/api.md, "Answering from a message").
    pub link: Option<String>,
    /// The invitation as an iCalendar `METHOD:REQUEST` (docs/api.md, "Calendars"), sent as the
    /// email's `text/calendar` part; `None` when the event has no start time.
    pub calendar: Option<String>,
    /// The language it is written in: the invitee's, or the sender's for a contact that no
    /// account has proven (docs/api.md, "Languages").
    pub locale: Locale,
    /// The zone its times are written in: the event's.
    pub time_zone: TimeZone,
    /// The link that stops further invitation messages to this address (docs/api.md, "Stopping
    /// invitation messages"), for its `List-Unsubscribe` header and its last line.
    pub unsubscribe: Option<String>,
}

impl InvitationEmail {
    /// The email a change calls for: `invitation.created`, `.resent` and `.cancelled` of an
    /// invitation whose contact was an email address; `None` for every other change, and for an
    /// invitation given to its invitee on proof (the address had its email when it was sent). A
    /// held invitation's email greets nobody by name: the account that claims the address may not
    /// be its owner.
    pub fn of(change: &RecordedChange) -> Option<Self> {
        let (
            details,
            MessageOccasion {
                resent,
                promoted,
                cancelled,
            },
        ) = MessageOccasion::of(change)?;
        let contact = details.invitation.contact();
        if !contact.contains('@') {
            return None;
        }
        Some(Self {
            to: Email::parse(contact).ok()?,
            resent,
            promoted,
            cancelled,
            invitation_id: details.invitation.id(),
            invitee_name: details
                .invitation
                .held_contact()
                .is_none()
                .then(|| details.invitee.name.clone()),
            sender_name: details.sender.name.clone(),
            event_title: details.event_title.clone(),
            message: details.invitation.message().cloned(),
            expires_at: details.invitation.expires_at(),
            link: None,
            calendar: None,
            locale: Locale::default(),
            time_zone: TimeZone::UTC,
            unsubscribe: None,
        })
    }
}

/// The text an invitee reached by a mobile number gets for `invitation.created` and `.resent`
/// (docs/api.md, "Text messages to invitees"): who invited them to what, until when, and how to
/// answer; within [`crate::messages::MAX_SEGMENTS`] (a long title is shortened).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvitationSms {
    /// The number the sender typed, normalized.
    pub to: Mobile,
    /// The text.
    pub text: SmsText,
}

impl InvitationSms {
    /// The most characters of the event's title in a text.
    const TITLE_MAX: usize = 60;

    /// The text a change calls for, in `locale`, its times in `zone`: `invitation.created` and
    /// `.resent` of an invitation whose contact was a mobile (read in `region`), and a promotion
    /// from the waitlist; `None` for every other change. With a `link` (docs/api.md, "Answering
    /// from a message"), the text ends with it; without, it says to sign in with the number.
    pub fn of(
        change: &RecordedChange,
        region: PhoneRegion,
        link: Option<&str>,
        locale: Locale,
        zone: TimeZone,
    ) -> Option<Self> {
        let (
            details,
            MessageOccasion {
                resent,
                promoted,
                cancelled,
            },
        ) = MessageOccasion::of(change)?;
        let contact = details.invitation.contact();
        if contact.contains('@') {
            return None;
        }
        let to = Mobile::parse(contact, region).ok()?;
        let say = |id: &str, args: &[(&str, Arg)]| i18n::text(locale, id, args);
        let sender = shorten(details.sender.name.as_str(), 40);
        let expiry = details
            .invitation
            .expires_at()
            .map_or_else(String::new, |at| {
                say(
                    "sms-answer-by",
                    &[("when", zone.describe(locale, at).into())],
                )
            });
        let id = match (resent, link.is_some()) {
            (false, true) => "sms-invited",
            (false, false) => "sms-invited-sign-in",
            (true, true) => "sms-resent",
            (true, false) => "sms-resent-sign-in",
        };
        // Shorter titles until the text fits (a title of emoji takes many UCS-2 units), then
        // without the time to answer by.
        let tries = [(Self::TITLE_MAX, true), (30, true), (10, true), (10, false)];
        tries.into_iter().find_map(|(max, with_expiry)| {
            let title = say(
                "quoted",
                &[("text", shorten(details.event_title.as_str(), max).into())],
            );
            let text = if cancelled {
                say(
                    "sms-cancelled",
                    &[("sender", sender.as_str().into()), ("title", title.into())],
                )
            } else if promoted {
                say("sms-promoted", &[("title", title.into())])
            } else {
                say(
                    id,
                    &[
                        ("sender", sender.as_str().into()),
                        ("title", title.into()),
                        (
                            "expiry",
                            if with_expiry { expiry.as_str() } else { "" }.into(),
                        ),
                        ("link", link.unwrap_or_default().into()),
                    ],
                )
            };
            SmsText::new(text).ok().map(|text| Self {
                to: to.clone(),
                text,
            })
        })
    }
}

/// What an event's followers are told when an edit moves it (docs/api.md, "Change notices"): its
/// title, and its time (in its time zone) and place now; or that it was deleted. Written in each
/// follower's language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventNotice {
    title: String,
    /// The event's details as the notice tells them, if it is still there.
    details: Option<EventDetails>,
    /// Whether it tells of the event's deletion rather than of a move.
    cancelled: bool,
}

impl EventNotice {
    /// The notice of `event` as it stands after the edit.
    pub fn of(event: &crate::events::Event) -> Self {
        Self {
            title: event.details.title().as_str().to_owned(),
            details: Some(event.details.clone()),
            cancelled: false,
        }
    }

    /// The notice of a deleted event, titled `title`; `event` as it stood when deleted, if it is
    /// still there (for its time and place).
    pub fn cancelled(title: &str, event: Option<&crate::events::Event>) -> Self {
        Self {
            title: title.to_owned(),
            details: event.map(|e| e.details.clone()),
            cancelled: true,
        }
    }

    fn when(&self, locale: Locale) -> String {
        self.details
            .as_ref()
            .and_then(|d| d.when(locale))
            .unwrap_or_else(|| i18n::text(locale, "no-time-set", &[]))
    }

    fn place(&self, locale: Locale) -> String {
        self.details
            .as_ref()
            .and_then(EventDetails::location)
            .map_or_else(
                || i18n::text(locale, "no-place-set", &[]),
                |l| l.as_str().to_owned(),
            )
    }

    /// The email's subject, in `locale`.
    pub fn subject(&self, locale: Locale) -> String {
        let id = if self.cancelled {
            "notice-cancelled-subject"
        } else {
            "notice-changed-subject"
        };
        i18n::text(locale, id, &[("title", self.title.as_str().into())])
    }

    /// The email's text for `name`, in `locale`.
    pub fn email_text(&self, locale: Locale, name: &str) -> String {
        let say = |id: &str, args: &[(&str, Arg)]| i18n::text(locale, id, args);
        let (what, calendar) = if self.cancelled {
            ("notice-cancelled", "notice-cancelled-calendar")
        } else {
            ("notice-changed", "notice-changed-calendar")
        };
        let title = say("quoted", &[("text", self.title.as_str().into())]);
        format!(
            "{}\n\n{}\n\n    {}\n    {}\n\n{}\n",
            say("greeting", &[("name", name.into())]),
            say(what, &[("title", title.into())]),
            say("notice-when", &[("when", self.when(locale).into())]),
            say("notice-where", &[("place", self.place(locale).into())]),
            say(calendar, &[]),
        )
    }

    /// The text for a mobile, in `locale`, within [`crate::messages::MAX_SEGMENTS`] (a long
    /// title or place is shortened).
    pub fn sms(&self, locale: Locale) -> Option<SmsText> {
        let say = |id: &str, args: &[(&str, Arg)]| i18n::text(locale, id, args);
        let (when, place) = (self.when(locale), self.place(locale));
        [60, 30, 10].into_iter().find_map(|max| {
            let title = say("quoted", &[("text", shorten(&self.title, max).into())]);
            let text = if self.cancelled {
                say(
                    "notice-cancelled-sms",
                    &[("title", title.into()), ("when", when.as_str().into())],
                )
            } else {
                say(
                    "notice-changed-sms",
                    &[
                        ("title", title.into()),
                        ("when", when.as_str().into()),
                        ("place", shorten(&place, max).into()),
                    ],
                )
            };
            SmsText::new(text).ok()
        })
    }
}
