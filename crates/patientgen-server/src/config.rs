//! Service configuration (flags and environment are read by the CLI).

use patientgen_storage::PoolSettings;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Everything `patientgen serve` can be told.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to listen on.
    pub bind: SocketAddr,
    /// `postgres://…` or `sqlite:…`; the embedded SQLite file when `None`.
    pub database_url: Option<String>,
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
    pub admin_key: Option<String>,
    /// Upstream's `API_KEY`, imported as an admin key for compatibility.
    pub legacy_api_key: Option<String>,
    /// Enable upstream's public demo key `DEMO_MILMED_2025_50_PATIENTS`.
    pub demo_key: bool,
    /// Allowed CORS origins.
    pub cors_origins: Vec<String>,
    /// This instance's name in job leases.
    pub instance_id: String,
    /// PBKDF2 iterations for job encryption (≥ 600,000 outside tests).
    pub encryption_iterations: u32,
    /// `redis://…`: rate limits shared by every instance; in-process when `None`.
    pub redis_url: Option<String>,
    /// Prefix of this service's Redis keys.
    pub redis_prefix: String,
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
    /// the web page's link (see [`crate::first_run`]).
    pub first_run_key: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8000)),
            database_url: None,
            data_dir: PathBuf::from("patientgen-data"),
            pool: PoolSettings::default(),
            workers: 2,
            threads_per_job: ServerConfig::threads_per_job_for(2),
            max_patients_per_job: patientgen_core::scenario::MAX_PATIENTS,
            max_job_runtime: Duration::from_secs(600),
            job_lease: Duration::from_secs(30),
            poll_interval: Duration::from_secs(2),
            retention: Duration::from_secs(7 * 24 * 3600),
            body_limit: 2 << 20,
            request_timeout: Duration::from_secs(60),
            admin_key: None,
            legacy_api_key: None,
            demo_key: false,
            cors_origins: vec!["http://localhost:3000".into(), "http://localhost:8000".into()],
            instance_id: default_instance_id(),
            encryption_iterations: patientgen_crypto::DEFAULT_ITERATIONS,
            redis_url: None,
            redis_prefix: "patientgen".into(),
            key_refresh_interval: Duration::from_millis(250),
            usage_flush_interval: Duration::from_secs(1),
            limiter_max_keys: 100_000,
            key_cache_capacity: 100_000,
            first_run_key: true,
        }
    }
}

/// A setting outside the range the service works with. `setting` is the
/// command-line flag naming it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{setting} must be {requirement}")]
pub struct InvalidSetting {
    /// The flag, e.g. `--job-lease`.
    pub setting: &'static str,
    /// What it must be, e.g. `between 2 and 3600 seconds`.
    pub requirement: &'static str,
}

impl ServerConfig {
    /// Generation threads per job when not set: the cores shared by the
    /// workers (all cores with no workers), at least one.
    pub fn threads_per_job_for(workers: usize) -> usize {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        cores.checked_div(workers).unwrap_or(cores).max(1)
    }

    /// Checks the settings whose range matters: a lease renewed in time, a
    /// retention period the date arithmetic can hold (a century at most), key
    /// changes seen within a second, and usage written at most 100 times a
    /// second.
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        let invalid = |setting, requirement| Err(InvalidSetting { setting, requirement });
        if !(2..=3600).contains(&self.job_lease.as_secs()) || self.job_lease.subsec_nanos() != 0 {
            return invalid("--job-lease", "between 2 and 3600 seconds");
        }
        let hour = Duration::from_secs(3600);
        if self.retention < hour || self.retention > hour * 24 * 365 * 100 {
            return invalid("--retention-hours", "between 1 and 876000");
        }
        let refresh = self.key_refresh_interval;
        if refresh < Duration::from_millis(10) || refresh > Duration::from_millis(1000) {
            return invalid("--key-refresh-ms", "between 10 and 1000");
        }
        if self.usage_flush_interval < Duration::from_millis(10) {
            return invalid("--usage-flush-ms", "at least 10");
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
            Err("--job-lease must be between 2 and 3600 seconds".into())
        );
        assert_eq!(
            setting(|c| c.retention = Duration::from_secs(3600 * 876_001)),
            Err("--retention-hours must be between 1 and 876000".into())
        );
        assert_eq!(
            setting(|c| c.key_refresh_interval = Duration::from_secs(2)),
            Err("--key-refresh-ms must be between 10 and 1000".into())
        );
        assert_eq!(
            setting(|c| c.usage_flush_interval = Duration::from_millis(9)),
            Err("--usage-flush-ms must be at least 10".into())
        );
        assert!(ServerConfig::threads_per_job_for(1000) >= 1);
    }
}
