//! Events and their members.

use chrono::{DateTime, Utc};

use crate::{EventId, MemberId, Text, UserId, UserSummary};

/// An event as its members see it (docs/api.md, "Objects").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The event's id.
    pub id: EventId,
    /// What the owner wrote about it.
    pub details: EventDetails,
    /// The user who made it; the only one who may invite (R1).
    pub owner: UserSummary,
    /// How many members it has, the owner included.
    pub members_count: u64,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

impl Event {
    /// Whether `user` may send invitations for this event: only its owner may (R1).
    pub fn may_invite(&self, user: UserId) -> bool {
        self.owner.id == user
    }
}

/// The fields an owner writes: a title and optional description, place and times.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventDetails {
    title: Text,
    description: Option<Text>,
    location: Option<Text>,
    starts_at: Option<DateTime<Utc>>,
    ends_at: Option<DateTime<Utc>>,
}

/// Why event details are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventDetailsError {
    /// The event would end before it starts.
    #[error("the event ends before it starts")]
    EndsBeforeStart,
}

impl EventDetails {
    /// The most characters of a title.
    pub const TITLE_MAX: usize = 200;
    /// The most characters of a description.
    pub const DESCRIPTION_MAX: usize = 5000;
    /// The most characters of a location.
    pub const LOCATION_MAX: usize = 300;

    /// Assembles the details, checking that the event does not end before it starts.
    ///
    /// # Errors
    /// [`EventDetailsError::EndsBeforeStart`] when both times are given and `ends_at < starts_at`.
    pub fn new(
        title: Text,
        description: Option<Text>,
        location: Option<Text>,
        starts_at: Option<DateTime<Utc>>,
        ends_at: Option<DateTime<Utc>>,
    ) -> Result<Self, EventDetailsError> {
        if let (Some(start), Some(end)) = (starts_at, ends_at) {
            if end < start {
                return Err(EventDetailsError::EndsBeforeStart);
            }
        }
        Ok(Self {
            title,
            description,
            location,
            starts_at,
            ends_at,
        })
    }

    /// The title.
    pub fn title(&self) -> &Text {
        &self.title
    }
    /// The description.
    pub fn description(&self) -> Option<&Text> {
        self.description.as_ref()
    }
    /// The location.
    pub fn location(&self) -> Option<&Text> {
        self.location.as_ref()
    }
    /// When it starts.
    pub fn starts_at(&self) -> Option<DateTime<Utc>> {
        self.starts_at
    }
    /// When it ends.
    pub fn ends_at(&self) -> Option<DateTime<Utc>> {
        self.ends_at
    }
}

/// A member's role in an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Made the event; sends its invitations.
    Owner,
    /// Joined by accepting an invitation.
    Member,
}

impl Role {
    /// The wire and storage spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Member => "member",
        }
    }

    /// Reads the storage spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "owner" => Some(Self::Owner),
            "member" => Some(Self::Member),
            _ => None,
        }
    }
}

/// One member of an event, as listed to the other members.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The membership's id (its time order is the join order).
    pub id: MemberId,
    /// Who.
    pub user: UserSummary,
    /// Owner or member.
    pub role: Role,
    /// When they joined.
    pub joined_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn title() -> Text {
        Text::parse("Party", EventDetails::TITLE_MAX, false).unwrap()
    }

    #[test]
    fn an_event_may_not_end_before_it_starts() {
        let start = Utc.with_ymd_and_hms(2026, 12, 1, 18, 0, 0).unwrap();
        let end = Utc.with_ymd_and_hms(2026, 12, 1, 17, 0, 0).unwrap();
        assert_eq!(
            EventDetails::new(title(), None, None, Some(start), Some(end)),
            Err(EventDetailsError::EndsBeforeStart)
        );
        assert!(EventDetails::new(title(), None, None, Some(end), Some(start)).is_ok());
        assert!(EventDetails::new(title(), None, None, Some(start), Some(start)).is_ok());
        assert!(EventDetails::new(title(), None, None, None, Some(end)).is_ok());
    }

    #[test]
    fn r1_only_the_owner_may_invite() {
        let owner = UserSummary {
            id: UserId::generate(),
            name: Text::from_stored("Owner".into()),
        };
        let event = Event {
            id: EventId::generate(),
            details: EventDetails::new(title(), None, None, None, None).unwrap(),
            owner: owner.clone(),
            members_count: 2,
            created_at: Utc::now(),
        };
        assert!(event.may_invite(owner.id));
        assert!(!event.may_invite(UserId::generate()));
    }
}
