//! Claiming due deliveries (docs/operations.md, "Webhook and email delivery"): fair among
//! webhooks and their owners, within each one's share of the slots, one claim per delivery.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use domain::ports::PortError;
use domain::webhooks::delivery::{ClaimKind, ClaimedDelivery};

use super::{claimed, DeliveryRow, PENDING, SHARED_PAYLOAD};
use crate::db::{port_error, write_transaction, AnyConnection};
use crate::schema::{change_payloads, deliveries, webhooks};
use crate::sql_types::{DbId, DbTime, Id, Moment};
use crate::webhooks::WebhookRow;

/// A delivery a claim may take: its id, its webhook (none for email) and the webhook's owner.
type Claimable = (DbId, Option<DbId>, Option<DbId>);

/// A due webhook delivery, with its webhook's owner.
#[derive(QueryableByName)]
struct Candidate {
    #[diesel(sql_type = Id)]
    id: DbId,
    #[diesel(sql_type = Id)]
    webhook_id: DbId,
    #[diesel(sql_type = Id)]
    owner_id: DbId,
}

/// The webhook deliveries a claim may take at `now`, up to `window`, in turns among owners: each
/// owner's oldest due first, then each one's next, and so on, among the oldest due deliveries
/// (a bounded scan of the webhooks' due index) of webhooks that are enabled, whose circuit breaker is
/// closed, and that (with their owner) have fewer than their share in flight as the statement
/// counts them, so that one owner's backlog never fills the scan; `full` and `full_owners`, as the
/// caller counted them, are left out again.
fn webhook_candidates(
    conn: &mut AnyConnection,
    now: DbTime,
    window: i64,
    (per_target, per_owner): (i64, i64),
    full: &[DbId],
    full_owners: &[DbId],
) -> QueryResult<Vec<Claimable>> {
    // How many of the oldest due deliveries the turns are taken among: 8 times the window,
    // between 64 and 2,000, so that a claim's cost follows its size, not the backlog's.
    let scan = window.saturating_mul(8).clamp(64, 2000);
    const SQL: &str = "SELECT id, webhook_id, owner_id FROM ( \
             SELECT oldest.id, oldest.webhook_id, oldest.owner_id, oldest.due_at, \
                    ROW_NUMBER() OVER (PARTITION BY oldest.owner_id \
                                       ORDER BY oldest.due_at, oldest.id) AS turn \
             FROM ( \
                 SELECT d.id, d.webhook_id, w.owner_id, d.due_at \
                 FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id \
                 WHERE d.state = 'pending' AND d.webhook_id IS NOT NULL AND d.due_at <= $1 \
                   AND (d.lease_until IS NULL OR d.lease_until <= $1) \
                   AND w.disabled_at IS NULL \
                   AND w.verified_at IS NOT NULL AND w.verify_gave_up_at IS NULL \
                   AND (w.paused_until IS NULL OR w.paused_until <= $1) \
                   AND d.webhook_id NOT IN ( \
                       SELECT busy.webhook_id FROM deliveries busy \
                       WHERE busy.claim IS NOT NULL AND busy.lease_until > $1 AND busy.state = 'pending' \
                         AND busy.webhook_id IS NOT NULL \
                       GROUP BY busy.webhook_id HAVING COUNT(*) >= $3) \
                   AND w.owner_id NOT IN ( \
                       SELECT owner.owner_id FROM deliveries busy \
                       JOIN webhooks owner ON owner.id = busy.webhook_id \
                       WHERE busy.claim IS NOT NULL AND busy.lease_until > $1 AND busy.state = 'pending' \
                       GROUP BY owner.owner_id HAVING COUNT(*) >= $4) \
                 ORDER BY d.due_at, d.id LIMIT $2) AS oldest) AS due \
         ORDER BY turn, due_at, id LIMIT $5";
    let rows: Vec<Candidate> = match conn {
        AnyConnection::Pg(pg) => diesel::sql_query(SQL)
            .bind::<Moment, _>(now)
            .bind::<BigInt, _>(scan)
            .bind::<BigInt, _>(per_target)
            .bind::<BigInt, _>(per_owner)
            .bind::<BigInt, _>(window)
            .load(pg)?,
        // SQLite numbers its parameters `?1`, `?2`.
        AnyConnection::Sqlite(sqlite) => diesel::sql_query(SQL.replace('$', "?"))
            .bind::<Moment, _>(now)
            .bind::<BigInt, _>(scan)
            .bind::<BigInt, _>(per_target)
            .bind::<BigInt, _>(per_owner)
            .bind::<BigInt, _>(window)
            .load(sqlite)?,
    };
    Ok(rows
        .into_iter()
        .filter(|row| !full.contains(&row.webhook_id) && !full_owners.contains(&row.owner_id))
        .take(usize::try_from(window).unwrap_or(usize::MAX))
        .map(|row| (row.id, Some(row.webhook_id), Some(row.owner_id)))
        .collect())
}

/// The body of `DeliveryQueue::claim_due`: up to `limit` due deliveries of `kind` under the claim
/// `claim` until `lease_until`, within the shares (in flight per webhook, per owner).
pub(super) fn claim_due(
    conn: &mut AnyConnection,
    now: DbTime,
    lease_until: DbTime,
    limit: u32,
    (per_target, per_owner): (i64, i64),
    kind: ClaimKind,
    claim: uuid::Uuid,
) -> Result<Vec<ClaimedDelivery>, PortError> {
    let (rows, hooks) = write_transaction(conn, |conn| {
        // In flight under live claims, per target (webhook id; None for email) and owner.
        // Through the index of live claims (`claim IS NOT NULL`), not the whole table.
        let busy: Vec<(Option<DbId>, i64)> = deliveries::table
            .filter(deliveries::claim.is_not_null())
            .filter(deliveries::lease_until.gt(now))
            .filter(deliveries::state.eq(PENDING))
            .group_by(deliveries::webhook_id)
            .select((deliveries::webhook_id, diesel::dsl::count_star()))
            .load(conn)?;
        let busy_hooks: Vec<DbId> = busy.iter().filter_map(|(target, _)| *target).collect();
        let owners: HashMap<DbId, DbId> = if busy_hooks.is_empty() {
            HashMap::new()
        } else {
            webhooks::table
                .filter(webhooks::id.eq_any(&busy_hooks))
                .select((webhooks::id, webhooks::owner_id))
                .load::<(DbId, DbId)>(conn)?
                .into_iter()
                .collect()
        };
        let mut room: HashMap<Option<DbId>, i64> = HashMap::new();
        let mut owner_room: HashMap<DbId, i64> = HashMap::new();
        for (target, n) in busy {
            *room.entry(target).or_insert(per_target) -= n;
            if let Some(owner) = target.and_then(|hook| owners.get(&hook)) {
                *owner_room.entry(*owner).or_insert(per_owner) -= n;
            }
        }
        let full: Vec<DbId> = room
            .iter()
            .filter(|(_, left)| **left <= 0)
            .filter_map(|(target, _)| *target)
            .collect();
        let full_owners: Vec<DbId> = owner_room
            .iter()
            .filter(|(_, left)| **left <= 0)
            .map(|(owner, _)| *owner)
            .collect();
        // A window wider than `limit`, so that a target or an owner over its share does
        // not crowd the others out of one claim.
        let window = i64::from(limit.saturating_mul(4).max(limit));
        let candidates: Vec<Claimable> = match kind {
            ClaimKind::Webhooks => webhook_candidates(
                conn,
                now,
                window,
                (per_target, per_owner),
                &full,
                &full_owners,
            )?,
            ClaimKind::Emails => {
                if room.get(&None).is_some_and(|left| *left <= 0) {
                    return Ok((Vec::new(), Vec::new()));
                }
                // The state written into the statement, not bound: a prepared statement's generic
                // plan cannot prove that a bound `state = $1` is the `deliveries_due_emails`
                // index's condition, and would scan the table instead.
                deliveries::table
                    .filter(deliveries::webhook_id.is_null())
                    .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
                        "deliveries.state = '{PENDING}'"
                    )))
                    .filter(deliveries::due_at.le(now))
                    .filter(
                        deliveries::lease_until
                            .is_null()
                            .or(deliveries::lease_until.le(now)),
                    )
                    .order((deliveries::due_at, deliveries::id))
                    .limit(window)
                    .select((deliveries::id, deliveries::webhook_id))
                    .load::<(DbId, Option<DbId>)>(conn)?
                    .into_iter()
                    .map(|(id, target)| (id, target, None))
                    .collect()
            }
        };
        let mut picked = Vec::new();
        for (id, target, owner) in candidates {
            if picked.len() >= limit as usize {
                break;
            }
            let left = room.entry(target).or_insert(per_target);
            let owner_left = owner.map(|owner| owner_room.entry(owner).or_insert(per_owner));
            if *left > 0 && owner_left.as_deref().is_none_or(|l| *l > 0) {
                *left -= 1;
                if let Some(owner_left) = owner_left {
                    *owner_left -= 1;
                }
                picked.push(id);
            }
        }
        if picked.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        // The claim: only a delivery still free becomes ours. A concurrent claimer that
        // took it first makes this match nothing (PostgreSQL re-checks the row after
        // waiting for its lock).
        diesel::update(
            deliveries::table
                .filter(deliveries::id.eq_any(&picked))
                .filter(deliveries::state.eq(PENDING))
                .filter(
                    deliveries::lease_until
                        .is_null()
                        .or(deliveries::lease_until.le(now)),
                ),
        )
        .set((
            deliveries::claim.eq(DbId::from(claim)),
            deliveries::lease_until.eq(lease_until),
        ))
        .execute(conn)?;
        // Those of the picked that are ours now, by primary key: `claim` has no index of its
        // own, and a look-up by it alone was planned from the table's statistics (with old ones,
        // a parallel scan of every live claim: 20 ms a claim).
        let mut rows: Vec<DeliveryRow> = deliveries::table
            .filter(deliveries::id.eq_any(&picked))
            .filter(deliveries::claim.eq(DbId::from(claim)))
            .order((deliveries::due_at, deliveries::id))
            .select(DeliveryRow::as_select())
            .load(conn)?;
        // Webhook deliveries send their change's payload, read once per change.
        let changes: Vec<i64> = rows
            .iter()
            .filter(|row| row.payload == SHARED_PAYLOAD)
            .map(|row| row.change_id)
            .collect();
        if !changes.is_empty() {
            let payloads: HashMap<i64, String> = change_payloads::table
                .filter(change_payloads::change_id.eq_any(&changes))
                .select((change_payloads::change_id, change_payloads::payload))
                .load::<(i64, String)>(conn)?
                .into_iter()
                .collect();
            for row in &mut rows {
                if row.payload == SHARED_PAYLOAD {
                    if let Some(payload) = payloads.get(&row.change_id) {
                        row.payload.clone_from(payload);
                    }
                }
            }
        }
        let targets: Vec<DbId> = rows.iter().filter_map(|r| r.webhook_id).collect();
        let hooks: Vec<WebhookRow> = webhooks::table
            .filter(webhooks::id.eq_any(targets))
            .select(WebhookRow::as_select())
            .load(conn)?;
        Ok((rows, hooks))
    })
    .map_err(port_error)?;
    let hooks: HashMap<DbId, WebhookRow> = hooks.into_iter().map(|h| (h.id, h)).collect();
    // One odd row never holds up the others: it is logged and left to its lease.
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let webhook = row.webhook_id.and_then(|id| hooks.get(&id)).cloned();
            let id = row.id;
            claimed(claim, row, webhook)
                .inspect_err(|error| {
                    tracing::warn!(
                        delivery = %id,
                        %error,
                        "a claimed delivery cannot be read"
                    );
                })
                .ok()
        })
        .collect())
}
