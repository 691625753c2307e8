//! `event-manager`: the Event Manager service, and the operator's commands on its database.

mod admin;

use std::path::PathBuf;
use std::process::ExitCode;

use app::config::{Config, ConfigError, Settings};
use app::startup::Application;
use app::{health, telemetry};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// jemalloc, not the C library's malloc: a read request's server CPU −10 %, for ~5 MiB more peak
/// memory (docs/decisions/0010-jemalloc.md).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Event Manager: events and invitations over HTTP.
///
/// Every setting below is an environment variable (a `.env` file in the working directory is read
/// too) or the option of the same name, shown with its default and accepted form; `RUST_LOG`
/// filters the logs (default info). A bad value stops the start with one line naming the variable.
#[derive(Debug, Parser)]
#[command(name = "event-manager", version)]
struct Cli {
    #[command(flatten)]
    settings: Settings,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run migrations, then serve the API (the default).
    Serve,
    /// Apply pending migrations to the database and exit.
    Migrate,
    /// Ask the service listening on BIND_ADDR whether it is ready (`GET /health/ready`): exit 0
    /// if it is, 1 with a line saying why otherwise.
    Health,
    /// A user's access tokens: list them, or revoke them (docs/operations.md, "Commands").
    #[command(subcommand)]
    Tokens(admin::TokensCommand),
    /// Webhooks: disable one.
    #[command(subcommand)]
    Webhooks(admin::WebhooksCommand),
    /// Run each periodic purge once (tokens, idempotency keys, the change feed, the invitation
    /// sweeper; on PostgreSQL the abuse counters) and print what each removed.
    Purge,
    /// Copy the SQLite database to a new file, consistent while the service runs (`VACUUM INTO`);
    /// on PostgreSQL use pg_dump.
    Backup {
        /// Where the copy goes: a path where nothing is yet.
        path: PathBuf,
    },
}

fn main() -> ExitCode {
    // A missing .env file is normal; the environment itself still applies.
    let _ = dotenvy::dotenv();
    let cli = match Settings::prepare(Cli::command())
        .try_get_matches()
        .and_then(|matches| Cli::from_arg_matches(&matches))
    {
        Ok(cli) => cli,
        Err(error) => match ConfigError::in_clap_error(&error) {
            Some(error) => {
                eprintln!("event-manager: {error}");
                return ExitCode::from(2);
            }
            // Help, the version, or a mistyped command line: clap's own words.
            None => error.exit(),
        },
    };
    let config = match Config::from_settings(cli.settings) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("event-manager: {error}");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Tokens(tokens) => return operate(&config, admin::AdminCommand::Tokens(tokens)),
        Command::Webhooks(webhooks) => {
            return operate(&config, admin::AdminCommand::Webhooks(webhooks))
        }
        Command::Purge => return operate(&config, admin::AdminCommand::Purge),
        Command::Backup { path } => return operate(&config, admin::AdminCommand::Backup(path)),
        Command::Health => health::check(config.bind_addr, health::TIMEOUT)
            .map_err(|e| format!("not healthy: {}", with_causes(&e))),
        Command::Migrate => telemetry::init(config.log_format, None)
            .map_err(|e| with_causes(&e))
            .and_then(|()| {
                let db = adapters_diesel::Database::open(&config.database())
                    .map_err(|e| with_causes(&e))?;
                tracing::info!(backend = ?db.backend(), "migrations applied");
                actix_web::rt::System::new()
                    .block_on(app::startup::settle_legacy_contacts(
                        &db,
                        config.unprove_legacy_contacts,
                    ))
                    .map_err(|e| with_causes(&e))
            }),
        Command::Serve => telemetry::init(config.log_format, config.traces.as_ref())
            .map_err(|e| with_causes(&e))
            .and_then(|()| {
                actix_web::rt::System::new().block_on(async move {
                    let app = Application::build(config)
                        .await
                        .map_err(|e| with_causes(&e))?;
                    app.run_until_stopped().await.map_err(|e| with_causes(&e))
                })
            }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("event-manager: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Runs an operator's command: its result on stdout, or one line on stderr and exit 2 (a bad
/// argument) or 1 (a failure).
fn operate(config: &Config, command: admin::AdminCommand) -> ExitCode {
    match admin::run(config, command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("event-manager: {}", failure.message());
            ExitCode::from(failure.code())
        }
    }
}

/// The error's message and its causes' messages, on one line: "cannot connect to the database:
/// timed out waiting for connection: …".
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut line = error.to_string();
    let mut cause = error.source();
    while let Some(error) = cause {
        line.push_str(": ");
        line.push_str(&error.to_string());
        cause = error.source();
    }
    line
}
