//! The OpenAPI document's root: the API's description, tags and security scheme, and each area's
//! part merged in. The areas know nothing of this module.

use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::RefOr;
use utoipa::{Modify, OpenApi};

use crate::api::{accounts, changes, events, health, invitations, webhooks};
use crate::error::{
    ErrorBody, ErrorCode, ServerErrorBody, UnauthenticatedBody, ValidationErrorBody,
};

/// The document of the whole API, as served at `/api/v1/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut document = ApiDoc::openapi();
    for part in [
        accounts::Doc::openapi(),
        events::Doc::openapi(),
        changes::Doc::openapi(),
        invitations::Doc::openapi(),
        webhooks::Doc::openapi(),
        health::Doc::openapi(),
    ] {
        document.merge(part);
    }
    // After the merge: the aliases copy the areas' paths, with their parameters as stated.
    EmptyQueryValues.modify(&mut document);
    Aliases.modify(&mut document);
    crate::idempotency::Documented.modify(&mut document);
    document
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Event Manager API",
        description = "Events and invitations: register, create events, invite users by email or \
                       mobile, and answer the invitations you receive. Errors (docs/api.md, \
                       \"Errors\"): `{\"message\", \"code\"}`, Laravel-style 422 bodies, and \
                       `{\"message\"}` for 401, 500 and 503.",
    ),
    // Schemas named only by response groups, which utoipa does not collect.
    components(schemas(
        ErrorBody,
        ErrorCode,
        UnauthenticatedBody,
        ServerErrorBody,
        ValidationErrorBody,
    )),
    modifiers(&BearerScheme),
    tags(
        (name = "accounts", description = "Registering, logging in and out (docs/api.md, \"Accounts\")."),
        (name = "events", description = "Events and their members (docs/api.md, \"Events\")."),
        (name = "invitations", description = "The seed's invitation routes (docs/api.md, \"Invitations\")."),
        (name = "feed", description = "The change feed and the live stream (docs/api.md, \"Change feed and live stream\")."),
        (name = "webhooks", description = "Webhook endpoints and their deliveries (docs/api.md, \"Webhooks\")."),
        (name = "health", description = "Probes for orchestrators (docs/api.md, \"Health\")."),
    ),
)]
struct ApiDoc;

/// The `bearer` security scheme that protected operations name.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The `token` returned by register or login."))
                    .build(),
            ),
        );
    }
}

/// Says of every query parameter that an empty value is allowed: it counts as not given
/// (docs/api.md, "Conventions": `?event_id=` is the same as no filter).
struct EmptyQueryValues;

impl Modify for EmptyQueryValues {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for operation in operations(item) {
                let parameters = operation.parameters.iter_mut().flatten();
                for parameter in parameters.filter(|p| p.parameter_in == ParameterIn::Query) {
                    if let Some(RefOr::T(schema)) = parameter.schema.take() {
                        parameter.schema = Some(RefOr::T(crate::schema::or_empty(schema)));
                    }
                }
            }
        }
    }
}

/// Documents each alias as a copy of its original, with its own operation id. An alias path that
/// has operations of its own (`GET /api/v1/events/{event_id}/invitations`) keeps them.
struct Aliases;

impl Modify for Aliases {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (original, alias) in invitations::ALIASES {
            let Some(mut item) = openapi.paths.paths.get(original).cloned() else {
                continue;
            };
            for operation in operations(&mut item) {
                operation.operation_id = operation
                    .operation_id
                    .take()
                    .map(|id| format!("{id}_alias"));
                operation.description = Some(format!("Alias of `{original}`; the same operation."));
            }
            match openapi.paths.paths.get_mut(alias) {
                Some(own) => {
                    let copies = [
                        (&mut own.get, item.get),
                        (&mut own.put, item.put),
                        (&mut own.post, item.post),
                        (&mut own.delete, item.delete),
                        (&mut own.patch, item.patch),
                    ];
                    for (slot, copy) in copies {
                        if copy.is_some() {
                            *slot = copy;
                        }
                    }
                }
                None => {
                    openapi.paths.paths.insert(alias.to_owned(), item);
                }
            }
        }
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}
