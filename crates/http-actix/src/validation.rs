//! Field errors collected while parsing a request, rendered as Laravel's 422 body (docs/api.md,
//! "Errors"); the small readers that turn loosely typed JSON values into strings; and the sentences
//! that name a field for each of the domain's validation errors. The domain says what is wrong; the
//! wording users read is written here, once.

use domain::{PasswordError, TextError};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

/// Every field error of one request, in the order they were found: the first one is the body's
/// `message`, as in Laravel.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ValidationErrors(Vec<(String, Vec<String>)>);

impl ValidationErrors {
    /// Errors holding one message for one field.
    pub fn single(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut errors = Self::default();
        errors.add(field, message);
        errors
    }

    /// Records a message under `field`, after the field's earlier messages.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        let field = field.into();
        let message = message.into();
        match self.0.iter_mut().find(|(name, _)| *name == field) {
            Some((_, messages)) => messages.push(message),
            None => self.0.push((field, vec![message])),
        }
    }

    /// Keeps the value of a successful parse, or records its message under `field`.
    pub fn take<T>(&mut self, field: &str, parsed: Result<T, String>) -> Option<T> {
        parsed.map_err(|message| self.add(field, message)).ok()
    }

    /// Whether no error was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The messages recorded under `field`.
    pub fn get(&self, field: &str) -> Option<&[String]> {
        self.0
            .iter()
            .find(|(name, _)| name == field)
            .map(|(_, messages)| messages.as_slice())
    }

    /// Laravel's summary: the first message, then `(and N more errors)` when there are others.
    pub fn message(&self) -> String {
        let mut all = self.0.iter().flat_map(|(_, messages)| messages);
        let Some(first) = all.next() else {
            return crate::t!("validation-invalid");
        };
        match all.count() {
            0 => first.clone(),
            more => crate::t!("validation-and-more", first = first, count = more),
        }
    }
}

/// Serializes as a JSON object of message arrays, keeping the order the errors were found in.
impl Serialize for ValidationErrors {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (field, messages) in &self.0 {
            map.serialize_entry(field, messages)?;
        }
        map.end()
    }
}

/// How Laravel names a field in messages, in the request's language: `starts_at` reads
/// "starts at"; an item of a list keeps its index (`invitations.3`).
pub(crate) fn attribute(field: &str) -> String {
    let (head, index) = field
        .split_once('.')
        .map_or((field, None), |(head, index)| (head, Some(index)));
    let id = format!("field-{head}");
    let mut name = crate::t!(&id);
    if name == id {
        name = head.replace('_', " ");
    }
    match index {
        Some(index) => format!("{name}.{index}"),
        None => name,
    }
}

/// "The name field is required."
pub(crate) fn required(field: &str) -> String {
    crate::t!("validation-required", attribute = attribute(field))
}

/// "The name must be a string."
pub(crate) fn must_be_string(field: &str) -> String {
    crate::t!("validation-string", attribute = attribute(field))
}

/// "The selected status is invalid."
pub(crate) fn selected_invalid(field: &str) -> String {
    crate::t!("validation-selected-invalid", attribute = attribute(field))
}

/// "The email must be a valid email address."
pub(crate) fn invalid_email(field: &str) -> String {
    crate::t!("validation-email", attribute = attribute(field))
}

/// "The mobile must be a valid phone number."
pub(crate) fn invalid_mobile(field: &str) -> String {
    crate::t!("validation-mobile", attribute = attribute(field))
}

/// "The email has already been taken."
pub(crate) fn taken(field: &str) -> String {
    crate::t!("validation-taken", attribute = attribute(field))
}

/// "The invitations must not have more than 1000 items."
pub(crate) fn too_many_items(field: &str, max: usize) -> String {
    crate::t!(
        "validation-max-items",
        attribute = attribute(field),
        max = max
    )
}

/// The sentence for a text field that [`domain::Text::parse`] refused.
pub(crate) fn text_error(field: &str, error: TextError) -> String {
    match error {
        TextError::Blank => required(field),
        TextError::TooLong { max } => {
            crate::t!(
                "validation-max-characters",
                attribute = attribute(field),
                max = max
            )
        }
        TextError::ForbiddenCharacter => {
            crate::t!(
                "validation-control-characters",
                attribute = attribute(field)
            )
        }
    }
}

/// The sentence for a password that [`domain::Password::parse`] refused.
pub(crate) fn password_error(field: &str, error: PasswordError) -> String {
    match error {
        PasswordError::TooShort { min } => {
            crate::t!(
                "validation-min-characters",
                attribute = attribute(field),
                min = min
            )
        }
        PasswordError::TooLong { max } => {
            crate::t!(
                "validation-max-characters",
                attribute = attribute(field),
                max = max
            )
        }
    }
}

/// Reads an optional string field. Absent, `null` and `""` are all "not given", as Laravel's
/// `ConvertEmptyStringsToNull` makes them.
///
/// # Errors
/// "The {field} must be a string." for any other JSON type.
pub(crate) fn optional_string(field: &str, value: Option<Value>) -> Result<Option<String>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(must_be_string(field)),
    }
}

/// Reads a required string field.
///
/// # Errors
/// "The {field} field is required." when it is not given, "must be a string" for another type.
pub(crate) fn required_string(field: &str, value: Option<Value>) -> Result<String, String> {
    optional_string(field, value)?.ok_or_else(|| required(field))
}

/// Reads an optional string field in which only blank text counts as "not given"; used for fields
/// whose parser would otherwise call blank text "required".
///
/// # Errors
/// As [`optional_string`].
pub(crate) fn optional_non_blank(
    field: &str,
    value: Option<Value>,
) -> Result<Option<String>, String> {
    Ok(optional_string(field, value)?.filter(|s| !s.trim().is_empty()))
}

/// Helpers for the areas' request tests.
#[cfg(test)]
pub(crate) mod test_support {
    use serde_json::{json, Value};

    use super::ValidationErrors;

    /// A request body deserialized from JSON, as the extractor would.
    pub(crate) fn body<T: serde::de::DeserializeOwned>(value: Value) -> T {
        serde_json::from_value(value).unwrap()
    }

    /// The 422 body that `errors` renders.
    pub(crate) fn errors_json(errors: ValidationErrors) -> Value {
        json!({"message": errors.message(), "errors": errors})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_message_is_the_first_error_and_a_count_of_the_others() {
        let mut errors = ValidationErrors::default();
        errors.add("name", "The name field is required.");
        assert_eq!(errors.message(), "The name field is required.");
        errors.add("name", "Second.");
        assert_eq!(
            errors.message(),
            "The name field is required. (and 1 more error)"
        );
        errors.add("password", "Third.");
        assert_eq!(
            errors.message(),
            "The name field is required. (and 2 more errors)"
        );
    }

    #[test]
    fn errors_serialize_in_the_order_they_were_found() {
        let mut errors = ValidationErrors::default();
        errors.add("password", "p");
        errors.add("email", "e");
        errors.add("password", "q");
        let text = serde_json::to_string(&errors).unwrap();
        assert_eq!(text, r#"{"password":["p","q"],"email":["e"]}"#);
    }

    #[test]
    fn null_and_empty_strings_count_as_not_given() {
        assert_eq!(optional_string("email", None), Ok(None));
        assert_eq!(optional_string("email", Some(Value::Null)), Ok(None));
        assert_eq!(optional_string("email", Some(json!(""))), Ok(None));
        assert_eq!(
            optional_string("email", Some(json!(" a "))),
            Ok(Some(" a ".into()))
        );
        assert_eq!(optional_non_blank("location", Some(json!("  "))), Ok(None));
        assert_eq!(
            required_string("name", Some(json!(""))),
            Err("The name field is required.".into())
        );
    }

    #[test]
    fn other_json_types_are_not_strings() {
        for value in [json!(1), json!(true), json!([]), json!({})] {
            assert_eq!(
                optional_string("starts_at", Some(value)),
                Err("The starts at must be a string.".into())
            );
        }
    }
}
