//! The event repository.

use async_trait::async_trait;
use diesel::prelude::*;
use domain::ports::{EventRepository, NewEvent, PortError};
use domain::{Event, EventId, Member, MemberId, Page, PageRequest, Role, UserId};

use crate::db::{port_error, write_transaction, Database};
use crate::rows::{event, member, to_db_time, EventRow, MemberRow, SummaryRow};
use crate::schema::{event_members, events, users};

#[async_trait]
impl EventRepository for Database {
    #[tracing::instrument(skip_all)]
    async fn create(&self, new: NewEvent) -> Result<Event, PortError> {
        let details = &new.details;
        let row = EventRow {
            id: new.id.to_string(),
            owner_id: new.owner.id.to_string(),
            title: details.title().as_str().to_owned(),
            description: details.description().map(|t| t.as_str().to_owned()),
            location: details.location().map(|t| t.as_str().to_owned()),
            starts_at: details.starts_at().map(to_db_time),
            ends_at: details.ends_at().map(to_db_time),
            members_count: 1,
            created_at: to_db_time(new.created_at),
        };
        let owner = MemberRow {
            id: MemberId::generate().to_string(),
            event_id: row.id.clone(),
            user_id: row.owner_id.clone(),
            role: Role::Owner.as_str().to_owned(),
            joined_at: row.created_at,
        };
        let owner_summary = (new.owner.id.to_string(), new.owner.name.as_str().to_owned());
        self.run(move |conn| {
            write_transaction(conn, |c| {
                diesel::insert_into(events::table).values(&row).execute(c)?;
                diesel::insert_into(event_members::table)
                    .values(&owner)
                    .execute(c)?;
                Ok(())
            })
            .map_err(port_error)?;
            event(row, owner_summary)
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn find_for_member(
        &self,
        id: EventId,
        viewer: UserId,
    ) -> Result<Option<Event>, PortError> {
        let (id, viewer) = (id.to_string(), viewer.to_string());
        self.run(move |conn| {
            let row: Option<(EventRow, SummaryRow)> = events::table
                .inner_join(users::table)
                .inner_join(
                    event_members::table.on(event_members::event_id
                        .eq(events::id)
                        .and(event_members::user_id.eq(&viewer))),
                )
                .filter(events::id.eq(&id))
                .select((EventRow::as_select(), (users::id, users::name)))
                .first(conn)
                .optional()
                .map_err(port_error)?;
            row.map(|(row, owner)| event(row, owner)).transpose()
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn list_for_member(
        &self,
        member_id: UserId,
        page: PageRequest,
    ) -> Result<Page<Event>, PortError> {
        let viewer = member_id.to_string();
        let after = page.after.map(|id| id.to_string());
        let fetch = i64::from(page.limit.get()) + 1;
        self.run(move |conn| {
            let mut query = events::table
                .inner_join(users::table)
                .inner_join(
                    event_members::table.on(event_members::event_id
                        .eq(events::id)
                        .and(event_members::user_id.eq(&viewer))),
                )
                .select((EventRow::as_select(), (users::id, users::name)))
                .order(events::id.desc())
                .limit(fetch)
                .into_boxed();
            if let Some(after) = &after {
                query = query.filter(events::id.lt(after));
            }
            let rows: Vec<(EventRow, SummaryRow)> = query.load(conn).map_err(port_error)?;
            let events = rows
                .into_iter()
                .map(|(row, owner)| event(row, owner))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Page::from_overfetched(events, page.limit, |e| {
                e.id.as_uuid()
            }))
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn list_members(
        &self,
        event_id: EventId,
        page: PageRequest,
    ) -> Result<Page<Member>, PortError> {
        let event_id = event_id.to_string();
        let after = page.after.map(|id| id.to_string());
        let fetch = i64::from(page.limit.get()) + 1;
        self.run(move |conn| {
            let mut query = event_members::table
                .inner_join(users::table.on(users::id.eq(event_members::user_id)))
                .filter(event_members::event_id.eq(&event_id))
                .select((MemberRow::as_select(), (users::id, users::name)))
                .order(event_members::id.desc())
                .limit(fetch)
                .into_boxed();
            if let Some(after) = &after {
                query = query.filter(event_members::id.lt(after));
            }
            let rows: Vec<(MemberRow, SummaryRow)> = query.load(conn).map_err(port_error)?;
            let members = rows
                .into_iter()
                .map(|(row, user)| member(row, user))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Page::from_overfetched(members, page.limit, |m| {
                m.id.as_uuid()
            }))
        })
        .await
    }
}
