//! `patientgen keys …`: the arguments. The commands are in
//! `commands/keys`.

use super::DatabaseArgs;
use crate::error::{CliError, CliResult};
use clap::{Args, Subcommand, ValueEnum};
use patientgen_storage::KeyLimits;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Aligned text.
    Table,
    /// JSON (upstream's shapes).
    Json,
    /// CSV (upstream's columns).
    Csv,
}

/// Limits given on the command line.
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Patients per request (default 1000; demo 50).
    #[arg(long, value_name = "N")]
    pub patients: Option<i32>,
    /// Requests per day (default unlimited; demo 100).
    #[arg(long, value_name = "N")]
    pub daily: Option<i32>,
    /// Requests per hour (default 1000; demo 50).
    #[arg(long, value_name = "N")]
    pub hourly: Option<i32>,
    /// Requests per minute (default 60; demo 10).
    #[arg(long, value_name = "N")]
    pub minute: Option<i32>,
    /// Patients per day (default unlimited).
    #[arg(long, value_name = "N")]
    pub patients_per_day: Option<i32>,
}

impl LimitArgs {
    pub fn apply(&self, mut base: KeyLimits) -> CliResult<KeyLimits> {
        for (name, v) in [
            ("--patients", self.patients),
            ("--daily", self.daily),
            ("--hourly", self.hourly),
            ("--minute", self.minute),
            ("--patients-per-day", self.patients_per_day),
        ] {
            if v.is_some_and(|v| v < 1) {
                return Err(CliError::input(format!("{name} must be at least 1")));
            }
        }
        if let Some(v) = self.patients {
            base.max_patients_per_request = v;
        }
        if let Some(v) = self.hourly {
            base.max_requests_per_hour = v;
        }
        if let Some(v) = self.minute {
            base.max_requests_per_minute = v;
        }
        if self.daily.is_some() {
            base.max_requests_per_day = self.daily;
        }
        if self.patients_per_day.is_some() {
            base.max_patients_per_day = self.patients_per_day;
        }
        Ok(base)
    }

    pub fn any(&self) -> bool {
        self.patients.is_some()
            || self.daily.is_some()
            || self.hourly.is_some()
            || self.minute.is_some()
            || self.patients_per_day.is_some()
    }
}

/// Settings of a new key.
#[derive(Debug, Clone, Args)]
pub struct NewKeyArgs {
    /// Name.
    #[arg(long)]
    pub name: String,
    /// Contact e-mail.
    #[arg(long)]
    pub email: Option<String>,
    /// A demo key (`sk_demo_`, upstream's demo limits unless overridden).
    #[arg(long)]
    pub demo: bool,
    /// Expire after this many days.
    #[arg(long, value_name = "DAYS")]
    pub expires_days: Option<i64>,
    /// Scopes, comma-separated: generate, read, admin.
    #[arg(long, default_value = "generate,read")]
    pub scopes: String,
    /// Limits.
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// `keys import`: where the plaintext comes from.
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// The key itself (visible in shell history; prefer --key-env or --stdin).
    #[arg(long, conflicts_with_all = ["key_env", "stdin"])]
    pub key: Option<String>,
    /// Read the key from this environment variable.
    #[arg(long, value_name = "VAR", conflicts_with = "stdin")]
    pub key_env: Option<String>,
    /// Read the key from the first line of standard input.
    #[arg(long)]
    pub stdin: bool,
    /// Settings.
    #[command(flatten)]
    pub settings: NewKeyArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutputFormat,
    /// Database.
    #[command(flatten)]
    pub db: DatabaseArgs,
}

/// Key commands.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key; the key is shown once.
    Create {
        /// Settings.
        #[command(flatten)]
        settings: NewKeyArgs,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
        /// Database.
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// List keys.
    List {
        /// Only active keys.
        #[arg(long)]
        active: bool,
        /// Only demo keys.
        #[arg(long)]
        demo: bool,
        /// Name or e-mail contains.
        #[arg(long)]
        search: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
        /// Database.
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Show a key (by id, id prefix, or the key itself).
    Show {
        /// Key id or key.
        key_id: String,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
        /// Database.
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Re-enable a key.
    Activate {
        /// Key id or key.
        key_id: String,
        /// Database.
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Disable a key (takes effect on every server).
    Deactivate {
        /// Key id or key.
        key_id: String,
        /// Database.
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Delete a key.
    Delete {
        /// Key id or key.
        key_id: String,
        /// Do not ask.
        #[arg(long)]
        confirm: bool,
        /// Database.
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Usage counters of a key.
    Usage {
        /// Key id or key.
        key_id: String,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
        /// Database.
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Figures over all keys.
    Stats {
        /// Period for "recently used", days.
        #[arg(long, default_value_t = 30)]
        days: i64,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
        /// Database.
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Change a key's limits.
    Limits {
        /// Key id or key.
        key_id: String,
        /// New limits (others unchanged).
        #[command(flatten)]
        limits: LimitArgs,
        /// Database.
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Move a key's expiry later.
    Extend {
        /// Key id or key.
        key_id: String,
        /// Days to add.
        #[arg(long)]
        days: i64,
        /// Database.
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Delete expired keys.
    Cleanup {
        /// Only list them.
        #[arg(long)]
        dry_run: bool,
        /// Database.
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Issue a new key with the same settings; the old one works until the grace period ends.
    Rotate {
        /// Key id or key.
        key_id: String,
        /// Name of the new key (default: "<old name> (Rotated)").
        #[arg(long)]
        name: Option<String>,
        /// How long the old key keeps working, e.g. 24h, 30m, 7d, 0s.
        #[arg(long, default_value = "24h", value_parser = parse_duration)]
        grace: std::time::Duration,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
        /// Database.
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Store an existing plaintext key (e.g. from upstream's table), hashed.
    Import(Box<ImportArgs>),
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("not a duration like 24h or 30m: {e}"))
}
