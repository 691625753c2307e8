//! The pure core of Event Manager.
//!
//! Everything here is free of I/O: value objects that can only hold valid values, the `Invitation`
//! aggregate and the invitation batch rule (rules R1–R12, each named in a test; what users see of
//! them is in `docs/api.md`), the ports (traits) that the outer adapters implement, and the
//! use-case services that orchestrate them.
//!
//! The HTTP adapter parses raw input into the value objects of [`values`], calls a service of
//! [`services`], and maps each operation's error enum to a status. The persistence adapter implements
//! the traits of [`ports`].

pub mod change;
pub mod delivery;
pub mod event;
pub mod idempotency;
pub mod ids;
pub mod invitation;
pub mod pagination;
pub mod ports;
pub mod services;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod user;
pub mod values;
pub mod webhook;

pub use change::{
    Audience, Change, ChangeId, ChangeKind, ChangeSubject, EventRef, FeedRead, RecordedChange,
};
pub use event::{
    Actor, Event, EventDetails, EventDetailsError, EventPatch, Member, Membership, RemovalRefused,
    Role, RoleChangeRefused,
};
pub use ids::{AttemptId, DeliveryId, EventId, InvitationId, MemberId, UserId, WebhookId};
pub use invitation::{
    AnswerRefused, IgnoreReason, Ignored, Invitation, InvitationDetails, InvitationEntries,
    InvitationEntriesError, InvitationState, InvitationTtl, InvitationTtlError, InviteePlan,
    InviteeState, ManageRefused, NotPending, Planned, Standing, StoredInvitation,
};
pub use pagination::{Limit, LimitError, Page, PageRequest};
pub use ports::PortError;
pub use user::{User, UserSummary};
pub use values::{
    Answer, Contact, Email, EmailError, InvitationStatus, Login, Mobile, MobileError, Password,
    PasswordError, PhoneRegion, StatusFilter, Text, TextError, UnknownRegion,
};
