//! [`ChangeListener`]: wakes this process's live streams when another process on the same
//! PostgreSQL database commits changes (docs/operations.md, "Live streams across processes").

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use diesel::pg::PgConnection;
use diesel::{Connection, RunQueryDsl};

use crate::changes::CHANNEL;
use crate::db::Backend;
use crate::Database;

/// How often the listener reads its connection for notifications: a non-blocking read, so a
/// notification wakes the streams within this much of its commit.
const POLL: Duration = Duration::from_millis(50);
/// The pause before reconnecting after the connection failed.
const RECONNECT: Duration = Duration::from_secs(1);

/// One dedicated connection per process (not per stream) that `LISTEN`s on the channel that
/// numbering changes notifies at commit (in whichever process numbered them), and wakes the
/// streams waiting on `ChangeFeed::watch` when anything arrives. On SQLite there is nothing to
/// listen to: writers are in this process and wake it themselves. A missed notification (while
/// reconnecting, say) is harmless: the streams also poll (docs/operations.md).
#[derive(Debug)]
pub struct ChangeListener {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl ChangeListener {
    /// Starts listening on its own thread, or `None` on SQLite.
    pub fn start(database: &Database) -> Option<Self> {
        if database.backend() != Backend::Postgres {
            return None;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::Builder::new()
            .name("change-listener".to_owned())
            .spawn({
                let (database, stop) = (database.clone(), stop.clone());
                move || listen(&database, &stop)
            })
            .ok()?;
        Some(Self { stop, thread })
    }

    /// Stops listening; the thread ends within one poll and its connection closes.
    pub async fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        let thread = self.thread;
        let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        tracing::info!("change listener stopped");
    }
}

fn connect(database: &Database) -> Result<PgConnection, Box<dyn std::error::Error>> {
    let mut conn = PgConnection::establish(&database.listen_url)?;
    diesel::sql_query(format!("LISTEN {CHANNEL}")).execute(&mut conn)?;
    Ok(conn)
}

fn listen(database: &Database, stop: &AtomicBool) {
    let mut conn: Option<PgConnection> = None;
    while !stop.load(Ordering::Relaxed) {
        match conn.as_mut() {
            None => match connect(database) {
                Ok(listening) => {
                    tracing::info!(
                        channel = CHANNEL,
                        "listening for changes of other processes"
                    );
                    conn = Some(listening);
                    // Whatever committed while not listening is read now.
                    database.changes_committed();
                }
                Err(error) => {
                    tracing::warn!(
                        %error,
                        "change listener cannot connect; retrying (streams poll meanwhile)"
                    );
                    sleep_unless_stopped(RECONNECT, stop);
                    continue;
                }
            },
            Some(listening) => {
                let mut woken = false;
                let mut failed = None;
                for notification in listening.notifications_iter() {
                    match notification {
                        Ok(_) => woken = true,
                        Err(error) => {
                            failed = Some(error);
                            break;
                        }
                    }
                }
                if woken {
                    database.changes_committed();
                }
                if let Some(error) = failed {
                    tracing::warn!(%error, "change listener lost its connection; reconnecting");
                    conn = None;
                    continue;
                }
            }
        }
        std::thread::sleep(POLL);
    }
}

fn sleep_unless_stopped(pause: Duration, stop: &AtomicBool) {
    let mut left = pause;
    while !left.is_zero() && !stop.load(Ordering::Relaxed) {
        let step = left.min(POLL);
        std::thread::sleep(step);
        left -= step;
    }
}
