//! The operator's commands: `tokens`, `webhooks disable`, `purge` and `backup`.
//!
//! They work on the database `DATABASE_URL` names, SQLite or PostgreSQL, beside running services
//! (docs/operations.md, "Commands").
//! Each prints a short result on stdout, or one line on stderr: exit 2 for a bad argument, 1 for a
//! failure.

use std::path::PathBuf;

use adapters_diesel::admin::{
    BackupError, RevokeTokensError, TokenInfo, TokenSelection, UserInfo, UserKey, TOKEN_ID_DIGITS,
};
use adapters_diesel::{Backend, Database};
use app::config::Config;
use app::maintenance::Purge;
use chrono::{DateTime, Utc};
use clap::Subcommand;
use domain::{Login, UserId, WebhookId};

/// `event-manager tokens …`.
#[derive(Debug, Subcommand)]
pub(crate) enum TokensCommand {
    /// List a user's access tokens: when each was issued, expires and was revoked, and its id
    /// (the last 8 hex digits of its stored digest; the tokens themselves are never stored).
    List {
        /// The user: their id, email or mobile.
        #[arg(long)]
        user: String,
    },
    /// Revoke a user's live tokens (log them out), all or one, and print how many.
    Revoke {
        /// The user: their id, email or mobile.
        #[arg(long)]
        user: String,
        /// Every live token of the user.
        #[arg(long, conflicts_with = "token", required_unless_present = "token")]
        all: bool,
        /// The token whose id (as `tokens list` shows it, or any longer tail of its digest) is
        /// this.
        #[arg(long)]
        token: Option<String>,
    },
}

/// `event-manager webhooks …`.
#[derive(Debug, Subcommand)]
pub(crate) enum WebhooksCommand {
    /// Disable a webhook as the service does when its endpoint answers 410 Gone: it receives
    /// nothing more and its pending deliveries end. Prints its URL and owner.
    Disable {
        /// The webhook's id.
        webhook: String,
    },
}

/// An operator's command.
#[derive(Debug)]
pub(crate) enum AdminCommand {
    /// `tokens …`.
    Tokens(TokensCommand),
    /// `webhooks …`.
    Webhooks(WebhooksCommand),
    /// `purge`.
    Purge,
    /// `backup PATH`.
    Backup(PathBuf),
}

/// Why a command stopped: the line to print and the exit code.
#[derive(Debug)]
pub(crate) enum Failure {
    /// A bad argument (exit 2).
    Usage(String),
    /// The command could not be done (exit 1).
    Failed(String),
}

impl Failure {
    /// The process's exit code.
    pub(crate) fn code(&self) -> u8 {
        match self {
            Self::Usage(_) => 2,
            Self::Failed(_) => 1,
        }
    }

    /// The line to print.
    pub(crate) fn message(&self) -> &str {
        match self {
            Self::Usage(message) | Self::Failed(message) => message,
        }
    }
}

fn failed(error: &dyn std::error::Error) -> Failure {
    Failure::Failed(crate::with_causes(error))
}

/// Runs `command` on the configured database and prints its result on stdout.
pub(crate) fn run(config: &Config, command: AdminCommand) -> Result<(), Failure> {
    use std::io::Write as _;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| failed(&e))?;
    let report = runtime.block_on(execute(config, command))?;
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(report.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| failed(&e))
}

/// Runs `command`; returns what to print.
async fn execute(config: &Config, command: AdminCommand) -> Result<String, Failure> {
    // Arguments are checked before anything is opened, so that a typo changes nothing.
    let mut database = config.database();
    // A command makes a few calls, one at a time.
    database.pool_size = 2;
    let open = || Database::connect_existing(&database).map_err(|e| failed(&e));
    match command {
        AdminCommand::Tokens(TokensCommand::List { user }) => {
            let key = user_key(config, &user)?;
            let db = open()?;
            let user = find_user(&db, key, &user).await?;
            let tokens = db.user_tokens(user.id).await.map_err(|e| failed(&e))?;
            Ok(token_table(&user, &tokens))
        }
        AdminCommand::Tokens(TokensCommand::Revoke { user, all, token }) => {
            let key = user_key(config, &user)?;
            let which = match (all, token) {
                (_, Some(suffix)) => TokenSelection::Suffix(token_suffix(&suffix)?),
                (true, None) => TokenSelection::All,
                (false, None) => return Err(Failure::Usage("give --all or --token ID".into())),
            };
            let db = open()?;
            let user = find_user(&db, key, &user).await?;
            let revoked = db
                .revoke_user_tokens(user.id, which, Utc::now())
                .await
                .map_err(|e| match e {
                    RevokeTokensError::Port(e) => failed(&e),
                    e => Failure::Failed(e.to_string()),
                })?;
            let plural = if revoked == 1 { "" } else { "s" };
            Ok(format!(
                "revoked {revoked} token{plural} of {}\n",
                user.label()
            ))
        }
        AdminCommand::Webhooks(WebhooksCommand::Disable { webhook }) => {
            let id: WebhookId = webhook
                .trim()
                .parse()
                .map_err(|_| Failure::Usage(format!("invalid webhook id {webhook:?}: a UUID")))?;
            let db = open()?;
            let Some(disabled) = db
                .disable_webhook(id, Utc::now())
                .await
                .map_err(|e| failed(&e))?
            else {
                return Err(Failure::Failed(format!("no webhook {id}")));
            };
            let what = if disabled.already {
                "was disabled already"
            } else {
                "disabled"
            };
            Ok(format!(
                "webhook {id} {what}: {} (owner {}, {})\n",
                disabled.url,
                disabled.owner.label(),
                disabled.owner.id
            ))
        }
        AdminCommand::Purge => {
            let db = open()?;
            let retention = chrono::Duration::days(i64::from(config.event_retention_days));
            let mut purges = vec![
                (Purge::Tokens, "removed"),
                (Purge::IdempotencyKeys, "removed"),
                (Purge::Changes { retention }, "removed"),
                (Purge::Invitations, "marked expired"),
                (Purge::Reminders, "sent"),
            ];
            if db.backend() == Backend::Postgres {
                let window = domain::ports::LONGEST_COUNTER_WINDOW;
                purges.push((Purge::Counters { window }, "removed"));
            }
            let mut report = String::new();
            for (purge, done) in purges {
                let count = purge.run_once(&db).await.map_err(|e| {
                    Failure::Failed(format!(
                        "{} failed: {}",
                        purge.name(),
                        crate::with_causes(&e)
                    ))
                })?;
                report.push_str(&format!("{}: {count} {done}\n", purge.name()));
            }
            Ok(report)
        }
        AdminCommand::Backup(path) => {
            if path.as_os_str().is_empty() {
                return Err(Failure::Usage("give the backup's path".into()));
            }
            let db = open()?;
            let size = db.backup_into(&path).await.map_err(|e| match e {
                BackupError::Port(e) => failed(&e),
                e @ (BackupError::NotSqlite | BackupError::Exists(_) | BackupError::NotUtf8) => {
                    Failure::Usage(e.to_string())
                }
            })?;
            Ok(format!("backed up to {} ({size} bytes)\n", path.display()))
        }
    }
}

/// Reads `--user`: a UUID is an id, anything else an email or a mobile as a login reads it.
fn user_key(config: &Config, raw: &str) -> Result<UserKey, Failure> {
    let raw = raw.trim();
    if let Ok(id) = raw.parse::<UserId>() {
        return Ok(UserKey::Id(id));
    }
    Login::parse(raw, config.phone_region)
        .map(UserKey::Login)
        .ok_or_else(|| {
            Failure::Usage(format!(
                "invalid --user {raw:?}: a user id, an email or a mobile"
            ))
        })
}

async fn find_user(db: &Database, key: UserKey, raw: &str) -> Result<UserInfo, Failure> {
    db.find_user_by(key)
        .await
        .map_err(|e| failed(&e))?
        .ok_or_else(|| Failure::Failed(format!("no user {}", raw.trim())))
}

/// Reads `--token`: hex digits, the tail of a digest.
fn token_suffix(raw: &str) -> Result<String, Failure> {
    let suffix = raw.trim().to_ascii_lowercase();
    if (1..=64).contains(&suffix.len()) && suffix.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(suffix)
    } else {
        Err(Failure::Usage(format!(
            "invalid --token {raw:?}: the token's id, {TOKEN_ID_DIGITS} hex digits"
        )))
    }
}

fn time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%SZ").to_string()
}

/// The `tokens list` output: a line naming the user, then one line per token.
fn token_table(user: &UserInfo, tokens: &[TokenInfo]) -> String {
    use std::fmt::Write as _;
    let plural = if tokens.len() == 1 { "" } else { "s" };
    let mut out = format!(
        "{} ({}): {} token{plural}\n",
        user.label(),
        user.id,
        tokens.len()
    );
    if tokens.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "{:<8}  {:<20}  {:<20}  REVOKED",
        "ID", "CREATED", "EXPIRES"
    );
    for token in tokens {
        let revoked = token.revoked_at.map_or_else(|| "-".to_owned(), time);
        let _ = writeln!(
            out,
            "{:<8}  {:<20}  {:<20}  {revoked}",
            token.id,
            time(token.created_at),
            time(token.expires_at)
        );
    }
    out
}
