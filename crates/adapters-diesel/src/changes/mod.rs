//! The change feed (docs/api.md, "Change feed and live stream"; docs/architecture.md, "The change
//! feed's order"). Every repository method that changes state records the domain's `Change`s of
//! what it changed in its own transaction: [`resolve`] turns each change's audience into users
//! and [`append`] stores them ([`record`] does both), in the same transaction.
//!
//! - [`audience`]: who receives each change, resolved under the transaction's locks (R12);
//! - [`outbox`]: storing changes and numbering them, in the order readers can see them;
//! - [`stored`]: the JSON form a change's subject is kept in, and read back from;
//! - [`feed`]: the `ChangeFeed` port over what is stored.

mod audience;
mod feed;
mod outbox;
mod stored;

pub(crate) use audience::resolve;
pub(crate) use outbox::{append, event_ref, made, record, CHANNEL};
