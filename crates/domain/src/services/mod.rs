//! Use cases: one service per area, each holding its ports as trait objects. Every operation takes
//! already-parsed values and returns its own error enum, so the HTTP layer maps errors to statuses
//! without string matching.

mod accounts;
mod deliveries;
mod events;
mod feed;
mod idempotency;
mod invitations;
mod webhooks;

pub use accounts::{
    AccountService, AuthenticateError, LoginCommand, LoginError, RegisterCommand, RegisterError,
    Session, TokenPolicy,
};
pub use deliveries::{Attempted, DeliveryLimits, DeliveryService, Dispatched};
pub use events::{
    ChangeRoleError, DeleteEventError, EventService, GetEventError, RemoveMemberError,
    UpdateEventError,
};
pub use feed::{FeedPage, FeedService, StreamTicket};
pub use idempotency::{Begin, Finish, HeldKey, IdempotencyService};
pub use invitations::{
    AnswerInvitationError, GetInvitationError, InvitationService, ListEventInvitationsError,
    ManageInvitationError, SendInvitations, SendInvitationsError, SendReport,
};

pub use webhooks::{CreateWebhookError, WebhookError, WebhookService};

#[cfg(test)]
mod tests;
