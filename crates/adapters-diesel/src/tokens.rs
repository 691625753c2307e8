//! The token repository: only digests are stored.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::ports::{NewToken, PortError, TokenHash, TokenRepository};
use domain::User;

use crate::db::{port_error, Database};
use crate::rows::{to_db_time, UserRow};
use crate::schema::{access_tokens, users};

#[async_trait]
impl TokenRepository for Database {
    #[tracing::instrument(skip_all)]
    async fn store(&self, token: NewToken) -> Result<(), PortError> {
        self.run(move |conn| {
            diesel::insert_into(access_tokens::table)
                .values((
                    access_tokens::token_hash.eq(&token.hash.0),
                    access_tokens::user_id.eq(token.user_id.to_string()),
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
        let hash = hash.0.clone();
        self.run(move |conn| {
            let row: Option<UserRow> = access_tokens::table
                .inner_join(users::table)
                .filter(access_tokens::token_hash.eq(&hash))
                .filter(access_tokens::revoked_at.is_null())
                .filter(access_tokens::expires_at.gt(to_db_time(now)))
                .select(UserRow::as_select())
                .first(conn)
                .optional()
                .map_err(port_error)?;
            row.map(User::try_from).transpose()
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn revoke(&self, hash: &TokenHash, now: DateTime<Utc>) -> Result<(), PortError> {
        let hash = hash.0.clone();
        self.run(move |conn| {
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
