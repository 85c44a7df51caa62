//! Running one claimed job: generate every format into a scratch directory (on a
//! blocking thread), package the ZIP with its manifest, store the files, and
//! finish the job — unless it was cancelled, timed out or lost its lease.

use super::{JobOptions, job_scenario};
use crate::state::AppState;
use chrono::Utc;
use patientgen_core::time::UtcSeconds;
use patientgen_crypto::DerivedKey;
use patientgen_output::encode::EncodeOptions;
use patientgen_output::package::{ManifestCounts, PackageRequest, write_package};
use patientgen_output::pipeline::GenerateOptions;
use patientgen_output::sink::{Encryption, HashingWriter, Layers};
use patientgen_output::{Format, JsonEnvelope, Metadata, OutputError};
use patientgen_storage::{JobFile, JobRecord, JobStatus, Progress};
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Why generation stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Cancelled,
    TimedOut,
    LeaseLost,
    /// The instance is shutting down; the job goes back to the queue.
    Shutdown,
}

/// Shared between the generating thread and the heartbeat task.
struct Control {
    stop: AtomicBool,
    done: AtomicU64,
    /// Generation is over; the files are being stored.
    storing: AtomicBool,
    reason: std::sync::Mutex<Option<Stop>>,
}

impl Control {
    fn stop(&self, why: Stop) {
        if let Ok(mut r) = self.reason.lock() {
            r.get_or_insert(why);
        }
        self.stop.store(true, Ordering::Relaxed);
    }

    fn reason(&self) -> Option<Stop> {
        self.reason.lock().ok().and_then(|r| *r)
    }
}

struct Built {
    files: Vec<(JobFile, std::path::PathBuf)>,
    summary: serde_json::Value,
    patients: i64,
}

/// Runs a claimed job to its end. When `shutdown` fires, generation stops
/// within a batch and the job is left for [`Workers::shutdown`](super::Workers)
/// to put back in the queue.
pub async fn run_job(state: AppState, job: JobRecord, shutdown: CancellationToken) {
    let id = job.job_id.clone();
    let worker = state.config.instance_id.clone();
    let started = Instant::now();
    crate::metrics::job_transition("pending", "running");
    let control = Arc::new(Control {
        stop: AtomicBool::new(false),
        done: AtomicU64::new(0),
        storing: AtomicBool::new(false),
        reason: Default::default(),
    });
    let heartbeat = tokio::spawn(heartbeat(state.clone(), job.clone(), control.clone(), started));
    let watcher = {
        let control = control.clone();
        tokio::spawn(async move {
            shutdown.cancelled().await;
            control.stop(Stop::Shutdown);
        })
    };
    let scratch = state.artifacts.scratch_dir(&id);
    let result = build(&state, &job, &control, &scratch).await;
    // Files are stored while the heartbeat still renews the lease: an upload
    // into PostgreSQL can take longer than the lease.
    let result = match (result, control.reason()) {
        (Ok(built), None) => {
            control.storing.store(true, Ordering::Relaxed);
            store_files(&state, &built).await.map(|()| built)
        }
        (other, _) => other,
    };
    heartbeat.abort();
    watcher.abort();
    let now = Utc::now();
    let outcome = match (result, control.reason()) {
        (_, Some(Stop::Shutdown)) => {
            tracing::info!(job = %id, "stopped for shutdown");
            None
        }
        (_, Some(Stop::LeaseLost)) => {
            tracing::warn!(job = %id, "lease lost; another instance owns the job now");
            None
        }
        (_, Some(Stop::Cancelled)) => Some((JobStatus::Cancelled, "Job cancelled by user".to_string())),
        (_, Some(Stop::TimedOut)) => Some((
            JobStatus::Failed,
            format!("Job exceeded the maximum run time of {} s", state.config.max_job_runtime.as_secs()),
        )),
        (Err(e), None) => Some((JobStatus::Failed, e)),
        (Ok(built), None) => {
            match state.store.complete_job(&id, &worker, &built.summary, built.patients, now).await {
                Ok(true) => {
                    crate::metrics::job_transition("running", "completed");
                    metrics::counter!("patients_generated_total").increment(built.patients as u64);
                    metrics::histogram!("job_execution_seconds", "job_type" => "generation")
                        .record(started.elapsed().as_secs_f64());
                    tracing::info!(job = %id, patients = built.patients, seconds = started.elapsed().as_secs_f64(), "job completed");
                }
                Ok(false) => {}
                Err(e) => tracing::error!(job = %id, error = %e, "could not complete job"),
            }
            None
        }
    };
    if let Some((status, error)) = outcome {
        match state.store.finish_job(&id, &worker, status, &error, now).await {
            Ok(true) => {
                crate::metrics::job_transition("running", status.as_str());
                tracing::info!(job = %id, status = status.as_str(), error = %error, "job ended");
            }
            Ok(false) => {}
            Err(e) => tracing::error!(job = %id, error = %e, "could not record job end"),
        }
    }
    let _ = tokio::fs::remove_dir_all(&scratch).await;
}

/// Stores a built job's files.
async fn store_files(state: &AppState, built: &Built) -> Result<(), String> {
    for (meta, path) in &built.files {
        state.artifacts.put(meta, path).await.map_err(|e| format!("Storage error: {e}"))?;
    }
    Ok(())
}

/// Renews the lease, reports progress, and stops the job on cancel, timeout or
/// lease loss. Checks every 250 ms so a cancel lands within a second.
async fn heartbeat(state: AppState, job: JobRecord, control: Arc<Control>, started: Instant) {
    let worker = state.config.instance_id.clone();
    let lease = state.config.job_lease;
    let renew_every = (lease / 3).max(Duration::from_millis(250));
    let mut last_renewal = Instant::now();
    let total = f64::from(job.total_patients.max(1));
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        if started.elapsed() > state.config.max_job_runtime {
            control.stop(Stop::TimedOut);
        }
        let done = control.done.load(Ordering::Relaxed) as i64;
        let progress = Progress {
            progress: ((done as f64 / total) * 95.0).min(95.0) as i32,
            phase: if control.storing.load(Ordering::Relaxed) {
                "storing"
            } else if done < i64::from(job.total_patients) {
                "generating"
            } else {
                "packaging"
            },
            patients_done: done,
        };
        let now = Utc::now();
        let lease_until =
            now + chrono::Duration::from_std(lease).unwrap_or_else(|_| chrono::Duration::seconds(30));
        match state.store.heartbeat_job(&job.job_id, &worker, lease_until, &progress, now).await {
            Ok(Some(true)) => control.stop(Stop::Cancelled),
            Ok(Some(false)) => last_renewal = Instant::now(),
            Ok(None) => control.stop(Stop::LeaseLost),
            Err(e) => {
                tracing::warn!(job = %job.job_id, error = %e, "heartbeat failed");
                if last_renewal.elapsed() > lease.saturating_sub(renew_every) {
                    control.stop(Stop::LeaseLost);
                }
            }
        }
    }
}

async fn build(
    state: &AppState,
    job: &JobRecord,
    control: &Arc<Control>,
    scratch: &Path,
) -> Result<Built, String> {
    let scenario = job_scenario(job).map_err(|e| format!("Invalid scenario: {e}"))?;
    let options = JobOptions::of(job).map_err(|e| format!("Invalid options: {e}"))?;
    let key = match &job.encryption_key {
        Some(hex) => Some(DerivedKey::from_hex(hex).ok_or("Invalid encryption key material")?),
        None if options.use_encryption => return Err("Encryption key material is missing".into()),
        None => None,
    };
    let threads = state.config.threads_per_job;
    let control = control.clone();
    let scratch = scratch.to_path_buf();
    let job = job.clone();
    tokio::task::spawn_blocking(move || {
        build_blocking(&job, &scenario, &options, key, threads, &control, &scratch)
    })
    .await
    .map_err(|e| format!("Generation crashed: {e}"))?
}

fn build_blocking(
    job: &JobRecord,
    scenario: &patientgen_core::Scenario,
    options: &JobOptions,
    key: Option<DerivedKey>,
    threads: usize,
    control: &Control,
    scratch: &Path,
) -> Result<Built, String> {
    let io = |e: std::io::Error| format!("I/O error: {e}");
    let _ = std::fs::remove_dir_all(scratch);
    std::fs::create_dir_all(scratch).map_err(io)?;
    let config = patientgen_core::ScenarioConfig::from_value(job.scenario.0.clone())
        .map_err(|e| format!("Invalid scenario: {e}"))?;
    let formats = options.formats();
    let layers = Layers { gzip: options.use_compression, encryption: key.map(Encryption::Key) };
    let meta = Metadata::new(scenario, UtcSeconds(job.created_at.timestamp()));
    let progress = |n: u64| control.done.store(n, Ordering::Relaxed);
    let request = PackageRequest {
        scenario,
        config: &config,
        meta: &meta,
        formats: &formats,
        encode: EncodeOptions { json_envelope: JsonEnvelope::Array },
        file_layers: &layers,
        staging: scratch,
        generate: &GenerateOptions { threads, cancel: Some(&control.stop), progress: Some(&progress) },
    };
    let zip_path = scratch.join("patients.zip");
    let zip_file = HashingWriter::new(BufWriter::new(File::create(&zip_path).map_err(io)?));
    let (zip_file, package) = match write_package(&request, zip_file) {
        Ok(written) => written,
        Err(OutputError::Cancelled) => return Err("cancelled".into()),
        Err(OutputError::Io(e)) => return Err(io(e)),
        Err(OutputError::Crypto(e)) => return Err(format!("Encryption error: {e}")),
        Err(e @ OutputError::Zip(_)) => return Err(format!("Packaging failed: {e}")),
        Err(e) => return Err(format!("Generation failed: {e}")),
    };
    let (_, zip_bytes, zip_sha) = zip_file.finish().map_err(io)?;
    let mut files = vec![(
        JobFile {
            job_id: job.job_id.clone(),
            name: "patients.zip".into(),
            format: "zip".into(),
            bytes: zip_bytes as i64,
            sha256: zip_sha,
            content_type: "application/zip".into(),
        },
        zip_path,
    )];
    // Plain JSON is also kept on its own for `?format=json`.
    if let Some(json) = package.files.iter().find(|f| f.entry.name == "patients.json") {
        files.push((
            JobFile {
                job_id: job.job_id.clone(),
                name: json.entry.name.clone(),
                format: "json".into(),
                bytes: json.entry.bytes as i64,
                sha256: json.entry.sha256.clone(),
                content_type: Format::Json.content_type().into(),
            },
            json.path.clone(),
        ));
    }
    let summary = package.summary;
    let counts = ManifestCounts::from_summary(&summary);
    let patients = summary.total_patients as i64;
    let mut summary_json = serde_json::to_value(counts).unwrap_or_default();
    if let Some(obj) = summary_json.as_object_mut() {
        obj.insert("total_patients".into(), serde_json::Value::from(patients));
        obj.insert("seed".into(), serde_json::Value::from(scenario.seed));
        obj.insert("calibration".into(), serde_json::to_value(summary.calibration).unwrap_or_default());
        obj.insert(
            "facilities_reached".into(),
            serde_json::to_value(&summary.facilities_reached).unwrap_or_default(),
        );
        obj.insert("flows".into(), serde_json::to_value(&summary.flows).unwrap_or_default());
        obj.insert(
            "outcomes_by_facility".into(),
            serde_json::to_value(&summary.outcomes_by_facility).unwrap_or_default(),
        );
    }
    Ok(Built { files, summary: summary_json, patients })
}
