//! The worker pool of an instance and the retention task.

use super::run_job;
use crate::state::AppState;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// Running workers.
pub struct Workers {
    shutdown: CancellationToken,
    tasks: JoinSet<()>,
}

impl Workers {
    /// Starts `state.config.workers` workers.
    pub fn start(state: &AppState) -> Self {
        let shutdown = CancellationToken::new();
        let mut tasks = JoinSet::new();
        for n in 0..state.config.workers {
            tasks.spawn(worker_loop(state.clone(), shutdown.clone(), n));
        }
        crate::metrics::worker_pool_started(state.config.workers);
        Self { shutdown, tasks }
    }

    /// Stops claiming work, stops running generation (within one batch) and
    /// puts this instance's running jobs back in the queue for another instance.
    pub async fn shutdown(mut self, state: &AppState) {
        self.shutdown.cancel();
        crate::metrics::worker_pool_stopped(state.config.workers);
        let drained = tokio::time::timeout(Duration::from_secs(10), async {
            while self.tasks.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!("workers did not stop within 10 s; abandoning them");
            self.tasks.abort_all();
        }
        match state.store.requeue_jobs_of(&state.config.instance_id, state.clock.now()).await {
            Ok(n) if n > 0 => tracing::info!(jobs = n, "requeued running jobs for another instance"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not requeue running jobs"),
        }
    }
}

async fn worker_loop(state: AppState, shutdown: CancellationToken, n: usize) {
    tracing::debug!(worker = n, "worker started");
    loop {
        // Registered before looking for work, so that a job created while this
        // worker is claiming still wakes it.
        let woken = state.wake_workers.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let now = state.clock.now();
        let lease = chrono::Duration::from_std(state.config.job_lease)
            .unwrap_or_else(|_| chrono::Duration::seconds(30));
        let claim = state.store.claim_job(&state.config.instance_id, now + lease, now);
        match claim.instrument(tracing::debug_span!("job.claim", worker = n)).await {
            Ok(Some(claimed)) => {
                tracing::info!(job = %claimed.job.job_id, attempt = claimed.job.attempts, "claimed job");
                run_job(state.clone(), claimed.job, shutdown.clone()).await;
                if shutdown.is_cancelled() {
                    return;
                }
                continue;
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "could not claim jobs"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = woken => {}
            _ = tokio::time::sleep(state.config.poll_interval) => {}
        }
    }
}

/// Finishes, every poll interval, the jobs asked to cancel whose instance died
/// (their lease expired): no worker will ever stop them otherwise.
pub fn spawn_cancel_reaper(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut failing = false;
        loop {
            match state.store.finish_abandoned_cancels(state.clock.now()).await {
                Ok(n) => {
                    failing = false;
                    for _ in 0..n {
                        crate::metrics::job_transition("running", "cancelled");
                    }
                    if n > 0 {
                        tracing::info!(
                            jobs = n,
                            "cancelled jobs whose instance stopped renewing their lease"
                        );
                    }
                }
                Err(e) if !failing => {
                    failing = true;
                    tracing::warn!(error = %e, "cannot finish cancelled jobs of stopped instances");
                }
                Err(_) => {}
            }
            tokio::time::sleep(state.config.poll_interval).await;
        }
    })
}

/// Deletes finished jobs and their files once they are older than the
/// retention period; runs hourly (and once at start).
pub fn spawn_retention(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let before = state.clock.now()
                - chrono::Duration::from_std(state.config.retention)
                    .unwrap_or_else(|_| chrono::Duration::days(7));
            match state.store.expired_jobs(before).await {
                Ok(ids) => {
                    for id in ids {
                        if state.store.delete_job(&id, None).await.is_ok() {
                            state.job_views.deleted(&id);
                            let _ = state.artifacts.remove_job(&id).await;
                            tracing::info!(job = %id, "deleted after retention period");
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "retention cleanup failed"),
            }
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    })
}
