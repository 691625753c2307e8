//! End-to-end tests: the real service on a random port, over SQLite and (with
//! `TEST_DATABASE_URL`) PostgreSQL, called over HTTP.

mod helpers;

mod accounts;
mod admin;
mod bounded;
mod calendars;
mod care;
mod changes;
mod cli;
mod conditional;
mod conventions;
mod cursors;
mod docs;
mod errors;
mod events;
mod hardening;
mod hostile;
mod idempotency;
mod invitations;
mod languages;
mod lifecycle;
mod limits;
mod links;
mod members;
mod memory;
mod metrics;
mod outage;
mod outbox;
mod proof_races;
mod proofs;
mod reminders;
mod rsvp;
mod schema;
mod traces;
mod unsubscribe;
mod webhooks;
