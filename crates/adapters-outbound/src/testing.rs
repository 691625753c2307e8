//! Kannel 1.4.5 on loopback for tests (`scripts/lib/kannel.sh`): its bearerbox, smsbox and the
//! fakesmsc test SMSC, in a directory of their own, so that a text really crosses a gateway to an
//! SMSC, whose log the test reads back.

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Kannel running in a temporary directory; stopped when dropped.
#[derive(Debug)]
pub struct Kannel {
    dir: tempfile::TempDir,
    env: HashMap<String, String>,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/lib/kannel.sh")
}

/// `None` (and a line saying why) when Kannel cannot be had here; under `CI` that is a failure.
fn unavailable(reason: &str) -> Option<Kannel> {
    let in_ci = std::env::var("CI").is_ok_and(|ci| !matches!(ci.as_str(), "" | "0" | "false"));
    assert!(!in_ci, "CI needs Kannel for this test: {reason}");
    // Straight to the process's stderr, past the test harness's capture, so that the skip is
    // seen in an ordinary `cargo test`.
    let _ = writeln!(
        std::io::stderr(),
        "skipping the Kannel test: {}",
        reason.trim()
    );
    None
}

impl Kannel {
    /// Installs Kannel if needed (Debian `kannel`, `kannel-extras`) and starts it; `None` when it
    /// cannot be had outside CI.
    ///
    /// # Panics
    /// When it is installed but does not start, or cannot be had in CI.
    pub fn start() -> Option<Self> {
        Self::start_with(None)
    }

    /// As [`Kannel::start`], handing every text from a phone ([`Kannel::text_from`]) to
    /// `mo_url` with `&from=…&to=…&text=…` appended, as an operator's gateway would.
    ///
    /// # Panics
    /// As [`Kannel::start`].
    pub fn start_handing_texts_to(mo_url: &str) -> Option<Self> {
        Self::start_with(Some(mo_url))
    }

    fn start_with(mo_url: Option<&str>) -> Option<Self> {
        let script = script();
        let install = Command::new("bash").arg(&script).arg("install").output();
        match install {
            Err(error) => return unavailable(&format!("cannot run {}: {error}", script.display())),
            Ok(output) if !output.status.success() => {
                return unavailable(&String::from_utf8_lossy(&output.stderr));
            }
            Ok(_) => {}
        }
        let dir = tempfile::Builder::new()
            .prefix("kannel-")
            .tempdir()
            .expect("a temporary directory");
        let output = Command::new("bash")
            .arg(&script)
            .arg("start")
            .arg(dir.path())
            // Should this process die before dropping `Kannel`, Kannel goes with it.
            .env("KANNEL_WATCH_PID", std::process::id().to_string())
            .env("KANNEL_MO_URL", mo_url.unwrap_or_default())
            .output()
            .expect("kannel.sh runs");
        assert!(
            output.status.success(),
            "Kannel is installed but did not start:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let env = String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| line.split_once('='))
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .collect();
        Some(Self { dir, env })
    }

    /// A value `kannel.sh start` printed (`KANNEL_USER`, `KANNEL_SENDSMS_PORT`, ...).
    ///
    /// # Panics
    /// When it printed none.
    pub fn var(&self, key: &str) -> &str {
        self.env
            .get(key)
            .unwrap_or_else(|| panic!("kannel.sh printed no {key}"))
    }

    /// `SMS_URL` for this gateway, with `password` (the right one is `KANNEL_PASSWORD`).
    pub fn sms_url(&self, password: &str) -> String {
        format!(
            "kannel://{}:{password}@127.0.0.1:{}?from=EventMgr&smsc={}",
            self.var("KANNEL_USER"),
            self.var("KANNEL_SENDSMS_PORT"),
            self.var("KANNEL_SMSC_ID"),
        )
    }

    /// What the fake SMSC logged so far (its `Got message N: <from to type ...>` lines).
    pub fn smsc_log(&self) -> String {
        std::fs::read_to_string(self.var("KANNEL_FAKESMSC_LOG")).unwrap_or_default()
    }

    /// A text from the phone `from` to `to`, entering at the fake SMSC as if a person sent it.
    ///
    /// # Panics
    /// When the SMSC is not running.
    pub fn text_from(&self, from: &str, to: &str, text: &str) {
        let output = Command::new("bash")
            .arg(script())
            .arg("mo")
            .arg(self.dir.path())
            .args([from, to, text])
            .output()
            .expect("kannel.sh runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Stops the gateway and the SMSC (dropping does too); stopping twice is harmless.
    pub fn stop(&self) {
        let _ = Command::new("bash")
            .arg(script())
            .arg("stop")
            .arg(self.dir.path())
            .output();
    }
}

impl Drop for Kannel {
    fn drop(&mut self) {
        self.stop();
    }
}

impl AtSmsc {
    /// The text that arrived. A concatenated payload is read as UTF-16BE (UCS-2) when it holds
    /// control bytes (the high bytes of non-Latin characters), else as GSM's characters.
    pub fn text(&self) -> String {
        match &self.body {
            Body::Text(text) => text.clone(),
            Body::Concatenated(bytes)
                if bytes.iter().any(|b| *b < 0x20 && !b"\n\r".contains(b)) =>
            {
                utf16be(bytes)
            }
            Body::Concatenated(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        }
    }
}

impl Kannel {
    /// What the fake SMSC has received so far, whole texts joined from their segments.
    pub fn received(&self) -> Vec<AtSmsc> {
        parse_fakesmsc(&self.smsc_log())
    }
}

/// A message as the fake SMSC got it.
#[derive(Debug, PartialEq, Eq)]
pub struct AtSmsc {
    /// The sender.
    pub from: String,
    /// The receiver.
    pub to: String,
    /// What arrived.
    pub body: Body,
}

/// What arrived at the SMSC.
#[derive(Debug, PartialEq, Eq)]
pub enum Body {
    /// One segment, as text.
    Text(String),
    /// The payloads of concatenated segments (UDH `00 03 ref total seq`), joined in order: the
    /// UTF-16BE of a UCS-2 text, the characters of a GSM one.
    Concatenated(Vec<u8>),
}

/// A concatenated text's sender, receiver and reference.
type Concatenation = (String, String, u8);

/// How many segments a concatenated text has, and those that arrived, by sequence number.
type Segments = (u8, BTreeMap<u8, Vec<u8>>);

/// fakesmsc's `Got message N: <from to type [udh] payload>` lines. `text` payloads are literal;
/// `ucs-2` ones URL-encoded UTF-16BE; `udh` lines carry a URL-encoded UDH and a URL-encoded
/// `data` payload, one segment each, joined here once all segments of a reference are in.
pub fn parse_fakesmsc(log: &str) -> Vec<AtSmsc> {
    let mut whole = Vec::new();
    let mut parts: BTreeMap<Concatenation, Segments> = BTreeMap::new();
    for line in log.lines() {
        let Some(at) = line.find("Got message ") else {
            continue;
        };
        let line = &line[at..];
        let (Some(open), Some(close)) = (line.find(": <"), line.rfind('>')) else {
            continue;
        };
        let inner = &line[open + 3..close];
        let mut fields = inner.splitn(4, ' ');
        let (from, to, kind, rest) = (
            fields.next().unwrap_or_default().to_owned(),
            fields.next().unwrap_or_default().to_owned(),
            fields.next().unwrap_or_default(),
            fields.next().unwrap_or_default(),
        );
        match kind {
            "text" => whole.push(AtSmsc {
                from,
                to,
                body: Body::Text(rest.to_owned()),
            }),
            "ucs-2" => whole.push(AtSmsc {
                from,
                to,
                body: Body::Text(utf16be(&url_decoded(rest))),
            }),
            "udh" => {
                let mut udh_and_data = rest.splitn(3, ' ');
                let udh = url_decoded(udh_and_data.next().unwrap_or_default());
                let payload = url_decoded(udh_and_data.nth(1).unwrap_or_default());
                // 05 | 00 03 ref total seq: the concatenation element, 8-bit reference.
                assert_eq!(&udh[..3], [5, 0, 3], "an unexpected UDH in {line}");
                let (reference, total, sequence) = (udh[3], udh[4], udh[5]);
                let entry = parts
                    .entry((from, to, reference))
                    .or_insert((total, BTreeMap::new()));
                entry.1.insert(sequence, payload);
            }
            other => panic!("an unexpected message type {other:?} in {line}"),
        }
    }
    for ((from, to, _), (total, segments)) in parts {
        if segments.len() == usize::from(total) {
            whole.push(AtSmsc {
                from,
                to,
                body: Body::Concatenated(segments.into_values().flatten().collect()),
            });
        }
    }
    whole
}

/// Kannel's URL encoding: `+` for a space byte, `%XX` for the others it escapes.
fn url_decoded(text: &str) -> Vec<u8> {
    percent_encoding::percent_decode_str(&text.replace('+', "%20")).collect()
}

/// The text of UTF-16BE bytes.
///
/// # Panics
/// On bytes that are not UTF-16.
pub fn utf16be(bytes: &[u8]) -> String {
    let units: Vec<u16> = bytes
        .chunks(2)
        .map(|pair| u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]))
        .collect();
    String::from_utf16(&units).unwrap()
}
