//! The [`ChangeFeed`] port: a user's feed, the fan-out's reads of every new change with its
//! recipients, the latest id, retention, and the commit signal live streams wait on.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::changes::ports::{ChangeFeed, CommitWatch};
use domain::changes::{AddressedChange, Change, ChangeId, ChangeKind, FeedRead, RecordedChange};
use domain::ports::PortError;
use domain::UserId;

use super::outbox::{sequence, ChangeRow};
use super::stored;
use crate::db::{port_error, AnyConnection, Database};
use crate::rows::{from_db_time, to_db_time};
use crate::schema::{change_recipients, change_sequence, changes};
use crate::sql_types::DbId;

/// Numbers what is staged before a read of the feed, so that a reader sees every change
/// committed before it asked. A failure (the lock not had within the timeout) is logged, not
/// fatal: the read goes on with the changes numbered so far, and the next reader numbers the rest.
fn sequence_before_reading(conn: &mut AnyConnection) {
    if let Err(error) = sequence(conn) {
        tracing::warn!(%error, "staged changes could not be numbered now; read on");
    }
}

/// A stored change read back, or `None` (logged) for a row this version cannot read: one odd row
/// never fails a feed or a stream.
fn restore(row: ChangeRow) -> Option<RecordedChange> {
    let read = || -> Result<RecordedChange, PortError> {
        let kind = ChangeKind::parse(&row.kind)
            .ok_or_else(|| PortError::unexpected("unknown change kind"))?;
        let (subject, marks) = stored::from_json(&row.subject)?;
        Ok(RecordedChange {
            id: ChangeId(row.id),
            change: Change::restore(kind, from_db_time(row.occurred_at), subject)
                .released(marks.released)
                .notifying(marks.notify)
                .promoted(marks.promoted)
                .telling(marks.told),
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
    async fn addressed_after(
        &self,
        after: ChangeId,
        limit: u32,
    ) -> Result<FeedRead<AddressedChange>, PortError> {
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
                    restore(row).map(|recorded| AddressedChange {
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
            sequence_before_reading(conn);
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
