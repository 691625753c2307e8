//! Storing changes in the transaction that made them, and numbering them. Ids must increase in the
//! order readers can see them, with no late, lower id:
//!
//! - On SQLite, writers are serialized (`BEGIN IMMEDIATE`), so [`append`] takes the ids from the
//!   one row of `change_sequence` and stores the changes numbered, in `changes` and
//!   `change_recipients`.
//! - On PostgreSQL, [`append`] stages them unnumbered (`changes_staged`), so that writers never
//!   wait for each other, and [`sequence`] numbers what has committed, one sequencer at a time
//!   under an advisory lock, in a short transaction of its own, then notifies [`CHANNEL`]. Every
//!   read of the feed runs it first, so a reader sees all that committed before it asked.

use diesel::prelude::*;
use domain::changes::Change;
use domain::changes::EventRef;
use domain::{EventId, Text};

use super::audience::{resolve, Resolved};
use super::stored;
use crate::db::{insert_rows, AnyConnection, Bind, Row, INSERT_CHUNK};
use crate::rows::{parse_id, to_db_time};
use crate::schema::{change_sequence, changes, changes_staged};
use crate::sql_types::{DbId, DbTime};

/// The PostgreSQL channel that wakes every process's stream when changes commit.
pub(crate) const CHANNEL: &str = "changes";

/// A numbered change, as `changes` holds it.
#[derive(Queryable, Selectable)]
#[diesel(table_name = changes)]
pub(super) struct ChangeRow {
    pub(super) id: i64,
    pub(super) kind: String,
    pub(super) occurred_at: DbTime,
    pub(super) subject: String,
}

/// One recipient of a numbered change.
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
            subject: stored::to_json(&resolved.change)
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
pub(super) fn sequence(conn: &mut AnyConnection) -> QueryResult<usize> {
    if !matches!(conn, AnyConnection::Pg(_)) {
        return Ok(0);
    }
    // Through the stage's primary key, oldest first: the staged rows are deleted as soon as they
    // are numbered, and an `EXISTS` over the table is planned as a scan that reads every page the
    // deleted rows still take until a vacuum (6.3 ms after a minute of accepts, against 0.03 ms
    // here: bench/reports/2026-12-07-sequencer.md), where the index scan marks the dead entries it
    // passes so that the next one skips them.
    let nothing_staged = changes_staged::table
        .select(changes_staged::staged_id)
        .order(changes_staged::staged_id)
        .first::<i64>(conn)
        .optional()?
        .is_none();
    if nothing_staged {
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

/// A staged change to insert (PostgreSQL).
struct StagedInsert<'a> {
    kind: &'a str,
    occurred_at: DbTime,
    subject: &'a str,
    recipients: String,
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

/// [`resolve`] then [`append`]: what most changing transactions end with.
pub(crate) fn record(conn: &mut AnyConnection, changes: Vec<Change>) -> QueryResult<()> {
    let resolved = resolve(conn, changes)?;
    append(conn, resolved)
}

/// Makes a domain change in a transaction, where a mismatch (a bug: the state does not fit the
/// kind) rolls the transaction back as a serialization error rather than recording nonsense.
pub(crate) fn made(change: Result<Change, domain::changes::ChangeMismatch>) -> QueryResult<Change> {
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
