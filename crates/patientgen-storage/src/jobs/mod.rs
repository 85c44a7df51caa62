//! Jobs: a durable queue with leases. Workers claim pending jobs (or running
//! jobs whose lease expired, i.e. whose instance died), renew the lease while
//! they work and finish only if they still hold it. The records here are
//! typed: status, options, scenario and summary are read back as what they
//! are, or the read fails.

mod events;
mod queue;

#[cfg(any(test, feature = "test-support"))]
pub(crate) use events::LISTENER_APPLICATION;
pub use events::{JobEvent, JobEvents};

use chrono::{DateTime, Utc};
use patientgen_core::summary::{Calibration, Flow, Percentiles, Share};
use patientgen_core::{ScenarioConfig, Summary};
use patientgen_output::Format;
use patientgen_output::package::ManifestCounts;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Job states (upstream's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Waiting for a worker.
    Pending,
    /// Being generated.
    Running,
    /// Done; files available.
    Completed,
    /// Ended with an error.
    Failed,
    /// Stopped on request.
    Cancelled,
}

impl JobStatus {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Running => "running",
            JobStatus::Completed => "completed",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }

    /// Every state.
    pub const ALL: [JobStatus; 5] = [
        JobStatus::Pending,
        JobStatus::Running,
        JobStatus::Completed,
        JobStatus::Failed,
        JobStatus::Cancelled,
    ];

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|j| j.as_str() == s)
    }

    /// Whether the job will not change any more.
    pub fn is_terminal(self) -> bool {
        matches!(self, JobStatus::Completed | JobStatus::Failed | JobStatus::Cancelled)
    }
}

/// A stored job.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct JobRecord {
    /// Its id (a UUID).
    pub job_id: String,
    /// The key that created it: its owner.
    pub owner_key_id: Option<String>,
    /// Where it is in its life.
    #[sqlx(try_from = "String")]
    pub status: JobStatus,
    /// The request as the client sent it, echoed back (the password removed).
    #[sqlx(json)]
    pub config: serde_json::Value,
    /// The scenario configuration to generate, seed included.
    #[sqlx(json)]
    pub scenario: ScenarioConfig,
    /// Formats, layers, priority and download name.
    #[sqlx(json)]
    pub options: JobOptions,
    /// The seed, a `u64` stored bit-for-bit in a signed column (see
    /// [`seed_u64`](Self::seed_u64)).
    pub seed: i64,
    /// How many patients it generates.
    pub total_patients: i32,
    /// Percent done, 0–100 (95 at most until it completes).
    pub progress: i32,
    /// What the worker is doing: `claimed`, `generating`, `packaging`,
    /// `storing`, or the final status.
    pub phase: Option<String>,
    /// Patients generated so far.
    pub patients_done: i64,
    /// What it produced, once completed.
    #[sqlx(json(nullable))]
    pub summary: Option<JobSummary>,
    /// Why it failed or was cancelled.
    pub error: Option<String>,
    /// The derived encryption key (hex) while the job still needs it; cleared
    /// when it ends.
    pub encryption_key: Option<String>,
    /// The patientgen version that ran (or will run) it: paging re-generates
    /// patients, which only the same version reproduces.
    pub generator_version: String,
    /// A client asked to cancel it; its worker stops at the next heartbeat.
    pub cancel_requested: bool,
    /// Times a worker claimed it (more than one after a takeover).
    pub attempts: i32,
    /// The instance holding the lease.
    pub lease_owner: Option<String>,
    /// When the lease runs out unless renewed.
    pub lease_expires_at: Option<DateTime<Utc>>,
    /// When it was created; also its files' `generated_at`.
    pub created_at: DateTime<Utc>,
    /// When a worker first started it.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub completed_at: Option<DateTime<Utc>>,
    /// Its last change (retention counts from here).
    pub updated_at: DateTime<Utc>,
}

impl JobRecord {
    /// The seed as generated.
    pub fn seed_u64(&self) -> u64 {
        self.seed as u64
    }
}

/// A job to insert.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// Its id (a UUID).
    pub job_id: String,
    /// The key creating it.
    pub owner_key_id: Option<String>,
    /// The request as the client sent it, without the password.
    pub config: serde_json::Value,
    /// The scenario configuration to generate, seed included.
    pub scenario: ScenarioConfig,
    /// Formats, layers, priority and download name.
    pub options: JobOptions,
    /// The seed the scenario runs with.
    pub seed: u64,
    /// How many patients it generates.
    pub total_patients: i32,
    /// The encryption key derived from the client's password (hex).
    pub encryption_key: Option<String>,
    /// The patientgen version creating it.
    pub generator_version: String,
}

/// A claimed job and what the worker must know.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// The job, now `running` under the worker's lease.
    pub job: JobRecord,
}

/// A progress report of a running job.
#[derive(Debug, Clone)]
pub struct Progress<'a> {
    /// Percent done, 0–100.
    pub progress: i32,
    /// What the worker is doing (see [`JobRecord::phase`]).
    pub phase: &'a str,
    /// Patients generated so far.
    pub patients_done: i64,
}

/// An output file of a job.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize)]
pub struct JobFile {
    /// The job it belongs to.
    #[serde(skip)]
    pub job_id: String,
    /// `patients.zip`, or `patients.json` kept for `?format=json`.
    pub name: String,
    /// `zip` or `json`.
    pub format: String,
    /// Size in bytes.
    pub bytes: i64,
    /// SHA-256 of the bytes, lower-case hex.
    pub sha256: String,
    /// The `Content-Type` it is served with.
    pub content_type: String,
}

impl std::fmt::Display for JobStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for JobStatus {
    type Error = UnknownStatus;

    fn try_from(name: String) -> Result<Self, UnknownStatus> {
        Self::parse(&name).ok_or(UnknownStatus(name))
    }
}

/// A `status` column that holds no [`JobStatus`].
#[derive(Debug, thiserror::Error)]
#[error("unknown job status '{0}'")]
pub struct UnknownStatus(pub String);

/// How urgent a client says a job is (recorded, not used for ordering).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    /// `low`.
    Low,
    /// `normal`, the default.
    #[default]
    Normal,
    /// `high`.
    High,
}

impl Priority {
    /// Every priority.
    pub const ALL: [Priority; 3] = [Priority::Low, Priority::Normal, Priority::High];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// What a job writes, stored with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobOptions {
    /// The formats, sorted and without repeats; one file each inside the ZIP.
    pub output_formats: Vec<Format>,
    /// Gzip each file (`.gz`).
    pub use_compression: bool,
    /// Encrypt each file (`.enc`) with the job's derived key.
    pub use_encryption: bool,
    /// The client's priority.
    pub priority: Priority,
    /// The scenario name: the download's file name.
    pub name: String,
}

impl JobOptions {
    /// The names of the files inside the job's ZIP.
    pub fn file_names(&self) -> Vec<String> {
        let suffix = patientgen_output::sink::layer_suffix(self.use_compression, self.use_encryption);
        self.output_formats.iter().map(|f| format!("{}{suffix}", f.file_name())).collect()
    }
}

/// What a completed job produced: the manifest's counts plus the seed,
/// calibration figures, facility flows and arrival times the dashboard and
/// the web UI chart. Clients see it as the job's `summary`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobSummary {
    /// Patients generated (as in the manifest).
    pub patients: u64,
    /// The same count, under upstream's name.
    pub total_patients: u64,
    /// The seed they were generated with.
    pub seed: u64,
    /// Patients by outcome (`RTD`, `KIA`, `DOW`, `REMAINS_ROLE4`).
    pub outcomes: BTreeMap<String, u64>,
    /// Patients by initial triage category.
    pub triage: BTreeMap<String, u64>,
    /// Patients by injury type.
    pub injury_types: BTreeMap<String, u64>,
    /// Patients by nationality (ISO alpha-3).
    pub nationalities: BTreeMap<String, u64>,
    /// Patients by front name.
    pub fronts: BTreeMap<String, u64>,
    /// Figures to hold against published registries.
    pub calibration: Calibration,
    /// Patients who reached each facility, with their share of all patients.
    pub facilities_reached: BTreeMap<String, Share>,
    /// Moves between facilities.
    pub flows: Vec<Flow>,
    /// Where journeys ended: facility → outcome → patients.
    pub outcomes_by_facility: BTreeMap<String, BTreeMap<String, u64>>,
    /// Hours from injury to arrival: facility → triage (and `all`) →
    /// percentiles. Absent from jobs completed before it was recorded.
    #[serde(default)]
    pub arrival_hours: BTreeMap<String, BTreeMap<String, Percentiles>>,
}

impl JobSummary {
    /// The summary of a job's patients, generated with `seed`.
    pub fn new(summary: &Summary, seed: u64) -> Self {
        let counts = ManifestCounts::from_summary(summary);
        Self {
            patients: counts.patients,
            total_patients: summary.total_patients,
            seed,
            outcomes: counts.outcomes,
            triage: counts.triage,
            injury_types: counts.injury_types,
            nationalities: counts.nationalities,
            fronts: counts.fronts,
            calibration: summary.calibration,
            facilities_reached: summary.facilities_reached.clone(),
            flows: summary.flows.clone(),
            outcomes_by_facility: summary.outcomes_by_facility.clone(),
            arrival_hours: summary.arrival_hours.clone(),
        }
    }
}
