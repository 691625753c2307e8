//! The invitation repository. The database itself keeps the rules that races could break: the
//! partial unique index `invitations_one_live` allows one live invitation per event and
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
use domain::invitations::ports::{
    AnswerStored, BatchOutcome, InvitationFilter, InvitationRepository, SaveInvitationError,
};
use domain::invitations::status_at;
use domain::invitations::{
    Invitation, InvitationDetails, InvitationState, InviteeState, NotPending,
};
use domain::ports::PortError;
use domain::rsvp::Admission;
use domain::{Answer, EventId, InvitationId, InvitationStatus, Page, PageRequest, UserId, Version};

pub(crate) use self::batch::lock_events;
pub(crate) use self::queries::details_of;
use self::queries::{details_query, Party};
use crate::changes::{made, record};
use crate::db::{port_error, write_transaction, AnyConnection, Database};
use crate::rows::{
    from_db_time, invitation_details, to_db_time, to_db_version, InvitationDetailsRow,
    InvitationRow,
};
use crate::schema::{event_members, events, invitations, users};
use crate::seats::{joined, seat, seating, with_positions};
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
            let mut found: Vec<InvitationDetails> = row
                .map(invitation_details)
                .transpose()?
                .into_iter()
                .collect();
            with_positions(conn, &mut found).map_err(port_error)?;
            Ok(found.pop())
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn save_answer(
        &self,
        invitation: &Invitation,
        expected: Option<Version>,
    ) -> Result<AnswerStored, SaveInvitationError> {
        let (answer, at) = match invitation.state() {
            InvitationState::Answered { answer, at } => (answer, at),
            InvitationState::Tentative { at } => (Answer::Tentative, at),
            _ => {
                return Err(PortError::unexpected(
                    "save_answer called with an unanswered invitation",
                )
                .into())
            }
        };
        let id = DbId::of(invitation.id());
        let event_id = DbId::of(invitation.event_id());
        let invitee = DbId::of(invitation.invitee_id());
        let guests = invitation.guests();
        let comment = invitation.comment().map(|c| c.as_str().to_owned());
        let answered_at = from_db_time(to_db_time(at));
        let at = to_db_time(at);
        let saved = self
            .run(move |conn| {
                write_transaction(conn, |c| {
                    // Ordered against batches to this event (see `lock_events`) and against every
                    // other write that seats or unseats a party (`crate::seats`): a batch never
                    // stores a pending invitation to someone this answer makes a member, nor
                    // re-invites someone this answer rejects, and the seats below are the seats.
                    lock_events(c, &[event_id], true)?;
                    let Some((rules, taken)) = seating(c, event_id)? else {
                        return Ok(Err(SaveInvitationError::NotFound));
                    };
                    // A waitlisted invitee may still say no.
                    let from: &[&'static str] = if answer == Answer::Reject {
                        &LIVE
                    } else {
                        &OPEN
                    };
                    // The seat rule, on the seats as they stand under the lock.
                    let decided = match answer {
                        Answer::Accept => rules.admit(taken, guests, answered_at).map(Some),
                        Answer::Tentative | Answer::Reject => rules
                            .check_open(answered_at)
                            .and_then(|()| rules.check_guests(guests))
                            .map(|()| None),
                    };
                    let admission = match decided {
                        Ok(admission) => admission,
                        // A final answer or a cancel comes first: that is what the invitee must
                        // learn. An expiry does not: open invitations expire when answers close.
                        Err(refused) => {
                            return Ok(Err(match why_not_open(c, id, at, from)? {
                                None
                                | Some(SaveInvitationError::NotPending(NotPending::Expired)) => {
                                    SaveInvitationError::Refused(refused)
                                }
                                Some(other) => other,
                            }))
                        }
                    };
                    let status = match (answer, admission) {
                        (Answer::Accept, Some(Admission::Waitlisted)) => {
                            InvitationStatus::Waitlisted
                        }
                        (answer, _) => answer.status(),
                    };
                    // Conditional on the row still being open and live (and, when asked, at the
                    // expected version): of concurrent answers, cancels and expiries, one updates
                    // the row and the others find none, across any number of server processes.
                    let answered = (
                        invitations::status.eq(status.as_str()),
                        invitations::answered_at.eq(at),
                        invitations::guests.eq(i32::from(guests)),
                        invitations::comment.eq(comment.clone()),
                        invitations::version.eq(invitations::version + 1),
                    );
                    let updated = match expected.map(to_db_version) {
                        Some(version) => diesel::update(
                            live_at(id, at, from).filter(invitations::version.eq(version)),
                        )
                        .set(answered)
                        .execute(c)?,
                        None => diesel::update(live_at(id, at, from))
                            .set(answered)
                            .execute(c)?,
                    };
                    if updated == 0 {
                        // Not open any more comes first; an open row moved on to another version
                        // (a resend) otherwise.
                        return Ok(Err(match why_not_open(c, id, at, from)? {
                            Some(refused) => refused,
                            None if expected.is_some() => SaveInvitationError::Stale,
                            None => PortError::unexpected(
                                "an open invitation refused a conditional update",
                            )
                            .into(),
                        }));
                    }
                    let membership = match admission {
                        Some(Admission::Seated) => seat(c, event_id, invitee, guests, at)?,
                        _ => None,
                    };
                    let Some(details) = details_of(c, &[id])?.pop() else {
                        return Err(diesel::result::Error::NotFound);
                    };
                    let mut changes = vec![made(Change::invitation_answered(details.clone()))?];
                    changes.extend(membership.as_ref().map(|row| joined(&details, row)));
                    record(c, changes)?;
                    if status == InvitationStatus::Waitlisted {
                        let position = details.invitation.waitlist_position().unwrap_or(1);
                        return Ok(Ok(AnswerStored::Waitlisted { position }));
                    }
                    Ok(Ok(AnswerStored::AsAnswered))
                })
                .map_err(port_error)?
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
        // A waitlisted invitation is withdrawn (its account erased) only while it still waits;
        // anything else is cancelled only while it is still open.
        let from: &'static [&'static str] =
            if invitation.cancelled_from() == Some(InvitationStatus::Waitlisted) {
                &WAITLISTED
            } else {
                &OPEN
            };
        let saved = self
            .run(move |conn| {
                write_transaction(conn, |c| {
                    let updated = diesel::update(live_at(id, at, from))
                        .set((
                            invitations::status.eq(InvitationStatus::Cancelled.as_str()),
                            invitations::cancelled_at.eq(at),
                            invitations::version.eq(invitations::version + 1),
                        ))
                        .execute(c)?;
                    if updated == 0 {
                        return not_pending(c, id, at, from).map(Err);
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
                            live_at(id, at, &OPEN).filter(invitations::last_resent_at.eq(previous)),
                        )
                        .set(resent)
                        .execute(c)?,
                        None => diesel::update(
                            live_at(id, at, &OPEN).filter(invitations::last_resent_at.is_null()),
                        )
                        .set(resent)
                        .execute(c)?,
                    };
                    if updated > 0 {
                        record_one(c, id, Change::invitation_resent, |_| None)?;
                        return Ok(Ok(()));
                    }
                    // Not open any more comes first; a live row was resent meanwhile.
                    Ok(Err(match why_not_open(c, id, at, &OPEN)? {
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
                write_transaction(conn, |c| {
                    let due = candidate
                        .filter(candidate.field(invitations::status).eq_any(OPEN))
                        .filter(candidate.field(invitations::expires_at).le(now))
                        .order(candidate.field(invitations::expires_at))
                        .select(candidate.field(invitations::id))
                        .limit(batch);
                    // Conditional again on the row itself: a row another process expired, or an
                    // answer or cancel changed, in the meantime is left alone and not counted.
                    let expired: Vec<DbId> = diesel::update(invitations::table)
                        .filter(invitations::id.eq_any(due))
                        .filter(invitations::status.eq_any(OPEN))
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

/// The statuses an answer, a cancel or a resend may change: unanswered, or "maybe" (both expire).
pub(crate) const OPEN: [&str; 2] = ["pending", "tentative"];
/// The live statuses: the one invitation an invitee may hold to an event (R7, the partial unique
/// index `invitations_one_live`); open, or waitlisted. A no may come from any of them (a waitlisted
/// invitee withdraws), and a deleted event's invitations end from them.
pub(crate) const LIVE: [&str; 3] = ["pending", "tentative", "waitlisted"];
/// Waitlisted alone: what an erased account's waitlisted invitation is withdrawn from.
const WAITLISTED: [&str; 1] = ["waitlisted"];

/// The invitation with one id.
type ById = dsl::Filter<invitations::table, dsl::Eq<invitations::id, DbId>>;
/// ... while stored in one of some statuses.
type StoredIn = dsl::Filter<ById, dsl::EqAny<invitations::status, Vec<&'static str>>>;
/// ... and not expired at a time (a waitlisted invitation does not expire).
type LiveAt = dsl::Filter<
    StoredIn,
    dsl::Or<
        dsl::Or<dsl::Eq<invitations::status, &'static str>, dsl::IsNull<invitations::expires_at>>,
        dsl::Gt<invitations::expires_at, DbTime>,
    >,
>;

/// The invitation `id` while it is stored in one of `statuses` and live at `at`: what an answer, a
/// cancel and a resend update, so that of racing changes only the first finds the row.
fn live_at(id: DbId, at: DbTime, statuses: &[&'static str]) -> LiveAt {
    invitations::table
        .filter(invitations::id.eq(id))
        .filter(invitations::status.eq_any(statuses.to_vec()))
        .filter(
            invitations::status
                .eq(InvitationStatus::Waitlisted.as_str())
                .or(invitations::expires_at.is_null())
                .or(invitations::expires_at.gt(at)),
        )
}

/// Why the invitation `id` was not in one of `statuses` and live at `at`, read in the transaction
/// whose conditional update just found no row; `None` when it is (the update was refused for
/// another of its conditions, a resend's or a version's).
fn why_not_open(
    conn: &mut AnyConnection,
    id: DbId,
    at: DbTime,
    statuses: &[&'static str],
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
    let status = status_at(status, expires_at.map(from_db_time), from_db_time(at));
    if statuses.contains(&status.as_str()) {
        return Ok(None);
    }
    Ok(Some(SaveInvitationError::NotPending(
        NotPending::of(status).unwrap_or(NotPending::Answered),
    )))
}

/// [`why_not_open`] for a cancel, whose update has no other condition.
fn not_pending(
    conn: &mut AnyConnection,
    id: DbId,
    at: DbTime,
    from: &[&'static str],
) -> QueryResult<SaveInvitationError> {
    Ok(why_not_open(conn, id, at, from)?.unwrap_or_else(|| {
        PortError::unexpected("an open invitation refused a conditional update").into()
    }))
}
