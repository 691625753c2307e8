//! OpenAPI schema pieces for what the derives cannot say: the empty string that counts as "not
//! given" (docs/api.md, "Conventions"), and "at least one of these fields" (register's contacts,
//! login's `login`/`email`/`mobile`). With them the document states what the server accepts, so a
//! client (or a fuzzer) that follows it is never refused for a reason it could not read there.

use utoipa::openapi::schema::{
    AnyOfBuilder, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::{KnownFormat, RefOr};
use utoipa::Modify;

/// Text with at least one character that is not white space.
const NOT_BLANK: &str = r"\S";
/// Text that is empty or only white space: "not given".
const BLANK: &str = r"^\s*$";

/// An optional RFC 3339 date-time, described by `description`: a date-time, `null`, or `""`
/// (= not given).
pub(crate) fn optional_date_time(description: &str) -> Schema {
    let mut schema = or_empty(
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .into(),
    );
    if let Schema::OneOf(one_of) = &mut schema {
        one_of.description = Some(description.to_owned());
    }
    schema
}

/// An event's time zone: one of the IANA names the service knows, or `null` or `""` for UTC.
pub(crate) fn time_zone(description: &str) -> Schema {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .enum_values(Some(
            domain::events::TimeZone::names()
                .map(serde_json::Value::from)
                .chain([serde_json::Value::from(""), serde_json::Value::Null]),
        ))
        .description(Some(description))
        .into()
}

/// An event's reminder rules, described by `description`: up to 5 `{before, to}`, or `null` for
/// none. The most (5) is said in the description, not as `maxItems`: generating the longest array
/// of these objects sent Hypothesis past Python's recursion limit (schemathesis' coverage phase).
pub(crate) fn reminders(description: &str) -> Schema {
    let rule = ObjectBuilder::new()
        .property(
            "before",
            ObjectBuilder::new()
                .schema_type(SchemaType::new(Type::String))
                .description(Some(
                    "How long before the start: a whole number of minutes (m), hours (h) or days \
                     (d), from 5m to 30d, without leading zeros (`90m`, `24h`, `2d`).",
                ))
                .examples([serde_json::Value::from("1d")]),
        )
        .required("before")
        .property(
            "to",
            ObjectBuilder::new()
                .schema_type(SchemaType::new(Type::String))
                .enum_values(Some(["accepted", "tentative", "pending"]))
                .description(Some(
                    "Whom: `accepted` (the members but the owner), `tentative` (invitees who \
                     answered maybe) or `pending` (invitees who have not answered).",
                )),
        )
        .required("to");
    utoipa::openapi::schema::ArrayBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
        .items(rule)
        .description(Some(description))
        .into()
}

/// An optional email, described by `description`: an email address, `null`, or blank text
/// (= not given).
pub(crate) fn optional_email(description: &str) -> Schema {
    let mut schema = or_blank(
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
            .into(),
    );
    if let Schema::OneOf(one_of) = &mut schema {
        one_of.description = Some(description.to_owned());
    }
    schema
}

/// `schema`, or text that is blank: where the server trims first, blank text is "not given".
pub(crate) fn or_blank(schema: Schema) -> Schema {
    OneOfBuilder::new()
        .item(schema)
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(BLANK)),
        )
        .into()
}

/// `schema`, or the empty string, which the server reads as "not given".
pub(crate) fn or_empty(schema: Schema) -> Schema {
    OneOfBuilder::new()
        .item(schema)
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(0)),
        )
        .into()
}

/// Rewrites a request body's component schema so that at least one of `fields` must be non-blank
/// text: an `anyOf` of copies of the object, each of which requires one of the fields as
/// non-blank text (keeping its `format`). No `allOf`: schemathesis' coverage phase fails now and
/// then on an `allOf` of an object and an `anyOf` ("Inconsistent results"), and copies say the
/// same thing.
#[derive(Debug)]
pub(crate) struct AtLeastOneOf {
    /// The component's name, e.g. `LoginRequest`.
    pub(crate) schema: &'static str,
    /// The fields of which one must be given.
    pub(crate) fields: &'static [&'static str],
}

impl Modify for AtLeastOneOf {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Some(schemas) = openapi.components.as_mut().map(|c| &mut c.schemas) else {
            return;
        };
        let Some(RefOr::T(Schema::Object(object))) = schemas.get(self.schema) else {
            return;
        };
        let mut object = object.clone();
        let description = object.description.take();
        let mut one_given = AnyOfBuilder::new().description(description);
        for field in self.fields {
            let mut branch = object.clone();
            let given = branch
                .properties
                .get(*field)
                .map(text_format)
                .unwrap_or_default();
            branch.properties.insert(
                (*field).to_owned(),
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(given)
                    .pattern(Some(NOT_BLANK))
                    .into(),
            );
            if !branch.required.iter().any(|r| r == field) {
                branch.required.push((*field).to_owned());
            }
            one_given = one_given.item(Schema::Object(branch));
        }
        schemas.insert(
            self.schema.to_owned(),
            RefOr::T(Schema::AnyOf(one_given.build())),
        );
    }
}

/// The `format` of a text property, looking inside a `oneOf` (such as [`or_blank`]'s).
fn text_format(property: &RefOr<Schema>) -> Option<SchemaFormat> {
    match property {
        RefOr::T(Schema::Object(object)) => object.format.clone(),
        RefOr::T(Schema::OneOf(one_of)) => one_of.items.iter().find_map(|item| match item {
            RefOr::T(Schema::Object(object)) => object.format.clone(),
            _ => None,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod reminder_tests {
    use domain::reminders::Reminder;

    /// The shape the schema's description of a reminder's `before` states: a whole number without
    /// leading zeros and a unit. It is not a `pattern` in the document: a pattern under an array of
    /// objects sent the fuzzer's regex generator past Python's recursion limit, and the server
    /// answers any other string with a 422 that names the rule.
    const REMINDER_BEFORE: &str = "^[1-9][0-9]{0,4}[mhd]$";

    /// Every lead the server takes has the shape the document states, so what does not have it
    /// the server refuses too (the range within it is the server's 422).
    #[test]
    fn every_lead_the_domain_takes_matches_the_documents_pattern() {
        let pattern = regex::Regex::new(REMINDER_BEFORE).unwrap();
        let mut taken = 0;
        for n in 0..=120_000u32 {
            for unit in ["m", "h", "d", "s"] {
                for zero in ["", "0"] {
                    let before = format!("{zero}{n}{unit}");
                    if Reminder::parse(&before, "accepted").is_ok() {
                        taken += 1;
                        assert!(pattern.is_match(&before), "{before}");
                    }
                }
            }
        }
        // 5..=43200 minutes, 1..=720 hours, 1..=30 days.
        assert_eq!(taken, 43_196 + 720 + 30);
        for refused in ["05m", "1s", "1w", "1.5h", "-1h", "1 h", "123456m"] {
            assert!(!pattern.is_match(refused), "{refused}");
        }
    }
}
