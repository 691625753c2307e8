//! Codes and proofs of contacts, and the messages that carry codes (docs/api.md, "Proving
//! contacts"): the `CodeRepository` port.

use std::collections::HashSet;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::accounts::codes::CodeDigest;
use domain::accounts::ports::{
    CodePurpose, CodeRepository, NewCode, ProveContactError, StoredCode,
};
use domain::accounts::{contact_key, User};
use domain::changes::Change;
use domain::invitations::{release_held, Invitation};
use domain::messages::OutgoingMessage;
use domain::ports::PortError;
use domain::{Contact, Email, EventId, InvitationStatus, Mobile};

use crate::changes::{made, record};
use crate::db::{port_error, write_transaction, AnyConnection, Database};
use crate::invitations::{details_of, lock_events};
use crate::rows::{to_db_time, InvitationRow, UserRow};
use crate::schema::{contact_codes, event_members, invitations, messages, users};
use crate::sql_types::DbId;

/// The first key of the advisory locks that serialize proofs of one contact across processes
/// (the second is the contact's hash).
const PROOF_LOCK_KEY: i32 = 0x5072_6f66;

/// Stores a message in the outbox, due at once.
pub(crate) fn enqueue(conn: &mut AnyConnection, message: &OutgoingMessage) -> QueryResult<()> {
    let payload = serde_json::json!({"subject": message.subject, "text": message.text}).to_string();
    let at = to_db_time(message.created_at);
    diesel::insert_into(messages::table)
        .values((
            messages::id.eq(DbId::of(message.id)),
            messages::channel.eq(message.recipient.channel()),
            messages::recipient.eq(message.recipient.address()),
            messages::purpose.eq(message.purpose),
            messages::payload.eq(payload),
            messages::state.eq("pending"),
            messages::due_at.eq(Some(at)),
            messages::created_at.eq(at),
        ))
        .execute(conn)
        .map(drop)
}

#[async_trait]
impl CodeRepository for Database {
    #[tracing::instrument(skip_all, fields(purpose = code.purpose.as_str()))]
    async fn store_code(&self, code: NewCode, message: OutgoingMessage) -> Result<(), PortError> {
        let user = DbId::of(code.user_id);
        let purpose = code.purpose.as_str();
        let contact = contact_key(&code.contact).to_owned();
        let digest = code.digest.0;
        let (created_at, expires_at) = (to_db_time(code.created_at), to_db_time(code.expires_at));
        self.run(move |conn| {
            write_transaction(conn, |c| {
                diesel::delete(
                    contact_codes::table
                        .filter(contact_codes::user_id.eq(user))
                        .filter(contact_codes::purpose.eq(purpose)),
                )
                .execute(c)?;
                diesel::insert_into(contact_codes::table)
                    .values((
                        contact_codes::user_id.eq(user),
                        contact_codes::purpose.eq(purpose),
                        contact_codes::contact.eq(&contact),
                        contact_codes::code_hash.eq(&digest),
                        contact_codes::attempts.eq(0),
                        contact_codes::created_at.eq(created_at),
                        contact_codes::expires_at.eq(expires_at),
                    ))
                    .execute(c)?;
                enqueue(c, &message)
            })
            .map_err(port_error)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(purpose = purpose.as_str()))]
    async fn try_code(
        &self,
        user: domain::UserId,
        purpose: CodePurpose,
        max_attempts: u32,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredCode>, PortError> {
        let user = DbId::of(user);
        let purpose = purpose.as_str();
        let now = to_db_time(now);
        let max = i32::try_from(max_attempts).unwrap_or(i32::MAX);
        self.run(move |conn| {
            write_transaction(conn, |c| {
                // Counted first, conditionally: concurrent tries each take one of the tries left,
                // and none is counted past the last.
                let live = contact_codes::table
                    .filter(contact_codes::user_id.eq(user))
                    .filter(contact_codes::purpose.eq(purpose))
                    .filter(contact_codes::expires_at.gt(now))
                    .filter(contact_codes::attempts.lt(max));
                let counted = diesel::update(live)
                    .set(contact_codes::attempts.eq(contact_codes::attempts + 1))
                    .execute(c)?;
                if counted == 0 {
                    return Ok(None);
                }
                let (contact, digest): (String, Vec<u8>) = contact_codes::table
                    .filter(contact_codes::user_id.eq(user))
                    .filter(contact_codes::purpose.eq(purpose))
                    .select((contact_codes::contact, contact_codes::code_hash))
                    .first(c)?;
                Ok(Some((contact, digest)))
            })
            .map_err(port_error)?
            .map(|(contact, digest)| {
                Ok(StoredCode {
                    contact: stored_contact(contact),
                    digest: CodeDigest(digest),
                })
            })
            .transpose()
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(purpose = purpose.as_str()))]
    async fn prove_contact(
        &self,
        user: domain::UserId,
        purpose: CodePurpose,
        contact: Contact,
        digest: CodeDigest,
        now: DateTime<Utc>,
    ) -> Result<User, ProveContactError> {
        let me = DbId::of(user);
        // Users change (this one, and others who had named the contact): the token cache empties
        // once the write is done, even if this caller has gone by then.
        let clear = self.token_cache.clear_when_done();
        self.run(move |conn| {
            let _clear = clear;
            write_transaction(conn, |c| prove(c, me, purpose, &contact, &digest, now))
                .map_err(|error| ProveContactError::Port(port_error(error)))?
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn proven_by_another(
        &self,
        user: domain::UserId,
        contact: &Contact,
    ) -> Result<bool, PortError> {
        let me = DbId::of(user);
        let text = contact_key(contact).to_owned();
        let email = matches!(contact, Contact::Email(_));
        self.run(move |conn| {
            let owners: i64 = if email {
                users::table
                    .filter(users::email.eq(&text))
                    .filter(users::email_verified_at.is_not_null())
                    .filter(users::id.ne(me))
                    .count()
                    .get_result(conn)
            } else {
                users::table
                    .filter(users::mobile.eq(&text))
                    .filter(users::mobile_verified_at.is_not_null())
                    .filter(users::id.ne(me))
                    .count()
                    .get_result(conn)
            }
            .map_err(port_error)?;
            Ok(owners > 0)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(purpose = purpose.as_str()))]
    async fn consume_code(
        &self,
        user: domain::UserId,
        purpose: CodePurpose,
        digest: CodeDigest,
    ) -> Result<bool, PortError> {
        let user = DbId::of(user);
        let purpose = purpose.as_str();
        self.run(move |conn| {
            diesel::delete(
                contact_codes::table
                    .filter(contact_codes::user_id.eq(user))
                    .filter(contact_codes::purpose.eq(purpose))
                    .filter(contact_codes::code_hash.eq(&digest.0)),
            )
            .execute(conn)
            .map(|deleted| deleted == 1)
            .map_err(port_error)
        })
        .await
    }
}

/// A contact as stored: emails hold `@`, mobiles are E.164.
fn stored_contact(text: String) -> Contact {
    if text.contains('@') {
        Contact::Email(Email::from_stored(text))
    } else {
        Contact::Mobile(Mobile::from_stored(text))
    }
}

/// The proof, in the caller's transaction (see [`CodeRepository::prove_contact`]).
fn prove(
    c: &mut AnyConnection,
    me: DbId,
    purpose: CodePurpose,
    contact: &Contact,
    digest: &CodeDigest,
    now: DateTime<Utc>,
) -> QueryResult<Result<User, ProveContactError>> {
    let text = contact_key(contact).to_owned();
    // Proofs of one contact wait for each other, and for the batches that hold invitations for it
    // (SQLite: BEGIN IMMEDIATE already did).
    if let AnyConnection::Pg(pg) = c {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
            .bind::<diesel::sql_types::Integer, _>(PROOF_LOCK_KEY)
            .bind::<diesel::sql_types::Text, _>(&text)
            .execute(pg)?;
    }
    let consumed = diesel::delete(
        contact_codes::table
            .filter(contact_codes::user_id.eq(me))
            .filter(contact_codes::purpose.eq(purpose.as_str()))
            .filter(contact_codes::code_hash.eq(&digest.0)),
    )
    .execute(c)?;
    if consumed == 0 {
        return Ok(Err(ProveContactError::CodeGone));
    }
    let at = to_db_time(now);
    let email = matches!(contact, Contact::Email(_));
    let owner: Option<DbId> = if email {
        users::table
            .filter(users::email.eq(&text))
            .filter(users::email_verified_at.is_not_null())
            .select(users::id)
            .first(c)
            .optional()?
    } else {
        users::table
            .filter(users::mobile.eq(&text))
            .filter(users::mobile_verified_at.is_not_null())
            .select(users::id)
            .first(c)
            .optional()?
    };
    if owner.is_some_and(|owner| owner != me) {
        return Ok(Err(ProveContactError::Taken));
    }
    let Some(row) = users::table
        .find(me)
        .select(UserRow::as_select())
        .first(c)
        .optional()?
    else {
        return Ok(Err(ProveContactError::NotClaimed));
    };
    let mine = User::try_from(row).map_err(deserialization)?;
    if !mine.claims(contact) && !mine.owns(contact) {
        return Ok(Err(ProveContactError::NotClaimed));
    }
    // Taken from everyone else first, then proven: the unique index on proven contacts holds at
    // every statement.
    if email {
        diesel::update(
            users::table
                .filter(users::email.eq(&text))
                .filter(users::email_verified_at.is_null())
                .filter(users::id.ne(me)),
        )
        .set(users::email.eq(None::<String>))
        .execute(c)?;
        diesel::update(
            users::table
                .filter(users::pending_email.eq(&text))
                .filter(users::id.ne(me)),
        )
        .set(users::pending_email.eq(None::<String>))
        .execute(c)?;
        // The pending replacement, unless it is what was just proven.
        let pending = if mine.pending_email.as_ref().map(Email::as_str) == Some(text.as_str()) {
            None
        } else {
            mine.pending_email.as_ref().map(|e| e.as_str().to_owned())
        };
        diesel::update(users::table.find(me))
            .set((
                users::email.eq(&text),
                users::email_verified_at.eq(at),
                users::pending_email.eq(pending),
            ))
            .execute(c)?;
    } else {
        diesel::update(
            users::table
                .filter(users::mobile.eq(&text))
                .filter(users::mobile_verified_at.is_null())
                .filter(users::id.ne(me)),
        )
        .set(users::mobile.eq(None::<String>))
        .execute(c)?;
        diesel::update(
            users::table
                .filter(users::pending_mobile.eq(&text))
                .filter(users::id.ne(me)),
        )
        .set(users::pending_mobile.eq(None::<String>))
        .execute(c)?;
        // The pending replacement, unless it is what was just proven.
        let pending = if mine.pending_mobile.as_ref().map(Mobile::as_str) == Some(text.as_str()) {
            None
        } else {
            mine.pending_mobile.as_ref().map(|m| m.as_str().to_owned())
        };
        diesel::update(users::table.find(me))
            .set((
                users::mobile.eq(&text),
                users::mobile_verified_at.eq(at),
                users::pending_mobile.eq(pending),
            ))
            .execute(c)?;
    }
    // Their codes for it are void.
    diesel::delete(
        contact_codes::table
            .filter(contact_codes::contact.eq(&text))
            .filter(contact_codes::user_id.ne(me)),
    )
    .execute(c)?;
    release(c, me, &text, now)?;
    let row = users::table
        .find(me)
        .select(UserRow::as_select())
        .first(c)?;
    Ok(Ok(User::try_from(row).map_err(deserialization)?))
}

/// Takes, on PostgreSQL, the shared side of the proof locks of `contacts` (normalized), in order:
/// a batch that holds invitations for them and a proof of one of them then run one after the
/// other, so that the batch sees a proof committed before it ([`release_to_owners`]) and a proof
/// sees the invitations the batch held. Batches do not wait for each other. Taken before the
/// events' locks, as a proof takes its lock before them. SQLite needs none: `BEGIN IMMEDIATE`.
pub(crate) fn lock_proofs_shared(c: &mut AnyConnection, contacts: &[String]) -> QueryResult<()> {
    let AnyConnection::Pg(pg) = c else {
        return Ok(());
    };
    let mut contacts: Vec<&String> = contacts.iter().collect();
    contacts.sort();
    contacts.dedup();
    for contact in contacts {
        diesel::sql_query("SELECT pg_advisory_xact_lock_shared($1, hashtext($2))")
            .bind::<diesel::sql_types::Integer, _>(PROOF_LOCK_KEY)
            .bind::<diesel::sql_types::Text, _>(contact)
            .execute(pg)?;
    }
    Ok(())
}

/// The invitations a batch just held for `contacts` (normalized) that an account proved since the
/// batch was planned: given to that account, or cancelled, as the proof would have done had they
/// been there ([`release_held`]). Without it they would wait for a proof that already happened.
/// In the batch's transaction, after [`lock_proofs_shared`].
pub(crate) fn release_to_owners(
    c: &mut AnyConnection,
    contacts: &[String],
    now: DateTime<Utc>,
) -> QueryResult<()> {
    for contact in contacts {
        let owner: Option<DbId> = if contact.contains('@') {
            users::table
                .filter(users::email.eq(contact))
                .filter(users::email_verified_at.is_not_null())
                .select(users::id)
                .first(c)
                .optional()?
        } else {
            users::table
                .filter(users::mobile.eq(contact))
                .filter(users::mobile_verified_at.is_not_null())
                .select(users::id)
                .first(c)
                .optional()?
        };
        if let Some(owner) = owner {
            release(c, owner, contact, now)?;
        }
    }
    Ok(())
}

fn deserialization(error: PortError) -> diesel::result::Error {
    diesel::result::Error::DeserializationError(Box::new(error))
}

/// Gives `me` the invitations held for `contact`, or cancels those it cannot take
/// ([`release_held`]), recording their changes.
fn release(c: &mut AnyConnection, me: DbId, contact: &str, now: DateTime<Utc>) -> QueryResult<()> {
    let rows: Vec<InvitationRow> = invitations::table
        .filter(invitations::held_contact.eq(contact))
        .filter(invitations::status.eq(InvitationStatus::Pending.as_str()))
        .select(InvitationRow::as_select())
        .load(c)?;
    if rows.is_empty() {
        return Ok(());
    }
    let mut events: Vec<DbId> = rows.iter().map(|row| row.event_id).collect();
    events.sort();
    events.dedup();
    // Ordered against batches and answers to these events, as they are among themselves.
    lock_events(c, &events, true)?;
    let member_of: HashSet<DbId> = event_members::table
        .filter(event_members::user_id.eq(me))
        .filter(event_members::event_id.eq_any(&events))
        .select(event_members::event_id)
        .load::<DbId>(c)?
        .into_iter()
        .collect();
    // The invitations held for this contact do not block: the prover may be their invitee
    // already (the claimant that proves its own contact); `release_held` decides among them.
    let invited_to: HashSet<DbId> = invitations::table
        .filter(invitations::invitee_id.eq(me))
        .filter(invitations::event_id.eq_any(&events))
        .filter(invitations::status.eq(InvitationStatus::Pending.as_str()))
        .filter(
            invitations::held_contact
                .is_null()
                .or(invitations::held_contact.ne(contact)),
        )
        .select(invitations::event_id)
        .load::<DbId>(c)?
        .into_iter()
        .collect();
    let held = rows
        .into_iter()
        .map(Invitation::try_from)
        .collect::<Result<Vec<_>, _>>()
        .map_err(deserialization)?;
    let prover = domain::UserId::from_uuid(me.uuid());
    let blocked = |event: EventId| {
        let event = DbId::of(event);
        member_of.contains(&event) || invited_to.contains(&event)
    };
    let outcome = release_held(held, prover, blocked, now);
    let at = to_db_time(now);
    for given in &outcome.given {
        diesel::update(invitations::table.find(DbId::of(given.id())))
            .set((
                invitations::invitee_id.eq(me),
                invitations::held_contact.eq(None::<String>),
                invitations::version.eq(invitations::version + 1),
            ))
            .execute(c)?;
    }
    for cancelled in &outcome.cancelled {
        diesel::update(invitations::table.find(DbId::of(cancelled.id())))
            .set((
                invitations::status.eq(InvitationStatus::Cancelled.as_str()),
                invitations::cancelled_at.eq(at),
                invitations::version.eq(invitations::version + 1),
            ))
            .execute(c)?;
    }
    let given: Vec<DbId> = outcome.given.iter().map(|i| DbId::of(i.id())).collect();
    let cancelled: Vec<DbId> = outcome.cancelled.iter().map(|i| DbId::of(i.id())).collect();
    let mut changes = Vec::new();
    for details in details_of(c, &given)? {
        changes.push(made(Change::invitation_released(details, now))?);
    }
    for details in details_of(c, &cancelled)? {
        changes.push(made(Change::invitation_cancelled(details))?);
    }
    record(c, changes)
}
