//! The invitation repository. The database itself keeps the rules that races could break: the
//! partial unique index `invitations_one_pending` allows one pending invitation per event and
//! invitee (docs/api.md, "Ignore reasons": `already_invited`), and a batch first marks its
//! invitees' dead (expired) pending invitations `expired` so that they never hold it; answering,
//! cancelling, resending and expiring are updates conditional on the invitation still being pending
//! and live, so that of racing changes one wins and an invitation is answered once and never both
//! accepted and cancelled (docs/api.md, "Invitation lifecycle"); and a batch re-checks "not a
//! member" and "latest invitation not rejected" inside its insert, ordered against answers by the
//! event row's lock (`batch`: `checked_insert_sql`, `lock_events`). The reads with the event's
//! title and both parties are `queries`'.

mod batch;
mod queries;

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::dsl;
use diesel::prelude::*;
use domain::changes::Change;
use domain::changes::EventRef;
use domain::events::{Member, Role};
use domain::invitations::ports::{
    BatchOutcome, InvitationFilter, InvitationRepository, SaveInvitationError,
};
use domain::invitations::status_at;
use domain::invitations::{
    Invitation, InvitationDetails, InvitationState, InviteeState, NotPending,
};
use domain::ports::PortError;
use domain::{
    Answer, EventId, InvitationId, InvitationStatus, MemberId, Page, PageRequest, UserId, Version,
};

pub(crate) use self::batch::lock_events;
pub(crate) use self::queries::details_of;
use self::queries::{details_query, Party};
use crate::changes::{made, record};
use crate::db::{port_error, write_transaction, AnyConnection, Database};
use crate::rows::{
    from_db_time, invitation_details, to_db_time, to_db_version, InvitationDetailsRow,
    InvitationRow, MemberRow,
};
use crate::schema::{event_members, events, invitations, users};
use crate::sql_types::{DbId, DbTime};

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
        self.insert_batch(invitations).await
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
    async fn save_answer(
        &self,
        invitation: &Invitation,
        expected: Option<Version>,
    ) -> Result<(), SaveInvitationError> {
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
                    // Ordered against batches to this event (see `lock_events`): a batch never
                    // stores a pending invitation to someone this answer makes a member, nor
                    // re-invites someone this answer rejects.
                    lock_events(c, &[event_id], true)?;
                    // Conditional on the row still being pending and live (and, when asked, at the
                    // expected version): of concurrent answers, cancels and expiries, one updates
                    // the row and the others find none, across any number of server processes.
                    let answered = (
                        invitations::status.eq(status),
                        invitations::answered_at.eq(at),
                        invitations::version.eq(invitations::version + 1),
                    );
                    let updated = match expected.map(to_db_version) {
                        Some(version) => diesel::update(
                            pending_at(id, at).filter(invitations::version.eq(version)),
                        )
                        .set(answered)
                        .execute(c)?,
                        None => diesel::update(pending_at(id, at))
                            .set(answered)
                            .execute(c)?,
                    };
                    if updated == 0 {
                        // Not pending any more comes first; a pending row moved on to another
                        // version (a resend) otherwise.
                        return Ok(Err(match why_not_pending(c, id, at)? {
                            Some(refused) => refused,
                            None if expected.is_some() => SaveInvitationError::Stale,
                            None => PortError::unexpected(
                                "a pending invitation refused a conditional update",
                            )
                            .into(),
                        }));
                    }
                    if let Some(membership) = &membership {
                        // ON CONFLICT is not part of diesel's MultiBackend: run it on the concrete
                        // one.
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
                            guests: 0,
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
                            invitations::version.eq(invitations::version + 1),
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
                    // Conditional on the last resend being the one the domain decided on, so that
                    // of two resends racing within the interval only one is stored.
                    let resent = (
                        invitations::last_resent_at.eq(at),
                        invitations::expires_at.eq(expires_at),
                        invitations::version.eq(invitations::version + 1),
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
                        .set((
                            invitations::status.eq(InvitationStatus::Expired.as_str()),
                            invitations::version.eq(invitations::version + 1),
                        ))
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
