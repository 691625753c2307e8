//! Portable SQL types: the column types a PostgreSQL engineer expects (`uuid`, `timestamptz`) on
//! PostgreSQL, and TEXT on SQLite, each behind one diesel type, so that queries are still written
//! once against `AnyConnection` (docs/architecture.md, "Persistence choices").
//!
//! diesel's derived `MultiBackend` knows only the SQL types both backends share
//! (docs/architecture.md, "MultiConnection: the decision"). A type of our own says, per backend,
//! what it is (`HasSqlType`: `uuid`'s or `timestamptz`'s OID on PostgreSQL, TEXT on SQLite) and how
//! a value goes in and comes out (`ToSql`, `FromSql`); for `MultiBackend` the value is handed to
//! the backend in use, the way the derive does it for its own types (`Output::set_value((sql type,
//! value))`, `MultiRawValue::from_sql`).
//!
//! The Rust side is two newtypes, [`DbId`] and [`DbTime`]: diesel implements `AsExpression` for
//! every `Expression`, so this crate may not give a foreign type (`Uuid`, `NaiveDateTime`) another
//! SQL type (E0119, "upstream crates may add a new impl").

use std::fmt;
use std::io::Write as _;

use chrono::NaiveDateTime;
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{HasSqlType, Timestamp, Timestamptz};
use diesel::sqlite::{Sqlite, SqliteType};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::{MultiBackend, MultiRawValue};

/// An id: PostgreSQL `uuid` (16 bytes, compared byte by byte), SQLite TEXT (the lowercase
/// hyphenated form). Both orders are the same: the bytes of a UUID and the hex digits of its text
/// compare alike, so UUIDv7 ids sort in time order on both and keyset pagination walks an index.
// `pub`, not `pub(crate)`: diesel's `table!` declares the columns `pub` with their SQL types.
#[allow(unreachable_pub)]
#[derive(
    diesel::sql_types::SqlType, diesel::query_builder::QueryId, Debug, Clone, Copy, Default,
)]
pub struct Id;

/// A moment: PostgreSQL `timestamptz` (microseconds since 2000-01-01 UTC), SQLite TEXT as diesel
/// writes its `Timestamp` (`YYYY-MM-DD HH:MM:SS.ffffff`, UTC).
#[allow(unreachable_pub)]
#[derive(
    diesel::sql_types::SqlType, diesel::query_builder::QueryId, Debug, Clone, Copy, Default,
)]
pub struct Moment;

impl HasSqlType<Id> for Pg {
    fn metadata(lookup: &mut Self::MetadataLookup) -> Self::TypeMetadata {
        <Pg as HasSqlType<diesel::sql_types::Uuid>>::metadata(lookup)
    }
}

impl HasSqlType<Id> for Sqlite {
    fn metadata(_: &mut ()) -> SqliteType {
        SqliteType::Text
    }
}

impl HasSqlType<Id> for MultiBackend {
    fn metadata(lookup: &mut Self::MetadataLookup) -> Self::TypeMetadata {
        MultiBackend::lookup_sql_type::<Id>(lookup)
    }
}

impl HasSqlType<Moment> for Pg {
    fn metadata(lookup: &mut Self::MetadataLookup) -> Self::TypeMetadata {
        <Pg as HasSqlType<Timestamptz>>::metadata(lookup)
    }
}

impl HasSqlType<Moment> for Sqlite {
    fn metadata(_: &mut ()) -> SqliteType {
        SqliteType::Text
    }
}

impl HasSqlType<Moment> for MultiBackend {
    fn metadata(lookup: &mut Self::MetadataLookup) -> Self::TypeMetadata {
        MultiBackend::lookup_sql_type::<Moment>(lookup)
    }
}

/// A stored id ([`Id`]): any of the domain's ids (UUIDv7) on its way to or from the database.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    AsExpression,
    FromSqlRow,
    Serialize,
    Deserialize,
)]
#[diesel(sql_type = Id)]
#[serde(transparent)]
pub(crate) struct DbId(Uuid);

impl DbId {
    /// The stored form of a domain id (`UserId`, `EventId`, ...).
    pub(crate) fn of(id: impl Into<Uuid>) -> Self {
        Self(id.into())
    }

    /// The UUID, for the domain id it stands for.
    pub(crate) const fn uuid(self) -> Uuid {
        self.0
    }
}

impl From<Uuid> for DbId {
    fn from(uuid: Uuid) -> Self {
        Self(uuid)
    }
}

/// The lowercase hyphenated form, as SQLite stores it.
impl fmt::Display for DbId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl std::str::FromStr for DbId {
    type Err = uuid::Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(text).map(Self)
    }
}

impl ToSql<Id, Pg> for DbId {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        // `uuid`'s binary form: its 16 bytes.
        out.write_all(self.0.as_bytes())?;
        Ok(IsNull::No)
    }
}

impl FromSql<Id, Pg> for DbId {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        Ok(Self(Uuid::from_slice(value.as_bytes())?))
    }
}

impl ToSql<Id, Sqlite> for DbId {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.to_string());
        Ok(IsNull::No)
    }
}

impl FromSql<Id, Sqlite> for DbId {
    fn from_sql(mut value: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        // A malformed stored id fails the read like any undecodable column (then `Unexpected`).
        Ok(Self(Uuid::parse_str(value.read_text())?))
    }
}

impl ToSql<Id, MultiBackend> for DbId {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((Id, self));
        Ok(IsNull::No)
    }
}

impl FromSql<Id, MultiBackend> for DbId {
    fn from_sql(value: MultiRawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Self, Id>()
    }
}

/// A stored moment ([`Moment`]): UTC, at PostgreSQL's precision (microseconds; see
/// `rows::to_db_time`), without a zone on the Rust side because every stored time is UTC.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    AsExpression,
    FromSqlRow,
    Serialize,
    Deserialize,
)]
#[diesel(sql_type = Moment)]
#[serde(transparent)]
pub(crate) struct DbTime(NaiveDateTime);

impl DbTime {
    /// Wraps a UTC time (already truncated to microseconds by the caller).
    pub(crate) const fn from_utc(at: NaiveDateTime) -> Self {
        Self(at)
    }

    /// The UTC time.
    pub(crate) const fn utc(self) -> NaiveDateTime {
        self.0
    }
}

impl ToSql<Moment, Pg> for DbTime {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <NaiveDateTime as ToSql<Timestamptz, Pg>>::to_sql(&self.0, out)
    }
}

impl FromSql<Moment, Pg> for DbTime {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamptz, Pg>>::from_sql(value).map(Self)
    }
}

impl ToSql<Moment, Sqlite> for DbTime {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        <NaiveDateTime as ToSql<Timestamp, Sqlite>>::to_sql(&self.0, out)
    }
}

impl FromSql<Moment, Sqlite> for DbTime {
    fn from_sql(value: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(value).map(Self)
    }
}

impl ToSql<Moment, MultiBackend> for DbTime {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((Moment, self));
        Ok(IsNull::No)
    }
}

impl FromSql<Moment, MultiBackend> for DbTime {
    fn from_sql(value: MultiRawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Self, Moment>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keyset pagination relies on it: PostgreSQL orders `uuid` by its bytes, SQLite (and the old
    /// TEXT COLLATE "C" columns) by the lowercase hyphenated text; both give the same order.
    #[test]
    fn ids_sort_alike_as_bytes_and_as_text() {
        let mut ids: Vec<DbId> = (0..500)
            .map(|_| DbId(Uuid::now_v7()))
            .chain((0..500).map(|_| DbId(Uuid::from_bytes(rand::random()))))
            .chain([DbId(Uuid::nil()), DbId(Uuid::max())])
            .collect();
        let mut as_text: Vec<String> = ids.iter().map(ToString::to_string).collect();
        ids.sort();
        as_text.sort();
        let ids_as_text: Vec<String> = ids.iter().map(ToString::to_string).collect();
        assert_eq!(ids_as_text, as_text);
        assert_eq!(
            DbId(Uuid::max()).to_string(),
            "ffffffff-ffff-ffff-ffff-ffffffffffff"
        );
    }

    #[test]
    fn ids_and_times_keep_their_json_form() {
        // The change feed stores subjects as JSON holding ids and times (changes/stored.rs): the
        // newtypes must not change what was written before them.
        let id: DbId = "018bcfe5-69f5-7001-8000-000000000032".parse().unwrap();
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"018bcfe5-69f5-7001-8000-000000000032\""
        );
        let at =
            NaiveDateTime::parse_from_str("2026-12-05 10:00:00.123456", "%Y-%m-%d %H:%M:%S%.f")
                .unwrap();
        let json = serde_json::to_string(&DbTime(at)).unwrap();
        assert_eq!(json, serde_json::to_string(&at).unwrap());
        assert_eq!(serde_json::from_str::<DbTime>(&json).unwrap(), DbTime(at));
    }
}
