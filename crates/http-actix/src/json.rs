//! The JSON envelope of single-object answers and the timestamp format every body uses: RFC 3339
//! in UTC with whole seconds and a `Z` (docs/api.md, "Conventions").

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};
use utoipa::ToSchema;

/// `{"data": ...}`: the envelope of every single-object answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Data<T> {
    /// The object.
    pub data: T,
}

impl<T> Data<T> {
    /// Wraps `data`.
    pub fn new(data: T) -> Self {
        Self { data }
    }
}

/// Serializes a timestamp as `2026-11-26T10:00:00Z`.
pub(crate) fn timestamp<S: Serializer>(
    at: &DateTime<Utc>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&at.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// Serializes an optional timestamp as [`timestamp`] does, or `null`.
pub(crate) fn optional_timestamp<S: Serializer>(
    at: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => timestamp(at, serializer),
        None => serializer.serialize_none(),
    }
}
