//! The invitation repository. The database itself keeps the rules that races could break: the
//! partial unique index `invitations_one_pending` allows one pending invitation per event and
//! invitee (docs/api.md, "Ignore reasons": `already_invited`), and a batch first marks its
//! invitees' dead (expired) pending invitations `expired` so that they never hold it; answering,
//! cancelling, resending and expiring are updates conditional on the invitation still being pending
//! and live, so that of racing changes one wins and an invitation is answered once and never both
//! accepted and cancelled (docs/api.md, "Invitation lifecycle"); and a batch re-checks "not a
//! member" and "latest invitation not rejected" inside its insert, ordered against answers by the
//! event row's lock (`checked_insert_sql`, `lock_events`).

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::dsl;
use diesel::prelude::*;
use diesel::query_builder::BoxedSqlQuery;
use diesel::serialize::ToSql;
use diesel::sql_types::{HasSqlType, Nullable, Text};
use domain::changes::Change;
use domain::invitations::status_at;
use domain::ports::{
    BatchOutcome, InvitationFilter, InvitationRepository, PortError, SaveInvitationError,
};
use domain::{
    Answer, EventId, EventRef, Invitation, InvitationDetails, InvitationId, InvitationState,
    InvitationStatus, InviteeState, Member, MemberId, NotPending, Page, PageRequest, Role, UserId,
};

use crate::changes::{made, record};
use crate::db::{port_error, with_concrete, write_transaction, AnyConnection, Database};
use crate::rows::{
    from_db_time, invitation_details, to_db_time, InvitationDetailsRow, InvitationRow, MemberRow,
};
use crate::schema::{event_members, events, invitations, users};
use crate::sql_types::{DbId, DbTime, Id, Moment};

/// Whose list: a party's invitations, or an event's.
#[derive(Clone, Copy)]
enum Party {
    Sender(UserId),
    Invitee(UserId),
    Event(EventId),
}

/// Selects invitations with their event title and both parties, as a boxed query. A macro only
/// because the type of a join through two aliases of `users` is unwieldy to write out.
macro_rules! details_query {
    () => {{
        let (sender, invitee) = diesel::alias!(users as sender, users as invitee);
        invitations::table
            .inner_join(events::table)
            .inner_join(sender.on(sender.field(users::id).eq(invitations::sender_id)))
            .inner_join(invitee.on(invitee.field(users::id).eq(invitations::invitee_id)))
            .select((
                InvitationRow::as_select(),
                events::title,
                (sender.field(users::id), sender.field(users::name)),
                (invitee.field(users::id), invitee.field(users::name)),
            ))
            .into_boxed()
    }};
}

/// The invitations `ids` with their event titles and parties, read in the caller's transaction,
/// in the order of `ids`: what the changes of a write are made of.
pub(crate) fn details_of(
    conn: &mut AnyConnection,
    ids: &[DbId],
) -> QueryResult<Vec<InvitationDetails>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<InvitationDetailsRow> = details_query!()
        .filter(invitations::id.eq_any(ids))
        .load(conn)?;
    let mut by_id: HashMap<DbId, InvitationDetails> = HashMap::with_capacity(rows.len());
    for row in rows {
        let id = row.0.id;
        let details = invitation_details(row)
            .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
        by_id.insert(id, details);
    }
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// The changes of an answer, a cancel or a resend of the invitation `id`, made of the row as the
/// write left it.
fn record_one(
    conn: &mut AnyConnection,
    id: DbId,
    make: fn(InvitationDetails) -> Result<Change, domain::changes::ChangeMismatch>,
    also: impl FnOnce(&InvitationDetails) -> Option<Change>,
) -> QueryResult<()> {
    let Some(details) = details_of(conn, &[id])?.pop() else {
        return Err(diesel::result::Error::NotFound);
    };
    let extra = also(&details);
    let mut changes = vec![made(make(details))?];
    changes.extend(extra);
    record(conn, changes)
}

impl Database {
    async fn list(
        &self,
        party: Party,
        filter: InvitationFilter,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<InvitationDetails>, PortError> {
        let status = filter.status.status();
        let event_id = match party {
            Party::Event(_) => None,
            Party::Sender(_) | Party::Invitee(_) => filter.event_id.map(DbId::of),
        };
        let after = page.after.map(DbId::from);
        let fetch = i64::from(page.limit.get()) + 1;
        let now = to_db_time(now);
        self.run(move |conn| {
            // The hottest read: on the concrete connection (`with_concrete`).
            let rows: Vec<InvitationDetailsRow> = with_concrete!(conn, c => {
                let mut query = details_query!();
                query = match party {
                    Party::Sender(user) => query.filter(invitations::sender_id.eq(DbId::of(user))),
                    Party::Invitee(user) => query.filter(invitations::invitee_id.eq(DbId::of(user))),
                    Party::Event(event) => query.filter(invitations::event_id.eq(DbId::of(event))),
                };
                // The status as of `now` (`domain::invitations::status_at`): a pending invitation whose
                // expiry has passed is expired, whether or not the sweeper has marked it yet.
                let pending = InvitationStatus::Pending.as_str();
                query = match status {
                    None => query,
                    Some(InvitationStatus::Pending) => {
                        query.filter(invitations::status.eq(pending)).filter(
                            invitations::expires_at
                                .is_null()
                                .or(invitations::expires_at.gt(now)),
                        )
                    }
                    Some(InvitationStatus::Expired) => query.filter(
                        invitations::status
                            .eq(InvitationStatus::Expired.as_str())
                            .or(invitations::status
                                .eq(pending)
                                .and(invitations::expires_at.le(now))),
                    ),
                    Some(status) => query.filter(invitations::status.eq(status.as_str())),
                };
                if let Some(event_id) = event_id {
                    query = query.filter(invitations::event_id.eq(event_id));
                }
                if let Some(after) = after {
                    query = query.filter(invitations::id.lt(after));
                }
                query.order(invitations::id.desc()).limit(fetch).load(c)
            })
            .map_err(port_error)?;
            let items = rows
                .into_iter()
                .map(invitation_details)
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Page::from_overfetched(items, page.limit, |d| {
                d.invitation.id().as_uuid()
            }))
        })
        .await
    }
}

/// The batch insert, one statement for any number of rows (9 binds a row; SQLite allows 32,766,
/// PostgreSQL 65,535). Each row goes in only if, as of this statement, its invitee is not a member
/// of the event (R6), the invitee's latest invitation to it was not rejected (R8), and no pending
/// invitation exists for the pair (R7: `ON CONFLICT DO NOTHING` / `INSERT OR IGNORE` on the
/// partial unique index `invitations_one_pending`). `RETURNING id` names the rows that went in.
///
/// Rows go in ordered by (event, invitee), whatever the request's order: two batches naming the
/// same invitees in opposite orders would otherwise each hold one's index entry while waiting for
/// the other's, a deadlock on PostgreSQL. In one order, the second batch waits for the first's
/// commit on its first shared invitee and then skips them as already pending.
fn checked_insert_sql(rows: usize, postgres: bool) -> String {
    const COLUMNS: usize = 9;
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
                     expires_at) \
         AS (VALUES {values}) \
         {insert} INTO invitations \
         (id, event_id, sender_id, invitee_id, contact, status, created_at, message, expires_at) \
         SELECT b.id, b.event_id, b.sender_id, b.invitee_id, b.contact, b.status, b.created_at, \
                b.message, b.expires_at \
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
fn lock_events(conn: &mut AnyConnection, event_ids: &[DbId], exclusive: bool) -> QueryResult<()> {
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

/// Why a batch is refused as a whole: it was planned on a snapshot that changed before its insert.
#[derive(Debug, thiserror::Error)]
#[error(
    "{0} invitation(s) of the batch were planned before their invitee joined the event or \
     rejected its latest invitation; nothing was stored, a retry plans afresh"
)]
struct StaleBatch(usize);

#[async_trait]
impl InvitationRepository for Database {
    #[tracing::instrument(skip_all, fields(users = users.len()))]
    async fn invitee_states(
        &self,
        event: EventId,
        users: &[UserId],
        now: DateTime<Utc>,
    ) -> Result<HashMap<UserId, InviteeState>, PortError> {
        let event = DbId::of(event);
        let users: Vec<DbId> = users.iter().copied().map(DbId::of).collect();
        let now = from_db_time(to_db_time(now));
        self.run(move |conn| {
            let members: Vec<DbId> = event_members::table
                .filter(event_members::event_id.eq(event))
                .filter(event_members::user_id.eq_any(&users))
                .select(event_members::user_id)
                .load(conn)
                .map_err(port_error)?;
            let invited: Vec<(DbId, DbId, String, Option<DbTime>)> = invitations::table
                .filter(invitations::event_id.eq(event))
                .filter(invitations::invitee_id.eq_any(&users))
                .select((
                    invitations::invitee_id,
                    invitations::id,
                    invitations::status,
                    invitations::expires_at,
                ))
                .load(conn)
                .map_err(port_error)?;

            let mut states: HashMap<UserId, InviteeState> = HashMap::new();
            for user in members {
                states
                    .entry(UserId::from_uuid(user.uuid()))
                    .or_default()
                    .is_member = true;
            }
            // The latest invitation is the one with the greatest (time-ordered) id.
            let mut latest: HashMap<DbId, (DbId, String, Option<DbTime>)> = HashMap::new();
            for (invitee, id, status, expires_at) in invited {
                match latest.get(&invitee) {
                    Some((latest_id, _, _)) if *latest_id >= id => {}
                    _ => {
                        latest.insert(invitee, (id, status, expires_at));
                    }
                }
            }
            for (invitee, (_, status, expires_at)) in latest {
                let status = InvitationStatus::parse(&status)
                    .ok_or_else(|| PortError::unexpected("corrupt row: status"))?;
                states
                    .entry(UserId::from_uuid(invitee.uuid()))
                    .or_default()
                    .latest = Some(status_at(status, expires_at.map(from_db_time), now));
            }
            Ok(states)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(invitations = invitations.len()))]
    async fn create_batch(
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
                let mut stale = 0;
                // The plan (R6-R9) was made on a snapshot read before this transaction; the insert
                // checks R6, R7 and R8 again, atomically with the write (see `checked_insert_sql` and
                // `lock_events`). A row skipped because a pending invitation exists is
                // `AlreadyPending`, as the port says. A row skipped because its invitee joined the
                // event or rejected an invitation since the plan was read cannot be reported truthfully
                // with the port's two outcomes, so the batch is rolled back and reported `Unavailable`
                // (503): the client's retry plans afresh and gets the right reasons.
                let result = write_transaction(conn, |c| {
                    lock_events(c, &event_ids, false)?;
                    // Expire-on-write: the invitees' pending invitations that are dead by the batch's
                    // time become `expired` first, so that the partial unique index, which sees stored
                    // statuses, lets the new ones in (R7 counts live invitations only).
                    let expired: Vec<DbId> = diesel::update(invitations::table)
                        .filter(invitations::event_id.eq_any(&event_ids))
                        .filter(invitations::invitee_id.eq_any(&invitees))
                        .filter(invitations::status.eq(InvitationStatus::Pending.as_str()))
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
                            .filter(invitations::status.eq(InvitationStatus::Pending.as_str()))
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
                    // The outbox: what expired to make room, then what was sent, in the batch's order.
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
                    Ok(created)
                });
                let created = match result {
                    Ok(created) => created,
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

    #[tracing::instrument(skip_all)]
    async fn find(&self, id: InvitationId) -> Result<Option<InvitationDetails>, PortError> {
        let id = DbId::of(id);
        self.run(move |conn| {
            let row: Option<InvitationDetailsRow> = details_query!()
                .filter(invitations::id.eq(id))
                .first(conn)
                .optional()
                .map_err(port_error)?;
            row.map(invitation_details).transpose()
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn save_answer(&self, invitation: &Invitation) -> Result<(), SaveInvitationError> {
        let InvitationState::Answered { answer, at } = invitation.state() else {
            return Err(
                PortError::unexpected("save_answer called with an unanswered invitation").into(),
            );
        };
        let id = DbId::of(invitation.id());
        let event_id = DbId::of(invitation.event_id());
        let status = answer.status().as_str();
        let at = to_db_time(at);
        let membership = (answer == Answer::Accept).then(|| MemberRow {
            id: DbId::of(MemberId::generate()),
            event_id,
            user_id: DbId::of(invitation.invitee_id()),
            role: Role::Member.as_str().to_owned(),
            joined_at: at,
        });
        let saved = self
            .run(move |conn| {
                let answered = write_transaction(conn, |c| {
                    let mut joined_as: Option<MemberRow> = None;
                    // Ordered against batches to this event (see `lock_events`): a batch never stores a
                    // pending invitation to someone this answer makes a member, nor re-invites someone
                    // this answer rejects.
                    lock_events(c, &[event_id], true)?;
                    // Conditional on the row still being pending and live: of concurrent answers,
                    // cancels and expiries, one updates the row and the others find none, across any
                    // number of server processes.
                    let updated = diesel::update(pending_at(id, at))
                        .set((
                            invitations::status.eq(status),
                            invitations::answered_at.eq(at),
                        ))
                        .execute(c)?;
                    if updated == 0 {
                        return not_pending(c, id, at).map(Err);
                    }
                    if let Some(membership) = &membership {
                        // ON CONFLICT is not part of diesel's MultiBackend: run it on the concrete one.
                        let insert = diesel::insert_into(event_members::table).values(membership);
                        let joined = match c {
                            AnyConnection::Pg(pg) => insert.on_conflict_do_nothing().execute(pg)?,
                            AnyConnection::Sqlite(sqlite) => {
                                insert.on_conflict_do_nothing().execute(sqlite)?
                            }
                        };
                        if joined > 0 {
                            diesel::update(events::table.filter(events::id.eq(event_id)))
                                .set(events::members_count.eq(events::members_count + 1))
                                .execute(c)?;
                        }
                        joined_as = (joined > 0).then(|| membership.clone());
                    }
                    record_one(c, id, Change::invitation_answered, |details| {
                        let row = joined_as.as_ref()?;
                        let member = Member {
                            id: MemberId::from_uuid(row.id.uuid()),
                            user: details.invitee.clone(),
                            role: Role::Member,
                            joined_at: from_db_time(row.joined_at),
                        };
                        let event = EventRef {
                            id: details.invitation.event_id(),
                            title: details.event_title.clone(),
                        };
                        Some(Change::member_joined(event, member))
                    })?;
                    Ok(Ok(()))
                })
                .map_err(port_error)?;
                answered
            })
            .await;
        self.changes_committed();
        saved
    }

    #[tracing::instrument(skip_all)]
    async fn save_cancel(&self, invitation: &Invitation) -> Result<(), SaveInvitationError> {
        let Some(at) = invitation.cancelled_at() else {
            return Err(
                PortError::unexpected("save_cancel called with an uncancelled invitation").into(),
            );
        };
        let id = DbId::of(invitation.id());
        let at = to_db_time(at);
        let saved = self
            .run(move |conn| {
                write_transaction(conn, |c| {
                    let updated = diesel::update(pending_at(id, at))
                        .set((
                            invitations::status.eq(InvitationStatus::Cancelled.as_str()),
                            invitations::cancelled_at.eq(at),
                        ))
                        .execute(c)?;
                    if updated == 0 {
                        return not_pending(c, id, at).map(Err);
                    }
                    record_one(c, id, Change::invitation_cancelled, |_| None)?;
                    Ok(Ok(()))
                })
                .map_err(port_error)?
            })
            .await;
        self.changes_committed();
        saved
    }

    #[tracing::instrument(skip_all)]
    async fn save_resend(
        &self,
        invitation: &Invitation,
        previous: Option<DateTime<Utc>>,
    ) -> Result<(), SaveInvitationError> {
        let Some(at) = invitation.last_resent_at() else {
            return Err(PortError::unexpected(
                "save_resend called with an invitation never resent",
            )
            .into());
        };
        let id = DbId::of(invitation.id());
        let at = to_db_time(at);
        let expires_at = invitation.expires_at().map(to_db_time);
        let previous = previous.map(to_db_time);
        let saved = self
            .run(move |conn| {
                write_transaction(conn, |c| {
                    // Conditional on the last resend being the one the domain decided on, so that of
                    // two resends racing within the interval only one is stored.
                    let resent = (
                        invitations::last_resent_at.eq(at),
                        invitations::expires_at.eq(expires_at),
                    );
                    let updated = match previous {
                        Some(previous) => diesel::update(
                            pending_at(id, at).filter(invitations::last_resent_at.eq(previous)),
                        )
                        .set(resent)
                        .execute(c)?,
                        None => diesel::update(
                            pending_at(id, at).filter(invitations::last_resent_at.is_null()),
                        )
                        .set(resent)
                        .execute(c)?,
                    };
                    if updated > 0 {
                        record_one(c, id, Change::invitation_resent, |_| None)?;
                        return Ok(Ok(()));
                    }
                    // Not pending any more comes first; a live row was resent meanwhile.
                    Ok(Err(match why_not_pending(c, id, at)? {
                        Some(refused) => refused,
                        None => invitations::table
                            .filter(invitations::id.eq(id))
                            .select(invitations::last_resent_at)
                            .first::<Option<DbTime>>(c)?
                            .map_or_else(
                                || PortError::unexpected("a resend was forgotten").into(),
                                |last| SaveInvitationError::ResentMeanwhile {
                                    last_resent_at: from_db_time(last),
                                },
                            ),
                    }))
                })
                .map_err(port_error)?
            })
            .await;
        self.changes_committed();
        saved
    }

    #[tracing::instrument(skip_all)]
    async fn expire_due(&self, now: DateTime<Utc>, batch: u32) -> Result<u64, PortError> {
        let now = to_db_time(now);
        let batch = i64::from(batch.max(1));
        let expired = self
            .run(move |conn| {
                let candidate = diesel::alias!(invitations as due);
                let due = candidate
                    .filter(
                        candidate
                            .field(invitations::status)
                            .eq(InvitationStatus::Pending.as_str()),
                    )
                    .filter(candidate.field(invitations::expires_at).le(now))
                    .order(candidate.field(invitations::expires_at))
                    .select(candidate.field(invitations::id))
                    .limit(batch);
                write_transaction(conn, |c| {
                    // Conditional again on the row itself: a row another process expired, or an
                    // answer or cancel changed, in the meantime is left alone and not counted.
                    let expired: Vec<DbId> = diesel::update(invitations::table)
                        .filter(invitations::id.eq_any(due))
                        .filter(invitations::status.eq(InvitationStatus::Pending.as_str()))
                        .filter(invitations::expires_at.le(now))
                        .set(invitations::status.eq(InvitationStatus::Expired.as_str()))
                        .returning(invitations::id)
                        .get_results(c)?;
                    let changes = details_of(c, &expired)?
                        .into_iter()
                        .map(|details| made(Change::invitation_expired(details, from_db_time(now))))
                        .collect::<QueryResult<Vec<_>>>()?;
                    record(c, changes)?;
                    Ok(expired.len() as u64)
                })
                .map_err(port_error)
            })
            .await;
        self.changes_committed();
        expired
    }

    #[tracing::instrument(skip_all)]
    async fn list_sent(
        &self,
        sender: UserId,
        filter: InvitationFilter,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<InvitationDetails>, PortError> {
        self.list(Party::Sender(sender), filter, page, now).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_received(
        &self,
        invitee: UserId,
        filter: InvitationFilter,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<InvitationDetails>, PortError> {
        self.list(Party::Invitee(invitee), filter, page, now).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_for_event(
        &self,
        event: EventId,
        filter: InvitationFilter,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<InvitationDetails>, PortError> {
        self.list(Party::Event(event), filter, page, now).await
    }
}

/// The invitation with one id.
type ById = dsl::Filter<invitations::table, dsl::Eq<invitations::id, DbId>>;
/// ... while stored pending.
type StoredPending = dsl::Filter<ById, dsl::Eq<invitations::status, &'static str>>;
/// ... and not expired at a time.
type PendingAt = dsl::Filter<
    StoredPending,
    dsl::Or<dsl::IsNull<invitations::expires_at>, dsl::Gt<invitations::expires_at, DbTime>>,
>;

/// The invitation `id` while it is pending and live at `at`: what an answer, a cancel and a
/// resend update, so that of racing changes only the first finds the row.
fn pending_at(id: DbId, at: DbTime) -> PendingAt {
    invitations::table
        .filter(invitations::id.eq(id))
        .filter(invitations::status.eq(InvitationStatus::Pending.as_str()))
        .filter(
            invitations::expires_at
                .is_null()
                .or(invitations::expires_at.gt(at)),
        )
}

/// Why the invitation `id` was not pending and live at `at`, read in the transaction whose
/// conditional update just found no row; `None` when it is (the update was refused for another of
/// its conditions, a resend's).
fn why_not_pending(
    conn: &mut AnyConnection,
    id: DbId,
    at: DbTime,
) -> QueryResult<Option<SaveInvitationError>> {
    let row: Option<(String, Option<DbTime>)> = invitations::table
        .filter(invitations::id.eq(id))
        .select((invitations::status, invitations::expires_at))
        .first(conn)
        .optional()?;
    let Some((status, expires_at)) = row else {
        return Ok(Some(SaveInvitationError::NotFound));
    };
    let Some(status) = InvitationStatus::parse(&status) else {
        return Ok(Some(PortError::unexpected("corrupt row: status").into()));
    };
    let reason = NotPending::of(status_at(
        status,
        expires_at.map(from_db_time),
        from_db_time(at),
    ));
    Ok(reason.map(SaveInvitationError::NotPending))
}

/// [`why_not_pending`] for an answer or a cancel, whose updates have no other condition.
fn not_pending(conn: &mut AnyConnection, id: DbId, at: DbTime) -> QueryResult<SaveInvitationError> {
    Ok(why_not_pending(conn, id, at)?.unwrap_or_else(|| {
        PortError::unexpected("a pending invitation refused a conditional update").into()
    }))
}
