//! `event-manager`: the Event Manager service.

use std::process::ExitCode;

use app::config::Config;
use app::startup::Application;
use app::telemetry;
use clap::{Parser, Subcommand};

/// Event Manager: events and invitations over HTTP.
#[derive(Debug, Parser)]
#[command(name = "event-manager", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run migrations, then serve the API (the default).
    Serve,
    /// Apply pending migrations to the database and exit.
    Migrate,
}

fn main() -> ExitCode {
    // A missing .env file is normal; the environment itself still applies.
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("event-manager: {error}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.log_format);

    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Migrate => adapters_diesel::Database::open(&config.database())
            .map(|db| tracing::info!(backend = ?db.backend(), "migrations applied"))
            .map_err(|e| with_causes(&e)),
        Command::Serve => actix_web::rt::System::new().block_on(async move {
            let app = Application::build(config)
                .await
                .map_err(|e| with_causes(&e))?;
            app.run_until_stopped().await.map_err(|e| with_causes(&e))
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
