//! The delivery queue and the attempts (docs/operations.md, "Webhook and email delivery").
//!
//! What the database decides, in any number of processes:
//! - each change's deliveries are made once: `enqueue` moves the one dispatch position with
//!   `UPDATE … WHERE position = <where the worker read>` in the transaction that inserts them;
//! - one worker at a time per delivery: `claim_due` sets a claim and its lease with an `UPDATE`
//!   conditional on the delivery still being free, so of two claimers one gets it;
//! - an attempt is stored only while its claim holds, under the webhook's advisory lock
//!   (PostgreSQL), so that disabling a webhook and recording its other deliveries' attempts do not
//!   deadlock.
//!
//! Claims are in [`claims`], endpoint verification in [`verification`]; rows, enqueueing,
//! attempts and the purge here.

mod claims;
mod verification;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::changes::{ChangeId, ChangeKind};
use domain::ports::PortError;
use domain::webhooks::delivery::{
    Attempt, AttemptRecord, CircuitBreaker, ClaimKind, ClaimShares, ClaimedDelivery, ClaimedTarget,
    DeliveryTarget, NewDelivery, Verdict,
};
use domain::webhooks::ports::DeliveryQueue;
use domain::webhooks::{DisableReason, PendingVerification, VerificationOutcome, Webhook};
use domain::{AttemptId, DeliveryId, Email, UserId};

use crate::db::{
    insert_rows, port_error, write_transaction, AnyConnection, Bind, Database, Row, INSERT_CHUNK,
};
use crate::rows::{from_db_time, to_db_time};
use crate::schema::{change_payloads, deliveries, delivery_attempts, delivery_dispatch, webhooks};
use crate::sql_types::{DbId, DbTime};
use crate::webhooks::WebhookRow;

const PENDING: &str = "pending";
const DELIVERED: &str = "delivered";
const FAILED: &str = "failed";

/// A delivery to insert.
struct DeliveryInsert<'a> {
    id: DbId,
    change_id: i64,
    kind: &'static str,
    webhook_id: Option<DbId>,
    email_to: Option<&'a str>,
    payload: &'a str,
    created_at: DbTime,
}

impl Row for &DeliveryInsert<'_> {
    const SQL: &'static str = "INSERT INTO deliveries \
        (id, change_id, kind, webhook_id, email_to, payload, state, due_at, created_at) VALUES ";
    const COLUMNS: usize = 9;
    fn binds(&self) -> Vec<Bind<'_>> {
        vec![
            Bind::Id(self.id),
            Bind::BigInt(self.change_id),
            Bind::Text(self.kind),
            Bind::NullableId(self.webhook_id),
            Bind::NullableText(self.email_to),
            Bind::Text(self.payload),
            Bind::Text(PENDING),
            // Due at once.
            Bind::Moment(self.created_at),
            Bind::Moment(self.created_at),
        ]
    }
}

/// A change's payload to insert, shared by its webhook deliveries.
struct PayloadInsert<'a> {
    change_id: i64,
    payload: &'a str,
    created_at: DbTime,
}

impl Row for &PayloadInsert<'_> {
    const SQL: &'static str =
        "INSERT INTO change_payloads (change_id, payload, created_at) VALUES ";
    const COLUMNS: usize = 3;
    fn binds(&self) -> Vec<Bind<'_>> {
        vec![
            Bind::BigInt(self.change_id),
            Bind::Text(self.payload),
            Bind::Moment(self.created_at),
        ]
    }
}

/// What a webhook delivery stores as its own payload: none, it shares its change's.
const SHARED_PAYLOAD: &str = "";

/// An attempt, as `delivery_attempts` holds it.
#[derive(Queryable, Selectable, Insertable, Debug)]
#[diesel(table_name = delivery_attempts)]
pub(crate) struct AttemptRow {
    id: DbId,
    delivery_id: DbId,
    webhook_id: Option<DbId>,
    change_id: i64,
    kind: String,
    number: i32,
    attempted_at: DbTime,
    duration_ms: i32,
    status_code: Option<i32>,
    error: Option<String>,
    response_body: Option<String>,
    verdict: String,
    retry_at: Option<DbTime>,
    disabled_reason: Option<String>,
}

impl TryFrom<AttemptRow> for Attempt {
    type Error = PortError;

    fn try_from(row: AttemptRow) -> Result<Self, PortError> {
        let verdict = match (row.verdict.as_str(), row.retry_at, row.disabled_reason) {
            ("delivered", ..) => Verdict::Delivered,
            ("retry", Some(at), _) => Verdict::RetryAt(from_db_time(at)),
            ("gave_up", ..) => Verdict::GaveUp,
            ("disabled", _, Some(reason)) => Verdict::Disable(
                DisableReason::parse(&reason)
                    .ok_or_else(|| PortError::unexpected("unknown disable reason"))?,
            ),
            _ => return Err(PortError::unexpected("corrupt row: attempt verdict")),
        };
        Ok(Attempt {
            delivery: DeliveryId::from_uuid(row.delivery_id.uuid()),
            change_id: ChangeId(row.change_id),
            kind: ChangeKind::parse(&row.kind)
                .ok_or_else(|| PortError::unexpected("unknown change kind"))?,
            record: AttemptRecord {
                id: AttemptId::from_uuid(row.id.uuid()),
                number: u32::try_from(row.number).unwrap_or(0),
                at: from_db_time(row.attempted_at),
                duration_ms: u32::try_from(row.duration_ms).unwrap_or(0),
                status_code: row.status_code.and_then(|s| u16::try_from(s).ok()),
                error: row.error,
                response_body: row.response_body,
            },
            verdict,
        })
    }
}

/// The columns of a claimed delivery.
#[derive(Queryable, Selectable, Debug)]
#[diesel(table_name = deliveries)]
struct DeliveryRow {
    id: DbId,
    change_id: i64,
    kind: String,
    webhook_id: Option<DbId>,
    email_to: Option<String>,
    payload: String,
    attempts: i32,
}

fn claimed(
    claim: uuid::Uuid,
    row: DeliveryRow,
    webhook: Option<WebhookRow>,
) -> Result<ClaimedDelivery, PortError> {
    let target = match (webhook, row.email_to) {
        (Some(webhook), _) => ClaimedTarget::Webhook(Webhook::try_from(webhook)?),
        (None, Some(to)) => ClaimedTarget::Email(Email::from_stored(to)),
        // Its webhook was deleted after the claim: the cascade took the delivery too.
        (None, None) => return Err(PortError::unexpected("a claimed delivery lost its webhook")),
    };
    Ok(ClaimedDelivery {
        id: DeliveryId::from_uuid(row.id.uuid()),
        claim,
        change_id: ChangeId(row.change_id),
        kind: ChangeKind::parse(&row.kind)
            .ok_or_else(|| PortError::unexpected("unknown change kind"))?,
        attempts: u32::try_from(row.attempts).unwrap_or(0),
        payload: row.payload,
        target,
    })
}

/// The first key of the two-key advisory locks that serialize the recording of one webhook's
/// attempts (`"Hook"`), so that they share no key with the abuse counters' locks.
const WEBHOOK_LOCK_KEY: i32 = 0x486f_6f6b;

/// Takes the webhook's transaction-scoped advisory lock (PostgreSQL): every attempt of its
/// deliveries is recorded under it, and so is disabling it, which ends its other deliveries; so two
/// of them never wait for each other's rows in opposite orders. An advisory lock, not the row's
/// (`FOR NO KEY UPDATE` writes a lock to the row, and so WAL, at every delivery).
pub(crate) fn lock_webhook(conn: &mut AnyConnection, id: DbId) -> QueryResult<()> {
    if let AnyConnection::Pg(pg) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
            .bind::<diesel::sql_types::Integer, _>(WEBHOOK_LOCK_KEY)
            .bind::<diesel::sql_types::Text, _>(id.to_string())
            .execute(pg)?;
    }
    Ok(())
}

/// Disables a webhook that is not disabled yet, with `reason`, and ends its pending deliveries
/// (failed); one being attempted now finds itself ended when it records. Run under the webhook's
/// lock ([`lock_webhook`]), in the caller's transaction.
pub(crate) fn disable_webhook(
    conn: &mut AnyConnection,
    webhook: DbId,
    reason: DisableReason,
    at: DbTime,
) -> QueryResult<()> {
    diesel::update(
        webhooks::table
            .filter(webhooks::id.eq(webhook))
            .filter(webhooks::disabled_at.is_null()),
    )
    .set((
        webhooks::disabled_at.eq(at),
        webhooks::disabled_reason.eq(reason.as_str()),
    ))
    .execute(conn)?;
    diesel::update(
        deliveries::table
            .filter(deliveries::webhook_id.eq(webhook))
            .filter(deliveries::state.eq(PENDING)),
    )
    .set((
        deliveries::state.eq(FAILED),
        deliveries::due_at.eq(None::<DbTime>),
        deliveries::claim.eq(None::<DbId>),
        deliveries::lease_until.eq(None::<DbTime>),
    ))
    .execute(conn)?;
    Ok(())
}

#[async_trait]
impl DeliveryQueue for Database {
    #[tracing::instrument(skip_all)]
    async fn dispatch_position(&self) -> Result<ChangeId, PortError> {
        self.run(|conn| {
            delivery_dispatch::table
                .filter(delivery_dispatch::id.eq(1))
                .select(delivery_dispatch::position)
                .first(conn)
                .map(ChangeId)
                .map_err(port_error)
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn webhooks_of(&self, owners: &[UserId]) -> Result<Vec<Webhook>, PortError> {
        let owners: Vec<DbId> = owners.iter().copied().map(DbId::of).collect();
        self.run(move |conn| {
            let mut found = Vec::new();
            // Bounded binds per statement, whatever the number of recipients.
            for chunk in owners.chunks(INSERT_CHUNK) {
                let rows: Vec<WebhookRow> = webhooks::table
                    .filter(webhooks::owner_id.eq_any(chunk))
                    .filter(webhooks::disabled_at.is_null())
                    .select(WebhookRow::as_select())
                    .load(conn)
                    .map_err(port_error)?;
                for row in rows {
                    found.push(Webhook::try_from(row)?);
                }
            }
            Ok(found)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(from = from.0, to = to.0, count = deliveries.len()))]
    async fn enqueue(
        &self,
        from: ChangeId,
        to: ChangeId,
        deliveries: Vec<NewDelivery>,
    ) -> Result<bool, PortError> {
        // Texts are the outbox's messages (docs/operations.md, "Messages").
        let (texts, deliveries): (Vec<NewDelivery>, Vec<NewDelivery>) = deliveries
            .into_iter()
            .partition(|d| matches!(d.target, DeliveryTarget::Sms(_)));
        self.run(move |conn| {
            let rows: Vec<DeliveryInsert<'_>> = deliveries
                .iter()
                .map(|d| {
                    let (webhook_id, email_to) = match &d.target {
                        DeliveryTarget::Webhook(id) => (Some(DbId::of(*id)), None),
                        DeliveryTarget::Email(to) => (None, Some(to.as_str())),
                        DeliveryTarget::Sms(to) => (None, Some(to.as_str())),
                    };
                    DeliveryInsert {
                        id: DbId::of(d.id),
                        change_id: d.change_id.0,
                        kind: d.kind.as_str(),
                        webhook_id,
                        email_to,
                        // Every webhook delivery of a change sends the same JSON: kept once.
                        payload: if webhook_id.is_some() {
                            SHARED_PAYLOAD
                        } else {
                            &d.payload
                        },
                        created_at: to_db_time(d.created_at),
                    }
                })
                .collect();
            write_transaction(conn, |conn| {
                let moved = diesel::update(
                    delivery_dispatch::table
                        .filter(delivery_dispatch::id.eq(1))
                        .filter(delivery_dispatch::position.eq(from.0)),
                )
                .set(delivery_dispatch::position.eq(to.0))
                .execute(conn)?;
                if moved == 0 {
                    return Ok(false);
                }
                // A webhook deleted since the worker read it: its deliveries are dropped here
                // (one deleted meanwhile fails the foreign key, and the next dispatch retries).
                let targets: Vec<DbId> = rows.iter().filter_map(|r| r.webhook_id).collect();
                let mut live: Vec<DbId> = Vec::new();
                for chunk in targets.chunks(INSERT_CHUNK) {
                    live.extend(
                        webhooks::table
                            .filter(webhooks::id.eq_any(chunk))
                            .select(webhooks::id)
                            .load::<DbId>(conn)?,
                    );
                }
                let (kept, _gone): (Vec<&DeliveryInsert<'_>>, Vec<_>) = rows
                    .iter()
                    .partition(|r| r.webhook_id.is_none_or(|id| live.contains(&id)));
                // The payload of each change with a webhook delivery kept, once.
                let mut shared: Vec<PayloadInsert<'_>> = Vec::new();
                for (row, delivery) in rows.iter().zip(&deliveries) {
                    let kept = row.webhook_id.is_some_and(|id| live.contains(&id));
                    if kept && shared.last().is_none_or(|p| p.change_id != row.change_id) {
                        shared.push(PayloadInsert {
                            change_id: row.change_id,
                            payload: &delivery.payload,
                            created_at: row.created_at,
                        });
                    }
                }
                shared.sort_by_key(|p| p.change_id);
                shared.dedup_by_key(|p| p.change_id);
                let shared: Vec<&PayloadInsert<'_>> = shared.iter().collect();
                for chunk in shared.chunks(INSERT_CHUNK) {
                    insert_rows(conn, chunk)?;
                }
                // Links ride on emails and texts, never on webhooks: none is dropped above.
                let links: Vec<&domain::links::NewLink> = texts
                    .iter()
                    .chain(deliveries.iter())
                    .filter_map(|d| d.link.as_ref())
                    .collect();
                crate::links::insert(conn, &links)?;
                for text in &texts {
                    if let DeliveryTarget::Sms(to) = &text.target {
                        crate::messages::insert_text(conn, text, to)?;
                    }
                }
                for chunk in kept.chunks(INSERT_CHUNK) {
                    insert_rows(conn, chunk)?;
                }
                Ok(true)
            })
            .map_err(port_error)
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
        shares: ClaimShares,
        kind: ClaimKind,
    ) -> Result<Vec<ClaimedDelivery>, PortError> {
        let (now, lease_until) = (to_db_time(now), to_db_time(lease_until));
        let claim = uuid::Uuid::now_v7();
        let (per_target, per_owner) = (i64::from(shares.per_target), i64::from(shares.per_owner));
        self.run(move |conn| {
            claims::claim_due(
                conn,
                now,
                lease_until,
                limit,
                (per_target, per_owner),
                kind,
                claim,
            )
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn claim_verifications(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<PendingVerification>, PortError> {
        let (now, lease_until) = (to_db_time(now), to_db_time(lease_until));
        let claim = uuid::Uuid::now_v7();
        self.run(move |conn| verification::claim(conn, now, lease_until, limit, claim))
            .await
    }

    #[tracing::instrument(skip_all, fields(webhook = %claimed.webhook.id))]
    async fn record_verification(
        &self,
        claimed: &PendingVerification,
        outcome: VerificationOutcome,
    ) -> Result<bool, PortError> {
        let (id, claim) = (DbId::of(claimed.webhook.id), DbId::from(claimed.claim));
        self.run(move |conn| verification::record(conn, id, claim, outcome))
            .await
    }

    #[tracing::instrument(skip_all, fields(delivery = %delivery.id, number = attempt.number))]
    async fn record_attempt(
        &self,
        delivery: &ClaimedDelivery,
        attempt: &AttemptRecord,
        verdict: Verdict,
    ) -> Result<bool, PortError> {
        let webhook_id = match &delivery.target {
            ClaimedTarget::Webhook(webhook) => Some(DbId::of(webhook.id)),
            ClaimedTarget::Email(_) => None,
        };
        let at = to_db_time(attempt.at);
        // The breaker's pause runs from when the attempt ended.
        let attempt_end =
            attempt.at + chrono::Duration::milliseconds(i64::from(attempt.duration_ms));
        let (verdict_name, retry_at, disabled_reason) = match verdict {
            Verdict::Delivered => ("delivered", None, None),
            Verdict::RetryAt(when) => ("retry", Some(to_db_time(when)), None),
            Verdict::GaveUp => ("gave_up", None, None),
            Verdict::Disable(reason) => ("disabled", None, Some(reason.as_str().to_owned())),
        };
        let row = AttemptRow {
            id: DbId::of(attempt.id),
            delivery_id: DbId::of(delivery.id),
            webhook_id,
            change_id: delivery.change_id.0,
            kind: delivery.kind.as_str().to_owned(),
            number: i32::try_from(attempt.number).unwrap_or(i32::MAX),
            attempted_at: at,
            duration_ms: i32::try_from(attempt.duration_ms).unwrap_or(i32::MAX),
            status_code: attempt.status_code.map(i32::from),
            error: attempt.error.clone(),
            response_body: attempt.response_body.clone(),
            verdict: verdict_name.to_owned(),
            retry_at,
            disabled_reason,
        };
        let (id, claim) = (DbId::of(delivery.id), DbId::from(delivery.claim));
        self.run(move |conn| {
            write_transaction(conn, |conn| {
                if let Some(webhook) = webhook_id {
                    lock_webhook(conn, webhook)?;
                }
                let (state, due_at) = match verdict {
                    Verdict::Delivered => (DELIVERED, None),
                    Verdict::RetryAt(when) => (PENDING, Some(to_db_time(when))),
                    Verdict::GaveUp | Verdict::Disable(_) => (FAILED, None),
                };
                let ours = diesel::update(
                    deliveries::table
                        .filter(deliveries::id.eq(id))
                        .filter(deliveries::claim.eq(claim))
                        .filter(deliveries::state.eq(PENDING)),
                )
                .set((
                    deliveries::state.eq(state),
                    deliveries::due_at.eq(due_at),
                    deliveries::attempts.eq(row.number),
                    deliveries::claim.eq(None::<DbId>),
                    deliveries::lease_until.eq(None::<DbTime>),
                ))
                .execute(conn)?;
                if ours == 0 {
                    return Ok(false);
                }
                diesel::insert_into(delivery_attempts::table)
                    .values(&row)
                    .execute(conn)?;
                let Some(webhook) = webhook_id else {
                    return Ok(true);
                };
                let this = webhooks::table.filter(webhooks::id.eq(webhook));
                // The circuit breaker, under the webhook's lock: any answer closes it; one more
                // attempt without an answer may open it.
                if row.status_code.is_some() {
                    // Folded into the success's own update below; else, only when one was open.
                    if verdict != Verdict::Delivered {
                        diesel::update(this.filter(webhooks::unanswered.gt(0)))
                            .set((
                                webhooks::unanswered.eq(0),
                                webhooks::paused_until.eq(None::<DbTime>),
                            ))
                            .execute(conn)?;
                    }
                } else {
                    let (unanswered, paused): (i32, Option<DbTime>) = this
                        .select((webhooks::unanswered, webhooks::paused_until))
                        .first(conn)?;
                    // Attempts that were in flight when the breaker opened count for nothing.
                    let open = paused.is_some_and(|until| from_db_time(until) > attempt_end);
                    if !open {
                        let unanswered = unanswered.saturating_add(1);
                        let paused_until =
                            CircuitBreaker::pause(u32::try_from(unanswered).unwrap_or(0))
                                .map(|pause| to_db_time(attempt_end + pause));
                        diesel::update(this)
                            .set((
                                webhooks::unanswered.eq(unanswered),
                                webhooks::paused_until.eq(paused_until),
                            ))
                            .execute(conn)?;
                    }
                }
                if verdict == Verdict::Delivered {
                    // Only when a run of failures ends (or the breaker's): most successes write
                    // nothing here.
                    diesel::update(
                        this.filter(
                            webhooks::failing_since
                                .is_not_null()
                                .or(webhooks::unanswered.gt(0)),
                        ),
                    )
                    .set((
                        webhooks::failing_since.eq(None::<DbTime>),
                        webhooks::unanswered.eq(0),
                        webhooks::paused_until.eq(None::<DbTime>),
                    ))
                    .execute(conn)?;
                    return Ok(true);
                }
                diesel::update(this.filter(webhooks::failing_since.is_null()))
                    .set(webhooks::failing_since.eq(at))
                    .execute(conn)?;
                if let Verdict::Disable(reason) = verdict {
                    disable_webhook(conn, webhook, reason, at)?;
                }
                Ok(true)
            })
            .map_err(port_error)
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn purge_deliveries(&self, before: DateTime<Utc>, batch: u32) -> Result<u64, PortError> {
        let before = to_db_time(before);
        let batch = i64::from(batch.max(1));
        self.run(move |conn| {
            let old = diesel::alias!(deliveries as old);
            let due = old
                .filter(old.field(deliveries::state).ne(PENDING))
                .filter(old.field(deliveries::created_at).lt(before))
                .select(old.field(deliveries::id))
                .limit(batch);
            // Attempts go with them (ON DELETE CASCADE).
            let purged = diesel::delete(deliveries::table.filter(deliveries::id.eq_any(due)))
                .execute(conn)
                .map_err(port_error)?;
            // And the payloads no delivery needs any more.
            let kept = diesel::alias!(change_payloads as kept);
            let orphaned = kept
                .filter(kept.field(change_payloads::created_at).lt(before))
                .filter(diesel::dsl::not(diesel::dsl::exists(
                    deliveries::table
                        .filter(deliveries::change_id.eq(kept.field(change_payloads::change_id))),
                )))
                .select(kept.field(change_payloads::change_id))
                .limit(batch);
            diesel::delete(
                change_payloads::table.filter(change_payloads::change_id.eq_any(orphaned)),
            )
            .execute(conn)
            .map_err(port_error)?;
            Ok(purged as u64)
        })
        .await
    }
}
