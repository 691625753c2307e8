//! The idempotency key store ([`IdempotencyStore`], docs/api.md "Idempotency") in the
//! `idempotency_keys` table, shared by every process on the database.
//!
//! A claim is one write transaction: `INSERT … ON CONFLICT DO NOTHING` of an `in_flight` row, so
//! that the primary key (user, key) decides between concurrent requests (on PostgreSQL a second
//! insert waits for the first transaction and then does nothing; SQLite runs one writer at a time).
//! When a row exists, the domain's [`IdempotencyRecord::verdict`] decides: replay, in flight,
//! reused, or vacant (expired, or a dead claim's lease ran out), in which case the row is replaced
//! by an `UPDATE … WHERE claim = <the claim read>`, which matches nothing if another request
//! replaced it first; then the claim starts over. Completing and releasing are single statements
//! conditional on the claim still holding the row.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel::sql_types::BigInt;
use domain::idempotency::ports::{ClaimOutcome, IdempotencyStore, NewClaim};
use domain::idempotency::{
    ClaimId, IdempotencyKey, IdempotencyRecord, KeyState, RequestFingerprint, StoredResponse,
    Verdict,
};
use domain::ports::PortError;
use domain::UserId;

use crate::db::{port_error, write_transaction, AnyConnection, Database};
use crate::rows::{from_db_time, to_db_time};
use crate::schema::idempotency_keys;
use crate::sql_types::{DbId, DbTime, Moment};

const IN_FLIGHT: &str = "in_flight";
const COMPLETED: &str = "completed";

/// How many times a claim reads and tries to replace a row that others keep replacing before it
/// gives up with "in flight" (the client retries after a second).
const ATTEMPTS: usize = 3;

/// A stored key.
#[derive(Queryable, Selectable)]
#[diesel(table_name = idempotency_keys)]
struct KeyRow {
    user_id: DbId,
    key: String,
    fingerprint: Vec<u8>,
    claim: DbId,
    state: String,
    response_status: Option<i32>,
    response_headers: Option<String>,
    response_body: Option<Vec<u8>>,
    created_at: DbTime,
    expires_at: DbTime,
    locked_until: Option<DbTime>,
}

/// A new in-flight row, inserted or written over a vacant one (every column, NULLs included).
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = idempotency_keys, primary_key(user_id, key), treat_none_as_null = true)]
struct InFlightRow {
    user_id: DbId,
    key: String,
    fingerprint: Vec<u8>,
    claim: DbId,
    state: &'static str,
    response_status: Option<i32>,
    response_headers: Option<String>,
    response_body: Option<Vec<u8>>,
    created_at: DbTime,
    expires_at: DbTime,
    locked_until: Option<DbTime>,
}

impl From<&NewClaim> for InFlightRow {
    fn from(claim: &NewClaim) -> Self {
        Self {
            user_id: DbId::of(claim.user_id),
            key: claim.key.as_str().to_owned(),
            fingerprint: claim.fingerprint.as_bytes().to_vec(),
            claim: DbId::from(claim.claim.as_uuid()),
            state: IN_FLIGHT,
            response_status: None,
            response_headers: None,
            response_body: None,
            created_at: to_db_time(claim.now),
            expires_at: to_db_time(claim.expires_at),
            locked_until: Some(to_db_time(claim.locked_until)),
        }
    }
}

fn corrupt(what: &str) -> PortError {
    PortError::unexpected(format!("corrupt idempotency_keys row: {what}"))
}

/// Headers as stored: one `name: value` per line (header values hold no line breaks).
fn headers_to_text(headers: &[(String, String)]) -> String {
    headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\n"))
        .collect()
}

fn headers_from_text(text: &str) -> Result<Vec<(String, String)>, PortError> {
    text.lines()
        .map(|line| {
            line.split_once(": ")
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .ok_or_else(|| corrupt("response_headers"))
        })
        .collect()
}

impl TryFrom<KeyRow> for IdempotencyRecord {
    type Error = PortError;

    fn try_from(row: KeyRow) -> Result<Self, PortError> {
        let state = match (row.state.as_str(), row.locked_until) {
            (IN_FLIGHT, Some(locked_until)) => KeyState::InFlight {
                locked_until: from_db_time(locked_until),
            },
            (COMPLETED, None) => KeyState::Completed(StoredResponse {
                status: row
                    .response_status
                    .and_then(|status| u16::try_from(status).ok())
                    .ok_or_else(|| corrupt("response_status"))?,
                headers: headers_from_text(row.response_headers.as_deref().unwrap_or_default())?,
                body: row.response_body.ok_or_else(|| corrupt("response_body"))?,
            }),
            _ => return Err(corrupt("state")),
        };
        Ok(Self {
            user_id: UserId::from_uuid(row.user_id.uuid()),
            key: IdempotencyKey::from_stored(row.key),
            fingerprint: RequestFingerprint::from_bytes(
                row.fingerprint
                    .try_into()
                    .map_err(|_| corrupt("fingerprint"))?,
            ),
            claim: ClaimId::from_uuid(row.claim.uuid()),
            state,
            created_at: from_db_time(row.created_at),
            expires_at: from_db_time(row.expires_at),
        })
    }
}

/// A row that does not convert fails the transaction like a query would (then `Unexpected`).
fn record(row: KeyRow) -> QueryResult<IdempotencyRecord> {
    IdempotencyRecord::try_from(row)
        .map_err(|error| DieselError::DeserializationError(error.into()))
}

/// The claim's steps, inside one write transaction.
fn claim_in(conn: &mut AnyConnection, claim: &NewClaim) -> QueryResult<ClaimOutcome> {
    let row = InFlightRow::from(claim);
    let slot = (row.user_id, row.key.clone());
    for _ in 0..ATTEMPTS {
        let insert = diesel::insert_into(idempotency_keys::table).values(&row);
        // ON CONFLICT is not part of diesel's MultiBackend: run it on the concrete one.
        let inserted = match conn {
            AnyConnection::Pg(pg) => insert.on_conflict_do_nothing().execute(pg),
            AnyConnection::Sqlite(sqlite) => insert.on_conflict_do_nothing().execute(sqlite),
        }?;
        if inserted == 1 {
            return Ok(ClaimOutcome::Claimed);
        }
        let existing = idempotency_keys::table
            .find(slot.clone())
            .select(KeyRow::as_select())
            .first(conn)
            .optional()?;
        // Released or purged since the insert looked: insert again.
        let Some(existing) = existing else { continue };
        let seen = existing.claim;
        match record(existing)?.verdict(&claim.fingerprint, claim.now) {
            Verdict::Replay(response) => return Ok(ClaimOutcome::Replay(response)),
            Verdict::InFlight => return Ok(ClaimOutcome::InFlight),
            Verdict::Reused => return Ok(ClaimOutcome::Reused),
            Verdict::Vacant => {
                let replaced = diesel::update(
                    idempotency_keys::table
                        .find(slot.clone())
                        .filter(idempotency_keys::claim.eq(seen)),
                )
                .set(&row)
                .execute(conn)?;
                if replaced == 1 {
                    return Ok(ClaimOutcome::Claimed);
                }
            }
        }
    }
    Ok(ClaimOutcome::InFlight)
}

#[async_trait]
impl IdempotencyStore for Database {
    #[tracing::instrument(skip_all)]
    async fn claim(&self, claim: NewClaim) -> Result<ClaimOutcome, PortError> {
        self.run(move |conn| {
            write_transaction(conn, |conn| claim_in(conn, &claim)).map_err(port_error)
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn complete(
        &self,
        user_id: UserId,
        key: &IdempotencyKey,
        claim: ClaimId,
        response: StoredResponse,
    ) -> Result<bool, PortError> {
        let slot = (DbId::of(user_id), key.as_str().to_owned());
        let status = i32::from(response.status);
        let headers = headers_to_text(&response.headers);
        self.run(move |conn| {
            diesel::update(
                idempotency_keys::table
                    .find(slot)
                    .filter(idempotency_keys::claim.eq(DbId::from(claim.as_uuid())))
                    .filter(idempotency_keys::state.eq(IN_FLIGHT)),
            )
            .set((
                idempotency_keys::state.eq(COMPLETED),
                idempotency_keys::response_status.eq(Some(status)),
                idempotency_keys::response_headers.eq(Some(headers)),
                idempotency_keys::response_body.eq(Some(response.body)),
                idempotency_keys::locked_until.eq(None::<DbTime>),
            ))
            .execute(conn)
            .map(|updated| updated == 1)
            .map_err(port_error)
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn release(
        &self,
        user_id: UserId,
        key: &IdempotencyKey,
        claim: ClaimId,
    ) -> Result<(), PortError> {
        let slot = (DbId::of(user_id), key.as_str().to_owned());
        self.run(move |conn| {
            diesel::delete(
                idempotency_keys::table
                    .find(slot)
                    .filter(idempotency_keys::claim.eq(DbId::from(claim.as_uuid())))
                    .filter(idempotency_keys::state.eq(IN_FLIGHT)),
            )
            .execute(conn)
            .map(drop)
            .map_err(port_error)
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn find(
        &self,
        user_id: UserId,
        key: &IdempotencyKey,
    ) -> Result<Option<IdempotencyRecord>, PortError> {
        let slot = (DbId::of(user_id), key.as_str().to_owned());
        self.run(move |conn| {
            let row = idempotency_keys::table
                .find(slot)
                .select(KeyRow::as_select())
                .first(conn)
                .optional()
                .map_err(port_error)?;
            row.map(IdempotencyRecord::try_from).transpose()
        })
        .await
    }

    /// One short statement, found through `idempotency_keys_expires_at`. The outer `expires_at`
    /// test is there for PostgreSQL: a row that a concurrent claim replaced (no longer expired)
    /// after the subquery saw it is re-checked against the new version and kept.
    #[tracing::instrument(skip_all)]
    async fn purge_expired(&self, now: DateTime<Utc>, batch: u32) -> Result<u64, PortError> {
        let now = to_db_time(now);
        let batch = i64::from(batch.max(1));
        self.run(move |conn| {
            let sql = match conn {
                AnyConnection::Pg(_) => {
                    "DELETE FROM idempotency_keys WHERE expires_at <= $1 AND (user_id, key) IN \
                     (SELECT user_id, key FROM idempotency_keys WHERE expires_at <= $1 LIMIT $2)"
                }
                AnyConnection::Sqlite(_) => {
                    "DELETE FROM idempotency_keys WHERE expires_at <= ?1 AND (user_id, key) IN \
                     (SELECT user_id, key FROM idempotency_keys WHERE expires_at <= ?1 LIMIT ?2)"
                }
            };
            diesel::sql_query(sql)
                .bind::<Moment, _>(now)
                .bind::<BigInt, _>(batch)
                .execute(conn)
                .map(|deleted| deleted as u64)
                .map_err(port_error)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_stored_one_per_line_and_read_back_equal() {
        let headers = vec![
            ("content-type".to_owned(), "application/json".to_owned()),
            ("location".to_owned(), "/api/v1/events/1: x".to_owned()),
        ];
        let text = headers_to_text(&headers);
        assert_eq!(
            text,
            "content-type: application/json\nlocation: /api/v1/events/1: x\n"
        );
        assert_eq!(headers_from_text(&text).unwrap(), headers);
        assert_eq!(headers_from_text("").unwrap(), vec![]);
        assert!(headers_from_text("no separator").is_err());
    }
}
