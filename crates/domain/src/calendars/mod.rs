//! Calendars (docs/api.md, "Calendars"): an event as an iCalendar (RFC 5545) VEVENT, for the
//! members' `calendar.ics`, the link's `calendar.ics`, invitation emails (iMIP, RFC 6047:
//! `METHOD:REQUEST`) and the personal feed.
//!
//! Each event has one stable `UID` (its id), a `SEQUENCE` that grows with every edit of it (the
//! event's version), its times in its own time zone (`DTSTART;TZID=…` with the zone's VTIMEZONE,
//! or UTC), its owner as `ORGANIZER` and, for a person's copy, that person as `ATTENDEE` with their
//! answer as `PARTSTAT`. People are named by `urn:uuid:` of their account, never by their email:
//! a calendar file travels.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Offset, TimeZone as _, Utc};
use chrono_tz::{OffsetComponents, OffsetName};
use icalendar::{Calendar, CalendarDateTime, Component, Event as VEvent, EventLike, EventStatus};

use crate::events::{Event, TimeZone};
use crate::{InvitationStatus, UserId};

pub mod ports;
mod service;
#[cfg(test)]
mod tests;

pub use service::*;

/// What a calendar file is for (its `METHOD`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// A copy to keep or subscribe to: no `METHOD` (a plain `.ics`, a feed).
    Publish,
    /// An invitation (iMIP `REQUEST`), new or updated.
    Request,
    /// The event is off for this person (iMIP `CANCEL`).
    Cancel,
}

/// A person's answer, as `PARTSTAT` says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartStat {
    /// Not answered yet.
    NeedsAction,
    /// Coming.
    Accepted,
    /// Maybe.
    Tentative,
    /// Not coming.
    Declined,
}

impl Attendee {
    /// The calendar address of an account: `urn:uuid:{id}`.
    pub fn account(id: UserId) -> String {
        format!("urn:uuid:{id}")
    }
}

impl PartStat {
    /// The answer an invitation in `status` stands for.
    pub fn of(status: InvitationStatus) -> Self {
        match status {
            InvitationStatus::Pending => Self::NeedsAction,
            InvitationStatus::Tentative => Self::Tentative,
            InvitationStatus::Accepted | InvitationStatus::Waitlisted => Self::Accepted,
            InvitationStatus::Rejected
            | InvitationStatus::Cancelled
            | InvitationStatus::Expired => Self::Declined,
        }
    }

    const fn as_str(self) -> &'static str {
        match self {
            Self::NeedsAction => "NEEDS-ACTION",
            Self::Accepted => "ACCEPTED",
            Self::Tentative => "TENTATIVE",
            Self::Declined => "DECLINED",
        }
    }
}

/// The person a copy is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attendee {
    /// Their calendar address: `urn:uuid:` of their account ([`Attendee::account`]), or
    /// `mailto:` the address an email copy went to.
    pub address: String,
    /// Their name.
    pub name: String,
    /// Their answer.
    pub partstat: PartStat,
}

/// One event in a calendar file.
#[derive(Clone, Debug)]
pub struct Entry<'a> {
    /// The event, as it stands.
    pub event: &'a Event,
    /// The title to show (an invitee's frozen title, or the event's own).
    pub title: &'a str,
    /// The person this copy is for, if any.
    pub attendee: Option<Attendee>,
    /// Where to see or answer it (the invitation's link), if anywhere.
    pub url: Option<String>,
}

/// The stable `UID` of an event's VEVENT.
pub fn uid(event: &Event) -> String {
    format!("{}@event-manager", event.id)
}

/// The calendar file of `entries` for `method`, stamped `now`. Events without a start time have
/// no place in a calendar and are left out; `None` when none is left.
pub fn render(method: Method, entries: &[Entry<'_>], now: DateTime<Utc>) -> Option<String> {
    let timed: Vec<&Entry<'_>> = entries
        .iter()
        .filter(|entry| entry.event.details.starts_at().is_some())
        .collect();
    if timed.is_empty() {
        return None;
    }
    let mut calendar = Calendar::empty();
    calendar
        .append_property(("VERSION", "2.0"))
        .append_property(("PRODID", "-//Event Manager//Event Manager//EN"))
        .append_property(("CALSCALE", "GREGORIAN"));
    match method {
        Method::Publish => {}
        Method::Request => {
            calendar.append_property(("METHOD", "REQUEST"));
        }
        Method::Cancel => {
            calendar.append_property(("METHOD", "CANCEL"));
        }
    }
    for entry in &timed {
        calendar.push(vevent(method, entry, now));
    }
    let text = calendar.done().to_string();
    // The time zones the events name, each defined once, before the first event (RFC 5545,
    // 3.6.5). Written here: the builder has no VTIMEZONE component.
    let mut zones: Vec<(TimeZone, i32, i32)> = Vec::new();
    for entry in &timed {
        let zone = entry.event.details.time_zone();
        if zone == TimeZone::UTC {
            continue;
        }
        let years = entry
            .event
            .details
            .starts_at()
            .into_iter()
            .chain(entry.event.details.ends_at())
            .map(|at| at.year());
        let (low, high) = years.fold((i32::MAX, i32::MIN), |(l, h), y| (l.min(y), h.max(y)));
        match zones.iter_mut().find(|(z, _, _)| *z == zone) {
            Some((_, l, h)) => {
                *l = (*l).min(low);
                *h = (*h).max(high);
            }
            None => zones.push((zone, low, high)),
        }
    }
    if zones.is_empty() {
        return Some(text);
    }
    let definitions: String = zones
        .iter()
        .map(|(zone, low, high)| vtimezone(*zone, *low, *high))
        .collect();
    let at = text.find("BEGIN:VEVENT\r\n").unwrap_or(text.len());
    Some(format!("{}{definitions}{}", &text[..at], &text[at..]))
}

/// A parameter value as RFC 5545 allows it: no double quote or control character.
fn parameter(value: &str) -> String {
    value
        .chars()
        .map(|c| match c {
            '"' => '\'',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect()
}

fn vevent(method: Method, entry: &Entry<'_>, now: DateTime<Utc>) -> VEvent {
    let event = entry.event;
    let details = &event.details;
    let zone = details.time_zone();
    let at = |time: DateTime<Utc>| -> CalendarDateTime {
        if zone == TimeZone::UTC {
            CalendarDateTime::Utc(time)
        } else {
            CalendarDateTime::WithTimezone {
                date_time: time.with_timezone(&zone.tz()).naive_local(),
                tzid: zone.name().to_owned(),
            }
        }
    };
    let mut vevent = VEvent::new();
    vevent
        .uid(&uid(event))
        .timestamp(now)
        .sequence(u32::try_from(event.version.get().saturating_sub(1)).unwrap_or(u32::MAX))
        .summary(entry.title)
        .status(if method == Method::Cancel {
            EventStatus::Cancelled
        } else {
            EventStatus::Confirmed
        });
    if let Some(start) = details.starts_at() {
        vevent.starts(at(start));
    }
    if let Some(end) = details.ends_at() {
        vevent.ends(at(end));
    }
    if let Some(description) = details.description() {
        vevent.description(description.as_str());
    }
    if let Some(location) = details.location() {
        vevent.location(location.as_str());
    }
    if let Some(url) = &entry.url {
        vevent.url(url);
    }
    vevent.append_property(
        icalendar::Property::new("ORGANIZER", Attendee::account(event.owner.id))
            .add_parameter("CN", &parameter(event.owner.name.as_str()))
            .done(),
    );
    if let Some(attendee) = &entry.attendee {
        let mut property = icalendar::Property::new("ATTENDEE", attendee.address.clone());
        if !attendee.name.is_empty() {
            property.add_parameter("CN", &parameter(&attendee.name));
        }
        vevent.append_property(
            property
                .add_parameter("ROLE", "REQ-PARTICIPANT")
                .add_parameter("PARTSTAT", attendee.partstat.as_str())
                .add_parameter("RSVP", "FALSE")
                .done(),
        );
    }
    vevent.done()
}

/// `+0330`, `-0500`.
fn offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.abs() / 60;
    format!("{sign}{:02}{:02}", minutes / 60, minutes % 60)
}

/// The VTIMEZONE of `zone` for the years `low..=high` (and one either side): one observance per
/// change of offset in those years, each at its instant, read off the time zone database; a zone
/// without changes then has one `STANDARD` observance of its offset.
fn vtimezone(zone: TimeZone, low: i32, high: i32) -> String {
    let tz = zone.tz();
    let total = |at: DateTime<Utc>| {
        tz.offset_from_utc_datetime(&at.naive_utc())
            .fix()
            .local_minus_utc()
    };
    let start = |year: i32| {
        NaiveDate::from_ymd_opt(year, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| d.and_utc())
    };
    let (Some(from), Some(until)) = (start(low.saturating_sub(1)), start(high.saturating_add(2)))
    else {
        return String::new();
    };
    let mut observances = String::new();
    let mut day = from;
    while day < until {
        let next = day + Duration::days(1);
        let (before, after) = (total(day), total(next));
        if before != after {
            // The first second with the new offset.
            let (mut low_at, mut high_at) = (day, next);
            while high_at - low_at > Duration::seconds(1) {
                let middle = low_at + Duration::seconds((high_at - low_at).num_seconds() / 2);
                if total(middle) == before {
                    low_at = middle;
                } else {
                    high_at = middle;
                }
            }
            let now_in_force = tz.offset_from_utc_datetime(&high_at.naive_utc());
            let kind = if now_in_force.dst_offset().is_zero() {
                "STANDARD"
            } else {
                "DAYLIGHT"
            };
            let local = (high_at + Duration::seconds(i64::from(before))).naive_utc();
            observances.push_str(&format!(
                "BEGIN:{kind}\r\nDTSTART:{}\r\nTZOFFSETFROM:{}\r\nTZOFFSETTO:{}\r\nTZNAME:{}\r\nEND:{kind}\r\n",
                local.format("%Y%m%dT%H%M%S"),
                offset(before),
                offset(after),
                now_in_force.abbreviation().unwrap_or(zone.name()),
            ));
        }
        day = next;
    }
    if observances.is_empty() {
        let only = total(from);
        let name = tz.offset_from_utc_datetime(&from.naive_utc());
        observances = format!(
            "BEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:{0}\r\nTZOFFSETTO:{0}\r\nTZNAME:{1}\r\nEND:STANDARD\r\n",
            offset(only),
            name.abbreviation().unwrap_or(zone.name()),
        );
    }
    format!(
        "BEGIN:VTIMEZONE\r\nTZID:{}\r\n{observances}END:VTIMEZONE\r\n",
        zone.name()
    )
}
