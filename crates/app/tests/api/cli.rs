//! The `event-manager` binary's command line: `--help` lists the settings, a bad one stops it with
//! one line, and `health` asks a running service whether it is ready.

use std::process::{Command, Output};

use crate::helpers::spawn_app;

/// Runs the binary with `args` and only `vars` in its environment (no `.env` file: the working
/// directory is the system's temporary one).
async fn event_manager(args: &[&str], vars: &[(&str, String)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_event-manager"));
    command
        .args(args)
        .env_clear()
        .envs(vars.iter().map(|(k, v)| (k, v)))
        .current_dir(std::env::temp_dir());
    tokio::task::spawn_blocking(move || command.output().expect("run event-manager"))
        .await
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_exits_0_while_the_service_is_ready() {
    let app = spawn_app(adapters_diesel::Backend::Sqlite).await.unwrap();
    let port = app.address.rsplit(':').next().unwrap().to_owned();
    for bind in [format!("127.0.0.1:{port}"), format!("0.0.0.0:{port}")] {
        let output = event_manager(&["health"], &[("BIND_ADDR", bind.clone())]).await;
        assert!(output.status.success(), "{bind}: {}", stderr(&output));
        assert_eq!(stderr(&output), "");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_exits_1_with_one_line_when_nothing_listens() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let output = event_manager(&["health"], &[("BIND_ADDR", format!("127.0.0.1:{port}"))]).await;
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.starts_with(&format!(
            "event-manager: not healthy: cannot connect to 127.0.0.1:{port}: "
        )),
        "{message}"
    );
    assert_eq!(message.lines().count(), 1, "{message}");
}

#[tokio::test]
async fn a_bad_variable_or_option_stops_the_binary_with_one_line_naming_it() {
    let output = event_manager(&["migrate"], &[("LOG_FORMAT", "xml".into())]).await;
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "event-manager: invalid LOG_FORMAT=\"xml\": pretty or json\n"
    );
    let output = event_manager(&["health", "--database-pool-size", "0"], &[]).await;
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "event-manager: invalid DATABASE_POOL_SIZE=\"0\": an integer from 1 to 1000\n"
    );
}

#[tokio::test]
async fn help_lists_every_setting_with_its_default_and_hides_secrets() {
    let secret = "0123456789abcdef0123456789abcdef-secret";
    for args in [&["--help"][..], &["serve", "--help"]] {
        let output = event_manager(
            args,
            &[
                ("CURSOR_SECRET", secret.into()),
                ("BIND_ADDR", "0.0.0.0:9000".into()),
            ],
        )
        .await;
        assert!(output.status.success());
        let help = String::from_utf8(output.stdout).unwrap();
        for expected in [
            "--database-pool-size <DATABASE_POOL_SIZE>",
            "[env: DATABASE_POOL_SIZE=]",
            "[default: 10]",
            "an integer from 1 to 1000",
            "[env: BIND_ADDR=0.0.0.0:9000]",
            "[default: 127.0.0.1:8080]",
            "[env: INVITATION_TTL=]",
            "[default: 7d]",
            "[env: SMTP_FROM=]",
            "[env: CURSOR_SECRET]",
        ] {
            assert!(
                help.contains(expected),
                "{args:?} lacks {expected}:\n{help}"
            );
        }
        assert!(!help.contains(secret));
    }
}
