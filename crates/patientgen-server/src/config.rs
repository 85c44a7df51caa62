//! The service's configuration as the code uses it. Operators write
//! [`crate::settings::Settings`] (file, environment, flags); its defaults are
//! also this struct's defaults.

use crate::settings::{Profile, Settings};
use patientgen_storage::PoolSettings;
use secrecy::{ExposeSecret, SecretString};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Everything `patientgen serve` can be told. Secrets are [`SecretString`]s:
/// `Debug` shows `[REDACTED]`.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The deployment profile (production adds the rules of [`ServerConfig::validate`]).
    pub profile: Profile,
    /// Address to listen on.
    pub bind: SocketAddr,
    /// A TLS-terminating proxy sits in front: a non-loopback `bind` is allowed in production.
    pub behind_proxy: bool,
    /// `postgres://…` or `sqlite:…`; the embedded SQLite file when `None`.
    pub database_url: Option<SecretString>,
    /// Directory of the embedded database and its job files.
    pub data_dir: PathBuf,
    /// Database pool.
    pub pool: PoolSettings,
    /// Jobs run at once by this instance (0: this instance runs no jobs).
    pub workers: usize,
    /// Generation threads per job.
    pub threads_per_job: usize,
    /// Ceiling on patients per job.
    pub max_patients_per_job: u32,
    /// Longest a job may run.
    pub max_job_runtime: Duration,
    /// Lease length; a job whose instance stops renewing is taken over after it.
    pub job_lease: Duration,
    /// How often idle workers look for work (they are also woken on new jobs).
    pub poll_interval: Duration,
    /// Finished jobs and their files are deleted after this long.
    pub retention: Duration,
    /// Largest request body.
    pub body_limit: usize,
    /// Time limit for ordinary (non-streaming) requests.
    pub request_timeout: Duration,
    /// Plaintext admin key to make sure exists (stored hashed).
    pub admin_key: Option<SecretString>,
    /// Upstream's `API_KEY`, imported as an admin key for compatibility.
    pub legacy_api_key: Option<SecretString>,
    /// Enable upstream's public demo key `DEMO_MILMED_2025_50_PATIENTS`, with
    /// the demo limits (reset on every start).
    pub demo_key: bool,
    /// Allowed CORS origins.
    pub cors_origins: Vec<String>,
    /// This instance's name in job leases.
    pub instance_id: String,
    /// PBKDF2 iterations for job encryption (≥ 600,000 outside tests).
    pub encryption_iterations: u32,
    /// `redis://…`: rate limits shared by every instance; in-process when `None`.
    pub redis_url: Option<SecretString>,
    /// Prefix of this service's Redis keys.
    pub redis_prefix: String,
    /// A Redis call slower than this counts as Redis being down: the instance
    /// counts in process until Redis answers again.
    pub redis_call_timeout: Duration,
    /// How often the key revision is polled: key changes reach this instance
    /// within this time.
    pub key_refresh_interval: Duration,
    /// How often usage counters are written to the database.
    pub usage_flush_interval: Duration,
    /// Keys whose rate-limit counters the in-process limiter keeps at most.
    pub limiter_max_keys: usize,
    /// Key lookups the key cache keeps at most.
    pub key_cache_capacity: u64,
    /// On a database without keys, create an admin key and print it once with
    /// the web page's link (see [`crate::first_run`]; never in production).
    pub first_run_key: bool,
}

impl Default for ServerConfig {
    /// The defaults of [`Settings`], development profile.
    fn default() -> Self {
        Settings::default().server_config(Profile::Development)
    }
}

/// A setting outside the range the service works with, or a combination it
/// refuses. `setting` is its key in `patientgen.toml`; the message also names
/// its flag and environment variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidSetting {
    /// The key, e.g. `job_lease_seconds`.
    pub setting: &'static str,
    /// What it must be, e.g. `between 2 and 3600 seconds`.
    pub requirement: &'static str,
}

impl std::fmt::Display for InvalidSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match crate::settings::setting(self.setting) {
            Some(s) => write!(f, "`{}` (--{}, {}) must be {}", s.key, s.flag.long(), s.env, self.requirement),
            None => write!(f, "`{}` must be {}", self.setting, self.requirement),
        }
    }
}

impl std::error::Error for InvalidSetting {}

impl ServerConfig {
    /// Generation threads per job when not set: the cores shared by the
    /// workers (all cores with no workers), at least one.
    pub fn threads_per_job_for(workers: usize) -> usize {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        cores.checked_div(workers).unwrap_or(cores).max(1)
    }

    /// Checks the settings whose range matters (a lease renewed in time, a
    /// retention period the date arithmetic can hold, key changes seen within a
    /// second, …) and the rules of the production profile: an admin key, no
    /// public demo key, and a loopback address unless a proxy sits in front
    /// (the service speaks plain HTTP). Every way of starting the service
    /// (`serve`, [`crate::build_state`], the tests) goes through it.
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        let invalid = |setting, requirement| Err(InvalidSetting { setting, requirement });
        if !(2..=3600).contains(&self.job_lease.as_secs()) || self.job_lease.subsec_nanos() != 0 {
            return invalid("job_lease_seconds", "between 2 and 3600 seconds");
        }
        let hour = Duration::from_secs(3600);
        if self.retention < hour || self.retention > hour * 24 * 365 * 100 {
            return invalid("retention_hours", "between 1 and 876000");
        }
        let refresh = self.key_refresh_interval;
        if refresh < Duration::from_millis(10) || refresh > Duration::from_millis(1000) {
            return invalid("key_refresh_ms", "between 10 and 1000");
        }
        if self.usage_flush_interval < Duration::from_millis(10) {
            return invalid("usage_flush_ms", "at least 10");
        }
        if self.pool.max_connections == 0 {
            return invalid("pool_size", "at least 1");
        }
        if self.pool.acquire_timeout.is_zero() {
            return invalid("pool_timeout_seconds", "at least 1");
        }
        if !(1..=patientgen_core::scenario::MAX_PATIENTS).contains(&self.max_patients_per_job) {
            return invalid("max_patients_per_job", "between 1 and 1000000");
        }
        if self.max_job_runtime.is_zero() {
            return invalid("max_job_runtime_seconds", "at least 1");
        }
        if self.request_timeout.is_zero() {
            return invalid("request_timeout_seconds", "at least 1");
        }
        if self.threads_per_job == 0 {
            return invalid("threads_per_job", "at least 1");
        }
        if self.body_limit < 1024 {
            return invalid("body_limit", "at least 1024 bytes");
        }
        if self.profile == Profile::Production {
            let set = |k: &Option<SecretString>| k.as_ref().is_some_and(|k| !k.expose_secret().is_empty());
            if !set(&self.admin_key) && !set(&self.legacy_api_key) {
                return invalid(
                    "admin_key",
                    "set in production (also in patientgen.toml as admin_key): production creates and prints no first-run key",
                );
            }
            for (setting, key) in [("admin_key", &self.admin_key), ("legacy_api_key", &self.legacy_api_key)] {
                let Some(key) = key.as_ref().map(|k| k.expose_secret()).filter(|k| !k.is_empty()) else {
                    continue;
                };
                if key == DEMO_KEY {
                    return invalid(setting, "another key than upstream's published demo key in production");
                }
                if key.chars().count() < MIN_PRODUCTION_ADMIN_KEY_CHARS {
                    return invalid(
                        setting,
                        "at least 16 characters long in production (e.g. `openssl rand -hex 24`)",
                    );
                }
            }
            if self.demo_key {
                return invalid(
                    "demo_key",
                    "off in production: the public demo key is published by upstream",
                );
            }
            if !self.bind.ip().is_loopback() && !self.behind_proxy {
                return invalid(
                    "bind",
                    "a loopback address in production, because patientgen serves plain HTTP: put a TLS-terminating proxy in front and set behind_proxy = true (--behind-proxy, PATIENTGEN_BEHIND_PROXY=true)",
                );
            }
        }
        Ok(())
    }
}

/// `<host>-<pid>-<random>`.
pub fn default_instance_id() -> String {
    let host =
        std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()).unwrap_or_else(|| "patientgen".into());
    format!("{host}-{}-{:04x}", std::process::id(), rand::random::<u16>())
}

/// Upstream's public demo key.
pub const DEMO_KEY: &str = "DEMO_MILMED_2025_50_PATIENTS";

/// The shortest admin key the production profile accepts (a guessable key
/// would open every key's data).
pub const MIN_PRODUCTION_ADMIN_KEY_CHARS: usize = 16;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_out_of_range_are_named() {
        assert_eq!(ServerConfig::default().validate(), Ok(()));
        let setting = |tweak: fn(&mut ServerConfig)| {
            let mut config = ServerConfig::default();
            tweak(&mut config);
            config.validate().map_err(|e| e.to_string())
        };
        assert_eq!(
            setting(|c| c.job_lease = Duration::from_secs(1)),
            Err("`job_lease_seconds` (--job-lease, PATIENTGEN_JOB_LEASE_SECONDS) must be between 2 and 3600 seconds".into())
        );
        assert_eq!(
            setting(|c| c.retention = Duration::from_secs(3600 * 876_001)),
            Err("`retention_hours` (--retention-hours, PATIENTGEN_RETENTION_HOURS) must be between 1 and 876000".into())
        );
        assert_eq!(
            setting(|c| c.key_refresh_interval = Duration::from_secs(2)),
            Err("`key_refresh_ms` (--key-refresh-ms, PATIENTGEN_KEY_REFRESH_MS) must be between 10 and 1000"
                .into())
        );
        assert_eq!(
            setting(|c| c.usage_flush_interval = Duration::from_millis(9)),
            Err("`usage_flush_ms` (--usage-flush-ms, PATIENTGEN_USAGE_FLUSH_MS) must be at least 10".into())
        );
        assert!(ServerConfig::threads_per_job_for(1000) >= 1);
    }
}
