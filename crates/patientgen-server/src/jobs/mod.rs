//! Background generation jobs: a pool of workers per instance claims jobs from
//! the database (worker.rs), runs each under a renewed lease until it ends
//! (runner.rs), and has its files made by the package writer of
//! `patientgen-output` (build.rs) and stored where every instance can read them.
//! Workers are woken when a job is created on any instance (events.rs).

mod build;
mod events;
mod runner;
mod worker;

pub use events::spawn_job_events;
pub use runner::run_job;
pub use worker::{Workers, spawn_cancel_reaper, spawn_retention};

use patientgen_core::Scenario;
use patientgen_core::data::catalog;
use patientgen_core::scenario::{MAX_PATIENTS, ValidationErrors, ValidationOptions};
use patientgen_output::OutputError;
use patientgen_storage::{JobRecord, StorageError};

/// Why a job failed; its text is the job's `error`.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The stored scenario no longer validates (e.g. after a data change).
    #[error("Invalid scenario: {0}")]
    Scenario(#[from] ValidationErrors),
    /// The stored key material is not a derived key.
    #[error("Invalid encryption key material")]
    KeyMaterial,
    /// Encryption was asked for but the key material is gone.
    #[error("Encryption key material is missing")]
    MissingKey,
    /// The generating thread panicked or was aborted.
    #[error("Generation crashed: {0}")]
    Crashed(#[from] tokio::task::JoinError),
    /// Generation stopped because the job was told to stop.
    #[error("cancelled")]
    Cancelled,
    /// Reading or writing the job's scratch files failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Encrypting a file failed.
    #[error("Encryption error: {0}")]
    Encryption(patientgen_crypto::CryptoError),
    /// Writing the ZIP failed.
    #[error("Packaging failed: {0}")]
    Packaging(OutputError),
    /// Generating or encoding patients failed.
    #[error("Generation failed: {0}")]
    Generation(OutputError),
    /// Storing the files failed.
    #[error("Storage error: {0}")]
    Storage(#[from] StorageError),
}

impl From<OutputError> for JobError {
    fn from(e: OutputError) -> Self {
        match e {
            OutputError::Cancelled => JobError::Cancelled,
            OutputError::Io(e) => JobError::Io(e),
            OutputError::Crypto(e) => JobError::Encryption(e),
            e @ OutputError::Zip(_) => JobError::Packaging(e),
            e => JobError::Generation(e),
        }
    }
}

/// The validated scenario of a stored job (its seed included).
pub fn job_scenario(job: &JobRecord) -> Result<Scenario, ValidationErrors> {
    job.scenario
        .validate(catalog(), ValidationOptions { max_patients: MAX_PATIENTS, fallback_seed: job.seed_u64() })
}
