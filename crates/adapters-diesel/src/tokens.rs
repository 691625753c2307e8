//! The token repository: only digests are stored.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::accounts::ports::{NewToken, TokenHash, TokenRepository};
use domain::accounts::User;
use domain::ports::PortError;

use crate::db::{port_error, with_concrete, Database};
use crate::rows::{from_db_time, to_db_time, UserRow};
use crate::schema::{access_tokens, users};
use crate::sql_types::{DbId, DbTime};

impl Database {
    /// A good `batch` for [`Database::purge_tokens`]: rows deleted by one statement.
    pub const PURGE_BATCH: i64 = 1_000;

    /// Deletes up to `batch` tokens that can never authenticate again: those that expired before
    /// `now`, and those revoked before `revoked_before` (the caller keeps recently revoked ones for
    /// a while). Returns how many it deleted; call again while that is `batch`. One short
    /// statement, its own transaction, found through the expiry and revocation indexes. An
    /// operation, not a domain rule, hence not a port.
    ///
    /// Safe to run from several processes at once: a row another process deleted first is not
    /// deleted twice, so the calls are idempotent and their counts add up to the rows removed.
    ///
    /// # Errors
    /// [`PortError`] when the database fails; earlier batches stay deleted.
    #[tracing::instrument(skip_all)]
    pub async fn purge_tokens(
        &self,
        now: DateTime<Utc>,
        revoked_before: DateTime<Utc>,
        batch: i64,
    ) -> Result<u64, PortError> {
        let (now, revoked_before) = (to_db_time(now), to_db_time(revoked_before));
        let batch = batch.max(1);
        self.run(move |conn| {
            let candidate = diesel::alias!(access_tokens as stale);
            let stale = candidate
                .filter(
                    candidate
                        .field(access_tokens::expires_at)
                        .lt(now)
                        .or(candidate
                            .field(access_tokens::revoked_at)
                            .lt(revoked_before)),
                )
                .select(candidate.field(access_tokens::token_hash))
                .limit(batch);
            diesel::delete(access_tokens::table.filter(access_tokens::token_hash.eq_any(stale)))
                .execute(conn)
                .map(|deleted| deleted as u64)
                .map_err(port_error)
        })
        .await
    }
}

#[async_trait]
impl TokenRepository for Database {
    #[tracing::instrument(skip_all)]
    async fn store(&self, token: NewToken) -> Result<(), PortError> {
        self.run(move |conn| {
            diesel::insert_into(access_tokens::table)
                .values((
                    access_tokens::token_hash.eq(&token.hash.0),
                    access_tokens::user_id.eq(DbId::of(token.user_id)),
                    access_tokens::created_at.eq(to_db_time(token.created_at)),
                    access_tokens::expires_at.eq(to_db_time(token.expires_at)),
                ))
                .execute(conn)
                .map(drop)
                .map_err(port_error)
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn find_user(
        &self,
        hash: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, PortError> {
        if let Some(user) = self.token_cache.get(&hash.0, now) {
            return Ok(Some(user));
        }
        let hash = hash.0.clone();
        let note_position = self.reads_from_standby();
        let cache = self.token_cache.clone();
        let generation = cache.generation();
        let (user, position) = self
            .run(move |conn| {
                // Every authenticated request runs it (unless the token cache answers): on the
                // concrete connection (`with_concrete`).
                let row: Option<(UserRow, DbTime)> = with_concrete!(conn, c => access_tokens::table
                    .inner_join(users::table)
                    .filter(access_tokens::token_hash.eq(&hash))
                    .filter(access_tokens::revoked_at.is_null())
                    .filter(access_tokens::expires_at.gt(to_db_time(now)))
                    .select((UserRow::as_select(), access_tokens::expires_at))
                    .first(c)
                    .optional())
                .map_err(port_error)?;
                let row = match row {
                    Some((row, expires_at)) => {
                        let user = User::try_from(row)?;
                        cache.put(
                            generation,
                            hash,
                            user.clone(),
                            now,
                            from_db_time(expires_at),
                        );
                        Some(user)
                    }
                    None => None,
                };
                // With a standby, where the primary is now: this request's list reads may use
                // the standby once it has replayed that far (`db/replica.rs`).
                let position = match (&row, note_position) {
                    (Some(_), true) => Some(crate::db::primary_position(conn)?),
                    _ => None,
                };
                Ok::<_, PortError>((row, position))
            })
            .await?;
        if let Some(position) = position {
            crate::db::note_primary_position(position);
        }
        Ok(user)
    }

    #[tracing::instrument(skip_all)]
    async fn revoke_all(
        &self,
        user: domain::UserId,
        except: Option<TokenHash>,
        now: DateTime<Utc>,
    ) -> Result<u64, PortError> {
        let user = DbId::of(user);
        let except = except.map(|hash| hash.0).unwrap_or_default();
        let now = to_db_time(now);
        // Tokens or users change: the cache empties once the write is done, even if this caller
        // has gone by then.
        let clear = self.token_cache.clear_when_done();
        self.run(move |conn| {
            let _clear = clear;
            diesel::update(access_tokens::table)
                .filter(access_tokens::user_id.eq(user))
                .filter(access_tokens::revoked_at.is_null())
                .filter(access_tokens::expires_at.gt(now))
                .filter(access_tokens::token_hash.ne(&except))
                .set(access_tokens::revoked_at.eq(now))
                .execute(conn)
                .map(|n| n as u64)
                .map_err(port_error)
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn list_tokens(
        &self,
        user: domain::UserId,
        now: DateTime<Utc>,
    ) -> Result<Vec<domain::accounts::ports::TokenInfo>, PortError> {
        let user = DbId::of(user);
        let now = to_db_time(now);
        self.run(move |conn| {
            let rows: Vec<(crate::sql_types::DbTime, crate::sql_types::DbTime)> =
                access_tokens::table
                    .filter(access_tokens::user_id.eq(user))
                    .filter(access_tokens::revoked_at.is_null())
                    .filter(access_tokens::expires_at.gt(now))
                    .order(access_tokens::created_at)
                    .select((access_tokens::created_at, access_tokens::expires_at))
                    .load(conn)
                    .map_err(port_error)?;
            Ok(rows
                .into_iter()
                .map(|(created, expires)| domain::accounts::ports::TokenInfo {
                    created_at: crate::rows::from_db_time(created),
                    expires_at: crate::rows::from_db_time(expires),
                })
                .collect())
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn revoke(&self, hash: &TokenHash, now: DateTime<Utc>) -> Result<(), PortError> {
        let hash = hash.0.clone();
        // Tokens or users change: the cache empties once the write is done, even if this caller
        // has gone by then.
        let clear = self.token_cache.clear_when_done();
        self.run(move |conn| {
            let _clear = clear;
            diesel::update(access_tokens::table)
                .filter(access_tokens::token_hash.eq(&hash))
                .filter(access_tokens::revoked_at.is_null())
                .set(access_tokens::revoked_at.eq(to_db_time(now)))
                .execute(conn)
                .map(drop)
                .map_err(port_error)
        })
        .await
    }
}
