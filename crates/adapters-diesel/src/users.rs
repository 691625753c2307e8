//! The user repository: accounts and their contacts, proven or claimed (docs/api.md, "Proving
//! contacts").

use async_trait::async_trait;
use diesel::prelude::*;
use domain::accounts::ports::{CreateUserError, NewUser, PasswordHash, UserRepository};
use domain::accounts::User;
use domain::ports::PortError;
use domain::{Email, Login, Mobile, UserId};

use crate::db::{port_error, Database, UniqueConstraint};
use crate::rows::{to_db_time, UserRow};
use crate::schema::users;
use crate::sql_types::DbId;

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
