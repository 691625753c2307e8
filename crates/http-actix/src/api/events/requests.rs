//! Request bodies of the events area and their conversion into domain values.

use chrono::{DateTime, Datelike, Utc};
use domain::{EventDetails, EventDetailsError, Text};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::validation::{
    attribute, optional_non_blank, optional_string, required_string, text_error, ValidationErrors,
};

/// `POST /api/v1/events`: a title, and optionally a description, a place and times.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "title": "Launch party",
    "description": "Drinks on the roof.",
    "location": "Tehran",
    "starts_at": "2026-12-01T18:00:00Z",
    "ends_at": "2026-12-01T23:00:00Z"
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
        match (title, description, location, starts_at, ends_at) {
            (Some(title), Some(description), Some(location), Some(starts_at), Some(ends_at))
                if errors.is_empty() =>
            {
                EventDetails::new(title, description, location, starts_at, ends_at).map_err(
                    |EventDetailsError::EndsBeforeStart| {
                        ValidationErrors::single(
                            "ends_at",
                            "The ends at must be a date after or equal to starts at.",
                        )
                    },
                )
            }
            _ => Err(errors),
        }
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
    let invalid = || format!("The {} must be a valid date.", attribute(field));
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
