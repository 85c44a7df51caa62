//! The tool's own account of a run: every request by (method, endpoint
//! template, status) with its full time (headers and body), errors by kind,
//! checks passed, and what the limited key was answered.

use crate::promtext::Counts;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What went wrong, by kind. Each kind fails the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// No HTTP answer (connect, reset, timeout, body cut short).
    Transport,
    /// A 5xx answer.
    Server5xx,
    /// A 429 for a key that was not meant to be limited.
    Unexpected429,
    /// Another status the flow did not expect.
    UnexpectedStatus,
    /// A body that is not what it should be (unparsable, wrong shape).
    BadBody,
    /// A job's status or download did not match its request.
    JobMismatch,
    /// A job ended failed or cancelled.
    JobFailed,
    /// A job was not completed in time.
    JobTimeout,
    /// A stream's lines did not match the patients asked for.
    StreamMismatch,
    /// A 429 without its headers.
    LimitHeaders,
}

impl ErrorKind {
    /// Name in tables and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Transport => "transport",
            ErrorKind::Server5xx => "server_5xx",
            ErrorKind::Unexpected429 => "unexpected_429",
            ErrorKind::UnexpectedStatus => "unexpected_status",
            ErrorKind::BadBody => "bad_body",
            ErrorKind::JobMismatch => "job_mismatch",
            ErrorKind::JobFailed => "job_failed",
            ErrorKind::JobTimeout => "job_timeout",
            ErrorKind::StreamMismatch => "stream_mismatch",
            ErrorKind::LimitHeaders => "limit_headers",
        }
    }
}

/// The requests of one (method, template).
#[derive(Debug, Default, Clone)]
pub struct RequestStats {
    /// Answers by status.
    pub statuses: BTreeMap<u16, u64>,
    /// Requests with no HTTP answer.
    pub transport_errors: u64,
    /// Full request times, microseconds.
    pub micros: Vec<u32>,
}

/// Answers to the limited key.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LimitedTally {
    /// Answered (any status but 429).
    pub allowed: u64,
    /// Answered 429.
    pub limited: u64,
    /// UTC minute (Unix seconds / 60) of the first request sent.
    pub first_minute: Option<u64>,
    /// UTC minute of the last answer.
    pub last_minute: Option<u64>,
}

/// Checked outcomes.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Checked {
    /// Jobs whose status and download matched their request.
    pub jobs: u64,
    /// Patients in those jobs.
    pub job_patients: u64,
    /// Streams whose lines matched.
    pub streams: u64,
    /// Patients in those streams.
    pub stream_patients: u64,
    /// Configuration round trips completed.
    pub configurations: u64,
}

#[derive(Debug, Default)]
struct Inner {
    requests: BTreeMap<(String, &'static str), RequestStats>,
    errors: BTreeMap<ErrorKind, u64>,
    examples: BTreeMap<ErrorKind, String>,
    limited: LimitedTally,
    checked: Checked,
}

/// Thread-safe recorder shared by every user.
#[derive(Debug, Default)]
pub struct Recorder {
    inner: Mutex<Inner>,
}

/// The UTC minute now.
pub fn utc_minute() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() / 60)
}

impl Recorder {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records an answered request.
    pub fn answered(&self, method: &str, template: &'static str, status: u16, took: Duration) {
        let mut g = self.lock();
        let r = g.requests.entry((method.to_string(), template)).or_default();
        *r.statuses.entry(status).or_default() += 1;
        r.micros.push(u32::try_from(took.as_micros()).unwrap_or(u32::MAX));
    }

    /// Records a request that got no answer.
    pub fn unanswered(&self, method: &str, template: &'static str, took: Duration) {
        let mut g = self.lock();
        let r = g.requests.entry((method.to_string(), template)).or_default();
        r.transport_errors += 1;
        r.micros.push(u32::try_from(took.as_micros()).unwrap_or(u32::MAX));
    }

    /// Records an error (the first message of each kind is kept as an example).
    pub fn error(&self, kind: ErrorKind, message: impl Into<String>) {
        let mut g = self.lock();
        *g.errors.entry(kind).or_default() += 1;
        g.examples.entry(kind).or_insert_with(|| message.into());
    }

    /// Records one answer to the limited key.
    pub fn limited(&self, was_429: bool, sent_minute: u64, answered_minute: u64) {
        let mut g = self.lock();
        let t = &mut g.limited;
        if was_429 {
            t.limited += 1;
        } else {
            t.allowed += 1;
        }
        t.first_minute = Some(t.first_minute.map_or(sent_minute, |m| m.min(sent_minute)));
        t.last_minute = Some(t.last_minute.map_or(answered_minute, |m| m.max(answered_minute)));
    }

    /// Records a checked job.
    pub fn job_ok(&self, patients: u32) {
        let mut g = self.lock();
        g.checked.jobs += 1;
        g.checked.job_patients += u64::from(patients);
    }

    /// Records a checked stream.
    pub fn stream_ok(&self, patients: u32) {
        let mut g = self.lock();
        g.checked.streams += 1;
        g.checked.stream_patients += u64::from(patients);
    }

    /// Records a configuration round trip.
    pub fn configuration_ok(&self) {
        self.lock().checked.configurations += 1;
    }

    /// Counts by (method, template, status), as the servers count them.
    pub fn counts(&self) -> Counts {
        let g = self.lock();
        let mut out = Counts::new();
        for ((method, template), r) in &g.requests {
            for (status, n) in &r.statuses {
                out.insert((method.clone(), (*template).to_string(), *status), *n);
            }
        }
        out
    }

    /// A copy of everything recorded.
    pub fn snapshot(&self) -> Snapshot {
        let g = self.lock();
        Snapshot {
            requests: g
                .requests
                .iter()
                .map(|((m, t), r)| ((m.clone(), (*t).to_string()), r.clone()))
                .collect(),
            errors: g.errors.clone(),
            examples: g.examples.clone(),
            limited: g.limited,
            checked: g.checked,
        }
    }
}

/// A copy of a recorder's state.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Requests by (method, template).
    pub requests: BTreeMap<(String, String), RequestStats>,
    /// Errors by kind.
    pub errors: BTreeMap<ErrorKind, u64>,
    /// First message of each error kind.
    pub examples: BTreeMap<ErrorKind, String>,
    /// The limited key's answers.
    pub limited: LimitedTally,
    /// Checked outcomes.
    pub checked: Checked,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_status_and_errors_by_kind() {
        let r = Recorder::default();
        let ms = Duration::from_millis(1);
        r.answered("GET", "/a", 200, ms);
        r.answered("GET", "/a", 200, ms);
        r.answered("GET", "/a", 429, ms);
        r.unanswered("POST", "/b", ms);
        r.error(ErrorKind::Transport, "first");
        r.error(ErrorKind::Transport, "second");
        let c = r.counts();
        assert_eq!(c[&("GET".to_string(), "/a".to_string(), 200)], 2);
        assert_eq!(c.len(), 2, "transport errors have no status row");
        let s = r.snapshot();
        assert_eq!(s.errors[&ErrorKind::Transport], 2);
        assert_eq!(s.examples[&ErrorKind::Transport], "first");
        assert_eq!(s.requests[&("POST".to_string(), "/b".to_string())].transport_errors, 1);
    }

    #[test]
    fn limited_tally_spans_minutes() {
        let r = Recorder::default();
        r.limited(false, 100, 100);
        r.limited(true, 100, 101);
        r.limited(false, 99, 99);
        let t = r.snapshot().limited;
        assert_eq!((t.allowed, t.limited, t.first_minute, t.last_minute), (2, 1, Some(99), Some(101)));
    }
}
