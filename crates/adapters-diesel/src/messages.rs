//! The outbox of messages to people (docs/operations.md, "Messages"): codes and invitation texts,
//! claimed under a lease and attempted by the message worker of any process.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::messages::ports::{ClaimedMessage, MessageOutbox, MessageVerdict};
use domain::messages::Recipient;
use domain::ports::PortError;
use domain::webhooks::delivery::NewDelivery;
use domain::{Email, MessageId, Mobile};

use crate::db::{port_error, write_transaction, AnyConnection, Database};
use crate::rows::to_db_time;
use crate::schema::messages;
use crate::sql_types::DbId;

const PENDING: &str = "pending";

/// Stores an invitation's text (a delivery whose target is a mobile) in the outbox, due at once,
/// in the dispatching transaction; once per change and number.
pub(crate) fn insert_text(
    conn: &mut AnyConnection,
    text: &NewDelivery,
    to: &Mobile,
) -> QueryResult<()> {
    let at = to_db_time(text.created_at);
    let payload = serde_json::json!({"subject": "", "text": text.payload}).to_string();
    let already: i64 = messages::table
        .filter(messages::change_id.eq(Some(text.change_id.0)))
        .filter(messages::channel.eq("sms"))
        .filter(messages::recipient.eq(to.as_str()))
        .count()
        .get_result(conn)?;
    if already > 0 {
        return Ok(());
    }
    diesel::insert_into(messages::table)
        .values((
            messages::id.eq(DbId::of(text.id)),
            messages::channel.eq("sms"),
            messages::recipient.eq(to.as_str()),
            messages::purpose.eq("invitation"),
            messages::change_id.eq(Some(text.change_id.0)),
            messages::payload.eq(payload),
            messages::state.eq(PENDING),
            messages::due_at.eq(Some(at)),
            messages::created_at.eq(at),
        ))
        .execute(conn)
        .map(drop)
}

/// A claimed row: id, channel, recipient, payload, attempts.
type ClaimedRow = (DbId, String, String, String, i32);

/// The longest error kept with a message.
const ERROR_MAX: usize = 500;

#[async_trait]
impl MessageOutbox for Database {
    #[tracing::instrument(skip(self))]
    async fn claim_messages(
        &self,
        channels: &[&'static str],
        limit: u32,
        now: DateTime<Utc>,
        lease: chrono::Duration,
    ) -> Result<Vec<ClaimedMessage>, PortError> {
        let channels: Vec<&'static str> = channels.to_vec();
        let (lease_until, now) = (to_db_time(now + lease), to_db_time(now));
        let claim = uuid::Uuid::now_v7();
        let rows: Vec<ClaimedRow> = self
            .run(move |conn| {
                write_transaction(conn, |c| {
                    let free = messages::table
                        .filter(messages::state.eq(PENDING))
                        .filter(messages::due_at.le(now))
                        .filter(messages::channel.eq_any(&channels))
                        .filter(
                            messages::lease_until
                                .is_null()
                                .or(messages::lease_until.le(now)),
                        );
                    let picked: Vec<DbId> = free
                        .order((messages::due_at, messages::id))
                        .limit(i64::from(limit))
                        .select(messages::id)
                        .load(c)?;
                    if picked.is_empty() {
                        return Ok(Vec::new());
                    }
                    // Only a message still free becomes ours: a concurrent claimer that took it
                    // first makes this match nothing (PostgreSQL re-checks the row after waiting
                    // for its lock; SQLite runs one writer at a time).
                    diesel::update(
                        messages::table
                            .filter(messages::id.eq_any(&picked))
                            .filter(messages::state.eq(PENDING))
                            .filter(
                                messages::lease_until
                                    .is_null()
                                    .or(messages::lease_until.le(now)),
                            ),
                    )
                    .set((
                        messages::claim.eq(Some(DbId::from(claim))),
                        messages::lease_until.eq(Some(lease_until)),
                    ))
                    .execute(c)?;
                    messages::table
                        .filter(messages::claim.eq(Some(DbId::from(claim))))
                        .order((messages::due_at, messages::id))
                        .select((
                            messages::id,
                            messages::channel,
                            messages::recipient,
                            messages::payload,
                            messages::attempts,
                        ))
                        .load(c)
                })
                .map_err(port_error)
            })
            .await?;
        rows.into_iter()
            .map(|(id, channel, recipient, payload, attempts)| {
                let recipient = match channel.as_str() {
                    "email" => Recipient::Email(Email::from_stored(recipient)),
                    _ => Recipient::Sms(Mobile::from_stored(recipient)),
                };
                let payload: serde_json::Value =
                    serde_json::from_str(&payload).map_err(PortError::unexpected)?;
                let field = |name: &str| {
                    payload
                        .get(name)
                        .and_then(serde_json::Value::as_str)
                        .unwrap_or_default()
                        .to_owned()
                };
                Ok(ClaimedMessage {
                    id: MessageId::from_uuid(id.uuid()),
                    claim,
                    recipient,
                    subject: field("subject"),
                    text: field("text"),
                    attempts: u32::try_from(attempts).unwrap_or(0),
                })
            })
            .collect()
    }

    #[tracing::instrument(skip_all, fields(message_id = %message.id))]
    async fn record_message(
        &self,
        message: &ClaimedMessage,
        verdict: MessageVerdict,
        error: Option<String>,
    ) -> Result<bool, PortError> {
        let id = DbId::of(message.id);
        let claim = DbId::from(message.claim);
        let error = error.map(|e| e.chars().take(ERROR_MAX).collect::<String>());
        let (state, due_at) = match verdict {
            MessageVerdict::Sent => ("sent", None),
            MessageVerdict::Failed => ("failed", None),
            MessageVerdict::RetryAt(at) => (PENDING, Some(to_db_time(at))),
        };
        self.run(move |conn| {
            let updated = diesel::update(
                messages::table
                    .filter(messages::id.eq(id))
                    .filter(messages::claim.eq(Some(claim))),
            )
            .set((
                messages::state.eq(state),
                messages::due_at.eq(due_at),
                messages::attempts.eq(messages::attempts + 1),
                messages::claim.eq(None::<DbId>),
                messages::lease_until.eq(None::<crate::sql_types::DbTime>),
                messages::last_error.eq(&error),
            ))
            .execute(conn)
            .map_err(port_error)?;
            if updated == 1 && state != PENDING {
                // A code is kept no longer than it takes to send it.
                diesel::update(
                    messages::table
                        .filter(messages::id.eq(id))
                        .filter(messages::purpose.eq("code")),
                )
                .set(messages::payload.eq(r#"{"subject":"","text":""}"#))
                .execute(conn)
                .map_err(port_error)?;
            }
            Ok(updated == 1)
        })
        .await
    }

    #[tracing::instrument(skip(self))]
    async fn purge_messages(&self, before: DateTime<Utc>, batch: u32) -> Result<u64, PortError> {
        let before = to_db_time(before);
        self.run(move |conn| {
            let old: Vec<DbId> = messages::table
                .filter(messages::state.ne(PENDING))
                .filter(messages::created_at.lt(before))
                .order(messages::created_at)
                .limit(i64::from(batch))
                .select(messages::id)
                .load(conn)
                .map_err(port_error)?;
            diesel::delete(messages::table.filter(messages::id.eq_any(&old)))
                .execute(conn)
                .map(|n| n as u64)
                .map_err(port_error)
        })
        .await
    }
}
