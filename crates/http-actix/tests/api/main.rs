//! Black-box tests of the HTTP interface: the real routes and extractors over the domain's
//! services, whose ports are mockall mocks.

mod accounts;
mod errors;
mod events;
mod helpers;
mod invitations;
mod openapi;
