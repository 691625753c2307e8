//! The user repository.

use async_trait::async_trait;
use diesel::prelude::*;
use domain::accounts::ports::{CreateUserError, NewUser, PasswordHash, UserRepository};
use domain::accounts::User;
use domain::ports::PortError;
use domain::{Email, Login, Mobile};

use crate::db::{port_error, Database, UniqueConstraint};
use crate::rows::{to_db_time, UserRow};
use crate::schema::users;
use crate::sql_types::DbId;

/// `users.email` is unique (`migrations/*/up.sql`).
const EMAIL_KEY: UniqueConstraint = UniqueConstraint {
    postgres: "users_email_key",
    sqlite: "UNIQUE constraint failed: users.email",
};

/// `users.mobile` is unique (`migrations/*/up.sql`).
const MOBILE_KEY: UniqueConstraint = UniqueConstraint {
    postgres: "users_mobile_key",
    sqlite: "UNIQUE constraint failed: users.mobile",
};

#[async_trait]
impl UserRepository for Database {
    #[tracing::instrument(skip_all)]
    async fn create(&self, user: NewUser) -> Result<User, CreateUserError> {
        let row = UserRow {
            id: DbId::of(user.id),
            name: user.name.as_str().to_owned(),
            email: user.email.as_ref().map(|e| e.as_str().to_owned()),
            mobile: user.mobile.as_ref().map(|m| m.as_str().to_owned()),
            password_hash: user.password_hash.0,
            created_at: to_db_time(user.created_at),
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
    ) -> Result<Option<(User, PasswordHash)>, PortError> {
        let login = login.clone();
        self.run(move |conn| {
            let row: Option<UserRow> = {
                let query = users::table.select(UserRow::as_select()).into_boxed();
                let query = match &login {
                    Login::Email(email) => query.filter(users::email.eq(email.as_str())),
                    Login::Mobile(mobile) => query.filter(users::mobile.eq(mobile.as_str())),
                };
                query.first(conn).optional()
            }
            .map_err(port_error)?;
            row.map(|row| {
                let hash = PasswordHash(row.password_hash.clone());
                Ok((User::try_from(row)?, hash))
            })
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
                        .or(users::mobile.eq_any(&mobiles)),
                )
                .select(UserRow::as_select())
                .load(conn)
                .map_err(port_error)?;
            rows.into_iter().map(User::try_from).collect()
        })
        .await
    }
}
