//! What unauthenticated requests can make the process hold: a flood of failed logins for accounts
//! that do not exist, each checked against a decoy argon2 hash of 19 MiB, through the binary.

use adapters_diesel::testing::TestDatabase;
use serde_json::json;

use crate::helpers::{client, ServerProcess};

/// A `/proc/PID/status` figure in KiB (`VmRSS`: now; `VmHWM`: the peak).
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{field}:")))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

/// Every hash runs on the hasher's own few threads, each in memory it allocated once. Before, on
/// tokio's blocking pool, 64 concurrent failed logins left 19 MiB buffers in the arenas of the
/// threads that had run them (27 MiB → 579 MiB, ~800 MiB after 768 logins); on two threads of its
/// own but allocating per hash, this test still saw 50 → 338 MiB (glibc's arenas fragment around
/// the freed buffers); in kept memory, 50 → 92 MiB.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_of_failed_logins_for_unknown_accounts_keeps_memory_flat() {
    const ROUNDS: usize = 6;
    const CONCURRENT: usize = 64;
    let database = TestDatabase::sqlite();
    let server = ServerProcess::start(
        database.url(),
        &[
            ("LOGIN_FAILURES_PER_ACCOUNT_ADDRESS", "0"),
            ("LOGIN_FAILURES_PER_ACCOUNT", "0"),
            ("LOGIN_FAILURES_PER_ADDRESS", "0"),
        ],
    )
    .await;
    let pid = server.pid();
    let http = client();
    let url = format!("{}/api/v1/login", server.address);
    let before = status_kib(pid, "VmRSS");
    let mut answered = std::collections::BTreeMap::<u16, usize>::new();
    for round in 0..ROUNDS {
        let logins = (0..CONCURRENT).map(|i| {
            let request = http.post(&url).json(&json!({
                "email": format!("nobody-{round}-{i}@example.com"),
                "password": "not the password",
            }));
            async move { request.send().await.unwrap().status().as_u16() }
        });
        for status in futures_util::future::join_all(logins).await {
            *answered.entry(status).or_default() += 1;
        }
    }
    let peak = status_kib(pid, "VmHWM");
    let after = status_kib(pid, "VmRSS");
    eprintln!(
        "login flood: {} failed logins ({CONCURRENT} at a time) answered {answered:?}; \
         RSS {} MiB before, peak {} MiB, {} MiB after",
        ROUNDS * CONCURRENT,
        before / 1024,
        peak / 1024,
        after / 1024,
    );
    // Only 401 (checked, wrong) and 503 (no hashing slot within the wait): never anything else.
    assert!(
        answered.keys().all(|status| [401, 503].contains(status)),
        "{answered:?}"
    );
    assert!(answered.get(&401).copied().unwrap_or(0) > 0, "{answered:?}");
    // A few hashing threads' buffers (19 MiB each, one thread per core) and the request handling
    // around them, not one buffer per thread that ever hashed.
    let cores = std::thread::available_parallelism().map_or(2, usize::from) as u64;
    let bound = before + (cores * 19 + 60) * 1024;
    assert!(peak < bound, "peak {peak} KiB over {bound} KiB");
}
