//! Events by id for calendar files, and people's calendar feeds (docs/api.md, "Calendars").

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::accounts::ports::TokenHash;
use domain::accounts::Locale;
use domain::calendars::ports::{CalendarEvents, CalendarFeeds, FeedEvent};
use domain::calendars::PartStat;
use domain::events::Event;
use domain::messages::ports::{Contacts, Reachable};
use domain::ports::PortError;
use domain::{Email, Mobile, Text};
use domain::{EventId, InvitationStatus, UserId};

use crate::db::{port_error, write_transaction, Database};
use crate::rows::{event, to_db_time, EventRow, SummaryRow};
use crate::schema::{calendar_feeds, event_members, events, invitations, users};
use crate::sql_types::DbId;
use crate::sql_types::DbTime;

/// At most this many ids in one `IN` list.
const CHUNK: usize = 500;

#[async_trait]
impl CalendarEvents for Database {
    #[tracing::instrument(skip_all, fields(events = ids.len()))]
    async fn events_by_id(&self, ids: &[EventId]) -> Result<Vec<Event>, PortError> {
        let ids: Vec<DbId> = ids.iter().map(|id| DbId::of(*id)).collect();
        self.run(move |conn| {
            let mut found = Vec::with_capacity(ids.len());
            for chunk in ids.chunks(CHUNK) {
                let rows: Vec<(EventRow, SummaryRow)> = events::table
                    .inner_join(users::table)
                    .filter(events::id.eq_any(chunk))
                    .select((EventRow::as_select(), (users::id, users::name)))
                    .load(conn)
                    .map_err(port_error)?;
                for (row, owner) in rows {
                    found.push(event(row, owner)?);
                }
            }
            Ok(found)
        })
        .await
    }
}

#[async_trait]
impl CalendarFeeds for Database {
    #[tracing::instrument(skip_all)]
    async fn replace_feed(
        &self,
        user: UserId,
        hash: &TokenHash,
        at: DateTime<Utc>,
    ) -> Result<(), PortError> {
        let (user, hash, at) = (DbId::of(user), hash.0.clone(), to_db_time(at));
        self.run(move |conn| {
            write_transaction(conn, |c| {
                diesel::delete(calendar_feeds::table.filter(calendar_feeds::user_id.eq(user)))
                    .execute(c)?;
                diesel::insert_into(calendar_feeds::table)
                    .values((
                        calendar_feeds::user_id.eq(user),
                        calendar_feeds::token_hash.eq(&hash),
                        calendar_feeds::created_at.eq(at),
                    ))
                    .execute(c)
                    .map(drop)
            })
            .map_err(port_error)
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn delete_feed(&self, user: UserId) -> Result<bool, PortError> {
        let user = DbId::of(user);
        self.run(move |conn| {
            diesel::delete(calendar_feeds::table.filter(calendar_feeds::user_id.eq(user)))
                .execute(conn)
                .map(|deleted| deleted > 0)
                .map_err(port_error)
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn feed_owner(&self, hash: &TokenHash) -> Result<Option<UserId>, PortError> {
        let hash = hash.0.clone();
        self.run(move |conn| {
            calendar_feeds::table
                .filter(calendar_feeds::token_hash.eq(hash))
                .select(calendar_feeds::user_id)
                .first::<DbId>(conn)
                .optional()
                .map(|found| found.map(|id| UserId::from_uuid(id.uuid())))
                .map_err(port_error)
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn feed_events(
        &self,
        user: UserId,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<FeedEvent>, PortError> {
        let (user_id, now_db) = (DbId::of(user), to_db_time(now));
        let (members, maybes): (Vec<DbId>, Vec<DbId>) = self
            .run(move |conn| {
                let members = event_members::table
                    .filter(event_members::user_id.eq(user_id))
                    .select(event_members::event_id)
                    .load::<DbId>(conn)
                    .map_err(port_error)?;
                let maybes = invitations::table
                    .filter(invitations::invitee_id.eq(user_id))
                    .filter(invitations::status.eq(InvitationStatus::Tentative.as_str()))
                    .filter(invitations::held_contact.is_null())
                    .filter(
                        invitations::expires_at
                            .is_null()
                            .or(invitations::expires_at.gt(now_db)),
                    )
                    .select(invitations::event_id)
                    .load::<DbId>(conn)
                    .map_err(port_error)?;
                Ok((members, maybes))
            })
            .await?;
        let ids: Vec<EventId> = members
            .iter()
            .chain(&maybes)
            .map(|id| EventId::from_uuid(id.uuid()))
            .collect();
        let mut events: Vec<FeedEvent> = self
            .events_by_id(&ids)
            .await?
            .into_iter()
            .filter(|event| event.details.starts_at().is_some())
            .map(|event| {
                let partstat = if members.iter().any(|id| id.uuid() == event.id.as_uuid()) {
                    PartStat::Accepted
                } else {
                    PartStat::Tentative
                };
                FeedEvent {
                    title: event.details.title().clone(),
                    event,
                    partstat,
                }
            })
            .collect();
        events.sort_by(|a, b| {
            b.event
                .details
                .starts_at()
                .cmp(&a.event.details.starts_at())
        });
        events.truncate(limit as usize);
        Ok(events)
    }
}

#[async_trait]
impl Contacts for Database {
    #[tracing::instrument(skip_all, fields(users = users.len()))]
    async fn reachable(&self, users: &[UserId]) -> Result<Vec<Reachable>, PortError> {
        let ids: Vec<DbId> = users.iter().map(|id| DbId::of(*id)).collect();
        type Row = (
            DbId,
            String,
            Option<String>,
            Option<DbTime>,
            Option<String>,
            Option<DbTime>,
            String,
        );
        self.run(move |conn| {
            let mut found = Vec::with_capacity(ids.len());
            for chunk in ids.chunks(CHUNK) {
                let rows: Vec<Row> = users::table
                    .filter(users::id.eq_any(chunk))
                    .filter(users::erased_at.is_null())
                    .select((
                        users::id,
                        users::name,
                        users::email,
                        users::email_verified_at,
                        users::mobile,
                        users::mobile_verified_at,
                        users::locale,
                    ))
                    .load(conn)
                    .map_err(port_error)?;
                for (id, name, email, email_at, mobile, mobile_at, locale) in rows {
                    found.push(Reachable {
                        id: UserId::from_uuid(id.uuid()),
                        name: Text::from_stored(name),
                        email: email.filter(|_| email_at.is_some()).map(Email::from_stored),
                        mobile: mobile
                            .filter(|_| mobile_at.is_some())
                            .map(Mobile::from_stored),
                        locale: Locale::parse(&locale).unwrap_or_default(),
                    });
                }
            }
            Ok(found)
        })
        .await
    }
}
