//! Sending a batch of invitations: one checked insert for any number of rows, ordered against
//! answers to the same events by the event rows' locks.

use std::collections::HashSet;

use diesel::prelude::*;
use diesel::query_builder::BoxedSqlQuery;
use diesel::serialize::ToSql;
use diesel::sql_types::{HasSqlType, Nullable, Text};
use domain::changes::Change;
use domain::invitations::ports::BatchOutcome;
use domain::invitations::Invitation;
use domain::ports::PortError;
use domain::InvitationStatus;

use super::queries::details_of;
use crate::changes::{made, record};
use crate::codes::{lock_proofs_shared, release_to_owners};
use crate::db::{port_error, write_transaction, AnyConnection, Database};
use crate::rows::{from_db_time, InvitationRow};
use crate::schema::{event_members, events, invitations};
use crate::sql_types::{DbId, DbTime, Id, Moment};

impl Database {
    /// Stores the invitations that may go in and reports each one's outcome
    /// (`InvitationRepository::create_batch`).
    pub(super) async fn insert_batch(
        &self,
        invitations: &[Invitation],
    ) -> Result<Vec<BatchOutcome>, PortError> {
        let rows: Vec<InvitationRow> = invitations.iter().map(InvitationRow::from).collect();
        let Some(sent_at) = rows.iter().map(|row| row.created_at).min() else {
            return Ok(Vec::new());
        };
        let outcomes = self
            .run(move |conn| {
                let mut event_ids: Vec<DbId> = rows.iter().map(|row| row.event_id).collect();
                event_ids.sort_unstable();
                event_ids.dedup();
                let mut invitees: Vec<DbId> = rows.iter().map(|row| row.invitee_id).collect();
                invitees.sort_unstable();
                invitees.dedup();
                let mut held: Vec<String> = rows
                    .iter()
                    .filter_map(|row| row.held_contact.clone())
                    .collect();
                held.sort_unstable();
                held.dedup();
                let mut stale = 0;
                let mut sender_lost_role = false;
                let sender = rows[0].sender_id;
                // The plan (R6-R9) was made on a snapshot read before this transaction; the insert
                // checks R6, R7 and R8 again, atomically with the write (see `checked_insert_sql`
                // and `lock_events`). A row skipped because a pending invitation exists is
                // `AlreadyPending`, as the port says. A row skipped because its invitee joined the
                // event or rejected an invitation since the plan was read cannot be reported
                // truthfully with the port's two outcomes, so the batch is rolled back and reported
                // `Unavailable` (503): the client's retry plans afresh and gets the right reasons.
                let result = write_transaction(conn, |c| {
                    lock_proofs_shared(c, &held)?;
                    lock_events(c, &event_ids, false)?;
                    // The sender still manages every event of the batch, as of this transaction:
                    // a co-host removed or demoted while their send was in flight sends nothing.
                    // Role changes and removals take the event row's lock (`FOR NO KEY UPDATE`),
                    // which the lock above (`FOR SHARE`) excludes: one committed before is seen
                    // here, one after waits for the batch (SQLite's write lock does the same).
                    if managed_count(c, sender, &event_ids)? < event_ids.len() as i64 {
                        sender_lost_role = true;
                        return Err(diesel::result::Error::RollbackTransaction);
                    }
                    // Expire-on-write: the invitees' pending invitations that are dead by the
                    // batch's time become `expired` first, so that the partial unique index, which
                    // sees stored statuses, lets the new ones in (R7 counts live invitations only).
                    let expired: Vec<DbId> = diesel::update(invitations::table)
                        .filter(invitations::event_id.eq_any(&event_ids))
                        .filter(invitations::invitee_id.eq_any(&invitees))
                        .filter(invitations::status.eq_any(super::OPEN))
                        .filter(invitations::expires_at.le(sent_at))
                        .set(invitations::status.eq(InvitationStatus::Expired.as_str()))
                        .returning(invitations::id)
                        .get_results(c)?;
                    let created: Vec<ReturnedId> = match c {
                        AnyConnection::Pg(pg) => checked_insert(&rows, true).load(pg)?,
                        AnyConnection::Sqlite(sqlite) => {
                            checked_insert(&rows, false).load(sqlite)?
                        }
                    };
                    let created: HashSet<DbId> = created.into_iter().map(|r| r.id).collect();
                    if created.len() < rows.len() {
                        let skipped: Vec<DbId> = rows
                            .iter()
                            .filter(|row| !created.contains(&row.id))
                            .map(|row| row.invitee_id)
                            .collect();
                        let pending: HashSet<(DbId, DbId)> = invitations::table
                            .filter(invitations::event_id.eq_any(&event_ids))
                            .filter(invitations::invitee_id.eq_any(&skipped))
                            .filter(invitations::status.eq_any(super::LIVE))
                            .select((invitations::event_id, invitations::invitee_id))
                            .load(c)?
                            .into_iter()
                            .collect();
                        stale = rows
                            .iter()
                            .filter(|row| !created.contains(&row.id))
                            .filter(|row| !pending.contains(&(row.event_id, row.invitee_id)))
                            .count();
                        if stale > 0 {
                            return Err(diesel::result::Error::RollbackTransaction);
                        }
                    }
                    // The outbox: what expired to make room, then what was sent, in the batch's
                    // order.
                    let mut changes = Vec::with_capacity(expired.len() + created.len());
                    for details in details_of(c, &expired)? {
                        changes.push(made(Change::invitation_expired(
                            details,
                            from_db_time(sent_at),
                        ))?);
                    }
                    let sent: Vec<DbId> = rows
                        .iter()
                        .filter(|row| created.contains(&row.id))
                        .map(|row| row.id)
                        .collect();
                    for details in details_of(c, &sent)? {
                        changes.push(made(Change::invitation_created(details))?);
                    }
                    record(c, changes)?;
                    // A contact proven since the plan was read: what the batch held for it goes
                    // to its owner now, as the proof would have given it.
                    release_to_owners(c, &held, from_db_time(sent_at))?;
                    Ok(created)
                });
                let created = match result {
                    Ok(created) => created,
                    Err(diesel::result::Error::RollbackTransaction) if sender_lost_role => {
                        tracing::info!("the sender no longer manages the event; batch rolled back");
                        return Err(PortError::Unavailable(Box::new(SenderLostRole)));
                    }
                    Err(diesel::result::Error::RollbackTransaction) if stale > 0 => {
                        tracing::info!(stale, "batch planned on a stale snapshot, rolled back");
                        return Err(PortError::Unavailable(Box::new(StaleBatch(stale))));
                    }
                    Err(error) => return Err(port_error(error)),
                };
                Ok::<_, PortError>(
                    rows.iter()
                        .map(|row| {
                            if created.contains(&row.id) {
                                BatchOutcome::Created
                            } else {
                                BatchOutcome::AlreadyPending
                            }
                        })
                        .collect(),
                )
            })
            .await;
        self.changes_committed();
        outcomes
    }
}

/// The batch insert, one statement for any number of rows (9 binds a row; SQLite allows 32,766,
/// PostgreSQL 65,535). Each row goes in only if, as of this statement, its invitee is not a member
/// of the event (R6), the invitee's latest invitation to it was not rejected (R8), and no pending
/// invitation exists for the pair (R7: `ON CONFLICT DO NOTHING` / `INSERT OR IGNORE` on the
/// partial unique index `invitations_one_live`). `RETURNING id` names the rows that went in.
///
/// Rows go in ordered by (event, invitee), whatever the request's order: two batches naming the
/// same invitees in opposite orders would otherwise each hold one's index entry while waiting for
/// the other's, a deadlock on PostgreSQL. In one order, the second batch waits for the first's
/// commit on its first shared invitee and then skips them as already pending.
fn checked_insert_sql(rows: usize, postgres: bool) -> String {
    const COLUMNS: usize = 10;
    let values = (0..rows)
        .map(|row| {
            let binds = (1..=COLUMNS)
                .map(|column| {
                    if postgres {
                        format!("${}", row * COLUMNS + column)
                    } else {
                        "?".to_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join(", ");
            format!("({binds})")
        })
        .collect::<Vec<_>>()
        .join(", ");
    let (insert, on_conflict) = if postgres {
        ("INSERT", " ON CONFLICT DO NOTHING")
    } else {
        ("INSERT OR IGNORE", "")
    };
    format!(
        "WITH batch (id, event_id, sender_id, invitee_id, contact, status, created_at, message, \
                     expires_at, held_contact) \
         AS (VALUES {values}) \
         {insert} INTO invitations \
         (id, event_id, sender_id, invitee_id, contact, status, created_at, message, expires_at, \
          held_contact) \
         SELECT b.id, b.event_id, b.sender_id, b.invitee_id, b.contact, b.status, b.created_at, \
                b.message, b.expires_at, b.held_contact \
         FROM batch b \
         WHERE NOT EXISTS (SELECT 1 FROM event_members m \
                           WHERE m.event_id = b.event_id AND m.user_id = b.invitee_id) \
         AND COALESCE((SELECT i.status FROM invitations i \
                       WHERE i.event_id = b.event_id AND i.invitee_id = b.invitee_id \
                       ORDER BY i.id DESC LIMIT 1), '') <> 'rejected' \
         ORDER BY b.event_id, b.invitee_id\
         {on_conflict} RETURNING id"
    )
}

/// [`checked_insert_sql`] with the rows bound, for either backend.
fn checked_insert<'a, DB>(
    rows: &'a [InvitationRow],
    postgres: bool,
) -> BoxedSqlQuery<'a, DB, diesel::query_builder::SqlQuery>
where
    DB: diesel::backend::Backend + HasSqlType<Text> + HasSqlType<Id> + HasSqlType<Moment>,
    String: ToSql<Text, DB>,
    DbId: ToSql<Id, DB>,
    DbTime: ToSql<Moment, DB>,
    Option<String>: ToSql<Nullable<Text>, DB>,
    Option<DbTime>: ToSql<Nullable<Moment>, DB>,
{
    // Ids and times are bound with the columns' own types (on PostgreSQL `uuid`, `timestamptz`),
    // which also types the batch's VALUES list.
    rows.iter().fold(
        diesel::sql_query(checked_insert_sql(rows.len(), postgres)).into_boxed(),
        |query, row| {
            query
                .bind::<Id, _>(row.id)
                .bind::<Id, _>(row.event_id)
                .bind::<Id, _>(row.sender_id)
                .bind::<Id, _>(row.invitee_id)
                .bind::<Text, _>(&row.contact)
                .bind::<Text, _>(&row.status)
                .bind::<Moment, _>(row.created_at)
                .bind::<Nullable<Text>, _>(&row.message)
                .bind::<Nullable<Moment>, _>(row.expires_at)
                .bind::<Nullable<Text>, _>(&row.held_contact)
        },
    )
}

/// An id returned by `RETURNING id`.
#[derive(QueryableByName)]
struct ReturnedId {
    #[diesel(sql_type = Id)]
    id: DbId,
}

/// Takes the event rows' locks that order a batch against answers to the same event, on
/// PostgreSQL: sends share the lock (`FOR SHARE`: batches do not wait for each other), an answer
/// takes it exclusively (`FOR NO KEY UPDATE`). Read committed takes a new snapshot per statement,
/// so the batch's checks, run after the lock, see every answer committed before it, and no answer
/// commits between the checks and the batch's commit. SQLite needs none: `BEGIN IMMEDIATE`
/// already serializes writers.
pub(crate) fn lock_events(
    conn: &mut AnyConnection,
    event_ids: &[DbId],
    exclusive: bool,
) -> QueryResult<()> {
    let AnyConnection::Pg(pg) = conn else {
        return Ok(());
    };
    let query = events::table
        .filter(events::id.eq_any(event_ids))
        .order(events::id)
        .select(events::id);
    if exclusive {
        query.for_no_key_update().load::<DbId>(pg)?;
    } else {
        query.for_share().load::<DbId>(pg)?;
    }
    Ok(())
}

/// Whether `sender` is the owner or a co-host of every one of `event_ids` (whose rows the caller
/// has locked).
fn managed_count(conn: &mut AnyConnection, sender: DbId, event_ids: &[DbId]) -> QueryResult<i64> {
    event_members::table
        .filter(event_members::user_id.eq(sender))
        .filter(event_members::event_id.eq_any(event_ids))
        .filter(event_members::role.eq_any(crate::events::MANAGERS))
        .count()
        .get_result(conn)
}

/// Why a batch is refused as a whole: its sender stopped managing the event while it was in
/// flight. The domain reads the sender's role again and answers for it (403 or 404).
#[derive(Debug, thiserror::Error)]
#[error("the sender no longer manages the event; nothing was stored")]
struct SenderLostRole;

/// Why a batch is refused as a whole: it was planned on a snapshot that changed before its insert.
#[derive(Debug, thiserror::Error)]
#[error(
    "{0} invitation(s) of the batch were planned before their invitee joined the event or \
     rejected its latest invitation; nothing was stored, a retry plans afresh"
)]
struct StaleBatch(usize);
