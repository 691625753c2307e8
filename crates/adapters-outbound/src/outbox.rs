//! The development outbox (`OUTBOX_DIR`, `data/outbox` by default; docs/operations.md, "Text
//! messages"): instead of a mail server or an SMS gateway, each message becomes one file, which a
//! developer can open, and a test can read.
//!
//! A file appears whole or not at all: it is written under a hidden temporary name in the same
//! directory, then renamed, so that a reader watching the directory never sees half a message.
//! Names start with the UTC time and end with a UUID, so that they sort by time and two messages
//! written at once never share one.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Where the file transports write: `mail/` and `sms/` under one directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxDir {
    path: PathBuf,
}

impl OutboxDir {
    /// The outbox when `OUTBOX_DIR` is not set, relative to the working directory.
    pub const DEFAULT: &'static str = "data/outbox";

    /// The outbox at `path`, made absolute against the working directory (so that the start-up
    /// log says exactly where to look). Nothing is created until a message is written.
    pub fn new(path: impl AsRef<Path>) -> Self {
        let path = path.as_ref();
        Self {
            path: std::path::absolute(path).unwrap_or_else(|_| path.to_owned()),
        }
    }

    /// The outbox's directory, absolute.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Default for OutboxDir {
    fn default() -> Self {
        Self::new(Self::DEFAULT)
    }
}

/// Writes `contents` as a new file in `dir` (created with its parents when missing), named
/// `<UTC time>-<UUID>.<extension>`; returns its path. Blocking: run it off the executor.
fn write_blocking(dir: &Path, extension: &str, contents: &[u8]) -> io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let name = format!(
        "{}-{}.{extension}",
        chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ"),
        uuid::Uuid::now_v7()
    );
    let temporary = dir.join(format!(".{name}.tmp"));
    let path = dir.join(name);
    let written = (|| {
        let mut file = std::fs::File::create_new(&temporary)?;
        file.write_all(contents)?;
        file.sync_all()?;
        std::fs::rename(&temporary, &path)
    })();
    if let Err(error) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(error);
    }
    Ok(path)
}

/// Writes `contents` as a new file in `dir` (see [`write_blocking`]) on the blocking pool;
/// returns its path, or the reason for the port's result when it fails.
pub(crate) async fn write_new(
    dir: PathBuf,
    extension: &'static str,
    contents: Vec<u8>,
) -> Result<PathBuf, String> {
    let shown = dir.display().to_string();
    let writing = tokio::task::spawn_blocking(move || write_blocking(&dir, extension, &contents));
    match writing.await {
        Ok(Ok(path)) => Ok(path),
        Ok(Err(error)) => {
            tracing::warn!(dir = %shown, error = %error, "writing to the outbox failed");
            Err(format!("cannot write to the outbox {shown}: {error}"))
        }
        Err(_) => Err(format!(
            "cannot write to the outbox {shown}: the writer stopped"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_appear_whole_with_time_ordered_distinct_names() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("deep/sms");
        let first = write_blocking(&dir, "txt", b"one").unwrap();
        let second = write_blocking(&dir, "txt", b"two").unwrap();
        assert_ne!(first, second);
        assert_eq!(std::fs::read(&first).unwrap(), b"one");
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names.len(), 2, "no temporary file left: {names:?}");
        assert!(names[0].ends_with(".txt") && !names[0].starts_with('.'));
        assert_eq!(
            dir.join(&names[0]),
            first,
            "time-ordered names sort by time"
        );
    }

    #[test]
    fn the_outbox_is_absolute() {
        assert!(OutboxDir::default().path().is_absolute());
        assert!(OutboxDir::default().path().ends_with("data/outbox"));
        assert_eq!(
            OutboxDir::new("/srv/outbox").path(),
            Path::new("/srv/outbox")
        );
    }
}
