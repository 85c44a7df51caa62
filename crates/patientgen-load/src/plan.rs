//! What a run does: target, users, bounds, keys, scenario weights, sizes.

use crate::keys::Keys;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::Duration;
use url::Url;

/// The longest run the tool accepts.
pub const MAX_RUN_TIME: Duration = Duration::from_secs(4 * 3600);
/// The most users the tool starts.
pub const MAX_USERS: usize = 1000;

/// Relative weights of the scenarios (users are assigned round robin by weight;
/// 0 leaves a scenario out).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Weights {
    /// Reference data and presets.
    pub reference: usize,
    /// Configurations: validate, create, read, update, list, delete.
    pub configurations: usize,
    /// Small jobs: create, poll, download (checked), delete.
    pub jobs: usize,
    /// Streaming (checked line count).
    pub streaming: usize,
    /// Health probes without a key.
    pub health: usize,
    /// The limited key, driven into 429 on purpose.
    pub limited: usize,
}

impl Default for Weights {
    /// For ten users: three browse reference data, two edit configurations,
    /// two run jobs, one streams, one probes health, one is rate limited.
    fn default() -> Self {
        Weights { reference: 3, configurations: 2, jobs: 2, streaming: 1, health: 1, limited: 1 }
    }
}

/// One load run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The service (a loopback `http://` URL).
    pub host: Url,
    /// `/metrics` of every server behind `host` (default: `host` itself).
    pub metrics_urls: Vec<Url>,
    /// Endpoint templates left out of the `/metrics` comparison (traffic the
    /// tool does not make, e.g. a load balancer's health checks).
    pub metrics_ignore: Vec<String>,
    /// Concurrent users.
    pub users: usize,
    /// Users started per second.
    pub increase_rate: f64,
    /// New flows start until this much time has passed; the run then drains.
    pub run_time: Duration,
    /// New flows stop once this many requests have been sent.
    pub max_requests: u64,
    /// Think time between a user's flows.
    pub think: RangeInclusive<Duration>,
    /// Keys by role.
    pub keys: Keys,
    /// The limited key's requests per minute (checked when given).
    pub limited_per_minute: Option<u64>,
    /// Scenario weights.
    pub weights: Weights,
    /// Patients per job.
    pub job_patients: RangeInclusive<u32>,
    /// Patients per stream.
    pub stream_patients: RangeInclusive<u32>,
    /// Longest a job may take from creation to `completed`.
    pub job_deadline: Duration,
    /// Server processes to sample (RSS, CPU).
    pub server_pids: Vec<u32>,
    /// Sampling interval.
    pub sample_every: Duration,
    /// Where the summary, goose's reports and the samples go.
    pub out_dir: PathBuf,
    /// Name of the run in the summary (e.g. `embedded`).
    pub label: String,
    /// Seed of the tool's own choices (sizes, formats, seeds of jobs).
    pub seed: u64,
    /// Print goose's own console tables too.
    pub goose_console: bool,
}

impl Plan {
    /// A plan with the defaults for `host` and `keys`.
    pub fn new(host: Url, keys: Keys) -> Plan {
        Plan {
            metrics_urls: vec![host.clone()],
            host,
            metrics_ignore: Vec::new(),
            users: 10,
            increase_rate: 10.0,
            run_time: Duration::from_secs(60),
            max_requests: 2_000_000,
            think: Duration::from_millis(10)..=Duration::from_millis(100),
            keys,
            limited_per_minute: None,
            weights: Weights::default(),
            job_patients: 10..=200,
            stream_patients: 50..=500,
            job_deadline: Duration::from_secs(120),
            server_pids: Vec::new(),
            sample_every: Duration::from_secs(1),
            out_dir: PathBuf::from("target/load"),
            label: "run".into(),
            seed: 1,
            goose_console: false,
        }
    }

    /// Refuses plans that are unbounded or point off this machine.
    pub fn validate(&self) -> Result<(), String> {
        crate::loopback::check(&self.host)?;
        for u in &self.metrics_urls {
            crate::loopback::check(u)?;
        }
        if self.users == 0 || self.users > MAX_USERS {
            return Err(format!("--users must be between 1 and {MAX_USERS}"));
        }
        if self.run_time.is_zero() || self.run_time > MAX_RUN_TIME {
            return Err(format!("--run-time must be between 1s and {}s", MAX_RUN_TIME.as_secs()));
        }
        if self.max_requests == 0 {
            return Err("--max-requests must be at least 1".into());
        }
        if !(self.increase_rate.is_finite() && self.increase_rate > 0.0) {
            return Err("--increase-rate must be a positive number".into());
        }
        if self.think.start() > self.think.end() {
            return Err("think time: the minimum is above the maximum".into());
        }
        for (name, r) in
            [("--job-patients", &self.job_patients), ("--stream-patients", &self.stream_patients)]
        {
            if *r.start() == 0 || r.start() > r.end() {
                return Err(format!("{name}: expected MIN-MAX with 1 <= MIN <= MAX"));
            }
        }
        if self.sample_every < Duration::from_millis(100) {
            return Err("--sample-every must be at least 100ms".into());
        }
        let w = self.weights;
        if w.reference + w.configurations + w.jobs + w.streaming + w.health + w.limited == 0 {
            return Err("every scenario weight is 0".into());
        }
        Ok(())
    }
}

/// Parses `MIN-MAX` (or a single number) into an inclusive range.
pub fn parse_range(s: &str) -> Result<RangeInclusive<u32>, String> {
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let a: u32 = a.trim().parse().map_err(|_| format!("'{s}': expected MIN-MAX"))?;
    let b: u32 = b.trim().parse().map_err(|_| format!("'{s}': expected MIN-MAX"))?;
    Ok(a..=b)
}

/// Parses a time span as goose does (`90`, `90s`, `15m`, `1h30m`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    if let Some(ms) = s.strip_suffix("ms") {
        return ms.trim().parse::<u64>().map(Duration::from_millis).map_err(|_| format!("'{s}': not a time"));
    }
    goose::util::parse_timespan(s)
        .map(|secs| Duration::from_secs(secs as u64))
        .ok_or_else(|| format!("'{s}': not a time (e.g. 60s, 5m, 1h30m, 250ms)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::RoleKey;

    fn plan() -> Plan {
        let keys = Keys::from_pairs(&["jobs=k".parse::<RoleKey>().expect("pair")]).expect("keys");
        Plan::new(Url::parse("http://127.0.0.1:1").expect("url"), keys)
    }

    #[test]
    fn defaults_are_valid_and_bounds_are_enforced() {
        assert_eq!(plan().validate(), Ok(()));
        let mut p = plan();
        p.run_time = Duration::from_secs(5 * 3600);
        assert!(p.validate().is_err());
        let mut p = plan();
        p.users = 0;
        assert!(p.validate().is_err());
        let mut p = plan();
        p.metrics_urls.push(Url::parse("http://10.1.1.1:9090").expect("url"));
        assert!(p.validate().unwrap_err().contains("refused"));
        let mut p = plan();
        p.job_patients = 0..=3;
        assert!(p.validate().is_err());
    }

    #[test]
    fn ranges_and_durations_parse() {
        assert_eq!(parse_range("10-200"), Ok(10..=200));
        assert_eq!(parse_range("7"), Ok(7..=7));
        assert!(parse_range("a-b").is_err());
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("15mins").is_err());
    }
}
