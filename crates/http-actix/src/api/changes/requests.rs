//! The feed's and the stream's query parameters, parsed by hand so that a bad value is a 422
//! naming the parameter (docs/api.md, "Change feed and live stream").

use std::collections::HashMap;
use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use domain::changes::ChangeId;
use domain::Limit;
use utoipa::IntoParams;

use crate::error::ApiError;
use crate::pagination::{given, parse_limit, parse_query};
use crate::validation::ValidationErrors;

/// The header a reconnecting `EventSource` sends with the last id it received.
pub const LAST_EVENT_ID: &str = "last-event-id";

/// "The after must be a non-negative integer."
pub(crate) fn after_message(field: &str) -> String {
    crate::t!("validation-change-id", attribute = field)
}

/// Reads a change id: a non-negative integer.
pub(crate) fn change_id(raw: &str) -> Option<ChangeId> {
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|id| *id >= 0)
        .map(ChangeId)
}

fn after(query: &HashMap<String, String>, errors: &mut ValidationErrors) -> Option<ChangeId> {
    given(query, "after").and_then(|raw| {
        errors.take(
            "after",
            change_id(raw).ok_or_else(|| after_message("after")),
        )
    })
}

/// `after` and `limit`: which changes of the feed to show.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// Changes after this id (`meta.next_after` of the previous page); omit it to start from the
    /// oldest kept.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 9_223_372_036_854_775_807_i64, example = 42)]
    pub after: ChangeId,
    /// How many changes to return, 1 to 100.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100, default = 50)]
    pub limit: Limit,
}

impl FeedQuery {
    fn parse(query: &HashMap<String, String>, errors: &mut ValidationErrors) -> Self {
        let after = after(query, errors).unwrap_or_default();
        let limit = parse_limit(query, errors);
        Self { after, limit }
    }
}

impl FromRequest for FeedQuery {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse_query(req, Self::parse))
    }
}

/// `after` and `ticket` of the live stream; `Last-Event-ID`, when sent, wins over `after`.
#[derive(Clone, Debug, Default, PartialEq, Eq, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Resume after this change id; omit it (and `Last-Event-ID`) to receive only new changes.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 9_223_372_036_854_775_807_i64, example = 42)]
    pub after: Option<ChangeId>,
    /// A ticket from `POST /api/v1/stream-tickets`, instead of the `Authorization` header.
    #[param(value_type = Option<String>)]
    pub ticket: Option<String>,
}

impl StreamQuery {
    fn parse(query: &HashMap<String, String>, errors: &mut ValidationErrors) -> Self {
        Self {
            after: after(query, errors),
            ticket: given(query, "ticket").map(str::to_owned),
        }
    }
}

impl FromRequest for StreamQuery {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse_query(req, Self::parse))
    }
}
