//! Reminders (docs/api.md, "Reminders"): an event's rules for messaging its people before it
//! starts, and the message each sends.
//!
//! A rule says how long before the start (`before`, 5 minutes to 30 days) and to whom (`to`: the
//! members who accepted, the invitees who said maybe, or those who have not answered). Each
//! reminder goes out once per person and start time, across every process: a moved start makes it
//! due again at the new time; those who left or answered since are no longer its audience.

use chrono::{DateTime, Duration, Utc};

use crate::accounts::Locale;
use crate::duration::whole_duration;
use crate::events::Event;
use crate::i18n::{self, Arg};
use crate::messages::ports::Reachable;
use crate::messages::{OutgoingMessage, Recipient, SmsText};
use crate::webhooks::delivery::shorten;
use crate::{EventId, MessageId, UserId};

pub mod ports;
mod service;
#[cfg(test)]
mod tests;

pub use service::{send_due, ReminderService};

/// Whom a rule reminds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Audience {
    /// The event's members but its owner: those who accepted (and the co-hosts).
    Accepted,
    /// The invitees whose answer is "maybe".
    Tentative,
    /// The invitees who have not answered (not held for an unproven contact).
    Pending,
}

impl Audience {
    /// Its name in the API: `accepted`, `tentative` or `pending`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Tentative => "tentative",
            Self::Pending => "pending",
        }
    }

    /// Reads a name written by [`Audience::as_str`].
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "accepted" => Some(Self::Accepted),
            "tentative" => Some(Self::Tentative),
            "pending" => Some(Self::Pending),
            _ => None,
        }
    }
}

/// One rule: remind `to`, `before` the start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Reminder {
    before: Duration,
    to: Audience,
}

/// Why a rule or a set of rules is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReminderError {
    /// `before` is not a whole number of minutes, hours or days between 5m and 30d.
    #[error("before must be a whole number of minutes (m), hours (h) or days (d), from 5m to 30d")]
    Before,
    /// `to` is none of the audiences.
    #[error("to must be accepted, tentative or pending")]
    To,
    /// More than [`Reminders::MAX`] rules.
    #[error("an event has at most 5 reminders")]
    TooMany,
    /// The same rule twice.
    #[error("the same reminder is given twice")]
    Duplicate,
}

impl Reminder {
    /// The shortest lead.
    pub const MIN_BEFORE: Duration = Duration::minutes(5);
    /// The longest lead.
    pub const MAX_BEFORE: Duration = Duration::days(30);

    /// A rule from the API's words: `before` as `90m`, `24h` or `2d`, and `to`.
    ///
    /// # Errors
    /// [`ReminderError::Before`] or [`ReminderError::To`].
    pub fn parse(before: &str, to: &str) -> Result<Self, ReminderError> {
        let before = whole_duration(before)
            .filter(|lead| {
                !before.ends_with('s')
                    && !before.starts_with('0')
                    && *lead >= Self::MIN_BEFORE
                    && *lead <= Self::MAX_BEFORE
                    && lead.num_seconds() % 60 == 0
            })
            .ok_or(ReminderError::Before)?;
        let to = Audience::parse(to).ok_or(ReminderError::To)?;
        Ok(Self { before, to })
    }

    /// How long before the start it goes out.
    pub fn before(&self) -> Duration {
        self.before
    }

    /// Its lead in the largest whole unit: `1d`, `36h`, `90m`.
    pub fn before_text(&self) -> String {
        let minutes = self.before.num_minutes();
        if minutes % (24 * 60) == 0 {
            format!("{}d", minutes / (24 * 60))
        } else if minutes % 60 == 0 {
            format!("{}h", minutes / 60)
        } else {
            format!("{minutes}m")
        }
    }

    /// Whom it reminds.
    pub fn to(&self) -> Audience {
        self.to
    }

    /// The key a sent reminder is recorded under: its lead in seconds and its audience, so that
    /// `24h` and `1d` are one rule.
    pub fn key(&self) -> String {
        format!("{}:{}", self.before.num_seconds(), self.to.as_str())
    }

    /// When it falls due for an event starting at `starts_at`.
    pub fn due_at(&self, starts_at: DateTime<Utc>) -> DateTime<Utc> {
        starts_at - self.before
    }
}

/// An event's rules: at most [`Reminders::MAX`], no two the same; none by default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reminders(Vec<Reminder>);

impl Reminders {
    /// The most rules an event has.
    pub const MAX: usize = 5;

    /// The rules, in the order given.
    ///
    /// # Errors
    /// [`ReminderError::TooMany`] or [`ReminderError::Duplicate`].
    pub fn new(rules: Vec<Reminder>) -> Result<Self, ReminderError> {
        if rules.len() > Self::MAX {
            return Err(ReminderError::TooMany);
        }
        for (at, rule) in rules.iter().enumerate() {
            if rules[..at]
                .iter()
                .any(|earlier| earlier.key() == rule.key())
            {
                return Err(ReminderError::Duplicate);
            }
        }
        Ok(Self(rules))
    }

    /// The rules.
    pub fn rules(&self) -> &[Reminder] {
        &self.0
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// As stored: `1d:accepted,1h:pending`; `None` without rules.
    pub fn to_stored(&self) -> Option<String> {
        (!self.0.is_empty()).then(|| {
            self.0
                .iter()
                .map(|rule| format!("{}:{}", rule.before_text(), rule.to.as_str()))
                .collect::<Vec<_>>()
                .join(",")
        })
    }

    /// Reads what [`Reminders::to_stored`] wrote.
    ///
    /// # Errors
    /// The first rule that does not read.
    pub fn from_stored(stored: Option<&str>) -> Result<Self, ReminderError> {
        let Some(stored) = stored else {
            return Ok(Self::default());
        };
        let rules = stored
            .split(',')
            .map(|rule| {
                let (before, to) = rule.split_once(':').ok_or(ReminderError::Before)?;
                Reminder::parse(before, to)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(rules)
    }
}

/// A reminder due to one person: the event as it stands, the rule, and who.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DueReminder {
    /// The event.
    pub event_id: EventId,
    /// The rule.
    pub rule: Reminder,
    /// Who.
    pub user: UserId,
}

/// A reminder to record as sent, with its message (none when the person has no proven contact
/// the service can write to: then it is recorded all the same, and not tried again).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentReminder {
    /// The event.
    pub event_id: EventId,
    /// The rule's key ([`Reminder::key`]).
    pub rule: String,
    /// Who.
    pub user: UserId,
    /// The start it reminds of.
    pub starts_at: DateTime<Utc>,
    /// The message, for the outbox.
    pub message: Option<OutgoingMessage>,
}

/// How long until `starts_at`, in words of `locale`: `in 2 days`, `in 3 hours`, `in 25 minutes`.
fn time_left(locale: Locale, starts_at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    // To the nearest minute: a sweep a few seconds after the time still says "in 5 minutes".
    let minutes = ((starts_at - now).num_seconds() + 30).div_euclid(60).max(1);
    let (count, id) = if minutes >= 2 * 24 * 60 {
        (minutes / (24 * 60), "time-left-days")
    } else if minutes >= 2 * 60 {
        (minutes / 60, "time-left-hours")
    } else {
        (minutes, "time-left-minutes")
    };
    i18n::text(locale, id, &[("count", count.into())])
}

/// The reminder of `event` for `person` under `rule`, at `now`, in their language: an email when
/// they have proven an email address, else a text when they have proven a mobile; `None`
/// otherwise, or for an event without a start. Both go through the outbox's messages
/// (docs/operations.md, "Messages").
pub fn message(
    event: &Event,
    rule: &Reminder,
    person: &Reachable,
    now: DateTime<Utc>,
) -> Option<OutgoingMessage> {
    let locale = person.locale;
    let say = |id: &str, args: &[(&str, Arg)]| i18n::text(locale, id, args);
    let details = &event.details;
    let starts_at = details.starts_at()?;
    let when = details.when(locale)?;
    let title = details.title().as_str();
    let place = details.location().map(|l| l.as_str());
    let left = time_left(locale, starts_at, now);
    let (recipient, subject, text) = match (&person.email, &person.mobile) {
        (Some(email), _) => {
            let answer = say(
                match rule.to {
                    Audience::Accepted => "reminder-accepted",
                    Audience::Tentative => "reminder-tentative",
                    Audience::Pending => "reminder-pending",
                },
                &[],
            );
            let quoted = say("quoted", &[("text", title.into())]);
            let place = place.map_or_else(|| say("no-place-set", &[]), str::to_owned);
            let text = format!(
                "{}\n\n{}\n\n    {}\n    {}\n\n{answer}\n",
                say("greeting", &[("name", person.name.as_str().into())]),
                say(
                    "reminder-starts",
                    &[("title", quoted.into()), ("left", left.into())]
                ),
                say("notice-when", &[("when", when.into())]),
                say("notice-where", &[("place", place.into())]),
            );
            (
                Recipient::Email(email.clone()),
                say("reminder-subject", &[("title", title.into())]),
                text,
            )
        }
        (_, Some(mobile)) => {
            let text = [60, 30, 10].into_iter().find_map(|max| {
                let place = place.map_or_else(String::new, |p| {
                    say("reminder-sms-place", &[("place", shorten(p, max).into())])
                });
                let title = say("quoted", &[("text", shorten(title, max).into())]);
                SmsText::new(say(
                    "reminder-sms",
                    &[
                        ("title", title.into()),
                        ("left", left.as_str().into()),
                        ("when", when.as_str().into()),
                        ("place", place.into()),
                    ],
                ))
                .ok()
            })?;
            (
                Recipient::Sms(mobile.clone()),
                String::new(),
                text.as_str().to_owned(),
            )
        }
        _ => return None,
    };
    Some(OutgoingMessage {
        id: MessageId::generate(),
        recipient,
        purpose: "reminder",
        subject,
        text,
        created_at: now,
    })
}
