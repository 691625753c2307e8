//! Statement counting and recording, for tests, diagnostics and the bench's write ceilings.
//!
//! `Database::statements_executed` counts; `Database::record_statements` keeps the SQL.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use diesel::connection::{Instrumentation, InstrumentationEvent};

/// What a pool's connections have sent: how many statements, and while recording, their text.
#[derive(Debug, Default)]
pub(crate) struct Statements {
    count: AtomicU64,
    recording: AtomicBool,
    texts: Mutex<Vec<String>>,
}

impl Statements {
    pub(crate) fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Starts keeping each statement's text (and forgets what was kept before).
    pub(crate) fn record(&self) {
        self.texts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        self.recording.store(true, Ordering::SeqCst);
    }

    /// Stops keeping texts and returns those kept, in the order they were sent.
    pub(crate) fn recorded(&self) -> Vec<String> {
        self.recording.store(false, Ordering::SeqCst);
        std::mem::take(&mut *self.texts.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// Counts every statement sent on a connection (including `BEGIN`/`COMMIT`) into the counter
/// shared by the pool's connections, and keeps its text (its SQL, without the bind values) while
/// the pool records.
pub(super) struct StatementCounter(pub(super) Arc<Statements>);

impl Instrumentation for StatementCounter {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            self.0.count.fetch_add(1, Ordering::Relaxed);
            if self.0.recording.load(Ordering::Relaxed) {
                let text = query.to_string();
                // `DebugQuery` shows the binds after the SQL.
                let sql = text.split(" -- binds: ").next().unwrap_or_default();
                self.0
                    .texts
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(sql.trim().to_owned());
            }
        }
    }
}

impl std::fmt::Debug for StatementCounter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StatementCounter")
    }
}
