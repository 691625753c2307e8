//! Webhooks (docs/api.md, "Webhooks"): registered, listed, found and deleted by their owner, with
//! the list of their deliveries' attempts. At most `Webhook::MAX_PER_USER` webhooks per owner, in
//! any number of processes: creations count and insert under the owner's row lock (PostgreSQL;
//! `BEGIN IMMEDIATE` on SQLite). Their deliveries are `crate::deliveries`'.

use async_trait::async_trait;
use diesel::prelude::*;
use domain::changes::{ChangeId, ChangeKind};
use domain::ports::PortError;
use domain::webhooks::delivery::Attempt;
use domain::webhooks::ports::{StoreWebhookError, WebhookRepository};
use domain::webhooks::{
    DisableReason, Disabled, Webhook, WebhookEvents, WebhookSecret, WebhookUrl,
};
use domain::{Page, PageRequest, UserId, WebhookId};

use crate::db::{port_error, write_transaction, AnyConnection, Database};
use crate::deliveries::AttemptRow;
use crate::rows::{from_db_time, to_db_time};
use crate::schema::{delivery_attempts, users, webhooks};
use crate::sql_types::{DbId, DbTime};

/// A webhook, as `webhooks` holds it.
#[derive(Queryable, Selectable, Insertable, Debug, Clone)]
#[diesel(table_name = webhooks)]
pub(crate) struct WebhookRow {
    pub(crate) id: DbId,
    owner_id: DbId,
    url: String,
    events: Option<String>,
    secret: String,
    created_at: DbTime,
    starts_after: i64,
    failing_since: Option<DbTime>,
    disabled_at: Option<DbTime>,
    disabled_reason: Option<String>,
    verified_at: Option<DbTime>,
    verify_due_at: Option<DbTime>,
    verify_gave_up_at: Option<DbTime>,
}

impl From<&Webhook> for WebhookRow {
    fn from(webhook: &Webhook) -> Self {
        Self {
            id: DbId::of(webhook.id),
            owner_id: DbId::of(webhook.owner),
            url: webhook.url.as_str().to_owned(),
            events: webhook.events.kinds().map(|kinds| {
                kinds
                    .iter()
                    .map(|kind| kind.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            }),
            secret: webhook.secret.expose().to_owned(),
            created_at: to_db_time(webhook.created_at),
            starts_after: webhook.starts_after.0,
            failing_since: webhook.failing_since.map(to_db_time),
            // An endpoint that never verified is kept apart from the other reasons.
            disabled_at: webhook
                .disabled
                .filter(|d| d.reason != DisableReason::Unverified)
                .map(|d| to_db_time(d.at)),
            disabled_reason: webhook
                .disabled
                .filter(|d| d.reason != DisableReason::Unverified)
                .map(|d| d.reason.as_str().to_owned()),
            verified_at: webhook.verified_at.map(to_db_time),
            // Asked at once when registered pending.
            verify_due_at: (webhook.verified_at.is_none() && webhook.disabled.is_none())
                .then(|| to_db_time(webhook.created_at)),
            verify_gave_up_at: webhook
                .disabled
                .filter(|d| d.reason == DisableReason::Unverified)
                .map(|d| to_db_time(d.at)),
        }
    }
}

impl TryFrom<WebhookRow> for Webhook {
    type Error = PortError;

    fn try_from(row: WebhookRow) -> Result<Self, PortError> {
        let disabled = match (row.disabled_at, row.disabled_reason.as_deref()) {
            (Some(at), Some(reason)) => Some(Disabled {
                at: from_db_time(at),
                reason: DisableReason::parse(reason)
                    .ok_or_else(|| PortError::unexpected("unknown disable reason"))?,
            }),
            _ => row.verify_gave_up_at.map(|at| Disabled {
                at: from_db_time(at),
                reason: DisableReason::Unverified,
            }),
        };
        Ok(Webhook {
            id: WebhookId::from_uuid(row.id.uuid()),
            owner: UserId::from_uuid(row.owner_id.uuid()),
            url: WebhookUrl::from_stored(row.url),
            // Trusted as stored; a kind this version does not know is simply never sent.
            events: row.events.map_or(WebhookEvents::All, |names| {
                WebhookEvents::Only(names.split(' ').filter_map(ChangeKind::parse).collect())
            }),
            secret: WebhookSecret::from_stored(row.secret),
            created_at: from_db_time(row.created_at),
            starts_after: ChangeId(row.starts_after),
            failing_since: row.failing_since.map(from_db_time),
            disabled,
            verified_at: row.verified_at.map(from_db_time),
        })
    }
}

/// Takes the owner's row lock (PostgreSQL), so that one creation at a time counts their webhooks.
/// `FOR NO KEY UPDATE` does not hold up other transactions' foreign keys to the user.
fn lock_user(conn: &mut AnyConnection, id: DbId) -> QueryResult<bool> {
    let query = users::table.filter(users::id.eq(id)).select(users::id);
    let found: Option<DbId> = match conn {
        AnyConnection::Pg(pg) => query.for_no_key_update().first(pg).optional()?,
        conn @ AnyConnection::Sqlite(_) => query.first(conn).optional()?,
    };
    Ok(found.is_some())
}

/// The webhook's row, if it exists.
fn load_webhook(conn: &mut AnyConnection, id: DbId) -> QueryResult<Option<WebhookRow>> {
    webhooks::table
        .filter(webhooks::id.eq(id))
        .select(WebhookRow::as_select())
        .first(conn)
        .optional()
}

#[async_trait]
impl WebhookRepository for Database {
    #[tracing::instrument(skip_all)]
    async fn create_webhook(&self, webhook: &Webhook) -> Result<(), StoreWebhookError> {
        let row = WebhookRow::from(webhook);
        self.run(move |conn| {
            write_transaction(conn, |conn| {
                if !lock_user(conn, row.owner_id)? {
                    return Err(diesel::result::Error::NotFound);
                }
                let owned: i64 = webhooks::table
                    .filter(webhooks::owner_id.eq(row.owner_id))
                    .count()
                    .get_result(conn)?;
                if owned >= i64::from(Webhook::MAX_PER_USER) {
                    return Ok(false);
                }
                diesel::insert_into(webhooks::table)
                    .values(&row)
                    .execute(conn)?;
                Ok(true)
            })
            .map_err(|e| match e {
                diesel::result::Error::NotFound => {
                    StoreWebhookError::Port(PortError::unexpected("a webhook of an unknown user"))
                }
                e => StoreWebhookError::Port(port_error(e)),
            })?
            .then_some(())
            .ok_or(StoreWebhookError::TooMany)
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn list_webhooks(
        &self,
        owner: UserId,
        page: PageRequest,
    ) -> Result<Page<Webhook>, PortError> {
        let owner = DbId::of(owner);
        self.run(move |conn| {
            let mut query = webhooks::table
                .filter(webhooks::owner_id.eq(owner))
                .into_boxed();
            if let Some(after) = page.after {
                query = query.filter(webhooks::id.lt(DbId::from(after)));
            }
            let rows: Vec<WebhookRow> = query
                .order(webhooks::id.desc())
                .limit(i64::from(page.limit.get()) + 1)
                .select(WebhookRow::as_select())
                .load(conn)
                .map_err(port_error)?;
            let webhooks = rows
                .into_iter()
                .map(Webhook::try_from)
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Page::from_overfetched(webhooks, page.limit, |w| {
                w.id.as_uuid()
            }))
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn find_webhook(&self, id: WebhookId) -> Result<Option<Webhook>, PortError> {
        let id = DbId::of(id);
        self.run(move |conn| {
            load_webhook(conn, id)
                .map_err(port_error)?
                .map(Webhook::try_from)
                .transpose()
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn restart_verification(
        &self,
        id: WebhookId,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<Webhook>, PortError> {
        let (id, now) = (DbId::of(id), to_db_time(now));
        self.run(move |conn| {
            write_transaction(conn, |conn| {
                // Pending, or given up (`unverified`); not while a claim on it holds.
                diesel::update(
                    webhooks::table
                        .filter(webhooks::id.eq(id))
                        .filter(webhooks::verified_at.is_null())
                        .filter(webhooks::disabled_at.is_null())
                        .filter(
                            webhooks::verify_lease_until
                                .is_null()
                                .or(webhooks::verify_lease_until.le(now)),
                        ),
                )
                .set((
                    webhooks::verify_due_at.eq(Some(now)),
                    webhooks::verify_attempts.eq(0),
                    webhooks::verify_claim.eq(None::<DbId>),
                    webhooks::verify_lease_until.eq(None::<DbTime>),
                    webhooks::verify_gave_up_at.eq(None::<DbTime>),
                ))
                .execute(conn)?;
                load_webhook(conn, id)
            })
            .map_err(port_error)?
            .map(Webhook::try_from)
            .transpose()
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn delete_webhook(&self, id: WebhookId) -> Result<bool, PortError> {
        let id = DbId::of(id);
        self.run(move |conn| {
            // Deliveries and attempts go with it (ON DELETE CASCADE).
            diesel::delete(webhooks::table.filter(webhooks::id.eq(id)))
                .execute(conn)
                .map(|deleted| deleted > 0)
                .map_err(port_error)
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn list_attempts(
        &self,
        webhook: WebhookId,
        page: PageRequest,
    ) -> Result<Page<Attempt>, PortError> {
        let webhook = DbId::of(webhook);
        self.run(move |conn| {
            let mut query = delivery_attempts::table
                .filter(delivery_attempts::webhook_id.eq(webhook))
                .into_boxed();
            if let Some(after) = page.after {
                query = query.filter(delivery_attempts::id.lt(DbId::from(after)));
            }
            let rows: Vec<AttemptRow> = query
                .order(delivery_attempts::id.desc())
                .limit(i64::from(page.limit.get()) + 1)
                .select(AttemptRow::as_select())
                .load(conn)
                .map_err(port_error)?;
            let attempts = rows
                .into_iter()
                .map(Attempt::try_from)
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Page::from_overfetched(attempts, page.limit, |a| {
                a.record.id.as_uuid()
            }))
        })
        .await
    }
}
