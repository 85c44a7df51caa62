//! The one configuration definition of `patientgen serve`.
//!
//! Every setting is a field of [`Settings`] (its defaults written once, in
//! `Settings::default`) and a row of [`SETTINGS`] (its file key, environment
//! variable, flag and help). [`load`] reads them, lowest first, from the
//! defaults, the profile's defaults, `patientgen.toml` (top-level keys, then the
//! section of the chosen profile), the environment and the command line, with
//! figment merging the layers and remembering where each value came from.
//! [`Loaded::validate`] turns them into a checked [`ServerConfig`].

use crate::config::{InvalidSetting, ServerConfig, default_instance_id};
use figment::providers::{Format, Toml};
use figment::value::{Dict, Empty, Map, Tag, Value};
use figment::{Figment, Metadata, Provider};
use patientgen_storage::PoolSettings;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A deployment profile: it selects the section of `patientgen.toml` and a few
/// defaults, and production adds rules (see [`ServerConfig::validate`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// A developer's machine: text logs, the first-run key.
    #[default]
    Development,
    /// A shared test environment: JSON logs.
    Staging,
    /// Serving a team: JSON logs, an admin key required, no demo key, no
    /// first-run key, loopback or behind a proxy.
    Production,
}

impl Profile {
    /// Every profile.
    pub const ALL: [Profile; 3] = [Profile::Development, Profile::Staging, Profile::Production];

    /// Its name in files, flags and the environment.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Development => "development",
            Profile::Staging => "staging",
            Profile::Production => "production",
        }
    }

    /// The profile named `name`.
    pub fn parse(name: &str) -> Option<Profile> {
        Profile::ALL.into_iter().find(|p| p.as_str() == name)
    }

    /// Defaults of this profile that differ from [`Settings::default`].
    fn defaults(self) -> Dict {
        let mut d = Dict::new();
        match self {
            Profile::Development => {}
            Profile::Staging => {
                d.insert("log_format".into(), Value::from("json"));
            }
            Profile::Production => {
                d.insert("log_format".into(), Value::from("json"));
                d.insert("first_run_key".into(), Value::from(false));
            }
        }
        d
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Log output of the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines (colours only on a terminal).
    Text,
    /// One JSON object per line.
    Json,
}

/// Every setting of `patientgen serve`, as an operator writes it (durations in
/// the unit their name says). The defaults are those of `Default`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address to listen on.
    pub bind: SocketAddr,
    /// A TLS-terminating proxy sits in front (allows a non-loopback bind in production).
    pub behind_proxy: bool,
    /// Database URL.
    #[serde(serialize_with = "masked")]
    pub database_url: Option<SecretString>,
    /// Directory of the embedded database and job files.
    pub data_dir: PathBuf,
    /// Jobs run at once.
    pub workers: usize,
    /// Generation threads per job (cores / workers when unset).
    pub threads_per_job: Option<usize>,
    /// Ceiling on patients per job.
    pub max_patients_per_job: u32,
    /// Longest a job may run.
    pub max_job_runtime_seconds: u64,
    /// Job lease.
    pub job_lease_seconds: u64,
    /// Finished jobs kept this long.
    pub retention_hours: u64,
    /// Database pool size.
    pub pool_size: u32,
    /// Wait for a pooled connection.
    pub pool_timeout_seconds: u64,
    /// Idle pooled connections closed after this.
    pub pool_idle_timeout_seconds: u64,
    /// Pooled connections replaced after this.
    pub pool_max_lifetime_seconds: u64,
    /// Admin key to make sure exists.
    #[serde(serialize_with = "masked")]
    pub admin_key: Option<SecretString>,
    /// Upstream's `API_KEY`.
    #[serde(serialize_with = "masked")]
    pub legacy_api_key: Option<SecretString>,
    /// Upstream's public demo key.
    pub demo_key: bool,
    /// Allowed CORS origins.
    #[serde(deserialize_with = "list")]
    pub cors_origins: Vec<String>,
    /// Largest request body, bytes.
    pub body_limit: usize,
    /// Time limit of ordinary requests.
    pub request_timeout_seconds: u64,
    /// Name in job leases (host-pid-random when unset).
    pub instance_id: Option<String>,
    /// Redis URL.
    #[serde(serialize_with = "masked")]
    pub redis_url: Option<SecretString>,
    /// Prefix of Redis keys.
    pub redis_prefix: String,
    /// Key changes picked up within this.
    pub key_refresh_ms: u64,
    /// Usage counters written this often.
    pub usage_flush_ms: u64,
    /// Log format.
    pub log_format: LogFormat,
    /// First-run admin key on an empty database.
    pub first_run_key: bool,
}

impl Default for Settings {
    fn default() -> Self {
        let pool = PoolSettings::default();
        let secs = |d: Option<Duration>| d.map_or(0, |d| d.as_secs());
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8000)),
            behind_proxy: false,
            database_url: None,
            data_dir: PathBuf::from("patientgen-data"),
            workers: 2,
            threads_per_job: None,
            max_patients_per_job: patientgen_core::scenario::MAX_PATIENTS,
            max_job_runtime_seconds: 600,
            job_lease_seconds: 30,
            retention_hours: 7 * 24,
            pool_size: pool.max_connections,
            pool_timeout_seconds: pool.acquire_timeout.as_secs(),
            pool_idle_timeout_seconds: secs(pool.idle_timeout),
            pool_max_lifetime_seconds: secs(pool.max_lifetime),
            admin_key: None,
            legacy_api_key: None,
            demo_key: false,
            cors_origins: vec!["http://localhost:3000".into(), "http://localhost:8000".into()],
            body_limit: 2 << 20,
            request_timeout_seconds: 60,
            instance_id: None,
            redis_url: None,
            redis_prefix: "patientgen".into(),
            key_refresh_ms: 250,
            usage_flush_ms: 1000,
            log_format: LogFormat::Text,
            first_run_key: true,
        }
    }
}

impl Settings {
    /// The service's configuration (unchecked: see [`ServerConfig::validate`]).
    pub fn server_config(&self, profile: Profile) -> ServerConfig {
        let nonempty = |s: &Option<SecretString>| s.clone().filter(|s| !s.expose_secret().is_empty());
        ServerConfig {
            profile,
            bind: self.bind,
            behind_proxy: self.behind_proxy,
            database_url: nonempty(&self.database_url),
            data_dir: self.data_dir.clone(),
            pool: PoolSettings {
                max_connections: self.pool_size,
                acquire_timeout: Duration::from_secs(self.pool_timeout_seconds),
                idle_timeout: Some(Duration::from_secs(self.pool_idle_timeout_seconds)),
                max_lifetime: Some(Duration::from_secs(self.pool_max_lifetime_seconds)),
            },
            workers: self.workers,
            threads_per_job: self
                .threads_per_job
                .unwrap_or_else(|| ServerConfig::threads_per_job_for(self.workers)),
            max_patients_per_job: self.max_patients_per_job,
            max_job_runtime: Duration::from_secs(self.max_job_runtime_seconds),
            job_lease: Duration::from_secs(self.job_lease_seconds),
            poll_interval: Duration::from_secs(2),
            retention: Duration::from_secs(self.retention_hours.saturating_mul(3600)),
            body_limit: self.body_limit,
            request_timeout: Duration::from_secs(self.request_timeout_seconds),
            admin_key: nonempty(&self.admin_key),
            legacy_api_key: nonempty(&self.legacy_api_key),
            demo_key: self.demo_key,
            cors_origins: self.cors_origins.clone(),
            instance_id: self
                .instance_id
                .clone()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(default_instance_id),
            encryption_iterations: patientgen_crypto::DEFAULT_ITERATIONS,
            redis_url: nonempty(&self.redis_url),
            redis_prefix: self.redis_prefix.clone(),
            redis_call_timeout: crate::limits::DEFAULT_REDIS_CALL_TIMEOUT,
            key_refresh_interval: Duration::from_millis(self.key_refresh_ms),
            usage_flush_interval: Duration::from_millis(self.usage_flush_ms),
            limiter_max_keys: 100_000,
            key_cache_capacity: 100_000,
            first_run_key: self.first_run_key,
        }
    }
}

/// Secrets serialise as a mask (only `config show` and the defaults layer
/// serialise settings, and no secret has a default).
fn masked<S: Serializer>(value: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(_) => s.serialize_str(MASK),
        None => s.serialize_none(),
    }
}

/// A list given as an array or as one comma-separated string.
fn list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => split_list(&s),
        OneOrMany::Many(v) => v,
    })
}

fn split_list(s: &str) -> Vec<String> {
    s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
}

/// An unset value.
fn none() -> Value {
    Value::Empty(Tag::Default, Empty::None)
}

/// What a secret looks like in `config show`.
pub const MASK: &str = "********";

/// How a setting is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`).
    Bool,
    /// A whole number.
    Int,
    /// A whole number, or empty for the computed default.
    OptInt,
    /// Text.
    Text,
    /// Text, or empty for none.
    OptText,
    /// Comma-separated text (an array in the file).
    List,
    /// One of these words.
    Choice(&'static [&'static str]),
}

/// How a setting is given on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    /// `--long VALUE`.
    Value(&'static str, &'static str),
    /// `--long` (true) or `--long=false`.
    Switch(&'static str),
    /// `--long` sets the setting to false.
    Negated(&'static str),
}

impl Flag {
    /// `--long`.
    pub fn long(self) -> &'static str {
        match self {
            Flag::Value(l, _) | Flag::Switch(l) | Flag::Negated(l) => l,
        }
    }

    /// How the reference shows it, e.g. `--bind <ADDR>`.
    pub fn usage(self) -> String {
        match self {
            Flag::Value(l, v) => format!("--{l} <{v}>"),
            Flag::Switch(l) => format!("--{l}[=<BOOL>]"),
            Flag::Negated(l) => format!("--{l}"),
        }
    }
}

/// One row of the definition.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    /// Key in `patientgen.toml` and field of [`Settings`].
    pub key: &'static str,
    /// Environment variable.
    pub env: &'static str,
    /// Command-line flag.
    pub flag: Flag,
    /// How it is written.
    pub kind: Kind,
    /// Masked in `config show`, never logged.
    pub secret: bool,
    /// What it does.
    pub help: &'static str,
    /// The default when it is computed at start (shown instead of a value).
    pub auto: Option<&'static str>,
}

const fn row(key: &'static str, env: &'static str, flag: Flag, kind: Kind, help: &'static str) -> Setting {
    Setting { key, env, flag, kind, secret: false, help, auto: None }
}

const fn secret(key: &'static str, env: &'static str, flag: Flag, help: &'static str) -> Setting {
    Setting { key, env, flag, kind: Kind::OptText, secret: true, help, auto: None }
}

const fn auto(mut s: Setting, text: &'static str) -> Setting {
    s.auto = Some(text);
    s
}

use Flag::{Negated, Switch, Value as Arg};
use Kind::{Bool, Choice, Int, List, OptInt, OptText, Text};

/// Every setting of `patientgen serve`, in the order of `config show`.
pub const SETTINGS: &[Setting] = &[
    row("bind", "PATIENTGEN_BIND", Arg("bind", "ADDR"), Text, "Address to listen on"),
    row(
        "behind_proxy",
        "PATIENTGEN_BEHIND_PROXY",
        Switch("behind-proxy"),
        Bool,
        "A TLS-terminating proxy or load balancer sits in front: allows a non-loopback bind in production",
    ),
    secret(
        "database_url",
        "DATABASE_URL",
        Arg("database-url", "URL"),
        "`postgres://…` or `sqlite:…`; default: the embedded SQLite file in data_dir",
    ),
    row(
        "data_dir",
        "PATIENTGEN_DATA_DIR",
        Arg("data-dir", "DIR"),
        Text,
        "Directory of the embedded database and job files",
    ),
    row(
        "workers",
        "PATIENTGEN_WORKERS",
        Arg("workers", "N"),
        Int,
        "Jobs this instance runs at once (0: serve only, run no jobs)",
    ),
    auto(
        row(
            "threads_per_job",
            "PATIENTGEN_THREADS_PER_JOB",
            Arg("threads-per-job", "N"),
            OptInt,
            "Generation threads per job",
        ),
        "cores / workers",
    ),
    row(
        "max_patients_per_job",
        "PATIENTGEN_MAX_PATIENTS_PER_JOB",
        Arg("max-patients-per-job", "N"),
        Int,
        "Ceiling on patients per job",
    ),
    row(
        "max_job_runtime_seconds",
        "JOB_MAX_RUNTIME_SECONDS",
        Arg("max-job-runtime", "SECS"),
        Int,
        "Longest a job may run, seconds",
    ),
    row(
        "job_lease_seconds",
        "PATIENTGEN_JOB_LEASE_SECONDS",
        Arg("job-lease", "SECS"),
        Int,
        "Job lease, seconds: a job whose instance stops renewing is taken over after this",
    ),
    row(
        "retention_hours",
        "PATIENTGEN_RETENTION_HOURS",
        Arg("retention-hours", "HOURS"),
        Int,
        "Keep finished jobs and their files this many hours",
    ),
    row("pool_size", "DATABASE_POOL_SIZE", Arg("pool-size", "N"), Int, "Database pool size"),
    row(
        "pool_timeout_seconds",
        "DATABASE_POOL_TIMEOUT",
        Arg("pool-timeout", "SECS"),
        Int,
        "Seconds to wait for a pooled connection",
    ),
    row(
        "pool_idle_timeout_seconds",
        "DATABASE_POOL_IDLE_TIMEOUT",
        Arg("pool-idle-timeout", "SECS"),
        Int,
        "Close pooled connections idle this many seconds",
    ),
    row(
        "pool_max_lifetime_seconds",
        "DATABASE_POOL_MAX_LIFETIME",
        Arg("pool-max-lifetime", "SECS"),
        Int,
        "Replace pooled connections older than this many seconds",
    ),
    secret(
        "admin_key",
        "PATIENTGEN_ADMIN_KEY",
        Arg("admin-key", "KEY"),
        "An admin key to create (stored hashed) if it does not exist; required in production",
    ),
    secret(
        "legacy_api_key",
        "API_KEY",
        Arg("legacy-api-key", "KEY"),
        "Upstream's master key variable, imported as an admin key for compatibility",
    ),
    row(
        "demo_key",
        "PATIENTGEN_DEMO_KEY",
        Switch("demo-key"),
        Bool,
        "Enable upstream's public demo key DEMO_MILMED_2025_50_PATIENTS with the demo limits (not in production)",
    ),
    row(
        "cors_origins",
        "CORS_ORIGINS",
        Arg("cors-origins", "LIST"),
        List,
        "Allowed CORS origins, comma-separated",
    ),
    row(
        "body_limit",
        "PATIENTGEN_BODY_LIMIT",
        Arg("body-limit", "BYTES"),
        Int,
        "Largest request body, bytes",
    ),
    row(
        "request_timeout_seconds",
        "PATIENTGEN_REQUEST_TIMEOUT",
        Arg("request-timeout", "SECS"),
        Int,
        "Time limit for ordinary (non-streaming) requests, seconds",
    ),
    auto(
        row(
            "instance_id",
            "PATIENTGEN_INSTANCE_ID",
            Arg("instance-id", "NAME"),
            OptText,
            "This instance's name in job leases",
        ),
        "host-pid-random",
    ),
    secret(
        "redis_url",
        "REDIS_URL",
        Arg("redis-url", "URL"),
        "Redis for rate limits shared by every instance (in-process limits without it)",
    ),
    row(
        "redis_prefix",
        "PATIENTGEN_REDIS_PREFIX",
        Arg("redis-prefix", "TEXT"),
        Text,
        "Prefix of this service's Redis keys",
    ),
    row(
        "key_refresh_ms",
        "PATIENTGEN_KEY_REFRESH_MS",
        Arg("key-refresh-ms", "MS"),
        Int,
        "How often key changes are picked up (key revocation reaches this instance within it)",
    ),
    row(
        "usage_flush_ms",
        "PATIENTGEN_USAGE_FLUSH_MS",
        Arg("usage-flush-ms", "MS"),
        Int,
        "How often usage counters are written to the database",
    ),
    row(
        "log_format",
        "PATIENTGEN_LOG_FORMAT",
        Arg("log-format", "FORMAT"),
        Choice(&["text", "json"]),
        "Log format: `text` (colours only on a terminal) or `json` (one object per line)",
    ),
    row(
        "first_run_key",
        "PATIENTGEN_FIRST_RUN_KEY",
        Negated("no-first-run-key"),
        Bool,
        "On a database without keys, create an admin key and print it once with the web page's link (never in production)",
    ),
];

/// `--profile` / `PATIENTGEN_PROFILE`.
pub const PROFILE: Setting = row(
    "profile",
    "PATIENTGEN_PROFILE",
    Arg("profile", "NAME"),
    Choice(&["development", "staging", "production"]),
    "Profile: the section of patientgen.toml and the defaults and rules to use",
);

/// `--config` / `PATIENTGEN_CONFIG`.
pub const CONFIG_FILE: Setting = row(
    "config",
    "PATIENTGEN_CONFIG",
    Arg("config", "FILE"),
    OptText,
    "Configuration file (optional; default: patientgen.toml in the working directory when it exists)",
);

/// The file read when no `--config` / `PATIENTGEN_CONFIG` is given (if it exists).
pub const DEFAULT_FILE: &str = "patientgen.toml";

/// The setting named `key`.
pub fn setting(key: &str) -> Option<&'static Setting> {
    SETTINGS.iter().chain([&PROFILE, &CONFIG_FILE]).find(|s| s.key == key)
}

/// Every environment variable the configuration reads.
pub fn env_vars() -> impl Iterator<Item = &'static str> {
    [PROFILE.env, CONFIG_FILE.env].into_iter().chain(SETTINGS.iter().map(|s| s.env))
}

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The built-in default.
    Default,
    /// The built-in default of the profile.
    ProfileDefault(Profile),
    /// `patientgen.toml`, top level (`None`) or the profile's section.
    File(PathBuf, Option<Profile>),
    /// An environment variable.
    Env(&'static str),
    /// A command-line flag.
    Flag(&'static str),
}

impl Source {
    /// `default`, `file`, `env` or `flag`.
    pub fn kind(&self) -> &'static str {
        match self {
            Source::Default | Source::ProfileDefault(_) => "default",
            Source::File(..) => "file",
            Source::Env(_) => "env",
            Source::Flag(_) => "flag",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::ProfileDefault(p) => write!(f, "default ({p} profile)"),
            Source::File(path, None) => write!(f, "file {}", path.display()),
            Source::File(path, Some(p)) => write!(f, "file {} [{p}]", path.display()),
            Source::Env(name) => write!(f, "env {name}"),
            Source::Flag(long) => write!(f, "flag --{long}"),
        }
    }
}

/// Errors reading the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A key the definition does not have.
    #[error(
        "unknown key `{key}` in {}: the keys are those listed by `patientgen config show`, at the top level or in a [development], [staging] or [production] section",
        file.display()
    )]
    UnknownKey {
        /// The key, with its section (`production.bnd`).
        key: String,
        /// The file.
        file: PathBuf,
    },
    /// The file cannot be read.
    #[error("cannot read the configuration file {}: {error}", file.display())]
    Read {
        /// The file.
        file: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The file is not TOML.
    #[error("{} is not valid TOML: {message}", file.display())]
    Syntax {
        /// The file.
        file: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// A value that does not fit its setting.
    #[error("{0}")]
    Value(String),
    /// A value out of range, or a combination the service refuses.
    #[error("{error} (set by {origin})")]
    Invalid {
        /// What is wrong.
        error: InvalidSetting,
        /// Where the offending value came from.
        origin: Source,
    },
}

/// What [`load`] reads besides the defaults.
#[derive(Debug, Clone, Default)]
pub struct Input {
    /// `--profile`.
    pub profile: Option<String>,
    /// `--config`.
    pub config_file: Option<PathBuf>,
    /// Settings given as flags: (key, text as typed).
    pub flags: Vec<(&'static str, String)>,
    /// The environment (only the variables of [`env_vars`] are read).
    pub env: BTreeMap<String, String>,
}

impl Input {
    /// This process's environment, for the variables the configuration reads.
    pub fn with_process_env(mut self) -> Self {
        for name in env_vars() {
            if let Ok(value) = std::env::var(name) {
                self.env.insert(name.to_string(), value);
            }
        }
        self
    }

    fn env(&self, name: &str) -> Option<&str> {
        self.env.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }
}

/// The configuration read, with where each value came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The settings.
    pub settings: Settings,
    /// The profile.
    pub profile: Profile,
    /// Where the profile was chosen.
    pub profile_source: Source,
    /// The configuration file read, if any.
    pub file: Option<PathBuf>,
    file_source: Source,
    values: BTreeMap<&'static str, (Value, Source)>,
}

/// One line of `config show`.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// Key in the file.
    pub key: &'static str,
    /// The value (secrets masked; `null` when unset).
    pub value: serde_json::Value,
    /// `default`, `file`, `env` or `flag`.
    pub source: &'static str,
    /// Which default, file, variable or flag.
    pub origin: String,
    /// Its environment variable.
    pub env: &'static str,
    /// Its flag.
    pub flag: String,
    /// Masked.
    pub secret: bool,
    /// The computed default when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto: Option<&'static str>,
}

impl Loaded {
    /// Where `key`'s value came from.
    pub fn source(&self, key: &str) -> Option<&Source> {
        self.values.get(key).map(|(_, s)| s)
    }

    /// The service's configuration, checked by [`ServerConfig::validate`]; an
    /// error names the setting, what it must be and where its value came from.
    pub fn validate(&self) -> Result<ServerConfig, ConfigError> {
        let config = self.settings.server_config(self.profile);
        config.validate().map_err(|error| {
            let source = self.source(error.setting).cloned().unwrap_or(Source::Default);
            // A production rule is set off by the profile when the value is the default.
            let source = match source {
                Source::Default | Source::ProfileDefault(_) if self.profile == Profile::Production => {
                    self.profile_source.clone()
                }
                other => other,
            };
            ConfigError::Invalid { error, origin: source }
        })?;
        Ok(config)
    }

    /// Every setting with its value and source, secrets masked.
    pub fn entries(&self) -> Vec<Entry> {
        let profile = (Value::from(self.profile.as_str()), self.profile_source.clone());
        let file = (
            self.file.as_ref().map_or(none(), |f| Value::from(f.display().to_string())),
            if self.file.is_some() { self.file_source.clone() } else { Source::Default },
        );
        [(&PROFILE, &profile), (&CONFIG_FILE, &file)]
            .into_iter()
            .chain(SETTINGS.iter().filter_map(|s| self.values.get(s.key).map(|v| (s, v))))
            .map(|(s, (value, source))| Entry {
                key: s.key,
                value: display_value(s, value),
                source: source.kind(),
                origin: source.to_string(),
                env: s.env,
                flag: format!("--{}", s.flag.long()),
                secret: s.secret,
                auto: s.auto,
            })
            .collect()
    }
}

fn display_value(s: &Setting, value: &Value) -> serde_json::Value {
    match serde_json::to_value(value).unwrap_or(serde_json::Value::Null) {
        // Secrets are masked when read (see `load`); a non-text secret is masked whole.
        serde_json::Value::String(text) => serde_json::Value::String(text),
        serde_json::Value::Null => serde_json::Value::Null,
        _ if s.secret => serde_json::Value::String(MASK.into()),
        other => other,
    }
}

/// A secret as `config show` prints it: URLs keep their scheme, user, host and
/// path, with the password and query masked; anything else is masked whole.
pub fn mask(s: &Setting, text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    if s.key.ends_with("_url") { mask_url(text) } else { MASK.to_string() }
}

fn mask_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return MASK.to_string() };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:{MASK}@{host}"),
            None => format!("{userinfo}@{host}"),
        },
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, _)) => format!("{path}?{MASK}"),
        None => tail.to_string(),
    };
    format!("{scheme}://{authority}{tail}")
}

/// A layer of values from one place, for figment.
struct Layer {
    name: String,
    dict: Dict,
}

impl Provider for Layer {
    fn metadata(&self) -> Metadata {
        Metadata::named(self.name.clone())
    }

    fn data(&self) -> Result<Map<figment::Profile, Dict>, figment::Error> {
        Ok(figment::Profile::Default.collect(self.dict.clone()))
    }
}

/// Reads the configuration: defaults < profile defaults < file (top level, then
/// the profile's section) < environment < flags. Unknown keys in the file and
/// values of the wrong type are errors naming the key and where it was read.
/// The result is not checked yet: see [`Loaded::validate`].
pub fn load(input: &Input) -> Result<Loaded, ConfigError> {
    let (profile, profile_source) = choose_profile(input)?;
    let (file, file_source) = match (&input.config_file, input.env(CONFIG_FILE.env)) {
        (Some(path), _) => (Some(path.clone()), Source::Flag(CONFIG_FILE.flag.long())),
        (None, Some(path)) => (Some(PathBuf::from(path)), Source::Env(CONFIG_FILE.env)),
        (None, None) => {
            let default = PathBuf::from(DEFAULT_FILE);
            (default.is_file().then_some(default), Source::Default)
        }
    };
    let mut layers: Vec<(Layer, Source)> = vec![
        (Layer { name: "default".into(), dict: defaults_dict()? }, Source::Default),
        (Layer { name: "profile".into(), dict: profile.defaults() }, Source::ProfileDefault(profile)),
    ];
    if let Some(path) = &file {
        let (top, section) = read_file(path, profile)?;
        layers.push((Layer { name: "file".into(), dict: top }, Source::File(path.clone(), None)));
        layers.push((
            Layer { name: "file-section".into(), dict: section },
            Source::File(path.clone(), Some(profile)),
        ));
    }
    let mut env = Dict::new();
    let mut flags = Dict::new();
    for s in SETTINGS {
        if let Some(raw) = input.env.get(s.env)
            && let Some(v) = typed(s, raw, &format!("{}={raw}", s.env))?
        {
            env.insert(s.key.into(), v);
        }
    }
    for (key, raw) in &input.flags {
        let s = setting(key).ok_or_else(|| ConfigError::Value(format!("no setting `{key}`")))?;
        let shown = if s.secret { MASK } else { raw.as_str() };
        let value = if matches!(s.flag, Flag::Negated(_)) {
            Some(Value::from(false))
        } else {
            typed(s, raw, &format!("--{} {shown}", s.flag.long()))?
        };
        if let Some(v) = value {
            flags.insert(s.key.into(), v);
        }
    }
    layers.push((Layer { name: "env".into(), dict: env }, Source::Env("")));
    layers.push((Layer { name: "flag".into(), dict: flags }, Source::Flag("")));

    let mut figment = Figment::new();
    let mut names = BTreeMap::new();
    for (layer, source) in layers {
        names.insert(layer.name.clone(), source);
        figment = figment.merge(layer);
    }
    let settings: Settings = figment.extract().map_err(|e| value_error(e, &names))?;
    let mut values = BTreeMap::new();
    for s in SETTINGS {
        let value = match figment.find_value(s.key).unwrap_or(none()) {
            // Only the masked form is kept: `Loaded` is `Debug`.
            Value::String(tag, text) if s.secret => Value::String(tag, mask(s, &text)),
            value => value,
        };
        let source = figment
            .find_metadata(s.key)
            .and_then(|m| names.get(m.name.as_ref()))
            .map(|source| match source {
                Source::Env(_) => Source::Env(s.env),
                Source::Flag(_) => Source::Flag(s.flag.long()),
                other => other.clone(),
            })
            .unwrap_or(Source::Default);
        values.insert(s.key, (value, source));
    }
    Ok(Loaded { settings, profile, profile_source, file, file_source, values })
}

fn choose_profile(input: &Input) -> Result<(Profile, Source), ConfigError> {
    let (name, source) = match (&input.profile, input.env(PROFILE.env)) {
        (Some(name), _) => (name.as_str(), Source::Flag(PROFILE.flag.long())),
        (None, Some(name)) => (name, Source::Env(PROFILE.env)),
        (None, None) => return Ok((Profile::default(), Source::Default)),
    };
    match Profile::parse(name.trim()) {
        Some(p) => Ok((p, source)),
        None => Err(ConfigError::Value(format!(
            "unknown profile `{name}` (from {source}): the profiles are development, staging and production"
        ))),
    }
}

fn defaults_dict() -> Result<Dict, ConfigError> {
    match Value::serialize(Settings::default()) {
        Ok(Value::Dict(_, dict)) => Ok(dict),
        Ok(_) => Err(ConfigError::Value("the defaults are not a table".into())),
        Err(e) => Err(ConfigError::Value(format!("the defaults: {e}"))),
    }
}

/// The file's top-level settings and those of `profile`'s section; every key of
/// every section must be a setting.
fn read_file(path: &Path, profile: Profile) -> Result<(Dict, Dict), ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| ConfigError::Read { file: path.to_path_buf(), error })?;
    let dict: Dict = Toml::from_str(&text)
        .map_err(|e| ConfigError::Syntax { file: path.to_path_buf(), message: e.to_string() })?;
    let unknown = |key: String| ConfigError::UnknownKey { key, file: path.to_path_buf() };
    let mut top = Dict::new();
    let mut section = Dict::new();
    for (key, value) in dict {
        if let Some(p) = Profile::parse(&key) {
            let Value::Dict(_, inner) = value else {
                return Err(ConfigError::Value(format!(
                    "`{key}` in {} must be a section ([{key}]) of settings",
                    path.display()
                )));
            };
            for inner_key in inner.keys() {
                if !SETTINGS.iter().any(|s| s.key == inner_key) {
                    return Err(unknown(format!("{key}.{inner_key}")));
                }
            }
            if p == profile {
                section = inner;
            }
        } else if SETTINGS.iter().any(|s| s.key == key) {
            top.insert(key, value);
        } else {
            return Err(unknown(key));
        }
    }
    Ok((top, section))
}

/// A flag or environment value as the type of its setting (`None`: unset).
fn typed(s: &Setting, raw: &str, origin: &str) -> Result<Option<Value>, ConfigError> {
    let text = raw.trim();
    let bad = |what: &str| Err(ConfigError::Value(format!("{origin}: {what}")));
    if text.is_empty() {
        // An empty value unsets an optional setting and is ignored otherwise.
        return Ok(match s.kind {
            Kind::OptText | Kind::OptInt => Some(none()),
            _ => None,
        });
    }
    Ok(Some(match s.kind {
        Kind::Bool => match text.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Value::from(true),
            "false" | "0" | "no" | "off" => Value::from(false),
            _ => return bad("must be true or false"),
        },
        Kind::Int | Kind::OptInt => match text.parse::<u64>() {
            Ok(n) => Value::from(n),
            Err(_) => return bad("must be a whole number"),
        },
        Kind::List => Value::from(split_list(text)),
        Kind::Choice(words) => {
            if !words.contains(&text) {
                return Err(ConfigError::Value(format!("{origin}: must be one of {}", words.join(", "))));
            }
            Value::from(text.to_string())
        }
        Kind::Text | Kind::OptText => Value::from(raw.to_string()),
    }))
}

/// A figment error, with the key and the place its value came from.
fn value_error(e: figment::Error, names: &BTreeMap<String, Source>) -> ConfigError {
    let messages: Vec<String> = e
        .into_iter()
        .map(|e| {
            let key = e.path.join(".");
            let place =
                e.metadata.as_ref().and_then(|m| names.get(m.name.as_ref())).map(|source| match source {
                    Source::Env(_) => setting(&key).map_or("env".to_string(), |s| format!("env {}", s.env)),
                    Source::Flag(_) => {
                        setting(&key).map_or("flag".to_string(), |s| format!("flag --{}", s.flag.long()))
                    }
                    other => other.to_string(),
                });
            // The message may quote the value: not for a secret.
            let what = match setting(&key) {
                Some(s) if s.secret => "must be text (value hidden: it is a secret)".to_string(),
                _ => e.kind.to_string(),
            };
            match place {
                Some(place) => format!("`{key}` (from {place}): {what}"),
                None => format!("`{key}`: {what}"),
            }
        })
        .collect();
    ConfigError::Value(messages.join("; "))
}

/// Each setting's built-in default (development profile) as text; settings
/// without one (unset, or computed at start) are absent.
pub fn default_texts() -> BTreeMap<&'static str, String> {
    let defaults = defaults_dict().unwrap_or_default();
    let mut out = BTreeMap::new();
    for s in SETTINGS {
        let text = match defaults.get(s.key).map(|v| serde_json::to_value(v).unwrap_or_default()) {
            None | Some(serde_json::Value::Null) => continue,
            Some(serde_json::Value::String(text)) => text,
            Some(serde_json::Value::Array(items)) => {
                items.iter().filter_map(|i| i.as_str()).collect::<Vec<_>>().join(",")
            }
            Some(other) => other.to_string(),
        };
        out.insert(s.key, text);
    }
    out
}

/// The configuration reference of docs/OPERATIONS.md (a Markdown table).
pub fn reference_markdown() -> String {
    let defaults = default_texts();
    let mut out = String::from("| key | flag | environment | default | meaning |\n|---|---|---|---|---|\n");
    let cell = |s: &str| s.replace('|', "\\|");
    for s in [&PROFILE, &CONFIG_FILE].into_iter().chain(SETTINGS) {
        let mut default = match (s.key, s.auto, defaults.get(s.key)) {
            ("profile", ..) => "`development`".to_string(),
            ("config", ..) => "`patientgen.toml` if present".to_string(),
            (_, Some(auto), _) => auto.to_string(),
            (_, None, Some(text)) => format!("`{text}`"),
            _ => "—".to_string(),
        };
        for p in Profile::ALL {
            if let Some(v) = p.defaults().get(s.key) {
                let v = serde_json::to_value(v).unwrap_or_default();
                let v = v.as_str().map_or(v.to_string(), String::from);
                default.push_str(&format!("; {p}: `{v}`"));
            }
        }
        out.push_str(&format!(
            "| `{}` | `{}` | `{}` | {} | {}{} |\n",
            s.key,
            cell(&s.flag.usage()),
            s.env,
            cell(&default),
            cell(s.help),
            if s.secret { " (secret: masked in `config show`)" } else { "" },
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn input(env: &[(&str, &str)], flags: &[(&'static str, &str)], file: Option<&Path>) -> Input {
        Input {
            profile: None,
            config_file: file.map(Path::to_path_buf),
            flags: flags.iter().map(|(k, v)| (*k, v.to_string())).collect(),
            env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        }
    }

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::Builder::new().suffix(".toml").tempfile().expect("temp file");
        f.write_all(text.as_bytes()).expect("write");
        f
    }

    #[test]
    fn file_then_env_then_flag_win_in_that_order() {
        let f = file(
            "workers = 3\nredis_prefix = \"from-file\"\nbody_limit = 100\n[development]\nusage_flush_ms = 20\n",
        );
        let only_file = load(&input(&[], &[], Some(f.path()))).expect("load");
        assert_eq!(only_file.settings.workers, 3);
        assert_eq!(only_file.source("workers"), Some(&Source::File(f.path().to_path_buf(), None)));
        assert_eq!(only_file.settings.usage_flush_ms, 20);
        assert_eq!(
            only_file.source("usage_flush_ms"),
            Some(&Source::File(f.path().to_path_buf(), Some(Profile::Development)))
        );
        assert_eq!(only_file.source("bind"), Some(&Source::Default));

        let env = [("PATIENTGEN_WORKERS", "5"), ("PATIENTGEN_REDIS_PREFIX", "from-env")];
        let with_env = load(&input(&env, &[], Some(f.path()))).expect("load");
        assert_eq!(with_env.settings.workers, 5);
        assert_eq!(with_env.settings.redis_prefix, "from-env");
        assert_eq!(with_env.settings.body_limit, 100);
        assert_eq!(with_env.source("workers"), Some(&Source::Env("PATIENTGEN_WORKERS")));

        let with_flag = load(&input(&env, &[("workers", "7")], Some(f.path()))).expect("load");
        assert_eq!(with_flag.settings.workers, 7);
        assert_eq!(with_flag.settings.redis_prefix, "from-env");
        assert_eq!(with_flag.source("workers"), Some(&Source::Flag("workers")));
        let entry = with_flag.entries().into_iter().find(|e| e.key == "workers").expect("workers");
        assert_eq!((entry.source, entry.value), ("flag", serde_json::json!(7)));
    }

    #[test]
    fn the_profile_section_beats_the_top_level_and_other_sections_are_ignored() {
        let f = file("workers = 3\n[production]\nworkers = 9\n[staging]\nworkers = 4\n");
        let mut i = input(&[("PATIENTGEN_PROFILE", "production")], &[], Some(f.path()));
        let production = load(&i).expect("load");
        assert_eq!((production.profile, production.settings.workers), (Profile::Production, 9));
        assert_eq!(production.settings.log_format, LogFormat::Json);
        assert!(!production.settings.first_run_key);
        assert_eq!(production.source("log_format"), Some(&Source::ProfileDefault(Profile::Production)));
        i.profile = Some("development".into());
        let development = load(&i).expect("load");
        assert_eq!((development.profile, development.settings.workers), (Profile::Development, 3));
        assert_eq!(development.settings.log_format, LogFormat::Text);
        i.profile = Some("prod".into());
        let e = load(&i).expect_err("unknown profile").to_string();
        assert!(e.contains("unknown profile `prod`") && e.contains("--profile"), "{e}");
    }

    #[test]
    fn an_unknown_key_names_the_key_and_the_file() {
        for (text, key) in [
            ("bnd = \"x\"\n", "bnd"),
            ("[production]\nworkers = 1\nadmin_kee = \"k\"\n", "production.admin_kee"),
        ] {
            let f = file(text);
            let e = load(&input(&[], &[], Some(f.path()))).expect_err("unknown key").to_string();
            assert!(e.contains(&format!("unknown key `{key}`")), "{e}");
            assert!(e.contains(&f.path().display().to_string()), "{e}");
        }
        let f = file("admin_key = 123456789\n");
        let e = load(&input(&[], &[], Some(f.path()))).expect_err("secret of the wrong type").to_string();
        assert!(e.contains("`admin_key`") && !e.contains("123456789"), "{e}");
        let f = file("workers = \"many\"\n");
        let e = load(&input(&[], &[], Some(f.path()))).expect_err("bad type").to_string();
        assert!(e.contains("`workers`") && e.contains(&f.path().display().to_string()), "{e}");
        let e = load(&input(&[("PATIENTGEN_WORKERS", "x")], &[], None)).expect_err("bad env").to_string();
        assert_eq!(e, "PATIENTGEN_WORKERS=x: must be a whole number");
        let missing = Path::new("/nonexistent/patientgen.toml");
        let e = load(&input(&[], &[], Some(missing))).expect_err("missing").to_string();
        assert!(e.contains("/nonexistent/patientgen.toml"), "{e}");
    }

    #[test]
    fn secrets_never_show_in_debug_or_config_show() {
        let f = file("admin_key = \"file-admin-secret\"\n");
        let env = [
            ("DATABASE_URL", "postgres://app:pg-secret@db:5432/pg?sslpassword=q-secret"),
            ("API_KEY", "legacy-secret"),
        ];
        let loaded = load(&input(&env, &[("redis_url", "redis://:redis-secret@cache:6379")], Some(f.path())))
            .expect("load");
        let config = loaded.validate().expect("valid");
        let shown = format!(
            "{loaded:?}\n{config:?}\n{}\n{}",
            serde_json::to_string(&loaded.entries()).expect("json"),
            reference_markdown()
        );
        for secret in ["file-admin-secret", "pg-secret", "q-secret", "legacy-secret", "redis-secret"] {
            assert!(!shown.contains(secret), "{secret} shown:\n{shown}");
        }
        let entries = loaded.entries();
        let value = |k: &str| entries.iter().find(|e| e.key == k).map(|e| e.value.clone()).expect(k);
        assert_eq!(value("admin_key"), serde_json::json!(MASK));
        assert_eq!(
            value("database_url"),
            serde_json::json!(format!("postgres://app:{MASK}@db:5432/pg?{MASK}"))
        );
        assert_eq!(value("redis_url"), serde_json::json!(format!("redis://:{MASK}@cache:6379")));
        assert_eq!(value("database_url").as_str().map(|_| ()), Some(()));
        assert_eq!(
            config.admin_key.as_ref().map(|k| k.expose_secret().to_string()),
            Some("file-admin-secret".into())
        );
    }

    #[test]
    fn production_refuses_what_it_must() {
        let prod = |env: &[(&str, &str)], flags: &[(&'static str, &str)]| {
            let mut all = vec![("PATIENTGEN_PROFILE", "production")];
            all.extend_from_slice(env);
            load(&input(&all, flags, None)).expect("load").validate().map_err(|e| e.to_string())
        };
        let e = prod(&[], &[]).expect_err("no admin key");
        assert!(
            e.starts_with("`admin_key` (--admin-key, PATIENTGEN_ADMIN_KEY) must be set in production"),
            "{e}"
        );
        assert!(e.contains("env PATIENTGEN_PROFILE"), "{e}");
        let e = prod(&[("PATIENTGEN_ADMIN_KEY", "short-key")], &[]).expect_err("short admin key");
        assert!(e.contains("`admin_key`") && e.contains("at least 16 characters"), "{e}");
        let e = prod(&[("PATIENTGEN_ADMIN_KEY", crate::config::DEMO_KEY)], &[]).expect_err("demo as admin");
        assert!(e.contains("`admin_key`") && e.contains("demo key"), "{e}");
        let e = prod(&[("API_KEY", crate::config::DEMO_KEY)], &[]).expect_err("demo as legacy key");
        assert!(e.contains("`legacy_api_key`") && e.contains("demo key"), "{e}");
        let key = [("PATIENTGEN_ADMIN_KEY", "a-long-enough-admin-key")];
        assert!(prod(&key, &[]).is_ok());
        let e = prod(&key, &[("demo_key", "true")]).expect_err("demo key");
        assert!(e.contains("`demo_key`") && e.contains("flag --demo-key"), "{e}");
        let e = prod(&key, &[("bind", "0.0.0.0:8000")]).expect_err("public bind");
        assert!(e.contains("`bind`") && e.contains("behind_proxy"), "{e}");
        assert!(prod(&key, &[("bind", "0.0.0.0:8000"), ("behind_proxy", "true")]).is_ok());
        assert!(prod(&key, &[("bind", "[::1]:8000")]).is_ok());
        // Development allows all of it.
        let dev = load(&input(&[], &[("bind", "0.0.0.0:8000"), ("demo_key", "")], None)).expect("load");
        assert!(dev.validate().is_ok());
    }

    #[test]
    fn every_field_has_one_row_and_the_defaults_are_complete() {
        let fields = struct_fields();
        let rows: Vec<&str> = SETTINGS.iter().map(|s| s.key).collect();
        assert_eq!(fields, rows, "Settings fields and SETTINGS rows, in the same order");
        let defaults = defaults_dict().expect("defaults");
        for s in SETTINGS {
            assert!(defaults.contains_key(s.key), "{} has no default", s.key);
            if s.secret {
                assert!(
                    matches!(defaults.get(s.key), Some(Value::Empty(..))),
                    "secret {} has a default",
                    s.key
                );
            }
        }
        let loaded = load(&Input::default()).expect("defaults load");
        assert!(loaded.validate().is_ok());
        let mut envs: Vec<&str> = env_vars().collect();
        envs.sort_unstable();
        let n = envs.len();
        envs.dedup();
        assert_eq!(n, envs.len(), "an environment variable is used twice");
    }

    /// The field names of [`Settings`], as serde sees them.
    fn struct_fields() -> Vec<&'static str> {
        struct Fields(Vec<&'static str>);
        #[derive(Debug)]
        struct Stop;
        impl fmt::Display for Stop {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("stop")
            }
        }
        impl std::error::Error for Stop {}
        impl serde::de::Error for Stop {
            fn custom<T: fmt::Display>(_: T) -> Self {
                Stop
            }
        }
        impl<'de> Deserializer<'de> for &mut Fields {
            type Error = Stop;
            fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
                Err(Stop)
            }
            fn deserialize_struct<V: serde::de::Visitor<'de>>(
                self,
                _: &'static str,
                fields: &'static [&'static str],
                _: V,
            ) -> Result<V::Value, Stop> {
                self.0 = fields.to_vec();
                Err(Stop)
            }
            serde::forward_to_deserialize_any! {
                bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
                bytes byte_buf option unit unit_struct newtype_struct seq tuple
                tuple_struct map enum identifier ignored_any
            }
        }
        let mut fields = Fields(Vec::new());
        let _ = Settings::deserialize(&mut fields);
        fields.0
    }

    #[test]
    fn operations_md_holds_the_generated_reference() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/OPERATIONS.md");
        let doc = std::fs::read_to_string(&path).expect("docs/OPERATIONS.md");
        let begin = "<!-- configuration-reference:begin (generated by `patientgen config reference`) -->\n";
        let end = "<!-- configuration-reference:end -->";
        let start = doc.find(begin).map(|i| i + begin.len()).expect("the begin marker");
        let stop = doc[start..].find(end).map(|i| i + start).expect("the end marker");
        assert_eq!(
            doc[start..stop].trim_end(),
            reference_markdown().trim_end(),
            "docs/OPERATIONS.md's configuration reference is out of date: replace it with `patientgen config reference`"
        );
        // And every key and variable of the definition appears in it (the other way round
        // holds because the block is exactly the generated table).
        for s in SETTINGS.iter().chain([&PROFILE, &CONFIG_FILE]) {
            assert!(
                doc.contains(&format!("| `{}` |", s.key)) && doc.contains(&format!("`{}`", s.env)),
                "{}",
                s.key
            );
        }
    }

    #[test]
    fn urls_are_masked_but_keep_their_host() {
        assert_eq!(mask_url("postgres://u:p@h:1/d"), format!("postgres://u:{MASK}@h:1/d"));
        assert_eq!(mask_url("redis://h:6379"), "redis://h:6379");
        assert_eq!(mask_url("sqlite:data.db"), MASK);
        assert_eq!(mask_url("postgres://u@h/d?password=p"), format!("postgres://u@h/d?{MASK}"));
        assert_eq!(mask_url("redis://:p@w@h"), format!("redis://:{MASK}@h"));
    }
}
