//! What the opt-outs need from the outside world.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{OptOut, OptOutScope};
use crate::ports::PortError;

/// Where opt-outs are kept.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait OptOutRepository: Send + Sync {
    /// Records that `contact` (normalized) stops the messages of `scope`, at `at`; recording one
    /// already held changes nothing (its first time stays).
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn opt_out(
        &self,
        contact: &str,
        scope: OptOutScope,
        at: DateTime<Utc>,
    ) -> Result<(), PortError>;

    /// Every opt-out of `contacts` (normalized), in one look-up.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn opt_outs_of(&self, contacts: &[String]) -> Result<Vec<OptOut>, PortError>;
}
