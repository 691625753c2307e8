//! What the operator's commands read and change: a user's tokens, a webhook, a SQLite backup.
//!
//! `event-manager tokens`, `webhooks disable` and `backup` (docs/operations.md, "Commands"):
//! operations, not domain rules, hence methods of [`Database`] and not ports.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::ports::PortError;
use domain::webhooks::DisableReason;
use domain::{Login, UserId, WebhookId};

use crate::db::{
    port_error, write_transaction, AnyConnection, Backend, Database, DatabaseConfig, DatabaseError,
};
use crate::deliveries::{disable_webhook, lock_webhook};
use crate::rows::{from_db_time, to_db_time};
use crate::schema::{access_tokens, users, webhooks};
use crate::sql_types::{DbId, DbTime};

/// How many hex digits of a token's digest name it in [`TokenInfo::id`].
pub const TOKEN_ID_DIGITS: usize = 8;

/// Whom a command is about: a user's id, email or mobile.
#[derive(Clone, Debug)]
pub enum UserKey {
    /// By id.
    Id(UserId),
    /// By the email or mobile they log in with.
    Login(Login),
}

/// A user as the commands name them.
#[derive(Clone, Debug)]
pub struct UserInfo {
    /// Their id.
    pub id: UserId,
    /// Their email, if they have one.
    pub email: Option<String>,
    /// Their mobile, if they have one.
    pub mobile: Option<String>,
}

impl UserInfo {
    /// Their email, else their mobile, else their id: how a command's output names them.
    pub fn label(&self) -> String {
        self.email
            .clone()
            .or_else(|| self.mobile.clone())
            .unwrap_or_else(|| self.id.to_string())
    }
}

/// One access token, without its secret: only its digest is stored, and only the digest's last
/// hex digits are shown.
#[derive(Clone, Debug)]
pub struct TokenInfo {
    /// The last [`TOKEN_ID_DIGITS`] hex digits of its digest.
    pub id: String,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it stops authenticating.
    pub expires_at: DateTime<Utc>,
    /// When it was revoked (logged out), if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Which of a user's tokens to revoke.
#[derive(Clone, Debug)]
pub enum TokenSelection {
    /// Every one still live.
    All,
    /// The one whose digest ends with these hex digits (lowercase).
    Suffix(String),
}

/// Why tokens could not be revoked.
#[derive(Debug, thiserror::Error)]
pub enum RevokeTokensError {
    /// No token of the user has a digest ending with the digits given.
    #[error("the user has no token {0}")]
    NoSuchToken(String),
    /// Several of the user's tokens end with the digits given.
    #[error("{count} tokens end with {suffix}: give more digits")]
    Ambiguous {
        /// The digits given.
        suffix: String,
        /// How many match.
        count: usize,
    },
    /// The database failed.
    #[error(transparent)]
    Port(#[from] PortError),
}

/// A webhook the operator disabled.
#[derive(Clone, Debug)]
pub struct DisabledWebhook {
    /// Where its deliveries went.
    pub url: String,
    /// Whose it is.
    pub owner: UserInfo,
    /// Whether it was disabled already (then nothing changed).
    pub already: bool,
}

/// Why a backup was not made.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The database is PostgreSQL.
    #[error("backup copies SQLite databases only; for PostgreSQL use pg_dump")]
    NotSqlite,
    /// Something is at the path already.
    #[error("{0} exists already; give a new path")]
    Exists(PathBuf),
    /// The path is not UTF-8, which SQLite needs.
    #[error("the path is not UTF-8")]
    NotUtf8,
    /// The database failed.
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Why a command could not reach the database.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The SQLite file is not there (a command never creates an empty one).
    #[error("no SQLite database at {0}")]
    NoSuchFile(PathBuf),
    /// It could not be opened.
    #[error(transparent)]
    Database(#[from] DatabaseError),
}

/// The lowercase hex of a digest.
fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

fn short_id(digest: &[u8]) -> String {
    let hex = hex(digest);
    hex[hex.len().saturating_sub(TOKEN_ID_DIGITS)..].to_owned()
}

type UserInfoRow = (DbId, Option<String>, Option<String>);

fn user_info((id, email, mobile): UserInfoRow) -> UserInfo {
    UserInfo {
        id: UserId::from_uuid(id.uuid()),
        email,
        mobile,
    }
}

impl Database {
    /// Opens a pool, without migrating, on a database that exists: unlike
    /// [`Database::connect`], a SQLite file that is not there is an error, so that a command run
    /// with a mistyped `DATABASE_URL` (or from another directory) does not create an empty one.
    ///
    /// # Errors
    /// [`ConnectError::NoSuchFile`] for a missing SQLite file, [`ConnectError::Database`] when
    /// the database cannot be reached.
    pub fn connect_existing(config: &DatabaseConfig) -> Result<Self, ConnectError> {
        if config.backend() == Backend::Sqlite {
            let url = config.url.as_str();
            let path = crate::db::sqlite_path(url);
            if !Path::new(path).is_file() {
                return Err(ConnectError::NoSuchFile(PathBuf::from(path)));
            }
        }
        Ok(Self::connect(config)?)
    }

    /// The user `key` names, if there is one.
    ///
    /// # Errors
    /// [`PortError`] when the database fails.
    #[tracing::instrument(skip_all)]
    pub async fn find_user_by(&self, key: UserKey) -> Result<Option<UserInfo>, PortError> {
        self.run(move |conn| {
            let query = users::table
                .select((users::id, users::email, users::mobile))
                .into_boxed();
            let query = match &key {
                UserKey::Id(id) => query.filter(users::id.eq(DbId::of(*id))),
                UserKey::Login(Login::Email(email)) => {
                    query.filter(users::email.eq(email.as_str().to_owned()))
                }
                UserKey::Login(Login::Mobile(mobile)) => {
                    query.filter(users::mobile.eq(mobile.as_str().to_owned()))
                }
            };
            query
                .first::<UserInfoRow>(conn)
                .optional()
                .map(|row| row.map(user_info))
                .map_err(port_error)
        })
        .await
    }

    /// The user's tokens, newest first, revoked and expired ones included (until the purge deletes
    /// them).
    ///
    /// # Errors
    /// [`PortError`] when the database fails.
    #[tracing::instrument(skip_all)]
    pub async fn user_tokens(&self, user: UserId) -> Result<Vec<TokenInfo>, PortError> {
        let user = DbId::of(user);
        self.run(move |conn| {
            let rows: Vec<(Vec<u8>, DbTime, DbTime, Option<DbTime>)> = access_tokens::table
                .filter(access_tokens::user_id.eq(user))
                .order(access_tokens::created_at.desc())
                .select((
                    access_tokens::token_hash,
                    access_tokens::created_at,
                    access_tokens::expires_at,
                    access_tokens::revoked_at,
                ))
                .load(conn)
                .map_err(port_error)?;
            Ok(rows
                .into_iter()
                .map(|(digest, created, expires, revoked)| TokenInfo {
                    id: short_id(&digest),
                    created_at: from_db_time(created),
                    expires_at: from_db_time(expires),
                    revoked_at: revoked.map(from_db_time),
                })
                .collect())
        })
        .await
    }

    /// Revokes (sets `revoked_at` to `now` on) the user's selected tokens that are still live:
    /// neither revoked nor expired. Returns how many it revoked; a token already revoked or expired
    /// counts for none.
    ///
    /// # Errors
    /// [`RevokeTokensError::NoSuchToken`] when no token of the user ends with the suffix,
    /// [`RevokeTokensError::Ambiguous`] when several do (nothing is revoked then),
    /// [`RevokeTokensError::Port`] when the database fails.
    #[tracing::instrument(skip_all)]
    pub async fn revoke_user_tokens(
        &self,
        user: UserId,
        which: TokenSelection,
        now: DateTime<Utc>,
    ) -> Result<u64, RevokeTokensError> {
        let user = DbId::of(user);
        let now = to_db_time(now);
        self.run(move |conn| {
            let mut failure = None;
            let revoked = write_transaction(conn, |conn| {
                let digests: Vec<Vec<u8>> = access_tokens::table
                    .filter(access_tokens::user_id.eq(user))
                    .select(access_tokens::token_hash)
                    .load(conn)?;
                let chosen: Vec<Vec<u8>> = match &which {
                    TokenSelection::All => digests,
                    TokenSelection::Suffix(suffix) => {
                        let chosen: Vec<Vec<u8>> = digests
                            .into_iter()
                            .filter(|digest| hex(digest).ends_with(suffix.as_str()))
                            .collect();
                        match chosen.len() {
                            1 => chosen,
                            0 => {
                                failure = Some(RevokeTokensError::NoSuchToken(suffix.clone()));
                                return Ok(0);
                            }
                            count => {
                                failure = Some(RevokeTokensError::Ambiguous {
                                    suffix: suffix.clone(),
                                    count,
                                });
                                return Ok(0);
                            }
                        }
                    }
                };
                diesel::update(
                    access_tokens::table
                        .filter(access_tokens::user_id.eq(user))
                        .filter(access_tokens::token_hash.eq_any(chosen))
                        .filter(access_tokens::revoked_at.is_null())
                        .filter(access_tokens::expires_at.gt(now)),
                )
                .set(access_tokens::revoked_at.eq(now))
                .execute(conn)
            })
            .map_err(port_error)?;
            match failure {
                Some(error) => Err(error),
                None => Ok(revoked as u64),
            }
        })
        .await
    }

    /// Disables the webhook as the delivery worker does when its endpoint answers `410 Gone`: it
    /// receives nothing more, its pending deliveries end (failed), and its owner sees it
    /// `disabled` with the reason `gone` (the domain's reasons are `gone` and `failing`; an
    /// operator's choice reads as the endpoint's). Returns `None` when there is no such webhook.
    ///
    /// # Errors
    /// [`PortError`] when the database fails.
    #[tracing::instrument(skip_all)]
    pub async fn disable_webhook(
        &self,
        id: WebhookId,
        now: DateTime<Utc>,
    ) -> Result<Option<DisabledWebhook>, PortError> {
        let id = DbId::of(id);
        let now = to_db_time(now);
        self.run(move |conn| {
            write_transaction(conn, |conn| {
                lock_webhook(conn, id)?;
                let found: Option<(String, Option<DbTime>, UserInfoRow)> = webhooks::table
                    .inner_join(users::table.on(users::id.eq(webhooks::owner_id)))
                    .filter(webhooks::id.eq(id))
                    .select((
                        webhooks::url,
                        webhooks::disabled_at,
                        (users::id, users::email, users::mobile),
                    ))
                    .first(conn)
                    .optional()?;
                let Some((url, disabled_at, owner)) = found else {
                    return Ok(None);
                };
                let already = disabled_at.is_some();
                if !already {
                    disable_webhook(conn, id, DisableReason::Gone, now)?;
                }
                Ok(Some(DisabledWebhook {
                    url,
                    owner: user_info(owner),
                    already,
                }))
            })
            .map_err(port_error)
        })
        .await
    }

    /// Copies a SQLite database to `path`, a new file, with `VACUUM INTO`: a consistent snapshot
    /// taken in one read transaction, while the service keeps reading and writing (WAL). Returns
    /// the copy's size in bytes.
    ///
    /// # Errors
    /// [`BackupError::NotSqlite`] on PostgreSQL, [`BackupError::Exists`] when something is at
    /// `path`, [`BackupError::NotUtf8`] for a path SQLite cannot take, [`BackupError::Port`] when
    /// the copy fails.
    #[tracing::instrument(skip_all)]
    pub async fn backup_into(&self, path: &Path) -> Result<u64, BackupError> {
        if self.backend() != Backend::Sqlite {
            return Err(BackupError::NotSqlite);
        }
        if path.symlink_metadata().is_ok() {
            return Err(BackupError::Exists(path.to_owned()));
        }
        let target = path.to_str().ok_or(BackupError::NotUtf8)?.to_owned();
        self.run(move |conn| {
            let AnyConnection::Sqlite(sqlite) = conn else {
                return Err(BackupError::NotSqlite);
            };
            // The file name is bound, never spliced into the SQL.
            diesel::sql_query("VACUUM INTO ?")
                .bind::<diesel::sql_types::Text, _>(&target)
                .execute(sqlite)
                .map(drop)
                .map_err(|e| BackupError::Port(port_error(e)))
        })
        .await?;
        std::fs::metadata(path)
            .map(|copy| copy.len())
            .map_err(|e| BackupError::Port(PortError::unexpected(e)))
    }
}
