//! Reminders (docs/api.md, "Reminders"): the schedule kept with each event's rules and start, the
//! reminders due, and those sent, recorded once with their messages.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::dsl::{exists, not};
use diesel::prelude::*;
use domain::calendars::ports::CalendarEvents;
use domain::events::EventDetails;
use domain::ports::PortError;
use domain::reminders::ports::{DueBatch, ReminderRepository};
use domain::reminders::{DueReminder, SentReminder};
use domain::{EventId, InvitationStatus, UserId};

use crate::db::{port_error, write_transaction, AnyConnection, Database};
use crate::rows::to_db_time;
use crate::schema::{event_members, events, invitations, reminder_schedule, reminders_sent};
use crate::sql_types::{DbId, DbTime};

/// Writes the event's schedule afresh from its rules and start (none without a start): in the
/// transaction that stores them.
pub(crate) fn schedule(
    conn: &mut AnyConnection,
    event: DbId,
    details: &EventDetails,
) -> QueryResult<()> {
    unschedule(conn, event)?;
    let Some(starts_at) = details.starts_at() else {
        return Ok(());
    };
    for rule in details.reminders().rules() {
        diesel::insert_into(reminder_schedule::table)
            .values((
                reminder_schedule::event_id.eq(event),
                reminder_schedule::rule.eq(rule.key()),
                reminder_schedule::audience.eq(rule.to().as_str()),
                reminder_schedule::due_at.eq(to_db_time(rule.due_at(starts_at))),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Takes the event off the schedule (it is deleted).
pub(crate) fn unschedule(conn: &mut AnyConnection, event: DbId) -> QueryResult<()> {
    diesel::delete(reminder_schedule::table.filter(reminder_schedule::event_id.eq(event)))
        .execute(conn)
        .map(drop)
}

/// A due reminder as read: event, rule key, person, due time.
type DueRow = (DbId, String, DbId, DbTime);

/// The reminders of `audience` due at `now` and not yet recorded, earliest due first.
fn due_of(
    conn: &mut AnyConnection,
    audience: domain::reminders::Audience,
    now: DbTime,
    limit: i64,
) -> QueryResult<Vec<DueRow>> {
    use domain::reminders::Audience;
    let due = reminder_schedule::table
        .inner_join(events::table)
        .filter(reminder_schedule::audience.eq(audience.as_str()))
        .filter(reminder_schedule::due_at.le(now))
        .filter(events::starts_at.gt(now));
    // Not yet recorded for this rule, person and start.
    macro_rules! unsent {
        ($user:expr) => {
            not(exists(
                reminders_sent::table
                    .filter(reminders_sent::event_id.eq(reminder_schedule::event_id))
                    .filter(reminders_sent::rule.eq(reminder_schedule::rule))
                    .filter(reminders_sent::user_id.eq($user))
                    .filter(reminders_sent::starts_at.nullable().eq(events::starts_at)),
            ))
        };
    }
    match audience {
        Audience::Accepted => due
            .inner_join(
                event_members::table.on(event_members::event_id.eq(reminder_schedule::event_id)),
            )
            .filter(event_members::role.ne("owner"))
            // Who joined after the reminder fell due has just said yes: nothing to remind.
            .filter(event_members::joined_at.le(reminder_schedule::due_at))
            .filter(unsent!(event_members::user_id))
            .select((
                reminder_schedule::event_id,
                reminder_schedule::rule,
                event_members::user_id,
                reminder_schedule::due_at,
            ))
            .order(reminder_schedule::due_at)
            .limit(limit)
            .load(conn),
        Audience::Tentative | Audience::Pending => {
            let status = if audience == Audience::Tentative {
                InvitationStatus::Tentative
            } else {
                InvitationStatus::Pending
            };
            let mut query = due
                .inner_join(
                    invitations::table.on(invitations::event_id.eq(reminder_schedule::event_id)),
                )
                .filter(invitations::status.eq(status.as_str()))
                .filter(invitations::held_contact.is_null())
                .filter(
                    invitations::expires_at
                        .is_null()
                        .or(invitations::expires_at.gt(now)),
                )
                .filter(unsent!(invitations::invitee_id))
                .select((
                    reminder_schedule::event_id,
                    reminder_schedule::rule,
                    invitations::invitee_id,
                    reminder_schedule::due_at,
                ))
                .into_boxed();
            query = if audience == Audience::Pending {
                // An invitation sent after the reminder fell due is the message itself.
                query.filter(invitations::created_at.le(reminder_schedule::due_at))
            } else {
                // A "maybe" given after it fell due is fresh: nothing to remind.
                query.filter(
                    invitations::answered_at
                        .assume_not_null()
                        .le(reminder_schedule::due_at),
                )
            };
            query
                .order(reminder_schedule::due_at)
                .limit(limit)
                .load(conn)
        }
    }
}

#[async_trait]
impl ReminderRepository for Database {
    #[tracing::instrument(skip(self))]
    async fn due_reminders(&self, now: DateTime<Utc>, limit: u32) -> Result<DueBatch, PortError> {
        use domain::reminders::Audience;
        let at = to_db_time(now);
        let fetch = i64::from(limit.max(1));
        let mut rows: Vec<DueRow> = self
            .run(move |conn| {
                let mut rows = Vec::new();
                for audience in [Audience::Accepted, Audience::Tentative, Audience::Pending] {
                    rows.extend(due_of(conn, audience, at, fetch).map_err(port_error)?);
                }
                Ok(rows)
            })
            .await?;
        rows.sort_by_key(|row| row.3);
        rows.truncate(usize::try_from(fetch).unwrap_or(usize::MAX));
        let mut ids: Vec<EventId> = rows
            .iter()
            .map(|row| EventId::from_uuid(row.0.uuid()))
            .collect();
        ids.sort_by_key(|id| id.as_uuid());
        ids.dedup();
        let events = self.events_by_id(&ids).await?;
        let by_id: HashMap<EventId, &domain::events::Event> =
            events.iter().map(|event| (event.id, event)).collect();
        let due = rows
            .into_iter()
            .filter_map(|(event, rule, user, _)| {
                let event_id = EventId::from_uuid(event.uuid());
                // The rule as the event has it now (it may have changed since it was read).
                let rule = *by_id
                    .get(&event_id)?
                    .details
                    .reminders()
                    .rules()
                    .iter()
                    .find(|r| r.key() == rule)?;
                Some(DueReminder {
                    event_id,
                    rule,
                    user: UserId::from_uuid(user.uuid()),
                })
            })
            .collect();
        Ok(DueBatch { events, due })
    }

    #[tracing::instrument(skip_all, fields(count = sent.len()))]
    async fn record_reminders(
        &self,
        sent: Vec<SentReminder>,
        now: DateTime<Utc>,
    ) -> Result<u64, PortError> {
        let at = to_db_time(now);
        // One order for every worker, so that two inserting the same keys never deadlock.
        let mut sent = sent;
        sent.sort_by(|a, b| {
            (a.event_id.as_uuid(), &a.rule, a.user.as_uuid()).cmp(&(
                b.event_id.as_uuid(),
                &b.rule,
                b.user.as_uuid(),
            ))
        });
        self.run(move |conn| {
            write_transaction(conn, |c| {
                // The events' rows in share mode (a deletion or an edit takes them exclusively),
                // then each rule as stored now: a reminder is recorded only while its rule is
                // still scheduled, due, for the start it reminds of. A deletion or a move that
                // committed since the reminders were read drops them (docs/operations.md,
                // "Reminders").
                let mut events: Vec<DbId> = sent.iter().map(|r| DbId::of(r.event_id)).collect();
                events.dedup();
                crate::invitations::lock_events(c, &events, false)?;
                let mut scheduled: Vec<(DbId, String, Option<DbTime>)> = Vec::new();
                for chunk in events.chunks(500) {
                    scheduled.extend(
                        reminder_schedule::table
                            .inner_join(events::table)
                            .filter(reminder_schedule::event_id.eq_any(chunk))
                            .filter(reminder_schedule::due_at.le(at))
                            .select((
                                reminder_schedule::event_id,
                                reminder_schedule::rule,
                                events::starts_at,
                            ))
                            .load::<(DbId, String, Option<DbTime>)>(c)?,
                    );
                }
                let mut recorded = 0;
                for reminder in &sent {
                    let starts_at = to_db_time(reminder.starts_at);
                    let still_due = scheduled.iter().any(|(event, rule, start)| {
                        *event == DbId::of(reminder.event_id)
                            && *rule == reminder.rule
                            && *start == Some(starts_at)
                    });
                    if !still_due || starts_at <= at {
                        continue;
                    }
                    let row = (
                        reminders_sent::event_id.eq(DbId::of(reminder.event_id)),
                        reminders_sent::rule.eq(&reminder.rule),
                        reminders_sent::user_id.eq(DbId::of(reminder.user)),
                        reminders_sent::starts_at.eq(starts_at),
                        reminders_sent::sent_at.eq(at),
                    );
                    // The key decides, across processes: a row another worker wrote first (it
                    // waits for that worker's commit on PostgreSQL) is skipped, with its message.
                    let insert = diesel::insert_into(reminders_sent::table).values(row);
                    let inserted = match c {
                        AnyConnection::Pg(pg) => insert.on_conflict_do_nothing().execute(pg)?,
                        AnyConnection::Sqlite(sqlite) => {
                            insert.on_conflict_do_nothing().execute(sqlite)?
                        }
                    };
                    if inserted == 0 {
                        continue;
                    }
                    if let Some(message) = &reminder.message {
                        crate::codes::enqueue(c, message)?;
                    }
                    recorded += 1;
                }
                Ok(recorded)
            })
            .map_err(port_error)
        })
        .await
    }

    #[tracing::instrument(skip(self))]
    async fn purge_reminders(&self, before: DateTime<Utc>, batch: u32) -> Result<u64, PortError> {
        let before = to_db_time(before);
        let batch = i64::from(batch.max(1));
        self.run(move |conn| {
            let old: Vec<(DbId, String, DbId, DbTime)> = reminders_sent::table
                .filter(reminders_sent::starts_at.lt(before))
                .select((
                    reminders_sent::event_id,
                    reminders_sent::rule,
                    reminders_sent::user_id,
                    reminders_sent::starts_at,
                ))
                .limit(batch)
                .load(conn)
                .map_err(port_error)?;
            // Schedule rows of events that started before then: never due again (an edit that
            // moves the start writes them afresh).
            diesel::delete(
                reminder_schedule::table.filter(
                    reminder_schedule::event_id.eq_any(
                        events::table
                            .filter(events::starts_at.lt(before))
                            .select(events::id),
                    ),
                ),
            )
            .execute(conn)
            .map_err(port_error)?;
            let mut purged = 0;
            for (event, rule, user, starts_at) in old {
                purged += diesel::delete(
                    reminders_sent::table
                        .filter(reminders_sent::event_id.eq(event))
                        .filter(reminders_sent::rule.eq(rule))
                        .filter(reminders_sent::user_id.eq(user))
                        .filter(reminders_sent::starts_at.eq(starts_at)),
                )
                .execute(conn)
                .map_err(port_error)?;
            }
            Ok(purged as u64)
        })
        .await
    }
}
