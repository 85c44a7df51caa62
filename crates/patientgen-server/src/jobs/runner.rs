//! Running one claimed job: build its files (build.rs) while a heartbeat renews
//! the lease and reports progress, store the files, and finish the job —
//! unless it was cancelled, timed out, lost its lease or the instance is
//! shutting down.

use super::JobError;
use super::build::{Built, build};
use crate::state::AppState;
use patientgen_storage::{JobRecord, JobStatus, Progress};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// Why generation stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Cancelled,
    TimedOut,
    LeaseLost,
    /// The instance is shutting down; the job goes back to the queue.
    Shutdown,
}

/// What the generating thread and the heartbeat task share.
pub(super) struct Control {
    /// Set to stop generation (checked before every batch).
    pub stop: AtomicBool,
    /// Patients generated so far.
    pub done: AtomicU64,
    /// Generation is over; the files are being stored.
    storing: AtomicBool,
    reason: std::sync::Mutex<Option<Stop>>,
}

impl Control {
    fn new() -> Self {
        Self {
            stop: AtomicBool::new(false),
            done: AtomicU64::new(0),
            storing: AtomicBool::new(false),
            reason: Default::default(),
        }
    }

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

/// Runs a claimed job to its end. When `shutdown` fires, generation stops
/// within a batch and the job is left for [`Workers::shutdown`](super::Workers)
/// to put back in the queue. Runs in a `job` span (job id, attempt, patients),
/// its phases in `job.run`, `job.store` and `job.finish`.
pub async fn run_job(state: AppState, job: JobRecord, shutdown: CancellationToken) {
    let span = tracing::info_span!(
        "job",
        job_id = %job.job_id,
        attempt = job.attempts,
        patients = job.total_patients,
        otel.name = "job",
    );
    run(state, job, shutdown).instrument(span).await;
}

async fn run(state: AppState, job: JobRecord, shutdown: CancellationToken) {
    let started = Instant::now();
    let _busy = crate::metrics::WorkerBusy::start();
    crate::metrics::job_transition("pending", "running");
    let control = Arc::new(Control::new());
    let heartbeat = tokio::spawn(heartbeat(state.clone(), job.clone(), control.clone(), started));
    let watcher = {
        let control = control.clone();
        tokio::spawn(async move {
            shutdown.cancelled().await;
            control.stop(Stop::Shutdown);
        })
    };
    let scratch = state.artifacts.scratch_dir(&job.job_id);
    let result = build(&state, &job, &control, &scratch).instrument(tracing::info_span!("job.run")).await;
    let built_after = started.elapsed();
    // Files are stored while the heartbeat still renews the lease: an upload
    // into PostgreSQL can take longer than the lease.
    let result = match (result, control.reason()) {
        (Ok(built), None) => {
            control.storing.store(true, Ordering::Relaxed);
            store_files(&state, &built).instrument(tracing::info_span!("job.store")).await.map(|()| built)
        }
        (other, _) => other,
    };
    let phases = Phases { build: built_after, store: started.elapsed().saturating_sub(built_after) };
    heartbeat.abort();
    watcher.abort();
    let formats: Vec<&'static str> = job.options.output_formats.iter().map(|f| f.as_str()).collect();
    finish(&state, &job.job_id, &formats, result, control.reason(), started, phases)
        .instrument(tracing::info_span!("job.finish", status = tracing::field::Empty))
        .await;
    let _ = tokio::fs::remove_dir_all(&scratch).await;
}

/// How long a job's phases took, for the log line of a completed job.
struct Phases {
    /// Generating and packaging the files (scratch directory).
    build: Duration,
    /// Storing them where every instance can read them.
    store: Duration,
}

/// Records how a job ended: completed with its summary, failed, cancelled,
/// or nothing when it was stopped for shutdown or lost its lease.
async fn finish(
    state: &AppState,
    id: &str,
    formats: &[&'static str],
    result: Result<Built, JobError>,
    stop: Option<Stop>,
    started: Instant,
    phases: Phases,
) {
    let worker = &state.config.instance_id;
    let now = state.clock.now();
    let span = tracing::Span::current();
    let (status, error) = match (result, stop) {
        (_, Some(Stop::Shutdown)) => return tracing::info!(job = %id, "stopped for shutdown"),
        (_, Some(Stop::LeaseLost)) => {
            return tracing::warn!(job = %id, "lease lost; another instance owns the job now");
        }
        (_, Some(Stop::Cancelled)) => (JobStatus::Cancelled, "Job cancelled by user".to_string()),
        (_, Some(Stop::TimedOut)) => (
            JobStatus::Failed,
            format!("Job exceeded the maximum run time of {} s", state.config.max_job_runtime.as_secs()),
        ),
        (Err(e), None) => (JobStatus::Failed, e.to_string()),
        (Ok(built), None) => {
            let patients = i64::try_from(built.summary.total_patients).unwrap_or(i64::MAX);
            match state.store.complete_job(id, worker, &built.summary, patients, now).await {
                Ok(true) => {
                    span.record("status", "completed");
                    let seconds = started.elapsed().as_secs_f64();
                    crate::metrics::job_transition("running", "completed");
                    for format in formats {
                        crate::metrics::patients_generated(format, "job", built.summary.total_patients);
                    }
                    metrics::histogram!("job_execution_seconds", "job_type" => "generation").record(seconds);
                    let ms = |d: Duration| d.as_secs_f64() * 1e3;
                    tracing::info!(
                        job = %id,
                        patients,
                        seconds,
                        build_ms = ms(phases.build),
                        store_ms = ms(phases.store),
                        complete_ms = ms(started.elapsed().saturating_sub(phases.build + phases.store)),
                        "job completed"
                    );
                }
                Ok(false) => {}
                Err(e) => tracing::error!(job = %id, error = %e, "could not complete job"),
            }
            return;
        }
    };
    match state.store.finish_job(id, worker, status, &error, now).await {
        Ok(true) => {
            span.record("status", status.as_str());
            crate::metrics::job_transition("running", status.as_str());
            tracing::info!(job = %id, status = status.as_str(), error = %error, "job ended");
        }
        Ok(false) => {}
        Err(e) => tracing::error!(job = %id, error = %e, "could not record job end"),
    }
}

/// Stores a built job's files, one after the other: a job holds at most one
/// pooled connection while it stores (with a small pool, storing files in
/// parallel would starve the heartbeat and the instance's requests).
async fn store_files(state: &AppState, built: &Built) -> Result<(), JobError> {
    for (meta, path) in &built.files {
        state.artifacts.put(meta, path).await?;
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
        let now = state.clock.now();
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
