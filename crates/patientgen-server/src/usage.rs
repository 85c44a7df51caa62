//! Usage counters (requests, patients, last use) gathered in memory and written
//! to the database in one batch per key and day every flush interval, and once
//! more at shutdown: requests never wait for a usage write. A failed write
//! keeps its counts for the next flush.

use crate::limits::window::{Window, day_start};
use chrono::{DateTime, Utc};
use patientgen_storage::{StorageError, Store};
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug, Clone, Copy)]
struct Pending {
    requests: i64,
    patients: i64,
    last_used: DateTime<Utc>,
}

/// Usage not yet written: per key, per UTC day (a batch never spans midnight).
#[derive(Default)]
pub struct UsageRecorder {
    pending: Mutex<HashMap<String, Vec<(i64, Pending)>>>,
}

fn add(days: &mut Vec<(i64, Pending)>, day: i64, more: Pending) {
    match days.iter_mut().find(|(d, _)| *d == day) {
        Some((_, p)) => {
            p.requests += more.requests;
            p.patients += more.patients;
            p.last_used = p.last_used.max(more.last_used);
        }
        None => days.push((day, more)),
    }
}

impl UsageRecorder {
    /// Adds usage of `key_id` at `now`.
    pub fn record(&self, key_id: &str, requests: i64, patients: i64, now: DateTime<Utc>) {
        let usage = Pending { requests, patients, last_used: now };
        let day = Window::Day.index(now);
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        match pending.get_mut(key_id) {
            Some(days) => add(days, day, usage),
            None => {
                pending.insert(key_id.to_string(), vec![(day, usage)]);
            }
        }
    }

    /// Requests and patients of `key_id` on `now`'s UTC day not written yet.
    pub fn pending_today(&self, key_id: &str, now: DateTime<Utc>) -> (i64, i64) {
        let day = Window::Day.index(now);
        let pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        pending
            .get(key_id)
            .and_then(|days| days.iter().find(|(d, _)| *d == day))
            .map_or((0, 0), |(_, p)| (p.requests, p.patients))
    }

    /// Number of (key, day) batches waiting.
    pub fn waiting(&self) -> usize {
        self.pending.lock().map_or(0, |p| p.values().map(Vec::len).sum())
    }

    /// Writes everything pending; returns how many batches were written.
    pub async fn flush(&self, store: &Store) -> Result<usize, StorageError> {
        let mut batches: Vec<((String, i64), Pending)> = {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            pending
                .drain()
                .flat_map(|(key, days)| days.into_iter().map(move |(day, p)| ((key.clone(), day), p)))
                .collect()
        };
        batches.sort_by_key(|((_, day), _)| *day);
        let mut written = 0;
        let mut failure = None;
        for ((key_id, day), p) in batches {
            if failure.is_none() {
                match store
                    .add_key_usage(&key_id, p.requests, p.patients, p.last_used, day_start(p.last_used))
                    .await
                {
                    Ok(()) => {
                        written += 1;
                        continue;
                    }
                    Err(e) => failure = Some(e),
                }
            }
            // Keep what could not be written.
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            add(pending.entry(key_id).or_default(), day, p);
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(written),
        }
    }
}
