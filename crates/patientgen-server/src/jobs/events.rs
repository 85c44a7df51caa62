//! Job events from every instance (PostgreSQL `LISTEN`, see
//! [`patientgen_storage::JobEvents`]): a job created or requeued anywhere
//! wakes this instance's idle workers at once, instead of at their next poll.
//! The listener reconnects by itself (backing off to 5 s while the database is
//! away); after each (re)connection the workers look for work, since
//! notifications sent meanwhile are lost. The poll stays as the fallback.
//! The same events keep the cached job views (job_views.rs) honest.

use crate::state::AppState;
use patientgen_storage::JobEvent;
use std::time::Duration;

/// Listens for job events until the task is aborted (returns at once on the
/// embedded database, which has no other instances).
pub fn spawn_job_events(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let first_delay = Duration::from_millis(100);
        let mut delay = first_delay;
        let mut failing = false;
        loop {
            match state.store.job_events().await {
                Ok(None) => return,
                Ok(Some(mut events)) => loop {
                    match events.next().await {
                        Ok(event) => {
                            if std::mem::take(&mut failing) {
                                tracing::info!("listening for job events again");
                            }
                            delay = first_delay;
                            on_event(&state, event);
                        }
                        Err(e) => {
                            state.job_views.disconnected();
                            if !std::mem::replace(&mut failing, true) {
                                tracing::warn!(error = %e, "job event listener lost; workers poll until it is back");
                            }
                            break;
                        }
                    }
                },
                Err(e) if !failing => {
                    failing = true;
                    tracing::warn!(error = %e, "cannot listen for job events; workers poll until it can");
                }
                Err(_) => {}
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    })
}

fn on_event(state: &AppState, event: JobEvent) {
    tracing::debug!(?event, "job event");
    match event {
        JobEvent::Created { owner, .. } => {
            state.job_views.created(owner.as_deref());
            state.wake_workers.notify_waiters();
        }
        JobEvent::Requeued => state.wake_workers.notify_waiters(),
        JobEvent::Reconnected => {
            state.job_views.connected();
            state.wake_workers.notify_waiters();
        }
        JobEvent::Deleted { job_id, .. } => state.job_views.deleted(&job_id),
    }
}
