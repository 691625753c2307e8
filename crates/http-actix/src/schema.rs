//! OpenAPI schema pieces for what the derives cannot say: the empty string that counts as "not
//! given" (docs/api.md, "Conventions"), and "at least one of these fields" (register's contacts,
//! login's `login`/`email`/`mobile`). With them the document states what the server accepts, so a
//! client (or a fuzzer) that follows it is never refused for a reason it could not read there.

use utoipa::openapi::schema::{
    AllOfBuilder, AnyOfBuilder, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, SchemaType, Type,
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

/// Wraps a request body's component schema so that at least one of `fields` must be non-blank
/// text (JSON Schema: `allOf` of the object and an `anyOf` of one `required` field each).
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
        let Some(RefOr::T(Schema::Object(object))) = schemas.get_mut(self.schema) else {
            return;
        };
        let description = object.description.take();
        let mut one_given = AnyOfBuilder::new();
        for field in self.fields {
            one_given = one_given.item(
                ObjectBuilder::new()
                    .property(
                        *field,
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .pattern(Some(NOT_BLANK)),
                    )
                    .required(*field),
            );
        }
        let whole = AllOfBuilder::new()
            .item(Schema::Object(object.clone()))
            .item(one_given)
            .description(description)
            .build();
        schemas.insert(self.schema.to_owned(), RefOr::T(Schema::AllOf(whole)));
    }
}
