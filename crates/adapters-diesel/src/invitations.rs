//! The invitation repository. The database itself keeps the two rules that races could break: the
//! partial unique index `invitations_one_pending` allows one pending invitation per event and
//! invitee (docs/api.md, "Ignore reasons": `already_invited`), and answering is an update
//! conditional on the invitation still being pending, so it is answered once (docs/api.md,
//! "`PATCH /api/v1/invitations/{invitation_id}`").

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use diesel::prelude::*;
use diesel::sql_types::{Text, Timestamp};
use diesel::sqlite::Sqlite;
use domain::ports::{
    BatchOutcome, InvitationFilter, InvitationRepository, PortError, SaveAnswerError,
};
use domain::{
    Answer, EventId, Invitation, InvitationDetails, InvitationId, InvitationState,
    InvitationStatus, InviteeState, MemberId, Page, PageRequest, Role, UserId,
};

use crate::db::{port_error, write_transaction, AnyConnection, Database};
use crate::rows::{
    invitation_details, parse_uuid, to_db_time, InvitationDetailsRow, InvitationRow, MemberRow,
};
use crate::schema::{event_members, events, invitations, users};

/// Which party of an invitation a list is for.
#[derive(Clone, Copy)]
enum Party {
    Sender,
    Invitee,
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

impl Database {
    async fn list(
        &self,
        party: Party,
        user: UserId,
        filter: InvitationFilter,
        page: PageRequest,
    ) -> Result<Page<InvitationDetails>, PortError> {
        let user = user.to_string();
        let status = filter.status.status().map(InvitationStatus::as_str);
        let event_id = filter.event_id.map(|id| id.to_string());
        let after = page.after.map(|id| id.to_string());
        let fetch = i64::from(page.limit.get()) + 1;
        self.run(move |conn| {
            let mut query = details_query!();
            query = match party {
                Party::Sender => query.filter(invitations::sender_id.eq(&user)),
                Party::Invitee => query.filter(invitations::invitee_id.eq(&user)),
            };
            if let Some(status) = status {
                query = query.filter(invitations::status.eq(status));
            }
            if let Some(event_id) = &event_id {
                query = query.filter(invitations::event_id.eq(event_id));
            }
            if let Some(after) = &after {
                query = query.filter(invitations::id.lt(after));
            }
            let rows: Vec<InvitationDetailsRow> = query
                .order(invitations::id.desc())
                .limit(fetch)
                .load(conn)
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

/// `INSERT OR IGNORE` of all rows in one statement (7 binds a row; SQLite allows 32,766).
fn sqlite_insert_or_ignore(
    rows: &[InvitationRow],
) -> diesel::query_builder::BoxedSqlQuery<'_, Sqlite, diesel::query_builder::SqlQuery> {
    let values = vec!["(?, ?, ?, ?, ?, ?, ?, NULL)"; rows.len()].join(", ");
    let sql = format!(
        "INSERT OR IGNORE INTO invitations \
         (id, event_id, sender_id, invitee_id, contact, status, created_at, answered_at) VALUES {values}"
    );
    rows.iter()
        .fold(diesel::sql_query(sql).into_boxed(), |query, row| {
            query
                .bind::<Text, _>(&row.id)
                .bind::<Text, _>(&row.event_id)
                .bind::<Text, _>(&row.sender_id)
                .bind::<Text, _>(&row.invitee_id)
                .bind::<Text, _>(&row.contact)
                .bind::<Text, _>(&row.status)
                .bind::<Timestamp, _>(row.created_at)
        })
}

#[async_trait]
impl InvitationRepository for Database {
    #[tracing::instrument(skip_all, fields(users = users.len()))]
    async fn invitee_states(
        &self,
        event: EventId,
        users: &[UserId],
    ) -> Result<HashMap<UserId, InviteeState>, PortError> {
        let event = event.to_string();
        let users: Vec<String> = users.iter().map(ToString::to_string).collect();
        self.run(move |conn| {
            let members: Vec<String> = event_members::table
                .filter(event_members::event_id.eq(&event))
                .filter(event_members::user_id.eq_any(&users))
                .select(event_members::user_id)
                .load(conn)
                .map_err(port_error)?;
            let invited: Vec<(String, String, String)> = invitations::table
                .filter(invitations::event_id.eq(&event))
                .filter(invitations::invitee_id.eq_any(&users))
                .select((
                    invitations::invitee_id,
                    invitations::id,
                    invitations::status,
                ))
                .load(conn)
                .map_err(port_error)?;

            let mut states: HashMap<UserId, InviteeState> = HashMap::new();
            for user in members {
                states
                    .entry(UserId::from_uuid(parse_uuid(&user)?))
                    .or_default()
                    .is_member = true;
            }
            // The latest invitation is the one with the greatest (time-ordered) id.
            let mut latest: HashMap<String, (String, String)> = HashMap::new();
            for (invitee, id, status) in invited {
                match latest.get(&invitee) {
                    Some((latest_id, _)) if *latest_id >= id => {}
                    _ => {
                        latest.insert(invitee, (id, status));
                    }
                }
            }
            for (invitee, (_, status)) in latest {
                let status = InvitationStatus::parse(&status)
                    .ok_or_else(|| PortError::unexpected("corrupt row: status"))?;
                states
                    .entry(UserId::from_uuid(parse_uuid(&invitee)?))
                    .or_default()
                    .latest = Some(status);
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
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        self.run(move |conn| {
            let ids: Vec<&str> = rows.iter().map(|row| row.id.as_str()).collect();
            // A row that would be a second pending invitation for its (event, invitee) hits the
            // partial unique index and is skipped, not an error; reading the ids back in the same
            // transaction tells which rows went in. The insert differs per dialect: diesel sends a
            // batch insert (with or without RETURNING) to SQLite as one statement per row, so
            // SQLite gets a hand-built multi-row INSERT OR IGNORE.
            let created: Vec<String> = write_transaction(conn, |c| {
                match c {
                    AnyConnection::Pg(pg) => diesel::insert_into(invitations::table)
                        .values(&rows)
                        .on_conflict_do_nothing()
                        .execute(pg)?,
                    AnyConnection::Sqlite(sqlite) => {
                        sqlite_insert_or_ignore(&rows).execute(sqlite)?
                    }
                };
                invitations::table
                    .filter(invitations::id.eq_any(&ids))
                    .select(invitations::id)
                    .load(c)
            })
            .map_err(port_error)?;
            let created: HashSet<String> = created.into_iter().collect();
            Ok(rows
                .iter()
                .map(|row| {
                    if created.contains(&row.id) {
                        BatchOutcome::Created
                    } else {
                        BatchOutcome::AlreadyPending
                    }
                })
                .collect())
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn find(&self, id: InvitationId) -> Result<Option<InvitationDetails>, PortError> {
        let id = id.to_string();
        self.run(move |conn| {
            let row: Option<InvitationDetailsRow> = details_query!()
                .filter(invitations::id.eq(&id))
                .first(conn)
                .optional()
                .map_err(port_error)?;
            row.map(invitation_details).transpose()
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn save_answer(&self, invitation: &Invitation) -> Result<(), SaveAnswerError> {
        let InvitationState::Answered { answer, at } = invitation.state() else {
            return Err(
                PortError::unexpected("save_answer called with a pending invitation").into(),
            );
        };
        let id = invitation.id().to_string();
        let event_id = invitation.event_id().to_string();
        let status = answer.status().as_str();
        let at = to_db_time(at);
        let membership = (answer == Answer::Accept).then(|| MemberRow {
            id: MemberId::generate().to_string(),
            event_id: event_id.clone(),
            user_id: invitation.invitee_id().to_string(),
            role: Role::Member.as_str().to_owned(),
            joined_at: at,
        });
        self.run(move |conn| {
            let answered = write_transaction(conn, |c| {
                // Conditional on the row still being pending: of concurrent answers, one updates a
                // row and the others find none, across any number of server processes.
                let updated = diesel::update(invitations::table)
                    .filter(invitations::id.eq(&id))
                    .filter(invitations::status.eq(InvitationStatus::Pending.as_str()))
                    .set((
                        invitations::status.eq(status),
                        invitations::answered_at.eq(at),
                    ))
                    .execute(c)?;
                if updated == 0 {
                    return Ok(false);
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
                        diesel::update(events::table.filter(events::id.eq(&event_id)))
                            .set(events::members_count.eq(events::members_count + 1))
                            .execute(c)?;
                    }
                }
                Ok(true)
            })
            .map_err(port_error)?;
            if answered {
                Ok(())
            } else {
                Err(SaveAnswerError::AlreadyAnswered)
            }
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn list_sent(
        &self,
        sender: UserId,
        filter: InvitationFilter,
        page: PageRequest,
    ) -> Result<Page<InvitationDetails>, PortError> {
        self.list(Party::Sender, sender, filter, page).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_received(
        &self,
        invitee: UserId,
        filter: InvitationFilter,
        page: PageRequest,
    ) -> Result<Page<InvitationDetails>, PortError> {
        self.list(Party::Invitee, invitee, filter, page).await
    }
}
