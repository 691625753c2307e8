//! Request bodies of the events area and their conversion into domain values.

use chrono::{DateTime, Datelike, Utc};
use domain::events::{EventDetails, EventDetailsError, EventPatch, Role, TimeZone};
use domain::reminders::{Reminder, ReminderError, Reminders};
use domain::rsvp::{RsvpSettings, RsvpSettingsError};
use domain::Text;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use utoipa::ToSchema;

use crate::validation::{
    attribute, optional_non_blank, optional_string, required, required_string, selected_invalid,
    text_error, ValidationErrors,
};

/// `POST /api/v1/events`: a title, and optionally a description, a place and times.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "title": "Launch party",
    "description": "Drinks on the roof.",
    "location": "Tehran",
    "starts_at": "2026-12-01T18:00:00Z",
    "ends_at": "2026-12-01T23:00:00Z",
    "capacity": 40,
    "max_guests": 1,
    "rsvp_deadline": "2026-11-30T18:00:00Z"
}))]
pub struct CreateEventRequest {
    /// 1 to 200 characters.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200)]
    title: Option<Value>,
    /// Up to 5,000 characters; line breaks allowed.
    #[schema(value_type = Option<String>, max_length = 5000)]
    description: Option<Value>,
    /// Up to 300 characters.
    #[schema(value_type = Option<String>, max_length = 300)]
    location: Option<Value>,
    #[schema(schema_with = starts_at_schema)]
    starts_at: Option<Value>,
    #[schema(schema_with = ends_at_schema)]
    ends_at: Option<Value>,
    /// Seats (members other than the owner, and their guests): 1 to 100000; `null` or absent for
    /// unlimited (docs/api.md, "Capacity and the waitlist").
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 100000)]
    capacity: Option<Value>,
    /// The most guests one invitee may bring: 0 (the default) to 10.
    #[schema(value_type = Option<u8>, minimum = 0, maximum = 10)]
    max_guests: Option<Value>,
    /// Whether accepting a full event joins its waitlist (the default) or is refused.
    #[schema(value_type = Option<bool>)]
    waitlist: Option<Value>,
    #[schema(schema_with = rsvp_deadline_schema)]
    rsvp_deadline: Option<Value>,
    #[schema(schema_with = time_zone_schema)]
    time_zone: Option<Value>,
    #[schema(schema_with = reminders_schema)]
    reminders: Option<Value>,
}

impl CreateEventRequest {
    /// Parses every field.
    ///
    /// # Errors
    /// Every invalid field; `ends_at` before `starts_at` is reported under `ends_at`.
    pub fn try_into_domain(self) -> Result<EventDetails, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let title = errors.take(
            "title",
            required_string("title", self.title).and_then(|raw| {
                Text::parse(&raw, EventDetails::TITLE_MAX, false)
                    .map_err(|e| text_error("title", e))
            }),
        );
        let description = errors.take(
            "description",
            optional_text(
                "description",
                self.description,
                EventDetails::DESCRIPTION_MAX,
                true,
            ),
        );
        let location = errors.take(
            "location",
            optional_text("location", self.location, EventDetails::LOCATION_MAX, false),
        );
        let starts_at = errors.take("starts_at", optional_date("starts_at", self.starts_at));
        let ends_at = errors.take("ends_at", optional_date("ends_at", self.ends_at));
        let capacity = errors.take("capacity", capacity(self.capacity));
        let max_guests = errors.take(
            "max_guests",
            max_guests(self.max_guests).map(|max| max.unwrap_or(0)),
        );
        let waitlist = errors.take(
            "waitlist",
            boolean("waitlist", self.waitlist).map(|w| w.unwrap_or(true)),
        );
        let rsvp_deadline = errors.take(
            "rsvp_deadline",
            optional_date("rsvp_deadline", self.rsvp_deadline),
        );
        let time_zone = errors.take("time_zone", time_zone(self.time_zone));
        let reminders = errors.take("reminders", reminders(self.reminders));
        match (title, description, location, starts_at, ends_at, time_zone) {
            (
                Some(title),
                Some(description),
                Some(location),
                Some(starts_at),
                Some(ends_at),
                Some(time_zone),
            ) if errors.is_empty() => {
                let (
                    Some(capacity),
                    Some(max_guests),
                    Some(waitlist),
                    Some(rsvp_deadline),
                    Some(reminders),
                ) = (capacity, max_guests, waitlist, rsvp_deadline, reminders)
                else {
                    return Err(errors);
                };
                let settings = RsvpSettings::new(capacity, max_guests, waitlist, rsvp_deadline)
                    .map_err(settings_error)?;
                EventDetails::new(title, description, location, starts_at, ends_at)
                    .and_then(|details| details.with_rsvp(settings))
                    .map(|details| details.with_time_zone(time_zone).with_reminders(reminders))
                    .map_err(details_error)
            }
            _ => Err(errors),
        }
    }
}

/// The 422 of details that break a rule of [`EventDetails`] (the capacity below the seats taken is
/// a 409, told by the service).
pub(crate) fn details_error(error: EventDetailsError) -> ValidationErrors {
    match error {
        EventDetailsError::EndsBeforeStart => ends_before_start(),
        EventDetailsError::DeadlineAfterStart => deadline_after_start(),
        EventDetailsError::Settings(error) => settings_error(error),
        EventDetailsError::CapacityBelowSeatsTaken { seats_taken } => ValidationErrors::single(
            "capacity",
            format!("{seats_taken} seats are taken already; the capacity cannot go below that."),
        ),
    }
}

fn settings_error(error: RsvpSettingsError) -> ValidationErrors {
    match error {
        RsvpSettingsError::Capacity => ValidationErrors::single("capacity", capacity_range()),
        RsvpSettingsError::MaxGuests => ValidationErrors::single("max_guests", max_guests_range()),
    }
}

/// The sentence of an RSVP deadline after the start, under `rsvp_deadline`.
pub(crate) fn deadline_after_start() -> ValidationErrors {
    ValidationErrors::single("rsvp_deadline", crate::t!("rsvp-deadline-after-start"))
}

fn capacity_range() -> String {
    crate::t!("capacity-range", max = RsvpSettings::CAPACITY_MAX)
}

fn max_guests_range() -> String {
    crate::t!("max-guests-range", max = RsvpSettings::MAX_GUESTS_MAX)
}

/// A whole number within `min..=max`, or `None` for `null`/absent.
pub(crate) fn bounded_integer(
    field: &str,
    value: Option<Value>,
    min: u64,
    max: u64,
    out_of_range: impl FnOnce() -> String,
) -> Result<Option<u64>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        // JSON has one kind of number: `2.0` is the integer 2 (as JSON Schema reads it).
        Some(Value::Number(n)) => match (n.as_u64(), n.as_f64()) {
            (Some(n), _) if (min..=max).contains(&n) => Ok(Some(n)),
            (Some(_), _) => Err(out_of_range()),
            (None, Some(f)) if f.fract() == 0.0 => {
                if f >= min as f64 && f <= max as f64 {
                    // Within `min..=max`, so exactly representable.
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    Ok(Some(f as u64))
                } else {
                    Err(out_of_range())
                }
            }
            _ => Err(crate::t!(
                "validation-integer",
                attribute = attribute(field)
            )),
        },
        Some(_) => Err(crate::t!(
            "validation-integer",
            attribute = attribute(field)
        )),
    }
}

fn capacity(value: Option<Value>) -> Result<Option<u32>, String> {
    bounded_integer(
        "capacity",
        value,
        1,
        u64::from(RsvpSettings::CAPACITY_MAX),
        capacity_range,
    )
    .map(|c| c.and_then(|c| u32::try_from(c).ok()))
}

fn max_guests(value: Option<Value>) -> Result<Option<u8>, String> {
    bounded_integer(
        "max_guests",
        value,
        0,
        u64::from(RsvpSettings::MAX_GUESTS_MAX),
        max_guests_range,
    )
    .map(|c| c.and_then(|c| u8::try_from(c).ok()))
}

/// `true` or `false`, or `None` for `null`/absent.
fn boolean(field: &str, value: Option<Value>) -> Result<Option<bool>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(b)),
        Some(_) => Err(crate::t!(
            "validation-boolean",
            attribute = attribute(field)
        )),
    }
}

/// The sentence of an event that would end before it starts, under `ends_at`.
pub(crate) fn ends_before_start() -> ValidationErrors {
    ValidationErrors::single("ends_at", crate::t!("ends-before-starts"))
}

/// `PATCH /api/v1/events/{event_id}`: the fields to change, as for creating; a field left out
/// keeps its value, and `null` or `""` removes an optional one.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"location": "Isfahan", "ends_at": null}))]
pub struct UpdateEventRequest {
    /// 1 to 200 characters; cannot be removed.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = String, min_length = 1, max_length = 200)]
    title: Option<Value>,
    /// Up to 5,000 characters; line breaks allowed; `null` or `""` removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 5000)]
    description: Option<Value>,
    /// Up to 300 characters; `null` or `""` removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 300)]
    location: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = starts_at_schema)]
    starts_at: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = ends_at_schema)]
    ends_at: Option<Value>,
    /// 1 to 100000 seats; `null` for unlimited. Not below the seats taken (`409
    /// capacity_below_seats_taken`); a higher capacity promotes the waitlist at once.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 100000)]
    capacity: Option<Value>,
    /// 0 to 10.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = u8, minimum = 0, maximum = 10)]
    max_guests: Option<Value>,
    /// Whether accepting a full event joins its waitlist.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = bool)]
    waitlist: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = rsvp_deadline_schema)]
    rsvp_deadline: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = time_zone_schema)]
    time_zone: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = reminders_schema)]
    reminders: Option<Value>,
    /// `all` (the default): an edit that moves the event (its time, time zone or place) messages
    /// its members and the invitees of its open invitations; `none`: it does not. Not stored.
    #[schema(value_type = Option<NotifyMode>)]
    notify: Option<Value>,
}

/// Whom an edit that moves the event messages.
#[derive(Clone, Copy, Debug, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum NotifyMode {
    /// Its members and invitees (the default).
    All,
    /// Nobody.
    None,
}

/// Reads a field that is present, `null` included, so that `null` (remove) and a missing field
/// (keep) differ.
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

impl UpdateEventRequest {
    /// Parses the fields present. Whether the edited event ends before it starts depends on what
    /// is stored, so the service checks it.
    ///
    /// # Errors
    /// Every invalid field present; a `title` that is `null` or blank is "required".
    pub fn try_into_domain(self) -> Result<EventPatch, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let title = changed(
            &mut errors,
            "title",
            self.title.map(|value| {
                required_string("title", Some(value)).and_then(|raw| {
                    Text::parse(&raw, EventDetails::TITLE_MAX, false)
                        .map_err(|e| text_error("title", e))
                })
            }),
        );
        let description = changed(
            &mut errors,
            "description",
            self.description.map(|value| {
                optional_text(
                    "description",
                    Some(value),
                    EventDetails::DESCRIPTION_MAX,
                    true,
                )
            }),
        );
        let location = changed(
            &mut errors,
            "location",
            self.location.map(|value| {
                optional_text("location", Some(value), EventDetails::LOCATION_MAX, false)
            }),
        );
        let starts_at = changed(
            &mut errors,
            "starts_at",
            self.starts_at
                .map(|value| optional_date("starts_at", Some(value))),
        );
        let ends_at = changed(
            &mut errors,
            "ends_at",
            self.ends_at
                .map(|value| optional_date("ends_at", Some(value))),
        );
        let capacity = changed(
            &mut errors,
            "capacity",
            self.capacity.map(|v| capacity(Some(v))),
        );
        let max_guests = changed(
            &mut errors,
            "max_guests",
            self.max_guests.map(|v| {
                max_guests(Some(v))?.ok_or_else(|| {
                    crate::t!("validation-integer", attribute = attribute("max_guests"))
                })
            }),
        );
        let waitlist = changed(
            &mut errors,
            "waitlist",
            self.waitlist.map(|v| {
                boolean("waitlist", Some(v))?.ok_or_else(|| {
                    crate::t!("validation-boolean", attribute = attribute("waitlist"))
                })
            }),
        );
        let rsvp_deadline = changed(
            &mut errors,
            "rsvp_deadline",
            self.rsvp_deadline
                .map(|value| optional_date("rsvp_deadline", Some(value))),
        );
        let time_zone = changed(
            &mut errors,
            "time_zone",
            self.time_zone.map(|value| time_zone(Some(value))),
        );
        let reminders = changed(
            &mut errors,
            "reminders",
            self.reminders.map(|value| reminders(Some(value))),
        );
        let quiet = errors.take(
            "notify",
            match self.notify {
                None | Some(Value::Null) => Ok(false),
                Some(Value::String(mode)) if mode == "all" => Ok(false),
                Some(Value::String(mode)) if mode == "none" => Ok(true),
                Some(_) => Err(crate::t!("notify-invalid")),
            },
        );
        match (title, description, location, starts_at, ends_at) {
            (Some(title), Some(description), Some(location), Some(starts_at), Some(ends_at)) => {
                let (
                    Some(capacity),
                    Some(max_guests),
                    Some(waitlist),
                    Some(rsvp_deadline),
                    Some(time_zone),
                    Some(reminders),
                    Some(quiet),
                ) = (
                    capacity,
                    max_guests,
                    waitlist,
                    rsvp_deadline,
                    time_zone,
                    reminders,
                    quiet,
                )
                else {
                    return Err(errors);
                };
                Ok(EventPatch {
                    title,
                    description,
                    location,
                    starts_at,
                    ends_at,
                    capacity,
                    max_guests,
                    waitlist,
                    rsvp_deadline,
                    time_zone,
                    reminders,
                    quiet,
                })
            }
            _ => Err(errors),
        }
    }
}

/// A field of an edit: `Some(None)` when it was left out (keep it), `Some(Some(value))` when
/// present and valid, `None` when invalid (its message recorded in `errors`).
fn changed<T>(
    errors: &mut ValidationErrors,
    field: &str,
    parsed: Option<Result<T, String>>,
) -> Option<Option<T>> {
    match parsed {
        None => Some(None),
        Some(parsed) => errors.take(field, parsed).map(Some),
    }
}

/// `PATCH /api/v1/events/{event_id}/members/{user_id}`: the member's new role.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"role": "cohost"}))]
pub struct ChangeRoleRequest {
    /// `cohost` or `member`; nobody is made owner.
    #[schema(value_type = AssignableRole, required = true)]
    role: Option<Value>,
}

/// The roles the owner gives.
#[derive(Clone, Copy, Debug, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum AssignableRole {
    /// Sends the event's invitations, edits it, removes members.
    Cohost,
    /// Takes part.
    Member,
}

impl ChangeRoleRequest {
    /// Parses the role.
    ///
    /// # Errors
    /// "The role field is required." when missing, "The selected role is invalid." for anything
    /// but `cohost` or `member`.
    pub fn try_into_domain(self) -> Result<Role, ValidationErrors> {
        const FIELD: &str = "role";
        let parsed = match self.role {
            None | Some(Value::Null) => Err(required(FIELD)),
            Some(Value::String(s)) if s.is_empty() => Err(required(FIELD)),
            Some(Value::String(s)) => match Role::parse(&s) {
                Some(role @ (Role::Cohost | Role::Member)) => Ok(role),
                Some(Role::Owner) | None => Err(selected_invalid(FIELD)),
            },
            Some(_) => Err(selected_invalid(FIELD)),
        };
        parsed.map_err(|message| ValidationErrors::single(FIELD, message))
    }
}

/// `PATCH /api/v1/events/{event_id}/members/me`: the guests the caller brings.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"guests": 1}))]
pub struct ChangePartyRequest {
    /// 0 to the event's `max_guests`.
    #[schema(value_type = u8, required = true, minimum = 0, maximum = 10)]
    guests: Option<Value>,
}

impl ChangePartyRequest {
    /// Parses the guests.
    ///
    /// # Errors
    /// "The guests field is required." when missing; a number outside 0..=10 or not a whole
    /// number.
    pub fn try_into_domain(self) -> Result<u8, ValidationErrors> {
        guests(self.guests)
            .and_then(|g| g.ok_or_else(|| required("guests")))
            .map_err(|message| ValidationErrors::single("guests", message))
    }
}

/// The guests of an answer or a party: 0 to [`RsvpSettings::MAX_GUESTS_MAX`] (the event's own
/// limit is checked against what is stored); `None` for `null`/absent.
pub(crate) fn guests(value: Option<Value>) -> Result<Option<u8>, String> {
    bounded_integer(
        "guests",
        value,
        0,
        u64::from(RsvpSettings::MAX_GUESTS_MAX),
        || crate::t!("guests-range", max = RsvpSettings::MAX_GUESTS_MAX),
    )
    .map(|g| g.and_then(|g| u8::try_from(g).ok()))
}

fn rsvp_deadline_schema() -> utoipa::openapi::schema::Schema {
    crate::schema::optional_date_time(
        "RFC 3339 date-time, not after `starts_at`: no answer is taken after it; `null` or `\"\"` \
         for none.",
    )
}

fn time_zone_schema() -> utoipa::openapi::schema::Schema {
    crate::schema::time_zone(
        "The time zone it happens in, an IANA name such as `Asia/Tehran`: the RSVP page and \
         calendars show its times there. `null`, `\"\"` or absent: `UTC`.",
    )
}

fn reminders_schema() -> utoipa::openapi::schema::Schema {
    crate::schema::reminders(
        "Up to 5 reminders (docs/api.md, \"Reminders\"), each sent once to each person of its \
         audience `before` the start; `null` or `[]` for none (the default).",
    )
}

/// `reminders`: up to [`Reminders::MAX`] `{"before", "to"}`; `null` (or absent) for none.
fn reminders(value: Option<Value>) -> Result<Reminders, String> {
    let items = match value {
        None | Some(Value::Null) => return Ok(Reminders::default()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(crate::t!("reminders-not-list")),
    };
    if items.len() > Reminders::MAX {
        return Err(crate::t!("reminders-too-many"));
    }
    let rules = items
        .iter()
        .enumerate()
        .map(|(at, item)| {
            let number = at + 1;
            let field = |name: &str| item.get(name).and_then(Value::as_str);
            let (Some(before), Some(to)) = (field("before"), field("to")) else {
                return Err(crate::t!("reminder-not-object", number = number));
            };
            Reminder::parse(before, to).map_err(|error| match error {
                ReminderError::To => crate::t!("reminder-to-invalid", number = number),
                _ => crate::t!("reminder-before-invalid", number = number),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Reminders::new(rules).map_err(|_| crate::t!("reminders-duplicate"))
}

/// `time_zone`: an IANA name; `null` or `""` (or absent) for UTC.
fn time_zone(value: Option<Value>) -> Result<TimeZone, String> {
    match value {
        None | Some(Value::Null) => Ok(TimeZone::UTC),
        Some(Value::String(name)) if name.trim().is_empty() => Ok(TimeZone::UTC),
        Some(Value::String(name)) => {
            TimeZone::parse(&name).map_err(|_| crate::t!("time-zone-invalid"))
        }
        Some(_) => Err(crate::t!("time-zone-not-string")),
    }
}

fn starts_at_schema() -> utoipa::openapi::schema::Schema {
    crate::schema::optional_date_time("RFC 3339 date-time; `null` or `\"\"` for none.")
}

fn ends_at_schema() -> utoipa::openapi::schema::Schema {
    crate::schema::optional_date_time(
        "RFC 3339 date-time, not before `starts_at`; `null` or `\"\"` for none.",
    )
}

fn optional_text(
    field: &'static str,
    value: Option<Value>,
    max: usize,
    multiline: bool,
) -> Result<Option<Text>, String> {
    optional_non_blank(field, value)?
        .map(|raw| Text::parse(&raw, max, multiline).map_err(|e| text_error(field, e)))
        .transpose()
}

/// Reads an RFC 3339 date-time, kept in UTC. Only years 1 to 9999 are dates: an offset can push a
/// written year 0 or 9999 out of that range once in UTC (`0000-01-01T00:00:00+01:00` is in year
/// −1), and such a time has no RFC 3339 form to answer with.
fn optional_date(field: &str, value: Option<Value>) -> Result<Option<DateTime<Utc>>, String> {
    let invalid = || crate::t!("validation-date", attribute = attribute(field));
    optional_string(field, value)
        .map_err(|_| invalid())?
        .map(|raw| {
            DateTime::parse_from_rfc3339(raw.trim())
                .map(|at| at.with_timezone(&Utc))
                .ok()
                .filter(|at| (1..=9999).contains(&at.year()))
                .ok_or_else(invalid)
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;
    use crate::validation::test_support::{body, errors_json};

    fn event(value: Value) -> Result<EventDetails, ValidationErrors> {
        body::<CreateEventRequest>(value).try_into_domain()
    }

    #[test]
    fn an_event_needs_a_title_and_valid_dates() {
        let errors =
            event(json!({"starts_at": "tomorrow", "ends_at": 5, "location": "x".repeat(301)}))
                .unwrap_err();
        assert_eq!(
            errors_json(errors)["errors"],
            json!({
                "title": ["The title field is required."],
                "location": ["The location must not be greater than 300 characters."],
                "starts_at": ["The starts at must be a valid date."],
                "ends_at": ["The ends at must be a valid date."]
            })
        );
    }

    #[test]
    fn times_outside_years_1_to_9999_in_utc_are_not_dates() {
        for (raw, ok) in [
            ("0000-01-01T00:00:00+01:00", false),
            ("9999-12-31T23:59:59-05:00", false),
            ("0001-01-01T00:00:00Z", true),
            ("9999-12-31T23:59:59Z", true),
        ] {
            let parsed = event(json!({"title": "Party", "starts_at": raw}));
            assert_eq!(parsed.is_ok(), ok, "{raw}");
            if !ok {
                assert_eq!(
                    parsed.unwrap_err().get("starts_at"),
                    Some(&["The starts at must be a valid date.".to_owned()][..])
                );
            }
        }
    }

    #[test]
    fn an_event_ending_before_it_starts_is_refused_under_ends_at() {
        let errors = event(json!({
            "title": "Party", "starts_at": "2026-12-01T18:00:00Z", "ends_at": "2026-12-01T19:00:00+02:00"
        }))
        .unwrap_err();
        assert_eq!(
            errors.get("ends_at"),
            Some(&["The ends at must be a date after or equal to starts at.".to_owned()][..])
        );
    }

    fn patch(value: Value) -> Result<EventPatch, ValidationErrors> {
        body::<UpdateEventRequest>(value).try_into_domain()
    }

    #[test]
    fn an_edit_keeps_missing_fields_and_removes_null_or_empty_ones() {
        assert_eq!(patch(json!({})).unwrap(), EventPatch::default());
        let edit = patch(json!({
            "title": " Renamed ", "description": null, "location": "", "starts_at": "2026-12-01T18:00:00+01:00"
        }))
        .unwrap();
        assert_eq!(edit.title.unwrap().as_str(), "Renamed");
        assert_eq!((edit.description, edit.location), (Some(None), Some(None)));
        assert_eq!(
            edit.starts_at,
            Some(Some(Utc.with_ymd_and_hms(2026, 12, 1, 17, 0, 0).unwrap()))
        );
        assert_eq!(edit.ends_at, None);
    }

    #[test]
    fn an_edit_refuses_what_creating_refuses_and_a_title_cannot_be_removed() {
        let errors = patch(json!({
            "title": null, "description": 5, "location": "x".repeat(301), "ends_at": "soon"
        }))
        .unwrap_err();
        assert_eq!(
            errors_json(errors)["errors"],
            json!({
                "title": ["The title field is required."],
                "description": ["The description must be a string."],
                "location": ["The location must not be greater than 300 characters."],
                "ends_at": ["The ends at must be a valid date."]
            })
        );
        assert!(patch(json!({"title": "  "})).is_err());
    }

    #[test]
    fn a_role_is_cohost_or_member() {
        let role = |value: Value| body::<ChangeRoleRequest>(value).try_into_domain();
        assert_eq!(role(json!({"role": "cohost"})), Ok(Role::Cohost));
        assert_eq!(role(json!({"role": "member"})), Ok(Role::Member));
        for value in [json!({}), json!({"role": null}), json!({"role": ""})] {
            assert_eq!(
                role(value).unwrap_err().get("role"),
                Some(&["The role field is required.".to_owned()][..])
            );
        }
        for value in [
            json!({"role": "owner"}),
            json!({"role": "Cohost"}),
            json!({"role": "co-host"}),
            json!({"role": 1}),
        ] {
            assert_eq!(
                role(value).unwrap_err().get("role"),
                Some(&["The selected role is invalid.".to_owned()][..])
            );
        }
    }

    #[test]
    fn blank_optional_event_fields_are_absent() {
        let details = event(
            json!({"title": "Party", "description": "  ", "location": null, "starts_at": ""}),
        )
        .unwrap();
        assert_eq!(details.description(), None);
        assert_eq!(details.location(), None);
        assert_eq!(details.starts_at(), None);
    }
}
