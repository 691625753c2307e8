//! Black-box tests of the HTTP interface: the real routes and extractors over the domain's real
//! services, over the shared in-memory fakes of `domain::testing` (mockall mocks only where a test
//! injects a failure).

mod accounts;
mod conventions;
mod errors;
mod events;
mod helpers;
mod idempotency;
mod invitations;
mod lifecycle;
mod openapi;
mod webhooks;
