//! The user repository: accounts and their contacts, proven or claimed (docs/api.md, "Proving
//! contacts").

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::accounts::ports::{CreateUserError, NewUser, PasswordHash, UserRepository};
use domain::accounts::{Channel, Locale, User};
use domain::ports::PortError;
use domain::{Contact, Email, Login, Mobile, Text, UserId};

use crate::db::{port_error, write_transaction, Database, UniqueConstraint};
use crate::rows::{to_db_time, UserRow};
use crate::schema::{access_tokens, contact_codes, users};
use crate::sql_types::{DbId, DbTime};

/// A proven `users.email` is unique (`migrations/*/…_proven_contacts/up.sql`).
const EMAIL_KEY: UniqueConstraint = UniqueConstraint {
    postgres: "users_proven_email",
    sqlite: "UNIQUE constraint failed: users.email",
};

/// A proven `users.mobile` is unique.
const MOBILE_KEY: UniqueConstraint = UniqueConstraint {
    postgres: "users_proven_mobile",
    sqlite: "UNIQUE constraint failed: users.mobile",
};

/// The most accounts a password login tries for one unproven login.
const CLAIMANTS_TRIED: i64 = 10;

#[async_trait]
impl UserRepository for Database {
    #[tracing::instrument(skip_all)]
    async fn create(&self, user: NewUser) -> Result<User, CreateUserError> {
        let created_at = to_db_time(user.created_at);
        let proof = |has: bool| (user.proven && has).then_some(created_at);
        let row = UserRow {
            id: DbId::of(user.id),
            name: user.name.as_str().to_owned(),
            email_verified_at: proof(user.email.is_some()),
            mobile_verified_at: proof(user.mobile.is_some()),
            email: user.email.as_ref().map(|e| e.as_str().to_owned()),
            mobile: user.mobile.as_ref().map(|m| m.as_str().to_owned()),
            password_hash: user.password_hash.map(|hash| hash.0),
            created_at,
            pending_email: None,
            pending_mobile: None,
            locale: user.locale.as_str().to_owned(),
        };
        self.run(
            move |conn| match diesel::insert_into(users::table).values(&row).execute(conn) {
                Ok(_) => Ok(User::try_from(row)?),
                Err(error) if EMAIL_KEY.violated_by(&error) => Err(CreateUserError::EmailTaken),
                Err(error) if MOBILE_KEY.violated_by(&error) => Err(CreateUserError::MobileTaken),
                Err(error) => Err(CreateUserError::Port(port_error(error))),
            },
        )
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn find_credentials(
        &self,
        login: &Login,
    ) -> Result<Vec<(User, Option<PasswordHash>)>, PortError> {
        let login = login.clone();
        self.run(move |conn| {
            let query = users::table
                .select(UserRow::as_select())
                .limit(CLAIMANTS_TRIED)
                .into_boxed();
            // The owner first, whatever the claimants' number and age (claimants made while
            // proofs were required are older than an owner made with them off): it must not fall
            // past the limit.
            let query = match &login {
                Login::Email(email) => query.filter(users::email.eq(email.as_str())).order((
                    users::email_verified_at.is_null().asc(),
                    users::created_at.asc(),
                    users::id.asc(),
                )),
                Login::Mobile(mobile) => query.filter(users::mobile.eq(mobile.as_str())).order((
                    users::mobile_verified_at.is_null().asc(),
                    users::created_at.asc(),
                    users::id.asc(),
                )),
            };
            let rows: Vec<UserRow> = query.load(conn).map_err(port_error)?;
            // Its owner alone, when someone proved it.
            let proven = |row: &UserRow| match &login {
                Login::Email(_) => row.email_verified_at.is_some(),
                Login::Mobile(_) => row.mobile_verified_at.is_some(),
            };
            let rows: Vec<UserRow> = match rows.iter().find(|row| proven(row)) {
                Some(owner) => vec![owner.clone()],
                None => rows,
            };
            rows.into_iter()
                .map(|row| {
                    let hash = row.password_hash.clone().map(PasswordHash);
                    Ok((User::try_from(row)?, hash))
                })
                .collect()
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, PortError> {
        self.run(move |conn| {
            users::table
                .find(DbId::of(id))
                .select(UserRow::as_select())
                .first(conn)
                .optional()
                .map_err(port_error)?
                .map(User::try_from)
                .transpose()
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn set_password(&self, id: UserId, hash: Option<PasswordHash>) -> Result<(), PortError> {
        let hash = hash.map(|hash| hash.0);
        // Tokens or users change: the cache empties once the write is done, even if this caller
        // has gone by then.
        let clear = self.token_cache.clear_when_done();
        self.run(move |conn| {
            let _clear = clear;
            diesel::update(users::table.find(DbId::of(id)))
                .set(users::password_hash.eq(hash))
                .execute(conn)
                .map(drop)
                .map_err(port_error)
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn update_profile(
        &self,
        id: UserId,
        name: Option<Text>,
        locale: Option<Locale>,
    ) -> Result<User, PortError> {
        let name = name.map(Text::into_string);
        let locale = locale.map(Locale::as_str);
        // Tokens or users change: the cache empties once the write is done, even if this caller
        // has gone by then.
        let clear = self.token_cache.clear_when_done();
        self.run(move |conn| {
            let _clear = clear;
            write_transaction(conn, |c| {
                if let Some(name) = &name {
                    diesel::update(users::table.find(DbId::of(id)))
                        .set(users::name.eq(name))
                        .execute(c)?;
                }
                if let Some(locale) = locale {
                    diesel::update(users::table.find(DbId::of(id)))
                        .set(users::locale.eq(locale))
                        .execute(c)?;
                }
                users::table
                    .find(DbId::of(id))
                    .select(UserRow::as_select())
                    .first(c)
            })
            .map_err(port_error)
            .and_then(User::try_from)
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn set_contact(
        &self,
        id: UserId,
        contact: Contact,
        proven_at: Option<DateTime<Utc>>,
    ) -> Result<User, CreateUserError> {
        let me = DbId::of(id);
        let text = domain::accounts::contact_key(&contact).to_owned();
        let email = matches!(contact, Contact::Email(_));
        let proven_at = proven_at.map(to_db_time);
        // Tokens or users change: the cache empties once the write is done, even if this caller
        // has gone by then.
        let clear = self.token_cache.clear_when_done();
        self.run(move |conn| {
            let _clear = clear;
            let outcome = write_transaction(conn, |c| {
                let row: UserRow = users::table
                    .find(me)
                    .select(UserRow::as_select())
                    .first(c)?;
                let purpose = if email { "email" } else { "mobile" };
                diesel::delete(
                    contact_codes::table
                        .filter(contact_codes::user_id.eq(me))
                        .filter(contact_codes::purpose.eq(purpose)),
                )
                .execute(c)?;
                let target = users::table.find(me);
                match (email, proven_at) {
                    (true, Some(at)) => diesel::update(target)
                        .set((
                            users::email.eq(&text),
                            users::email_verified_at.eq(at),
                            users::pending_email.eq(None::<String>),
                        ))
                        .execute(c)?,
                    (false, Some(at)) => diesel::update(target)
                        .set((
                            users::mobile.eq(&text),
                            users::mobile_verified_at.eq(at),
                            users::pending_mobile.eq(None::<String>),
                        ))
                        .execute(c)?,
                    (true, None) if row.email_verified_at.is_some() => diesel::update(target)
                        .set(users::pending_email.eq(&text))
                        .execute(c)?,
                    (false, None) if row.mobile_verified_at.is_some() => diesel::update(target)
                        .set(users::pending_mobile.eq(&text))
                        .execute(c)?,
                    (true, None) => diesel::update(target)
                        .set((
                            users::email.eq(&text),
                            users::pending_email.eq(None::<String>),
                        ))
                        .execute(c)?,
                    (false, None) => diesel::update(target)
                        .set((
                            users::mobile.eq(&text),
                            users::pending_mobile.eq(None::<String>),
                        ))
                        .execute(c)?,
                };
                users::table.find(me).select(UserRow::as_select()).first(c)
            });
            match outcome {
                Ok(row) => Ok(User::try_from(row)?),
                Err(error) if EMAIL_KEY.violated_by(&error) => Err(CreateUserError::EmailTaken),
                Err(error) if MOBILE_KEY.violated_by(&error) => Err(CreateUserError::MobileTaken),
                Err(error) => Err(CreateUserError::Port(port_error(error))),
            }
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn remove_contact(&self, id: UserId, channel: Channel) -> Result<User, PortError> {
        let me = DbId::of(id);
        // Tokens or users change: the cache empties once the write is done, even if this caller
        // has gone by then.
        let clear = self.token_cache.clear_when_done();
        self.run(move |conn| {
            let _clear = clear;
            write_transaction(conn, |c| {
                let target = users::table.find(me);
                match channel {
                    Channel::Email => diesel::update(target)
                        .set((
                            users::email.eq(None::<String>),
                            users::email_verified_at.eq(None::<DbTime>),
                            users::pending_email.eq(None::<String>),
                        ))
                        .execute(c)?,
                    Channel::Mobile => diesel::update(target)
                        .set((
                            users::mobile.eq(None::<String>),
                            users::mobile_verified_at.eq(None::<DbTime>),
                            users::pending_mobile.eq(None::<String>),
                        ))
                        .execute(c)?,
                };
                diesel::delete(
                    contact_codes::table
                        .filter(contact_codes::user_id.eq(me))
                        .filter(contact_codes::purpose.eq(channel.as_str())),
                )
                .execute(c)?;
                users::table.find(me).select(UserRow::as_select()).first(c)
            })
            .map_err(port_error)
            .and_then(User::try_from)
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn erase(&self, id: UserId, now: DateTime<Utc>) -> Result<(), PortError> {
        let me = DbId::of(id);
        let now = to_db_time(now);
        // Tokens or users change: the cache empties once the write is done, even if this caller
        // has gone by then.
        let clear = self.token_cache.clear_when_done();
        self.run(move |conn| {
            let _clear = clear;
            write_transaction(conn, |c| {
                diesel::update(users::table.find(me))
                    .set((
                        users::name.eq(User::ERASED_NAME),
                        users::email.eq(None::<String>),
                        users::email_verified_at.eq(None::<DbTime>),
                        users::pending_email.eq(None::<String>),
                        users::mobile.eq(None::<String>),
                        users::mobile_verified_at.eq(None::<DbTime>),
                        users::pending_mobile.eq(None::<String>),
                        users::password_hash.eq(None::<String>),
                        users::erased_at.eq(Some(now)),
                    ))
                    .execute(c)?;
                diesel::delete(contact_codes::table.filter(contact_codes::user_id.eq(me)))
                    .execute(c)?;
                diesel::update(access_tokens::table)
                    .filter(access_tokens::user_id.eq(me))
                    .filter(access_tokens::revoked_at.is_null())
                    .set(access_tokens::revoked_at.eq(now))
                    .execute(c)
                    .map(drop)
            })
            .map_err(port_error)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(emails = emails.len(), mobiles = mobiles.len()))]
    async fn find_by_contacts(
        &self,
        emails: &[Email],
        mobiles: &[Mobile],
    ) -> Result<Vec<User>, PortError> {
        let emails: Vec<String> = emails.iter().map(|e| e.as_str().to_owned()).collect();
        let mobiles: Vec<String> = mobiles.iter().map(|m| m.as_str().to_owned()).collect();
        self.run(move |conn| {
            let rows: Vec<UserRow> = users::table
                .filter(
                    users::email
                        .eq_any(&emails)
                        .or(users::mobile.eq_any(&mobiles))
                        .or(users::pending_email.eq_any(&emails))
                        .or(users::pending_mobile.eq_any(&mobiles)),
                )
                .select(UserRow::as_select())
                .load(conn)
                .map_err(port_error)?;
            rows.into_iter().map(User::try_from).collect()
        })
        .await
    }
}
