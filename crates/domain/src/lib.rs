//! The pure core of Event Manager.
//!
//! Everything here is free of I/O. Each area has a folder of its own, with its model (value
//! objects that can only hold valid values, aggregates and their rules R1–R12, each named in a
//! test; what users see of them is in `docs/api.md`), its `ports` (the traits the outer adapters
//! implement), its service (the use cases that orchestrate them) and its tests:
//!
//! - [`accounts`]: users, passwords and bearer tokens;
//! - [`events`]: events, their members and roles;
//! - [`invitations`]: the Invitation aggregate and the batch rule of sending them;
//! - [`changes`]: the change feed and its stream tickets;
//! - [`webhooks`]: webhooks and their deliveries (webhook calls and invitation emails);
//! - [`idempotency`]: `Idempotency-Key` requests.
//!
//! What every area shares stays at the root: ids, value objects, pagination, the
//! [`duration`] grammar, and the shared [`ports`] (`PortError`, `Clock`, `HealthCheck`,
//! `SecretSource`, `AbuseCounters`). The HTTP adapter parses raw input into the value objects,
//! calls an area's service, and maps each operation's error enum to a status.

pub mod accounts;
pub mod changes;
pub mod duration;
pub mod events;
pub mod idempotency;
pub mod ids;
pub mod invitations;
pub mod messages;
pub mod pagination;
pub mod ports;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod values;
pub mod webhooks;

pub use ids::{AttemptId, DeliveryId, EventId, InvitationId, MemberId, UserId, WebhookId};
pub use pagination::{Limit, LimitError, Page, PageRequest};
pub use ports::PortError;
pub use values::{
    Answer, Contact, Email, EmailError, InvitationStatus, Login, Mobile, MobileError, Password,
    PasswordError, PhoneRegion, StatusFilter, Text, TextError, UnknownRegion,
};

// Transition re-exports while callers move to the area modules.
pub use accounts::{User, UserSummary};
pub use changes::{
    Audience, Change, ChangeId, ChangeKind, ChangeSubject, EventRef, FeedRead, RecordedChange,
};
pub use events::{
    Actor, Event, EventDetails, EventDetailsError, EventPatch, Member, Membership, RemovalRefused,
    Role, RoleChangeRefused,
};
pub use invitations::{
    AnswerRefused, IgnoreReason, Ignored, Invitation, InvitationDetails, InvitationEntries,
    InvitationEntriesError, InvitationState, InvitationTtl, InvitationTtlError, InviteePlan,
    InviteeState, ManageRefused, NotPending, Planned, Standing, StoredInvitation,
};
#[doc(hidden)]
pub mod services {
    pub use crate::accounts::{
        AccountService, AuthenticateError, LoginCommand, LoginError, RegisterCommand,
        RegisterError, Session, TokenPolicy,
    };
    pub use crate::changes::{FeedPage, FeedService, StreamTicket};
    pub use crate::events::{
        ChangeRoleError, DeleteEventError, EventService, GetEventError, RemoveMemberError,
        UpdateEventError,
    };
    pub use crate::idempotency::{Begin, Finish, HeldKey, IdempotencyService};
    pub use crate::invitations::{
        AnswerInvitationError, GetInvitationError, InvitationService, ListEventInvitationsError,
        ManageInvitationError, SendInvitations, SendInvitationsError, SendReport,
    };
    pub use crate::webhooks::{
        Attempted, CreateWebhookError, DeliveryLimits, DeliveryService, Dispatched, WebhookError,
        WebhookService,
    };
}
#[doc(hidden)]
pub mod change {
    pub use crate::changes::*;
}
#[doc(hidden)]
pub mod event {
    pub use crate::events::*;
}
#[doc(hidden)]
pub mod invitation {
    pub use crate::duration::whole_duration;
    pub use crate::invitations::*;
}
#[doc(hidden)]
pub mod user {
    pub use crate::accounts::*;
}
#[doc(hidden)]
pub mod webhook {
    pub use crate::webhooks::*;
}
#[doc(hidden)]
pub mod delivery {
    pub use crate::webhooks::delivery::*;
}
