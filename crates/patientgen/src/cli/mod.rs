//! Command-line interface definition.

pub mod keys;

use clap::builder::PossibleValue;
use clap::{Args, Parser, Subcommand, ValueEnum};
use patientgen_output::Format;
use std::path::PathBuf;
use std::sync::LazyLock;

/// Generates realistic synthetic patients for military medical exercises:
/// casualties flowing from the point of injury through NATO Roles 1-4.
#[derive(Debug, Parser)]
#[command(name = "patientgen", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// Command.
    #[command(subcommand)]
    pub command: Command,
}

/// Commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate patients into files (JSON, NDJSON, CSV, FHIR, XML, ZIP).
    Generate(GenerateArgs),
    /// List the scenario presets.
    Presets(PresetsArgs),
    /// Work with scenario files.
    #[command(subcommand)]
    Scenario(ScenarioCommand),
    /// Summarise a generated patients file (counts, shares, timing percentiles).
    Stats(StatsArgs),
    /// Decrypt a file written with --encrypt.
    Decrypt(DecryptArgs),
    /// Run the HTTP service (API v1, jobs, keys, metrics, web page).
    Serve(Box<ServeArgs>),
    /// Apply database migrations (also done by `serve` on start).
    Migrate(MigrateArgs),
    /// Manage API keys in the service's database.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Bring data over from another system into the service's database.
    #[command(subcommand)]
    Import(ImportCommand),
}

/// `patientgen migrate`.
#[derive(Debug, Clone, Args)]
pub struct MigrateArgs {
    /// Database.
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// First move patientgen's tables from this PostgreSQL schema (e.g. `public`, where versions
    /// before the own schema kept them) into patientgen's schema. Stop every instance first.
    #[arg(long, value_name = "SCHEMA")]
    pub move_from: Option<String>,
}

/// `patientgen import`.
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Copy upstream medical-patients' API keys (stored hashed, limits kept) and saved
    /// configurations from its PostgreSQL database; running it again skips what is there.
    Upstream(ImportUpstreamArgs),
}

/// `patientgen import upstream`.
#[derive(Debug, Clone, Args)]
pub struct ImportUpstreamArgs {
    /// Upstream's database (its `DATABASE_URL`, postgres://…).
    #[arg(long = "from", value_name = "DATABASE_URL")]
    pub from: String,
    /// The schema of upstream's alembic tables.
    #[arg(long, default_value = "public", value_name = "SCHEMA")]
    pub from_schema: String,
    /// Key id that owns the imported configurations (default: none; admin keys see them).
    #[arg(long, value_name = "KEY_ID")]
    pub configurations_owner: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// patientgen's database.
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// Which database to use (the same rules as `serve`).
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// `postgres://…` or `sqlite:…`; default: the embedded SQLite file in --data-dir.
    #[arg(long, env = "DATABASE_URL", value_name = "URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Directory of the embedded database and job files.
    #[arg(long, env = "PATIENTGEN_DATA_DIR", default_value = "patientgen-data", value_name = "DIR")]
    pub data_dir: PathBuf,
}

/// `patientgen serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "PATIENTGEN_BIND", default_value = "127.0.0.1:8000", value_name = "ADDR")]
    pub bind: std::net::SocketAddr,
    /// Database.
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Jobs this instance runs at once (0: serve only, run no jobs).
    #[arg(long, env = "PATIENTGEN_WORKERS", default_value_t = 2, value_name = "N")]
    pub workers: usize,
    /// Generation threads per job (default: cores / workers).
    #[arg(long, env = "PATIENTGEN_THREADS_PER_JOB", value_name = "N")]
    pub threads_per_job: Option<usize>,
    /// Ceiling on patients per job.
    #[arg(long, env = "PATIENTGEN_MAX_PATIENTS_PER_JOB", default_value_t = 1_000_000, value_name = "N")]
    pub max_patients_per_job: u32,
    /// Longest a job may run, seconds.
    #[arg(long, env = "JOB_MAX_RUNTIME_SECONDS", default_value_t = 600, value_name = "SECS")]
    pub max_job_runtime: u64,
    /// Job lease, seconds: a job whose instance stops renewing is taken over after this.
    #[arg(long, env = "PATIENTGEN_JOB_LEASE_SECONDS", default_value_t = 30, value_name = "SECS")]
    pub job_lease: u64,
    /// Keep finished jobs and their files this many hours.
    #[arg(long, env = "PATIENTGEN_RETENTION_HOURS", default_value_t = 168, value_name = "HOURS")]
    pub retention_hours: u64,
    /// Database pool size.
    #[arg(long, env = "DATABASE_POOL_SIZE", default_value_t = 10, value_name = "N")]
    pub pool_size: u32,
    /// Seconds to wait for a pooled connection.
    #[arg(long, env = "DATABASE_POOL_TIMEOUT", default_value_t = 5, value_name = "SECS")]
    pub pool_timeout: u64,
    /// Close pooled connections idle this many seconds.
    #[arg(long, env = "DATABASE_POOL_IDLE_TIMEOUT", default_value_t = 600, value_name = "SECS")]
    pub pool_idle_timeout: u64,
    /// Replace pooled connections older than this many seconds.
    #[arg(long, env = "DATABASE_POOL_MAX_LIFETIME", default_value_t = 1800, value_name = "SECS")]
    pub pool_max_lifetime: u64,
    /// An admin key to create (stored hashed) if it does not exist.
    #[arg(long, env = "PATIENTGEN_ADMIN_KEY", hide_env_values = true, value_name = "KEY")]
    pub admin_key: Option<String>,
    /// Upstream's master key variable, imported as an admin key for compatibility.
    #[arg(long = "legacy-api-key", env = "API_KEY", hide_env_values = true, value_name = "KEY")]
    pub legacy_api_key: Option<String>,
    /// Enable upstream's public demo key DEMO_MILMED_2025_50_PATIENTS (50 patients/request).
    #[arg(long, env = "PATIENTGEN_DEMO_KEY")]
    pub demo_key: bool,
    /// Allowed CORS origins, comma-separated.
    #[arg(
        long,
        env = "CORS_ORIGINS",
        default_value = "http://localhost:3000,http://localhost:8000",
        value_name = "LIST"
    )]
    pub cors_origins: String,
    /// Largest request body, bytes.
    #[arg(long, env = "PATIENTGEN_BODY_LIMIT", default_value_t = 2 << 20, value_name = "BYTES")]
    pub body_limit: usize,
    /// Time limit for ordinary requests, seconds.
    #[arg(long, env = "PATIENTGEN_REQUEST_TIMEOUT", default_value_t = 60, value_name = "SECS")]
    pub request_timeout: u64,
    /// This instance's name in job leases (default: host-pid-random).
    #[arg(long, env = "PATIENTGEN_INSTANCE_ID", value_name = "NAME")]
    pub instance_id: Option<String>,
    /// Redis for rate limits shared by every instance (in-process limits without it).
    #[arg(long, env = "REDIS_URL", value_name = "URL")]
    pub redis_url: Option<String>,
    /// Prefix of this service's Redis keys.
    #[arg(long, env = "PATIENTGEN_REDIS_PREFIX", default_value = "patientgen", value_name = "TEXT")]
    pub redis_prefix: String,
    /// How often key changes are picked up (key revocation reaches this instance within it).
    #[arg(long, env = "PATIENTGEN_KEY_REFRESH_MS", default_value_t = 250, value_name = "MS")]
    pub key_refresh_ms: u64,
    /// How often usage counters are written to the database.
    #[arg(long, env = "PATIENTGEN_USAGE_FLUSH_MS", default_value_t = 1000, value_name = "MS")]
    pub usage_flush_ms: u64,
    /// Log format.
    #[arg(long, env = "PATIENTGEN_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Do not create and print an admin key on a database without keys
    /// (same as PATIENTGEN_FIRST_RUN_KEY=false).
    #[arg(long)]
    pub no_first_run_key: bool,
    /// Create and print an admin key with the web page's link when the database has no keys.
    #[arg(long, env = "PATIENTGEN_FIRST_RUN_KEY", default_value_t = true, action = clap::ArgAction::Set, hide = true, value_name = "BOOL")]
    pub first_run_key: bool,
}

/// Log output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// `-f/--format`: a record format of [`Format::ALL`], or `zip` for a package
/// of the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatChoice {
    /// One file of this format.
    Records(Format),
    /// A ZIP archive of the other chosen formats plus manifest.json.
    Zip,
}

impl ValueEnum for FormatChoice {
    fn value_variants<'a>() -> &'a [Self] {
        static CHOICES: LazyLock<Vec<FormatChoice>> = LazyLock::new(|| {
            Format::ALL.into_iter().map(FormatChoice::Records).chain([FormatChoice::Zip]).collect()
        });
        &CHOICES
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(match self {
            FormatChoice::Records(format) => PossibleValue::new(format.as_str()).help(match format {
                Format::Json => "`{metadata, patients}` (or a bare array with --json-envelope array)",
                Format::Ndjson => "One patient per line",
                Format::Csv => "One row per patient",
                Format::Fhir => "One FHIR R4 Bundle per line",
                Format::Xml => "One XML document",
            }),
            FormatChoice::Zip => {
                PossibleValue::new("zip").help("A ZIP archive of the other chosen formats plus manifest.json")
            }
        })
    }
}

/// JSON envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EnvelopeArg {
    /// `{"metadata": …, "patients": […]}`.
    Object,
    /// A bare array of patients.
    Array,
}

/// `patientgen generate`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  patientgen generate --patients 1000 --seed 7\n  patientgen generate --preset nato_article_5 --format json --format csv --format zip -o exercise.zip\n  patientgen generate --scenario scenario.toml --format ndjson -o - | head\n  PG_PW=secret patientgen generate --encrypt --password-env PG_PW"
)]
pub struct GenerateArgs {
    /// Number of patients (overrides the scenario's total_patients).
    #[arg(short = 'n', long, value_name = "N")]
    pub patients: Option<u32>,
    /// Start from a preset (see `patientgen presets`); default: `default`.
    #[arg(long, value_name = "ID", conflicts_with = "scenario")]
    pub preset: Option<String>,
    /// Scenario file (JSON or TOML, upstream's configuration object).
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Random seed; the same scenario and seed give byte-identical files.
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Output format; repeat for several. `zip` packages the others.
    #[arg(short, long = "format", value_enum, value_name = "F")]
    pub formats: Vec<FormatChoice>,
    /// Output: a directory, a file (one format or zip), or `-` for stdout.
    #[arg(short, long, value_name = "PATH", default_value = "output")]
    pub output: PathBuf,
    /// Replace existing output files.
    #[arg(long)]
    pub force: bool,
    /// JSON shape.
    #[arg(long, value_enum, default_value = "object")]
    pub json_envelope: EnvelopeArg,
    /// Gzip each output file (`.gz`).
    #[arg(long)]
    pub gzip: bool,
    /// Encrypt output (AES-256-GCM, key from PBKDF2-HMAC-SHA256).
    #[arg(long)]
    pub encrypt: bool,
    /// Read the encryption password from this environment variable (else prompt).
    #[arg(long, value_name = "VAR", requires = "encrypt")]
    pub password_env: Option<String>,
    /// Worker threads (default: all cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Print a summary (counts, shares, timings) to stderr when done.
    #[arg(long)]
    pub summary: bool,
    /// Pin the metadata timestamp (RFC 3339); defaults to $SOURCE_DATE_EPOCH or now.
    #[arg(long, value_name = "TIME")]
    pub generated_at: Option<String>,
    /// No progress bar.
    #[arg(short, long)]
    pub quiet: bool,
}

/// `patientgen presets`.
#[derive(Debug, Args)]
pub struct PresetsArgs {
    /// Output as a table or JSON.
    #[arg(long, value_enum, default_value = "table")]
    pub format: ListFormat,
    /// Print one preset's full scenario configuration (JSON).
    #[arg(long, value_name = "ID")]
    pub show: Option<String>,
}

/// Table or JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// Human-readable.
    Table,
    /// Machine-readable.
    Json,
}

/// `patientgen scenario …`.
#[derive(Debug, Subcommand)]
pub enum ScenarioCommand {
    /// Check a scenario file; prints what it describes or every problem found.
    Validate {
        /// Scenario file (JSON or TOML).
        file: PathBuf,
    },
}

/// `patientgen stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// patients.json, patients.ndjson or a `.gz` of either.
    pub file: PathBuf,
    /// Text or JSON.
    #[arg(long, value_enum, default_value = "table")]
    pub format: ListFormat,
}

/// `patientgen decrypt`.
#[derive(Debug, Args)]
pub struct DecryptArgs {
    /// Encrypted file.
    pub input: PathBuf,
    /// Output file (default: the input without `.enc`; `-` for stdout).
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// Read the password from this environment variable (else prompt).
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
    /// Replace an existing output file.
    #[arg(long)]
    pub force: bool,
}
