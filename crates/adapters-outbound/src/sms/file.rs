//! Texts written to the development outbox instead of sent (`OUTBOX_DIR/sms/`).

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use domain::messages::ports::{SmsResult, SmsSender};
use domain::messages::{Sms, SmsEncoding};

use crate::outbox::{write_new, OutboxDir};

/// Writes each text as `OUTBOX_DIR/sms/<UTC time>-<UUID>.txt`:
///
/// ```text
/// To: +989352864812
/// Encoding: UCS-2
/// Segments: 1
///
/// دعوت به جشن
/// ```
///
/// that is, `To:` (E.164), `Encoding:` (`GSM-7` or `UCS-2`) and `Segments:` as a gateway would
/// bill them, a blank line, and the text followed by one line break. A file that cannot be
/// written is a [`SmsResult::Transient`].
#[derive(Clone, Debug)]
pub struct FileSmsSender {
    dir: PathBuf,
}

impl FileSmsSender {
    /// A sender into `outbox`'s `sms/` directory, created when the first text is written.
    pub fn new(outbox: &OutboxDir) -> Self {
        Self {
            dir: outbox.path().join("sms"),
        }
    }

    /// The directory texts are written to (absolute), for the start-up log.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// The file's contents for `sms`.
fn render(sms: &Sms) -> String {
    let encoding = match sms.text.encoding() {
        SmsEncoding::Gsm7 => "GSM-7",
        SmsEncoding::Ucs2 => "UCS-2",
    };
    format!(
        "To: {}\nEncoding: {encoding}\nSegments: {}\n\n{}\n",
        sms.to.as_str(),
        sms.text.segments(),
        sms.text.as_str()
    )
}

#[async_trait]
impl SmsSender for FileSmsSender {
    async fn send(&self, sms: &Sms) -> SmsResult {
        let contents = render(sms).into_bytes();
        match write_new(self.dir.clone(), "txt", contents).await {
            Ok(path) => {
                tracing::info!(path = %path.display(), "a text was written to the outbox");
                SmsResult::Sent
            }
            Err(reason) => SmsResult::Transient(reason),
        }
    }
}
