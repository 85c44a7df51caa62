//! Background generation jobs: a pool of workers per instance claims jobs from
//! the database, generates them with heartbeats, and stores their files where
//! every instance can read them.

mod runner;
mod worker;

pub use runner::run_job;
pub use worker::{Workers, spawn_retention};

use patientgen_core::data::catalog;
use patientgen_core::scenario::{MAX_PATIENTS, ValidationOptions};
use patientgen_core::{Scenario, ScenarioConfig};
use patientgen_output::Format;
use patientgen_storage::JobRecord;
use serde::{Deserialize, Serialize};

/// Output options stored with a job.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct JobOptions {
    /// Formats.
    pub output_formats: Vec<String>,
    /// Gzip each file.
    pub use_compression: bool,
    /// Encrypt each file.
    pub use_encryption: bool,
    /// Recorded priority.
    pub priority: String,
    /// Scenario name (download file name).
    pub name: String,
}

impl JobOptions {
    /// The options stored with `job`.
    pub fn of(job: &patientgen_storage::JobRecord) -> Result<Self, serde_json::Error> {
        Self::deserialize(&job.options.0)
    }

    /// Parsed formats.
    pub fn formats(&self) -> Vec<Format> {
        self.output_formats.iter().filter_map(|f| f.parse().ok()).collect()
    }
}

/// The files a job produces (inside its ZIP).
pub fn output_file_names(options: &JobOptions) -> Vec<String> {
    let suffix = patientgen_output::sink::layer_suffix(options.use_compression, options.use_encryption);
    options.formats().iter().map(|f| format!("{}{suffix}", f.file_name())).collect()
}

/// The validated scenario of a stored job (its seed included).
pub fn job_scenario(job: &JobRecord) -> Result<Scenario, String> {
    let config = ScenarioConfig::from_value(job.scenario.0.clone()).map_err(|e| e.to_string())?;
    config
        .validate(catalog(), ValidationOptions { max_patients: MAX_PATIENTS, fallback_seed: job.seed_u64() })
        .map_err(|e| e.to_string())
}
