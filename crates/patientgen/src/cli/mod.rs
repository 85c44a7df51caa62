//! Command-line interface definition.

pub mod keys;
pub mod settings;

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
    /// Show the service's effective configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
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

/// Which database to use: read like `serve`'s settings (flag, environment,
/// `patientgen.toml` and its profile section, default).
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// `postgres://…` or `sqlite:…`; default: the embedded SQLite file in --data-dir [env: DATABASE_URL]
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// Directory of the embedded database and job files [env: PATIENTGEN_DATA_DIR] [default: patientgen-data]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Profile whose section of patientgen.toml applies [env: PATIENTGEN_PROFILE] [default: development]
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Configuration file [env: PATIENTGEN_CONFIG] [default: patientgen.toml if present]
    #[arg(long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// `patientgen serve`.
#[derive(Debug, Args)]
#[command(
    after_help = "Each setting is read from, lowest first: its default, the profile's default, patientgen.toml \
                  (top level, then the [profile] section), the environment, the flag. \
                  `patientgen config show` prints the result and where each value came from."
)]
pub struct ServeArgs {
    /// Settings.
    #[command(flatten)]
    pub settings: settings::SettingArgs,
}

/// `patientgen config …`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration of `serve` with the source of each
    /// value (default, file, env, flag); secrets masked. Takes serve's flags.
    Show(ConfigShowArgs),
    /// Print the configuration reference (Markdown) of docs/OPERATIONS.md.
    #[command(hide = true)]
    Reference,
}

/// `patientgen config show`.
#[derive(Debug, Args)]
pub struct ConfigShowArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: ShowFormat,
    /// Settings, as `serve` takes them.
    #[command(flatten)]
    pub settings: settings::SettingArgs,
}

/// `config show --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShowFormat {
    /// Aligned columns.
    Table,
    /// A JSON document.
    Json,
    /// A patientgen.toml with the effective values (secrets masked).
    Toml,
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
