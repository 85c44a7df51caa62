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

/// Usage not yet written.
#[derive(Default)]
pub struct UsageRecorder {
    pending: Mutex<HashMap<(String, i64), Pending>>,
}

impl UsageRecorder {
    /// Adds usage of `key_id` at `now`.
    pub fn record(&self, key_id: &str, requests: i64, patients: i64, now: DateTime<Utc>) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let day = Window::Day.index(now);
        match pending.get_mut(&(key_id.to_string(), day)) {
            Some(p) => {
                p.requests += requests;
                p.patients += patients;
                p.last_used = p.last_used.max(now);
            }
            None => {
                pending.insert((key_id.to_string(), day), Pending { requests, patients, last_used: now });
            }
        }
    }

    /// Number of (key, day) batches waiting.
    pub fn waiting(&self) -> usize {
        self.pending.lock().map_or(0, |p| p.len())
    }

    /// Writes everything pending; returns how many batches were written.
    pub async fn flush(&self, store: &Store) -> Result<usize, StorageError> {
        let mut batches: Vec<_> = {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            pending.drain().collect()
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
            let entry = pending.entry((key_id, day)).or_insert(Pending {
                requests: 0,
                patients: 0,
                last_used: p.last_used,
            });
            entry.requests += p.requests;
            entry.patients += p.patients;
            entry.last_used = entry.last_used.max(p.last_used);
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(written),
        }
    }
}
