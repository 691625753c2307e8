//! The readiness check.

use async_trait::async_trait;
use diesel::connection::SimpleConnection;
use domain::ports::{HealthCheck, PortError};

use super::pool::Database;

#[async_trait]
impl HealthCheck for Database {
    /// `SELECT 1` on a pooled connection; any failure (including no connection within the pool's
    /// timeout) is `Unavailable`.
    async fn check(&self) -> Result<(), PortError> {
        self.run(|conn| {
            conn.batch_execute("SELECT 1")
                .map_err(|e| PortError::Unavailable(Box::new(e)))
        })
        .await
    }
}
