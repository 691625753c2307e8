//! The change feed's outbox (docs/api.md, "Change feed and live stream"; docs/architecture.md,
//! "The change feed's order").
//!
//! Every repository method that changes state records the domain's [`Change`]s of what it changed
//! in its own transaction: [`resolve`] turns each change's audience (R12) into users, as the
//! event's members and managers are at that moment under the transaction's locks, and [`append`]
//! stores them. Ids must increase in the order readers can see them, with no late, lower id:
//!
//! - On SQLite, writers are serialized (`BEGIN IMMEDIATE`), so [`append`] takes the ids from the
//!   one row of `change_sequence` and stores the changes numbered.
//! - On PostgreSQL, [`append`] stages them unnumbered (`changes_staged`), so that writers
//!   never wait for each other, and [`sequence`] numbers what has committed, one sequencer at a
//!   time under an advisory lock, in a short transaction of its own. Every read of the feed runs
//!   it first, so a reader sees all that committed before it asked.
//!
//! The subject is stored as JSON in this adapter's own form (the rows it was made of), read back
//! into domain values; the wording users read is the HTTP layer's.

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::backend::Backend;
use diesel::prelude::*;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, HasSqlType, Nullable, Text as SqlText};
use domain::change::{
    Change, ChangeId, ChangeKind, ChangeSubject, Delivery, EventRef, FeedRead, RecordedChange,
};
use domain::ports::{ChangeFeed, CommitWatch, PortError};
use domain::{Audience, EventId, Role, Text, UserId};
use serde::{Deserialize, Serialize};

use crate::db::{port_error, AnyConnection, Database};
use crate::rows::{
    event, from_db_time, invitation_details, member, parse_id, to_db_time, EventRow, InvitationRow,
    MemberRow, SummaryRow,
};
use crate::schema::{change_recipients, change_sequence, changes, changes_staged, event_members};
use crate::sql_types::{DbId, DbTime, Id, Moment};

/// The PostgreSQL channel that wakes every process's stream when changes commit.
pub(crate) const CHANNEL: &str = "changes";

/// Rows per multi-row insert: well under PostgreSQL's 65,535 binds and SQLite's 32,766.
pub(crate) const INSERT_CHUNK: usize = 2_000;

/// A change with the users it goes to.
pub(crate) struct Resolved {
    change: Change,
    recipients: BTreeSet<DbId>,
}

/// Resolves each change's audience to users, as the event's members are now (call it in the
/// changing transaction, after its own writes, or before a deletion takes the members away).
/// One query per event and kind of audience, whatever the number of changes.
pub(crate) fn resolve(
    conn: &mut AnyConnection,
    changes: Vec<Change>,
) -> QueryResult<Vec<Resolved>> {
    let mut managers: HashMap<EventId, Vec<DbId>> = HashMap::new();
    let mut members: HashMap<EventId, Vec<DbId>> = HashMap::new();
    let mut resolved = Vec::with_capacity(changes.len());
    for change in changes {
        let audience = change.audience();
        let event = audience.event();
        let mut recipients = BTreeSet::new();
        match audience {
            Audience::InvitationParties {
                sender, invitee, ..
            } => {
                let found = match managers.entry(event) {
                    Entry::Occupied(found) => found.into_mut(),
                    Entry::Vacant(slot) => slot.insert(
                        event_members::table
                            .filter(event_members::event_id.eq(DbId::of(event)))
                            .filter(
                                event_members::role
                                    .eq_any([Role::Owner.as_str(), Role::Cohost.as_str()]),
                            )
                            .select(event_members::user_id)
                            .load(conn)?,
                    ),
                };
                recipients.extend(found.iter().copied());
                recipients.insert(DbId::of(sender));
                recipients.insert(DbId::of(invitee));
            }
            Audience::Members { also, .. } => {
                let found = match members.entry(event) {
                    Entry::Occupied(found) => found.into_mut(),
                    Entry::Vacant(slot) => slot.insert(
                        event_members::table
                            .filter(event_members::event_id.eq(DbId::of(event)))
                            .select(event_members::user_id)
                            .load(conn)?,
                    ),
                };
                recipients.extend(found.iter().copied());
                recipients.extend(also.map(DbId::of));
            }
        }
        resolved.push(Resolved { change, recipients });
    }
    Ok(resolved)
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = changes)]
struct ChangeRow {
    id: i64,
    kind: String,
    occurred_at: DbTime,
    subject: String,
}

struct RecipientRow {
    user_id: DbId,
    change_id: i64,
}

/// A change in its stored form, with its recipients, not yet numbered.
struct Unnumbered {
    kind: String,
    occurred_at: DbTime,
    subject: String,
    recipients: Vec<DbId>,
}

impl Unnumbered {
    fn of(resolved: Resolved) -> QueryResult<Self> {
        Ok(Self {
            kind: resolved.change.kind().as_str().to_owned(),
            occurred_at: to_db_time(resolved.change.occurred_at()),
            subject: serde_json::to_string(&StoredSubject::from(resolved.change.subject()))
                .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?,
            recipients: resolved.recipients.into_iter().collect(),
        })
    }
}

/// A staged change as PostgreSQL keeps it until the sequencer numbers it.
#[derive(Queryable, Selectable)]
#[diesel(table_name = changes_staged)]
struct StagedRow {
    staged_id: i64,
    kind: String,
    occurred_at: DbTime,
    subject: String,
    recipients: String,
}

impl From<StagedRow> for Unnumbered {
    /// The stage keeps the recipients as one TEXT of ids separated by spaces (a list, not a
    /// column of ids: it is only ever moved whole into `change_recipients`).
    fn from(row: StagedRow) -> Self {
        // One odd id (the stage is ours, so never, but stored data is trusted as stored) loses
        // that recipient, not the whole batch: the sequencer must never stall the feed.
        let recipients = row
            .recipients
            .split_whitespace()
            .filter_map(|id| {
                parse_id(id)
                    .inspect_err(|error| tracing::warn!(%error, "a staged recipient is not an id"))
                    .ok()
            })
            .collect();
        Self {
            kind: row.kind,
            occurred_at: row.occurred_at,
            subject: row.subject,
            recipients,
        }
    }
}

/// Stores the changes with their recipients: call it last in the changing transaction.
///
/// On SQLite the changes are numbered here: `BEGIN IMMEDIATE` serializes writers, so they commit
/// in the order they number. On PostgreSQL they are staged unnumbered, and [`sequence`] numbers
/// them once committed (the module's doc); writers never wait for each other here.
pub(crate) fn append(conn: &mut AnyConnection, resolved: Vec<Resolved>) -> QueryResult<()> {
    if resolved.is_empty() {
        return Ok(());
    }
    let changes = resolved
        .into_iter()
        .map(Unnumbered::of)
        .collect::<QueryResult<Vec<_>>>()?;
    match conn {
        AnyConnection::Pg(_) => {
            let rows: Vec<_> = changes
                .iter()
                .map(|c| StagedInsert {
                    kind: &c.kind,
                    occurred_at: c.occurred_at,
                    subject: &c.subject,
                    recipients: c
                        .recipients
                        .iter()
                        .map(DbId::to_string)
                        .collect::<Vec<_>>()
                        .join(" "),
                })
                .collect();
            for chunk in rows.chunks(INSERT_CHUNK) {
                insert_rows(conn, chunk)?;
            }
            Ok(())
        }
        AnyConnection::Sqlite(_) => number(conn, changes),
    }
}

/// Takes the next `changes.len()` ids from the sequence row and stores the changes under them,
/// with their recipients. The caller must be the only one numbering until it commits: the SQLite
/// writer under `BEGIN IMMEDIATE`, or the PostgreSQL sequencer under its advisory lock.
fn number(conn: &mut AnyConnection, changes: Vec<Unnumbered>) -> QueryResult<()> {
    let count = i64::try_from(changes.len()).unwrap_or(i64::MAX);
    let last: i64 = diesel::update(change_sequence::table.filter(change_sequence::id.eq(1)))
        .set(change_sequence::last_id.eq(change_sequence::last_id + count))
        .returning(change_sequence::last_id)
        .get_result(conn)?;
    let first = last - count + 1;
    let rows: Vec<ChangeRow> = changes
        .iter()
        .zip(first..)
        .map(|(c, id)| ChangeRow {
            id,
            kind: c.kind.clone(),
            occurred_at: c.occurred_at,
            subject: c.subject.clone(),
        })
        .collect();
    for chunk in rows.chunks(INSERT_CHUNK) {
        insert_rows(conn, chunk)?;
    }
    let recipients: Vec<RecipientRow> = changes
        .iter()
        .zip(first..)
        .flat_map(|(c, id)| {
            c.recipients.iter().map(move |user| RecipientRow {
                user_id: *user,
                change_id: id,
            })
        })
        .collect();
    for chunk in recipients.chunks(INSERT_CHUNK) {
        insert_rows(conn, chunk)?;
    }
    Ok(())
}

/// The key of the transaction-scoped advisory lock that lets one sequencer at a time number
/// staged changes, across every process on the database.
const SEQUENCER_LOCK_KEY: i64 = 0x4576_656e_7453_6571;

/// Staged changes numbered per sequencer transaction.
const SEQUENCE_BATCH: i64 = 1_000;

/// PostgreSQL: numbers up to [`SEQUENCE_BATCH`] of the changes that writers staged and committed,
/// oldest staged first, and moves them into the feed; returns how many. A short transaction of its
/// own: it takes the sequencer's advisory lock (waiting for another sequencer, within the lock
/// timeout), then reads the staged rows with a fresh snapshot (READ COMMITTED), so it sees every
/// change committed before it took the lock, numbers them after the last id, deletes them from
/// the stage and notifies [`CHANNEL`] at commit. Sequencers run one after another, each after the
/// previous committed, so an id never becomes visible after a higher one. One batch per call
/// bounds the time a reader spends numbering (a reader reads at most 1,000 changes anyway; the
/// next read numbers the next batch). A no-op (one `SELECT`) when nothing is staged, and on
/// SQLite, where writers number their own.
pub(crate) fn sequence(conn: &mut AnyConnection) -> QueryResult<usize> {
    if !matches!(conn, AnyConnection::Pg(_)) {
        return Ok(0);
    }
    let staged: bool = diesel::select(diesel::dsl::exists(
        changes_staged::table.select(changes_staged::staged_id),
    ))
    .get_result(conn)?;
    if !staged {
        return Ok(0);
    }
    conn.transaction(|conn| {
        diesel::sql_query(format!(
            "SELECT pg_advisory_xact_lock({SEQUENCER_LOCK_KEY})"
        ))
        .execute(conn)?;
        let rows: Vec<StagedRow> = changes_staged::table
            .order(changes_staged::staged_id)
            .limit(SEQUENCE_BATCH)
            .select(StagedRow::as_select())
            .load(conn)?;
        if rows.is_empty() {
            return Ok(0);
        }
        let staged: Vec<i64> = rows.iter().map(|row| row.staged_id).collect();
        let count = rows.len();
        number(conn, rows.into_iter().map(Unnumbered::from).collect())?;
        diesel::delete(changes_staged::table.filter(changes_staged::staged_id.eq_any(staged)))
            .execute(conn)?;
        diesel::sql_query(format!("NOTIFY {CHANNEL}")).execute(conn)?;
        Ok(count)
    })
}

/// Numbers what is staged before a read of the feed, so that a reader sees every change
/// committed before it asked. A failure (the lock not had within the timeout) is logged, not
/// fatal: the read goes on with the changes numbered so far, and the next reader numbers the rest.
fn sequence_before_reading(conn: &mut AnyConnection) {
    if let Err(error) = sequence(conn) {
        tracing::warn!(%error, "staged changes could not be numbered now; read on");
    }
}

/// A staged change to insert (PostgreSQL).
struct StagedInsert<'a> {
    kind: &'a str,
    occurred_at: DbTime,
    subject: &'a str,
    recipients: String,
}

/// One bound value of a row, with its SQL type (on PostgreSQL an id is bound as `uuid` and a time
/// as `timestamptz`, the columns' own types).
pub(crate) enum Bind<'a> {
    BigInt(i64),
    Text(&'a str),
    NullableText(Option<&'a str>),
    Id(DbId),
    NullableId(Option<DbId>),
    Moment(DbTime),
}

/// Rows that one multi-row `INSERT` stores: diesel's MultiBackend has no batch insert, and its
/// SQLite batch insert sends one statement per row.
pub(crate) trait Row {
    /// `INSERT INTO table (columns…) VALUES `.
    const SQL: &'static str;
    const COLUMNS: usize;
    /// The row's values, in the order of the columns.
    fn binds(&self) -> Vec<Bind<'_>>;
}

impl Row for ChangeRow {
    const SQL: &'static str = "INSERT INTO changes (id, kind, occurred_at, subject) VALUES ";
    const COLUMNS: usize = 4;
    fn binds(&self) -> Vec<Bind<'_>> {
        vec![
            Bind::BigInt(self.id),
            Bind::Text(&self.kind),
            Bind::Moment(self.occurred_at),
            Bind::Text(&self.subject),
        ]
    }
}

impl Row for RecipientRow {
    const SQL: &'static str = "INSERT INTO change_recipients (user_id, change_id) VALUES ";
    const COLUMNS: usize = 2;
    fn binds(&self) -> Vec<Bind<'_>> {
        vec![Bind::Id(self.user_id), Bind::BigInt(self.change_id)]
    }
}

impl Row for StagedInsert<'_> {
    const SQL: &'static str =
        "INSERT INTO changes_staged (kind, occurred_at, subject, recipients) VALUES ";
    const COLUMNS: usize = 4;
    fn binds(&self) -> Vec<Bind<'_>> {
        vec![
            Bind::Text(self.kind),
            Bind::Moment(self.occurred_at),
            Bind::Text(self.subject),
            Bind::Text(&self.recipients),
        ]
    }
}

/// Binds every value of `rows`, in order, on either backend's query.
fn bind_rows<'a, DB, R: Row>(
    query: BoxedSqlQuery<'a, DB, SqlQuery>,
    rows: &'a [R],
) -> BoxedSqlQuery<'a, DB, SqlQuery>
where
    DB: Backend
        + HasSqlType<BigInt>
        + HasSqlType<SqlText>
        + HasSqlType<Id>
        + HasSqlType<Moment>
        + HasSqlType<Nullable<SqlText>>
        + HasSqlType<Nullable<Id>>,
    i64: ToSql<BigInt, DB>,
    str: ToSql<SqlText, DB>,
    Option<&'a str>: ToSql<Nullable<SqlText>, DB>,
    DbId: ToSql<Id, DB>,
    Option<DbId>: ToSql<Nullable<Id>, DB>,
    DbTime: ToSql<Moment, DB>,
{
    rows.iter()
        .flat_map(Row::binds)
        .fold(query, |query, bind| match bind {
            Bind::BigInt(value) => query.bind::<BigInt, _>(value),
            Bind::Text(value) => query.bind::<SqlText, _>(value),
            Bind::NullableText(value) => query.bind::<Nullable<SqlText>, _>(value),
            Bind::Id(value) => query.bind::<Id, _>(value),
            Bind::NullableId(value) => query.bind::<Nullable<Id>, _>(value),
            Bind::Moment(value) => query.bind::<Moment, _>(value),
        })
}

/// `INSERT … VALUES (…), (…)` of `rows` in one statement, with each backend's placeholders.
pub(crate) fn insert_rows<R: Row>(conn: &mut AnyConnection, rows: &[R]) -> QueryResult<usize> {
    fn sql<R: Row>(rows: usize, postgres: bool) -> String {
        let mut sql = String::from(R::SQL);
        for row in 0..rows {
            sql.push_str(if row == 0 { "(" } else { ", (" });
            for column in 0..R::COLUMNS {
                if column > 0 {
                    sql.push_str(", ");
                }
                if postgres {
                    sql.push_str(&format!("${}", row * R::COLUMNS + column + 1));
                } else {
                    sql.push('?');
                }
            }
            sql.push(')');
        }
        sql
    }
    match conn {
        AnyConnection::Pg(pg) => bind_rows(
            diesel::sql_query(sql::<R>(rows.len(), true)).into_boxed(),
            rows,
        )
        .execute(pg),
        AnyConnection::Sqlite(sqlite) => bind_rows(
            diesel::sql_query(sql::<R>(rows.len(), false)).into_boxed(),
            rows,
        )
        .execute(sqlite),
    }
}

/// [`resolve`] then [`append`]: what most changing transactions end with.
pub(crate) fn record(conn: &mut AnyConnection, changes: Vec<Change>) -> QueryResult<()> {
    let resolved = resolve(conn, changes)?;
    append(conn, resolved)
}

/// Makes a domain change in a transaction, where a mismatch (a bug: the state does not fit the
/// kind) rolls the transaction back as a serialization error rather than recording nonsense.
pub(crate) fn made(change: Result<Change, domain::change::ChangeMismatch>) -> QueryResult<Change> {
    change.map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))
}

/// The event's id and title, read in the transaction.
pub(crate) fn event_ref(conn: &mut AnyConnection, id: DbId) -> QueryResult<EventRef> {
    let title: String = crate::schema::events::table
        .filter(crate::schema::events::id.eq(id))
        .select(crate::schema::events::title)
        .first(conn)?;
    Ok(EventRef {
        id: EventId::from_uuid(id.uuid()),
        title: Text::from_stored(title),
    })
}

/// The stored form of a subject: the rows it was made of (version 1 of the format).
#[derive(Serialize, Deserialize)]
#[serde(tag = "subject", rename_all = "snake_case")]
enum StoredSubject {
    Invitation {
        invitation: InvitationRow,
        event_title: String,
        sender: SummaryRow,
        invitee: SummaryRow,
    },
    Member {
        event_id: DbId,
        event_title: String,
        member: MemberRow,
        user: SummaryRow,
    },
    Event {
        event: EventRow,
        owner: SummaryRow,
    },
    DeletedEvent {
        event_id: DbId,
        event_title: String,
    },
}

fn summary_row(user: &domain::UserSummary) -> SummaryRow {
    (DbId::of(user.id), user.name.as_str().to_owned())
}

impl From<&ChangeSubject> for StoredSubject {
    fn from(subject: &ChangeSubject) -> Self {
        match subject {
            ChangeSubject::Invitation(details) => Self::Invitation {
                invitation: InvitationRow::from(&details.invitation),
                event_title: details.event_title.as_str().to_owned(),
                sender: summary_row(&details.sender),
                invitee: summary_row(&details.invitee),
            },
            ChangeSubject::Member { event, member } => Self::Member {
                event_id: DbId::of(event.id),
                event_title: event.title.as_str().to_owned(),
                member: MemberRow {
                    id: DbId::of(member.id),
                    event_id: DbId::of(event.id),
                    user_id: DbId::of(member.user.id),
                    role: member.role.as_str().to_owned(),
                    joined_at: to_db_time(member.joined_at),
                },
                user: summary_row(&member.user),
            },
            ChangeSubject::Event(e) => Self::Event {
                event: EventRow {
                    id: DbId::of(e.id),
                    owner_id: DbId::of(e.owner.id),
                    title: e.details.title().as_str().to_owned(),
                    description: e.details.description().map(|t| t.as_str().to_owned()),
                    location: e.details.location().map(|t| t.as_str().to_owned()),
                    starts_at: e.details.starts_at().map(to_db_time),
                    ends_at: e.details.ends_at().map(to_db_time),
                    members_count: i64::try_from(e.members_count).unwrap_or(i64::MAX),
                    created_at: to_db_time(e.created_at),
                },
                owner: summary_row(&e.owner),
            },
            ChangeSubject::DeletedEvent(event) => Self::DeletedEvent {
                event_id: DbId::of(event.id),
                event_title: event.title.as_str().to_owned(),
            },
        }
    }
}

fn event_ref_of(id: DbId, title: String) -> EventRef {
    EventRef {
        id: EventId::from_uuid(id.uuid()),
        title: Text::from_stored(title),
    }
}

impl StoredSubject {
    fn restore(self) -> Result<ChangeSubject, PortError> {
        Ok(match self {
            Self::Invitation {
                invitation,
                event_title,
                sender,
                invitee,
            } => ChangeSubject::Invitation(invitation_details((
                invitation,
                event_title,
                sender,
                invitee,
            ))?),
            Self::Member {
                event_id,
                event_title,
                member: row,
                user,
            } => ChangeSubject::Member {
                event: event_ref_of(event_id, event_title),
                member: member(row, user)?,
            },
            Self::Event { event: row, owner } => ChangeSubject::Event(event(row, owner)?),
            Self::DeletedEvent {
                event_id,
                event_title,
            } => ChangeSubject::DeletedEvent(event_ref_of(event_id, event_title)),
        })
    }
}

/// A stored change read back, or `None` (logged) for a row this version cannot read: one odd row
/// never fails a feed or a stream.
fn restore(row: ChangeRow) -> Option<RecordedChange> {
    let read = || -> Result<RecordedChange, PortError> {
        let kind = ChangeKind::parse(&row.kind)
            .ok_or_else(|| PortError::unexpected("unknown change kind"))?;
        let subject: StoredSubject =
            serde_json::from_str(&row.subject).map_err(PortError::unexpected)?;
        Ok(RecordedChange {
            id: ChangeId(row.id),
            change: Change::restore(kind, from_db_time(row.occurred_at), subject.restore()?),
        })
    };
    match read() {
        Ok(recorded) => Some(recorded),
        Err(error) => {
            tracing::warn!(id = row.id, %error, "a stored change cannot be read; skipped");
            None
        }
    }
}

fn clamp(limit: u32) -> i64 {
    i64::from(limit.clamp(1, 1_000))
}

#[async_trait]
impl ChangeFeed for Database {
    #[tracing::instrument(skip_all)]
    async fn list_for(
        &self,
        user: UserId,
        after: ChangeId,
        limit: u32,
    ) -> Result<FeedRead<RecordedChange>, PortError> {
        let user = DbId::of(user);
        let limit = clamp(limit);
        self.run(move |conn| {
            sequence_before_reading(conn);
            let rows: Vec<ChangeRow> = change_recipients::table
                .inner_join(changes::table.on(changes::id.eq(change_recipients::change_id)))
                .filter(change_recipients::user_id.eq(user))
                .filter(change_recipients::change_id.gt(after.0))
                .order(change_recipients::change_id)
                .limit(limit)
                .select(ChangeRow::as_select())
                .load(conn)
                .map_err(port_error)?;
            let read_up_to = rows.last().map_or(after, |row| ChangeId(row.id));
            Ok(FeedRead {
                changes: rows.into_iter().filter_map(restore).collect(),
                read_up_to,
            })
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn deliveries_after(
        &self,
        after: ChangeId,
        limit: u32,
    ) -> Result<FeedRead<Delivery>, PortError> {
        let limit = clamp(limit);
        self.run(move |conn| {
            sequence_before_reading(conn);
            let rows: Vec<ChangeRow> = changes::table
                .filter(changes::id.gt(after.0))
                .order(changes::id)
                .limit(limit)
                .select(ChangeRow::as_select())
                .load(conn)
                .map_err(port_error)?;
            let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
                return Ok(FeedRead {
                    changes: Vec::new(),
                    read_up_to: after,
                });
            };
            let read_up_to = ChangeId(last.id);
            let recipients: Vec<(i64, DbId)> = change_recipients::table
                .filter(change_recipients::change_id.between(first.id, last.id))
                .select((change_recipients::change_id, change_recipients::user_id))
                .load(conn)
                .map_err(port_error)?;
            let mut by_change: HashMap<i64, Vec<UserId>> = HashMap::new();
            for (id, user) in recipients {
                by_change
                    .entry(id)
                    .or_default()
                    .push(UserId::from_uuid(user.uuid()));
            }
            let changes = rows
                .into_iter()
                .filter_map(|row| {
                    let id = row.id;
                    restore(row).map(|recorded| Delivery {
                        recorded,
                        recipients: by_change.remove(&id).unwrap_or_default(),
                    })
                })
                .collect();
            Ok(FeedRead {
                changes,
                read_up_to,
            })
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn latest(&self) -> Result<ChangeId, PortError> {
        self.run(|conn| {
            change_sequence::table
                .filter(change_sequence::id.eq(1))
                .select(change_sequence::last_id)
                .first(conn)
                .map(ChangeId)
                .map_err(port_error)
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn purge_older_than(&self, before: DateTime<Utc>, batch: u32) -> Result<u64, PortError> {
        let before = to_db_time(before);
        let batch = i64::from(batch.max(1));
        self.run(move |conn| {
            let old = diesel::alias!(changes as old);
            let due = old
                .filter(old.field(changes::occurred_at).lt(before))
                .order(old.field(changes::id))
                .select(old.field(changes::id))
                .limit(batch);
            // Recipients go with them (ON DELETE CASCADE). A row another process purged meanwhile
            // is simply not found again.
            diesel::delete(changes::table.filter(changes::id.eq_any(due)))
                .execute(conn)
                .map(|purged| purged as u64)
                .map_err(port_error)
        })
        .await
    }

    fn watch(&self) -> Box<dyn CommitWatch> {
        Box::new(Commits(self.subscribe_commits()))
    }
}

/// A [`CommitWatch`] over the database's commit signal.
struct Commits(tokio::sync::watch::Receiver<u64>);

#[async_trait]
impl CommitWatch for Commits {
    async fn changed(&mut self) {
        if self.0.changed().await.is_err() {
            // The database is gone: nothing more will commit.
            std::future::pending::<()>().await;
        }
    }
}
