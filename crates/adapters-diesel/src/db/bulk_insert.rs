//! Multi-row inserts: `INSERT … VALUES (…), (…)` of many rows in one statement, on either
//! backend. diesel's `MultiBackend` has no batch insert, and its SQLite batch insert sends one
//! statement per row.

use diesel::backend::Backend;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, Binary, HasSqlType, Nullable, Text};
use diesel::{QueryResult, RunQueryDsl};

use super::AnyConnection;
use crate::sql_types::{DbId, DbTime, Id, Moment};

/// Rows per multi-row insert: well under PostgreSQL's 65,535 binds and SQLite's 32,766. Also the
/// bound on ids per `IN (…)` list elsewhere.
pub(crate) const INSERT_CHUNK: usize = 2_000;

/// One bound value of a row, with its SQL type (on PostgreSQL an id is bound as `uuid` and a time
/// as `timestamptz`, the columns' own types).
pub(crate) enum Bind<'a> {
    BigInt(i64),
    Text(&'a str),
    NullableText(Option<&'a str>),
    Id(DbId),
    NullableId(Option<DbId>),
    Moment(DbTime),
    Binary(&'a [u8]),
}

/// Rows that one multi-row `INSERT` stores.
pub(crate) trait Row {
    /// `INSERT INTO table (columns…) VALUES `.
    const SQL: &'static str;
    const COLUMNS: usize;
    /// The row's values, in the order of the columns.
    fn binds(&self) -> Vec<Bind<'_>>;
}

/// `INSERT … VALUES (…), (…)` of `rows` in one statement, with each backend's placeholders
/// (`$1, $2, …` on PostgreSQL, `?` on SQLite). Callers keep `rows` within [`INSERT_CHUNK`].
pub(crate) fn insert_rows<R: Row>(conn: &mut AnyConnection, rows: &[R]) -> QueryResult<usize> {
    match conn {
        AnyConnection::Pg(pg) => bind_rows(
            diesel::sql_query(sql::<R>(rows.len(), true)).into_boxed(),
            rows,
        )
        .execute(pg),
        AnyConnection::Sqlite(sqlite) => bind_rows(
            diesel::sql_query(sql::<R>(rows.len(), false)).into_boxed(),
            rows,
        )
        .execute(sqlite),
    }
}

/// The statement for `rows` rows of `R`.
fn sql<R: Row>(rows: usize, postgres: bool) -> String {
    let mut sql = String::from(R::SQL);
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..R::COLUMNS {
            if column > 0 {
                sql.push_str(", ");
            }
            if postgres {
                sql.push_str(&format!("${}", row * R::COLUMNS + column + 1));
            } else {
                sql.push('?');
            }
        }
        sql.push(')');
    }
    sql
}

/// Binds every value of `rows`, in order, on either backend's query.
fn bind_rows<'a, DB, R: Row>(
    query: BoxedSqlQuery<'a, DB, SqlQuery>,
    rows: &'a [R],
) -> BoxedSqlQuery<'a, DB, SqlQuery>
where
    DB: Backend
        + HasSqlType<BigInt>
        + HasSqlType<Text>
        + HasSqlType<Id>
        + HasSqlType<Moment>
        + HasSqlType<Nullable<Text>>
        + HasSqlType<Nullable<Id>>
        + HasSqlType<Binary>,
    i64: ToSql<BigInt, DB>,
    str: ToSql<Text, DB>,
    Option<&'a str>: ToSql<Nullable<Text>, DB>,
    DbId: ToSql<Id, DB>,
    Option<DbId>: ToSql<Nullable<Id>, DB>,
    DbTime: ToSql<Moment, DB>,
    [u8]: ToSql<Binary, DB>,
{
    rows.iter()
        .flat_map(Row::binds)
        .fold(query, |query, bind| match bind {
            Bind::BigInt(value) => query.bind::<BigInt, _>(value),
            Bind::Text(value) => query.bind::<Text, _>(value),
            Bind::NullableText(value) => query.bind::<Nullable<Text>, _>(value),
            Bind::Id(value) => query.bind::<Id, _>(value),
            Bind::NullableId(value) => query.bind::<Nullable<Id>, _>(value),
            Bind::Moment(value) => query.bind::<Moment, _>(value),
            Bind::Binary(value) => query.bind::<Binary, _>(value),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Pair;

    impl Row for Pair {
        const SQL: &'static str = "INSERT INTO t (a, b) VALUES ";
        const COLUMNS: usize = 2;
        fn binds(&self) -> Vec<Bind<'_>> {
            vec![Bind::BigInt(1), Bind::Text("x")]
        }
    }

    #[test]
    fn each_backend_gets_its_placeholders() {
        assert_eq!(
            sql::<Pair>(2, true),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)"
        );
        assert_eq!(
            sql::<Pair>(2, false),
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)"
        );
    }
}
