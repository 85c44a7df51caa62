//! Serialized job views, so that reading a finished job or a list of finished
//! jobs costs no database query and no JSON encoding.
//!
//! A job that has ended (completed, failed, cancelled) never changes again
//! until it is deleted, so its `GET /api/v1/jobs/{id}` body is kept as bytes,
//! with its owner for the visibility check. A job list is kept per owner (and
//! one for admins, who see every job) only when every job in it has ended: it
//! then changes only when a job is created or deleted. Pending and running
//! jobs are always read from the database (their progress moves).
//!
//! Kept honest by job events: creating or deleting a job here forgets what it
//! touches at once, and on PostgreSQL every instance hears of creations and
//! deletions anywhere through `LISTEN` (jobs/events.rs). Until the listener is
//! connected — and whenever it has lost its connection — nothing is served
//! from here; each (re)connection forgets everything first. Every change bumps
//! a generation, and a view read from the database during an older generation
//! is not kept, so a read racing with a change is never cached. Lists also
//! expire after a second, a bound on staleness should a job ever be written
//! behind the service's back.

use bytes::Bytes;
use moka::sync::Cache;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// A cached body and the key that owns the job (for the visibility check).
#[derive(Debug, Clone)]
pub struct JobView {
    /// The job's owner key id.
    pub owner: Option<String>,
    /// The JSON body of `GET /api/v1/jobs/{id}`.
    pub body: Bytes,
}

/// The cached views of an instance.
pub struct JobViews {
    jobs: Cache<String, JobView>,
    lists: Cache<Option<String>, Bytes>,
    generation: AtomicU64,
    live: AtomicBool,
}

impl JobViews {
    /// Views for a store whose changes this instance always hears of (`live`:
    /// the embedded database), or only once its listener is connected.
    pub fn new(live: bool) -> Self {
        let weigh = |len: usize| u32::try_from(len).unwrap_or(u32::MAX);
        Self {
            jobs: Cache::builder()
                .max_capacity(16 << 20)
                .weigher(move |id: &String, v: &JobView| weigh(id.len() + v.body.len()))
                .time_to_idle(Duration::from_secs(600))
                .build(),
            lists: Cache::builder()
                .max_capacity(16 << 20)
                .weigher(move |_: &Option<String>, v: &Bytes| weigh(v.len()))
                .time_to_live(Duration::from_secs(1))
                .build(),
            generation: AtomicU64::new(0),
            live: AtomicBool::new(live),
        }
    }

    /// The generation to pass to [`keep_job`](Self::keep_job) or
    /// [`keep_list`](Self::keep_list) for a read started now.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn serving(&self) -> bool {
        self.live.load(Ordering::Acquire)
    }

    /// The cached view of an ended job.
    pub fn job(&self, id: &str) -> Option<JobView> {
        if !self.serving() {
            return None;
        }
        self.jobs.get(id)
    }

    /// The cached list of `owner`'s jobs (`None`: every job).
    pub fn list(&self, owner: Option<&str>) -> Option<Bytes> {
        if !self.serving() {
            return None;
        }
        self.lists.get(&owner.map(str::to_string))
    }

    /// Keeps the view of an ended job read during `generation`.
    pub fn keep_job(&self, id: &str, generation: u64, view: JobView) {
        if self.serving() && generation == self.generation() {
            self.jobs.insert(id.to_string(), view);
            // A change between the check and the insert: do not keep it.
            if generation != self.generation() {
                self.jobs.invalidate(id);
            }
        }
    }

    /// Keeps a list of ended jobs read during `generation`.
    pub fn keep_list(&self, owner: Option<&str>, generation: u64, body: Bytes) {
        if self.serving() && generation == self.generation() {
            let owner = owner.map(str::to_string);
            self.lists.insert(owner.clone(), body);
            if generation != self.generation() {
                self.lists.invalidate(&owner);
            }
        }
    }

    fn bump(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// A job of `owner` was created: its lists change.
    pub fn created(&self, owner: Option<&str>) {
        self.bump();
        self.lists.invalidate(&owner.map(str::to_string));
        self.lists.invalidate(&None);
    }

    /// A job was deleted: its view and every list that may hold it go.
    pub fn deleted(&self, id: &str) {
        self.bump();
        self.jobs.invalidate(id);
        self.lists.invalidate_all();
    }

    /// Changes can no longer be heard of (the listener lost its connection):
    /// serve nothing from here until [`connected`](Self::connected).
    pub fn disconnected(&self) {
        self.live.store(false, Ordering::Release);
        self.bump();
    }

    /// The listener is connected again: forget everything (changes may have
    /// been missed) and serve from here again.
    pub fn connected(&self) {
        self.bump();
        self.jobs.invalidate_all();
        self.lists.invalidate_all();
        self.live.store(true, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(body: &'static str) -> JobView {
        JobView { owner: Some("k".into()), body: Bytes::from_static(body.as_bytes()) }
    }

    #[test]
    fn a_read_that_raced_with_a_change_is_not_kept() {
        let views = JobViews::new(true);
        let before = views.generation();
        views.created(Some("k"));
        views.keep_list(Some("k"), before, Bytes::from_static(b"[]"));
        assert!(views.list(Some("k")).is_none());
        let now = views.generation();
        views.keep_list(Some("k"), now, Bytes::from_static(b"[]"));
        assert!(views.list(Some("k")).is_some());
        views.keep_job("j", now, view("{}"));
        assert!(views.job("j").is_some());
        views.deleted("j");
        assert!(views.job("j").is_none());
        assert!(views.list(Some("k")).is_none(), "a deletion drops the lists");
    }

    #[test]
    fn nothing_is_served_while_changes_cannot_be_heard() {
        let views = JobViews::new(false);
        views.keep_job("j", views.generation(), view("{}"));
        assert!(views.job("j").is_none(), "not kept before the listener connects");
        views.connected();
        views.keep_job("j", views.generation(), view("{}"));
        assert!(views.job("j").is_some());
        views.disconnected();
        assert!(views.job("j").is_none());
        views.connected();
        assert!(views.job("j").is_none(), "a reconnection forgets what may have changed meanwhile");
    }
}
