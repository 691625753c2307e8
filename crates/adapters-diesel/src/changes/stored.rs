//! The form a change's subject is stored in (the `subject` column of `changes` and
//! `changes_staged`): JSON of what the subject was made of, version 1, read back into domain
//! values. The wording users read is the HTTP layer's.
//!
//! These structs are the format, kept apart from the table rows on purpose: a column added to a
//! table changes its row struct, not what changes stored before it hold. So that every stored
//! change stays readable:
//! - a field added here must read as a default when absent (`Option`, or `#[serde(default)]`);
//! - fields are never renamed or retyped (a new meaning is a new field);
//! - unknown fields are ignored, so a change written by a newer version still reads here.
//!
//! Times are UTC without a zone (`2026-11-26T10:00:00.123456`), ids lowercase hyphenated UUIDs,
//! and a user is `[id, name]`.

use domain::accounts::UserSummary;
use domain::changes::ChangeSubject;
use domain::changes::EventRef;
use domain::ports::PortError;
use domain::{EventId, Text};
use serde::{Deserialize, Serialize};

use crate::rows::{
    event, invitation_details, member, rsvp_columns, to_db_time, to_db_version, EventRow,
    InvitationRow, MemberRow, SummaryRow,
};
use crate::sql_types::{DbId, DbTime};

/// What a change is about, tagged by `"subject"`.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(tag = "subject", rename_all = "snake_case")]
enum StoredSubject {
    Invitation {
        invitation: StoredInvitation,
        event_title: String,
        sender: StoredUser,
        invitee: StoredUser,
    },
    Member {
        event_id: DbId,
        event_title: String,
        member: StoredMember,
        user: StoredUser,
    },
    Event {
        event: StoredEvent,
        owner: StoredUser,
        /// An edit that moved the event: its followers are messaged.
        #[serde(default, skip_serializing_if = "is_false")]
        notify: bool,
    },
    DeletedEvent {
        event_id: DbId,
        event_title: String,
        /// The invitees whose live invitations the deletion cancelled (absent before it was kept).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        told: Vec<DbId>,
    },
}

/// A user as `[id, name]`.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct StoredUser(DbId, String);

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct StoredInvitation {
    id: DbId,
    event_id: DbId,
    sender_id: DbId,
    invitee_id: DbId,
    contact: String,
    status: String,
    created_at: DbTime,
    answered_at: Option<DbTime>,
    message: Option<String>,
    expires_at: Option<DbTime>,
    cancelled_at: Option<DbTime>,
    last_resent_at: Option<DbTime>,
    /// Not stored: a change shows its subject, and nothing is ever conditional on a version read
    /// from the feed (docs/api.md, "Conditional requests"); read back as the first.
    #[serde(skip, default = "first_version")]
    version: i64,
    /// While held: the contact whose proof it waits for (the invitee is then not told).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    held_contact: Option<String>,
    /// An `invitation.created` told to the invitee when the held invitation was given to them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    released: bool,
    /// The guests the answer brings (absent before RSVP: none).
    #[serde(default, skip_serializing_if = "is_zero")]
    guests: i32,
    /// The invitee's comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    /// An `invitation.accepted` of a waitlisted invitation promoted to a seat.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    promoted: bool,
    /// While waitlisted: its place in the waitlist when the change happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    waitlist_position: Option<u32>,
    /// Its event was deleted (docs/api.md, "Deleting an event"): the cancellations a deletion
    /// makes, and any later change of its invitations.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    event_deleted: bool,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_zero(n: &i32) -> bool {
    *n == 0
}

fn yes() -> bool {
    true
}

#[allow(clippy::trivially_copy_pass_by_ref)] // as is_zero
fn is_false(b: &bool) -> bool {
    !*b
}

fn is_yes(b: &bool) -> bool {
    *b
}

fn first_version() -> i64 {
    1
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct StoredMember {
    id: DbId,
    event_id: DbId,
    user_id: DbId,
    role: String,
    joined_at: DbTime,
    #[serde(default, skip_serializing_if = "is_zero")]
    guests: i32,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct StoredEvent {
    id: DbId,
    owner_id: DbId,
    title: String,
    description: Option<String>,
    location: Option<String>,
    starts_at: Option<DbTime>,
    ends_at: Option<DbTime>,
    members_count: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    capacity: Option<i32>,
    #[serde(default, skip_serializing_if = "is_zero")]
    max_guests: i32,
    #[serde(default = "yes", skip_serializing_if = "is_yes")]
    waitlist: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rsvp_deadline: Option<DbTime>,
    /// Absent in changes written before events had a time zone, and for UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    time_zone: Option<String>,
    /// As `events.reminders`; absent without rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reminders: Option<String>,
    created_at: DbTime,
    /// As [`StoredInvitation::version`].
    #[serde(skip, default = "first_version")]
    version: i64,
}

/// The stored JSON of `change`'s subject.
pub(super) fn to_json(change: &domain::changes::Change) -> serde_json::Result<String> {
    subject_json(
        change.subject(),
        Marks {
            released: change.is_released(),
            promoted: change.is_promoted(),
            // Stored for `event.updated` only: every `event.deleted` notifies.
            notify: change.notifies() && change.kind() == domain::changes::ChangeKind::EventUpdated,
            told: change.also_told().to_vec(),
        },
    )
}

/// What a change says beyond its subject: an invitation given on proof, or promoted from the
/// waitlist.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Marks {
    pub released: bool,
    pub promoted: bool,
    pub notify: bool,
    /// For `event.deleted`: the invitees it also told.
    pub told: Vec<domain::UserId>,
}

fn subject_json(subject: &ChangeSubject, marks: Marks) -> serde_json::Result<String> {
    let mut stored = StoredSubject::from(subject);
    match &mut stored {
        StoredSubject::Invitation { invitation, .. } => {
            invitation.released = marks.released;
            invitation.promoted = marks.promoted;
        }
        StoredSubject::Event { notify, .. } => *notify = marks.notify,
        StoredSubject::DeletedEvent { told, .. } => {
            *told = marks.told.iter().map(|id| DbId::of(*id)).collect();
        }
        _ => {}
    }
    serde_json::to_string(&stored)
}

/// The subject stored as `json`, and its [`Marks`]; an error for JSON this version cannot read,
/// or whose values break the domain's rules.
pub(super) fn from_json(json: &str) -> Result<(ChangeSubject, Marks), PortError> {
    let stored = serde_json::from_str::<StoredSubject>(json).map_err(PortError::unexpected)?;
    let marks = match &stored {
        StoredSubject::Invitation { invitation, .. } => Marks {
            released: invitation.released,
            promoted: invitation.promoted,
            ..Marks::default()
        },
        StoredSubject::DeletedEvent { told, .. } => Marks {
            told: told
                .iter()
                .map(|id| domain::UserId::from_uuid(id.uuid()))
                .collect(),
            ..Marks::default()
        },
        StoredSubject::Event { notify, .. } => Marks {
            notify: *notify,
            ..Marks::default()
        },
        _ => Marks::default(),
    };
    Ok((stored.restore()?, marks))
}

impl From<&UserSummary> for StoredUser {
    fn from(user: &UserSummary) -> Self {
        Self(DbId::of(user.id), user.name.as_str().to_owned())
    }
}

impl From<StoredUser> for SummaryRow {
    fn from(StoredUser(id, name): StoredUser) -> Self {
        (id, name)
    }
}

impl From<&ChangeSubject> for StoredSubject {
    fn from(subject: &ChangeSubject) -> Self {
        match subject {
            ChangeSubject::Invitation(details) => {
                let row = InvitationRow::from(&details.invitation);
                Self::Invitation {
                    invitation: StoredInvitation {
                        id: row.id,
                        event_id: row.event_id,
                        sender_id: row.sender_id,
                        invitee_id: row.invitee_id,
                        contact: row.contact,
                        status: row.status,
                        created_at: row.created_at,
                        answered_at: row.answered_at,
                        message: row.message,
                        expires_at: row.expires_at,
                        cancelled_at: row.cancelled_at,
                        last_resent_at: row.last_resent_at,
                        version: row.version,
                        held_contact: row.held_contact,
                        released: false,
                        guests: row.guests,
                        comment: row.comment,
                        promoted: false,
                        waitlist_position: details.invitation.waitlist_position(),
                        event_deleted: details.event_deleted.is_some(),
                    },
                    event_title: details.event_title.as_str().to_owned(),
                    sender: StoredUser::from(&details.sender),
                    invitee: StoredUser::from(&details.invitee),
                }
            }
            ChangeSubject::Member { event, member } => Self::Member {
                event_id: DbId::of(event.id),
                event_title: event.title.as_str().to_owned(),
                member: StoredMember {
                    id: DbId::of(member.id),
                    event_id: DbId::of(event.id),
                    user_id: DbId::of(member.user.id),
                    role: member.role.as_str().to_owned(),
                    joined_at: to_db_time(member.joined_at),
                    guests: i32::from(member.guests),
                },
                user: StoredUser::from(&member.user),
            },
            ChangeSubject::Event(e) => Self::Event {
                event: StoredEvent {
                    id: DbId::of(e.id),
                    owner_id: DbId::of(e.owner.id),
                    title: e.details.title().as_str().to_owned(),
                    description: e.details.description().map(|t| t.as_str().to_owned()),
                    location: e.details.location().map(|t| t.as_str().to_owned()),
                    starts_at: e.details.starts_at().map(to_db_time),
                    ends_at: e.details.ends_at().map(to_db_time),
                    members_count: i64::try_from(e.members_count).unwrap_or(i64::MAX),
                    capacity: rsvp_columns(e.details.rsvp()).0,
                    max_guests: rsvp_columns(e.details.rsvp()).1,
                    waitlist: e.details.rsvp().waitlist(),
                    rsvp_deadline: rsvp_columns(e.details.rsvp()).3,
                    time_zone: Some(e.details.time_zone().name().to_owned())
                        .filter(|name| name != "UTC"),
                    reminders: e.details.reminders().to_stored(),
                    created_at: to_db_time(e.created_at),
                    version: to_db_version(e.version),
                },
                owner: StoredUser::from(&e.owner),
                notify: false,
            },
            ChangeSubject::DeletedEvent(event) => Self::DeletedEvent {
                event_id: DbId::of(event.id),
                event_title: event.title.as_str().to_owned(),
                told: Vec::new(),
            },
        }
    }
}

fn event_ref(id: DbId, title: String) -> EventRef {
    EventRef {
        id: EventId::from_uuid(id.uuid()),
        title: Text::from_stored(title),
    }
}

impl StoredSubject {
    /// The domain's subject, through the rows' conversions (the same checks as a read of the
    /// tables).
    fn restore(self) -> Result<ChangeSubject, PortError> {
        Ok(match self {
            Self::Invitation {
                invitation: i,
                event_title,
                sender,
                invitee,
            } => {
                let row = InvitationRow {
                    id: i.id,
                    event_id: i.event_id,
                    sender_id: i.sender_id,
                    invitee_id: i.invitee_id,
                    contact: i.contact,
                    status: i.status,
                    created_at: i.created_at,
                    answered_at: i.answered_at,
                    message: i.message,
                    expires_at: i.expires_at,
                    cancelled_at: i.cancelled_at,
                    last_resent_at: i.last_resent_at,
                    version: i.version,
                    held_contact: i.held_contact,
                    guests: i.guests,
                    comment: i.comment,
                };
                // What a change shows of a deletion is the mark alone: who may see the invitation
                // is decided on the stored rows, never on a change.
                let mut details = invitation_details((
                    row,
                    event_title,
                    None,
                    sender.into(),
                    invitee.into(),
                    i.event_deleted,
                    None,
                ))?;
                details.invitation = details.invitation.at_waitlist_position(i.waitlist_position);
                ChangeSubject::Invitation(details)
            }
            Self::Member {
                event_id,
                event_title,
                member: m,
                user,
            } => {
                let row = MemberRow {
                    id: m.id,
                    event_id: m.event_id,
                    user_id: m.user_id,
                    role: m.role,
                    joined_at: m.joined_at,
                    guests: m.guests,
                };
                ChangeSubject::Member {
                    event: event_ref(event_id, event_title),
                    member: member(row, user.into())?,
                }
            }
            Self::Event {
                event: e, owner, ..
            } => {
                let row = EventRow {
                    id: e.id,
                    owner_id: e.owner_id,
                    title: e.title,
                    description: e.description,
                    location: e.location,
                    starts_at: e.starts_at,
                    ends_at: e.ends_at,
                    members_count: e.members_count,
                    created_at: e.created_at,
                    version: e.version,
                    capacity: e.capacity,
                    max_guests: e.max_guests,
                    waitlist: e.waitlist,
                    rsvp_deadline: e.rsvp_deadline,
                    // Not kept in a change: the seats are shown to hosts only, and as they are now.
                    seats_taken: 0,
                    time_zone: e.time_zone.unwrap_or_else(|| "UTC".to_owned()),
                    reminders: e.reminders,
                };
                ChangeSubject::Event(event(row, owner.into())?)
            }
            Self::DeletedEvent {
                event_id,
                event_title,
                told: _,
            } => ChangeSubject::DeletedEvent(event_ref(event_id, event_title)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Subjects as this adapter stored them before the format had structs of its own (taken from
    /// a database it wrote): they must read back, field for field.
    const INVITATION: &str = concat!(
        r#"{"subject":"invitation","#,
        r#""invitation":{"id":"01a249a0-f68b-705a-baaa-a21b5e9aa9cd","#,
        r#""event_id":"01a249a0-f68a-71d7-857c-38d6b4dd551d","#,
        r#""sender_id":"01a249a0-f689-758c-9f5a-b9eadacbfc1f","#,
        r#""invitee_id":"01a249a0-f68a-71d7-857c-38d5c6da5ac0","#,
        r#""contact":"sara@example.com","status":"accepted","#,
        r#""created_at":"2026-11-26T10:00:00","answered_at":"2026-11-26T10:01:00","#,
        r#""message":"See you\nthere!","expires_at":"2026-11-26T11:00:00","#,
        r#""cancelled_at":null,"last_resent_at":null},"event_title":"Launch","#,
        r#""sender":["01a249a0-f689-758c-9f5a-b9eadacbfc1f","Olivia"],"#,
        r#""invitee":["01a249a0-f68a-71d7-857c-38d5c6da5ac0","Sara"]}"#,
    );
    const MEMBER: &str = concat!(
        r#"{"subject":"member","event_id":"01a249a0-f68a-71d7-857c-38d6b4dd551d","#,
        r#""event_title":"Launch","member":{"id":"01a249a0-f68c-71bf-ad51-69ed9457b08b","#,
        r#""event_id":"01a249a0-f68a-71d7-857c-38d6b4dd551d","#,
        r#""user_id":"01a249a0-f68a-71d7-857c-38d5c6da5ac0","role":"member","#,
        r#""joined_at":"2026-11-26T10:01:00"},"#,
        r#""user":["01a249a0-f68a-71d7-857c-38d5c6da5ac0","Sara"]}"#,
    );
    const EVENT: &str = concat!(
        r#"{"subject":"event","event":{"id":"01a249a0-f68a-71d7-857c-38d6b4dd551d","#,
        r#""owner_id":"01a249a0-f689-758c-9f5a-b9eadacbfc1f","title":"Launch party","#,
        r#""description":"Bring food","location":null,"starts_at":"2026-11-29T10:00:00","#,
        r#""ends_at":"2026-11-29T12:00:00.123456","members_count":2,"#,
        r#""created_at":"2026-11-26T10:00:00"},"#,
        r#""owner":["01a249a0-f689-758c-9f5a-b9eadacbfc1f","Olivia"]}"#,
    );
    const DELETED_EVENT: &str = concat!(
        r#"{"subject":"deleted_event","event_id":"01a249a0-f68a-71d7-857c-38d6b4dd551d","#,
        r#""event_title":"Launch party"}"#,
    );

    fn uuid(text: &str) -> uuid::Uuid {
        text.parse().unwrap()
    }

    fn utc(text: &str) -> chrono::DateTime<chrono::Utc> {
        chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
            .unwrap()
            .and_utc()
    }

    #[test]
    fn subjects_stored_by_earlier_versions_read_back() {
        let ChangeSubject::Invitation(details) = from_json(INVITATION).unwrap().0 else {
            panic!("an invitation");
        };
        let invitation = &details.invitation;
        assert_eq!(
            invitation.id().as_uuid(),
            uuid("01a249a0-f68b-705a-baaa-a21b5e9aa9cd")
        );
        assert_eq!(invitation.status(), domain::InvitationStatus::Accepted);
        assert_eq!(invitation.answered_at(), Some(utc("2026-11-26 10:01:00")));
        assert_eq!(invitation.expires_at(), Some(utc("2026-11-26 11:00:00")));
        assert_eq!(
            invitation.message().map(Text::as_str),
            Some("See you\nthere!")
        );
        assert_eq!(invitation.contact(), "sara@example.com");
        assert_eq!(
            (
                details.event_title.as_str(),
                details.sender.name.as_str(),
                details.invitee.name.as_str()
            ),
            ("Launch", "Olivia", "Sara")
        );

        let ChangeSubject::Member { event, member } = from_json(MEMBER).unwrap().0 else {
            panic!("a member");
        };
        assert_eq!(
            (event.title.as_str(), member.user.name.as_str()),
            ("Launch", "Sara")
        );
        assert_eq!(
            (member.role, member.joined_at),
            (domain::events::Role::Member, utc("2026-11-26 10:01:00"))
        );

        let ChangeSubject::Event(event) = from_json(EVENT).unwrap().0 else {
            panic!("an event");
        };
        assert_eq!(event.details.title().as_str(), "Launch party");
        assert_eq!(
            event.details.description().map(Text::as_str),
            Some("Bring food")
        );
        assert_eq!(event.details.location(), None);
        assert_eq!(
            event.details.ends_at(),
            Some(utc("2026-11-29 12:00:00.123456"))
        );
        assert_eq!(
            (event.members_count, event.owner.name.as_str()),
            (2, "Olivia")
        );

        let ChangeSubject::DeletedEvent(event) = from_json(DELETED_EVENT).unwrap().0 else {
            panic!("a deleted event");
        };
        assert_eq!(
            (event.id.as_uuid(), event.title.as_str()),
            (uuid("01a249a0-f68a-71d7-857c-38d6b4dd551d"), "Launch party")
        );
    }

    #[test]
    fn what_is_stored_today_is_what_earlier_versions_stored() {
        for json in [INVITATION, MEMBER, EVENT, DELETED_EVENT] {
            assert_eq!(
                subject_json(&from_json(json).unwrap().0, Marks::default()).unwrap(),
                json
            );
        }
    }

    #[test]
    fn fields_this_version_does_not_know_are_ignored() {
        let with_more = |json: &str, inner: &str| {
            let mut value: serde_json::Value = serde_json::from_str(json).unwrap();
            value["added_later"] = serde_json::json!({"any": ["shape", 1]});
            if let Some(object) = value.get_mut(inner).filter(|v| v.is_object()) {
                object["added_later"] = serde_json::json!(null);
            }
            value.to_string()
        };
        for (json, inner) in [
            (INVITATION, "invitation"),
            (MEMBER, "member"),
            (EVENT, "event"),
            (DELETED_EVENT, "event_title"),
        ] {
            let widened = with_more(json, inner);
            assert_ne!(widened, json);
            assert_eq!(
                serde_json::from_str::<StoredSubject>(&widened).unwrap(),
                serde_json::from_str::<StoredSubject>(json).unwrap(),
                "{widened}"
            );
        }
    }
}
