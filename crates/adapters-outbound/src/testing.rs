//! Kannel 1.4.5 on loopback for tests (`scripts/lib/kannel.sh`): its bearerbox, smsbox and the
//! fakesmsc test SMSC, in a directory of their own, so that a text really crosses a gateway to an
//! SMSC, whose log the test reads back.

use std::collections::HashMap;
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
