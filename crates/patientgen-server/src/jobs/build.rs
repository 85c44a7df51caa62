//! A job's files: every format packaged by [`write_package`] into the job's
//! scratch directory (on a blocking thread), the ZIP hashed for its record, and
//! `patients.json` kept on its own for `?format=json`.

use super::runner::Control;
use super::{JobError, job_scenario};
use crate::state::AppState;
use patientgen_core::Scenario;
use patientgen_core::time::UtcSeconds;
use patientgen_crypto::DerivedKey;
use patientgen_output::encode::EncodeOptions;
use patientgen_output::package::{PackageRequest, write_package};
use patientgen_output::pipeline::GenerateOptions;
use patientgen_output::sink::{Encryption, HashingWriter, Layers};
use patientgen_output::{Format, JsonEnvelope, Metadata};
use patientgen_storage::{JobFile, JobRecord, JobSummary};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// A job's files in its scratch directory, ready to store, and its summary.
pub(super) struct Built {
    /// File records with where each file is.
    pub files: Vec<(JobFile, PathBuf)>,
    /// What the job produced.
    pub summary: JobSummary,
}

/// Builds a claimed job's files in `scratch`, reporting progress and
/// stopping through `control`.
pub(super) async fn build(
    state: &AppState,
    job: &JobRecord,
    control: &Arc<Control>,
    scratch: &Path,
) -> Result<Built, JobError> {
    let scenario = job_scenario(job)?;
    let key = match &job.encryption_key {
        Some(hex) => Some(DerivedKey::from_hex(hex).ok_or(JobError::KeyMaterial)?),
        None if job.options.use_encryption => return Err(JobError::MissingKey),
        None => None,
    };
    let threads = state.config.threads_per_job;
    let control = control.clone();
    let scratch = scratch.to_path_buf();
    let job = job.clone();
    tokio::task::spawn_blocking(move || build_blocking(&job, &scenario, key, threads, &control, &scratch))
        .await?
}

fn build_blocking(
    job: &JobRecord,
    scenario: &Scenario,
    key: Option<DerivedKey>,
    threads: usize,
    control: &Control,
    scratch: &Path,
) -> Result<Built, JobError> {
    let _ = std::fs::remove_dir_all(scratch);
    std::fs::create_dir_all(scratch)?;
    let layers = Layers { gzip: job.options.use_compression, encryption: key.map(Encryption::Key) };
    let meta = Metadata::new(scenario, UtcSeconds(job.created_at.timestamp()));
    let progress = |n: u64| control.done.store(n, Ordering::Relaxed);
    let request = PackageRequest {
        scenario,
        config: &job.scenario,
        meta: &meta,
        formats: &job.options.output_formats,
        encode: EncodeOptions { json_envelope: JsonEnvelope::Array },
        file_layers: &layers,
        staging: scratch,
        generate: &GenerateOptions { threads, cancel: Some(&control.stop), progress: Some(&progress) },
    };
    let zip_path = scratch.join("patients.zip");
    let zip_file = HashingWriter::new(BufWriter::new(File::create(&zip_path)?));
    let (zip_file, package) = write_package(&request, zip_file)?;
    let (_, zip_bytes, zip_sha) = zip_file.finish()?;
    let file = |name: &str, format: &str, bytes: u64, sha256: String, content_type: &str| JobFile {
        job_id: job.job_id.clone(),
        name: name.into(),
        format: format.into(),
        bytes: i64::try_from(bytes).unwrap_or(i64::MAX),
        sha256,
        content_type: content_type.into(),
    };
    let mut files = vec![(file("patients.zip", "zip", zip_bytes, zip_sha, "application/zip"), zip_path)];
    // Plain JSON is also kept on its own for `?format=json`.
    if let Some(json) = package.files.iter().find(|f| f.entry.name == "patients.json") {
        let e = &json.entry;
        let record = file(&e.name, "json", e.bytes, e.sha256.clone(), Format::Json.content_type());
        files.push((record, json.path.clone()));
    }
    Ok(Built { files, summary: JobSummary::new(&package.summary, scenario.seed) })
}
