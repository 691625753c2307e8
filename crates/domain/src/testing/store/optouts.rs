//! [`OptOutRepository`] over the in-memory state: one opt-out per contact and scope.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{stored, Store};
use crate::optouts::ports::OptOutRepository;
use crate::optouts::{OptOut, OptOutScope};
use crate::ports::PortError;

#[async_trait]
impl OptOutRepository for Store {
    async fn opt_out(
        &self,
        contact: &str,
        scope: OptOutScope,
        at: DateTime<Utc>,
    ) -> Result<(), PortError> {
        let mut state = self.lock();
        let held = state
            .opt_outs
            .iter()
            .any(|o| o.contact == contact && o.scope == scope);
        if !held {
            state.opt_outs.push(OptOut {
                contact: contact.to_owned(),
                scope,
                at: stored(at),
            });
        }
        Ok(())
    }

    async fn opt_outs_of(&self, contacts: &[String]) -> Result<Vec<OptOut>, PortError> {
        Ok(self
            .lock()
            .opt_outs
            .iter()
            .filter(|o| contacts.contains(&o.contact))
            .cloned()
            .collect())
    }
}
