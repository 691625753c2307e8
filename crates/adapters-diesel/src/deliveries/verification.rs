//! Claiming webhooks whose endpoint is due to be asked to verify, and recording the answer
//! (docs/api.md, "Verifying an endpoint").

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use domain::ports::PortError;
use domain::webhooks::{PendingVerification, VerificationOutcome, Webhook};

use crate::db::{port_error, write_transaction, AnyConnection};
use crate::rows::to_db_time;
use crate::schema::webhooks;
use crate::sql_types::{DbId, DbTime};
use crate::webhooks::WebhookRow;

/// The body of `DeliveryQueue::claim_verifications`: up to `limit` webhooks due to be asked,
/// under the claim `claim` until `lease_until`.
pub(super) fn claim(
    conn: &mut AnyConnection,
    now: DbTime,
    lease_until: DbTime,
    limit: u32,
    claim: uuid::Uuid,
) -> Result<Vec<PendingVerification>, PortError> {
    let rows = write_transaction(conn, |conn| {
        let free = || {
            webhooks::verify_lease_until
                .is_null()
                .or(webhooks::verify_lease_until.le(now))
        };
        let due: Vec<DbId> = webhooks::table
            .filter(webhooks::verify_due_at.le(now))
            .filter(webhooks::verified_at.is_null())
            .filter(webhooks::disabled_at.is_null())
            .filter(free())
            .order(webhooks::verify_due_at)
            .limit(i64::from(limit))
            .select(webhooks::id)
            .load(conn)?;
        if due.is_empty() {
            return Ok(Vec::new());
        }
        // Only one still free becomes ours (as deliveries' claims).
        diesel::update(
            webhooks::table
                .filter(webhooks::id.eq_any(&due))
                .filter(webhooks::verified_at.is_null())
                .filter(free()),
        )
        .set((
            webhooks::verify_claim.eq(Some(DbId::from(claim))),
            webhooks::verify_lease_until.eq(Some(lease_until)),
        ))
        .execute(conn)?;
        webhooks::table
            .filter(webhooks::verify_claim.eq(DbId::from(claim)))
            .select((WebhookRow::as_select(), webhooks::verify_attempts))
            .load::<(WebhookRow, i32)>(conn)
    })
    .map_err(port_error)?;
    rows.into_iter()
        .map(|(row, attempts)| {
            Ok(PendingVerification {
                webhook: Webhook::try_from(row)?,
                attempts: u32::try_from(attempts).unwrap_or(0),
                claim,
            })
        })
        .collect()
}

/// The body of `DeliveryQueue::record_verification`: the outcome, if the claim still holds.
pub(super) fn record(
    conn: &mut AnyConnection,
    id: DbId,
    claim: DbId,
    outcome: VerificationOutcome,
) -> Result<bool, PortError> {
    let ours = webhooks::table
        .filter(webhooks::id.eq(id))
        .filter(webhooks::verify_claim.eq(claim))
        .filter(webhooks::verified_at.is_null());
    let released = (
        webhooks::verify_claim.eq(None::<DbId>),
        webhooks::verify_lease_until.eq(None::<DbTime>),
    );
    let changed = match outcome {
        VerificationOutcome::Verified { at, from } => diesel::update(ours)
            .set((
                released,
                webhooks::verified_at.eq(Some(to_db_time(at))),
                webhooks::verify_due_at.eq(None::<DbTime>),
                // Nothing made while it was pending is sent to it.
                // Never earlier than it was (an integer, written into the statement).
                webhooks::starts_after.eq(diesel::dsl::sql::<BigInt>(&format!(
                    "CASE WHEN starts_after > {from} THEN starts_after ELSE {from} END",
                    from = from.0
                ))),
            ))
            .execute(conn),
        VerificationOutcome::RetryAt(at) => diesel::update(ours)
            .set((
                released,
                webhooks::verify_due_at.eq(Some(to_db_time(at))),
                webhooks::verify_attempts.eq(webhooks::verify_attempts + 1),
            ))
            .execute(conn),
        VerificationOutcome::GaveUp(at) => diesel::update(ours)
            .set((
                released,
                webhooks::verify_due_at.eq(None::<DbTime>),
                webhooks::verify_gave_up_at.eq(Some(to_db_time(at))),
            ))
            .execute(conn),
    }
    .map_err(port_error)?;
    Ok(changed > 0)
}
