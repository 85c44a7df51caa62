//! Prometheus metrics: HTTP requests by route template (bounded labels), auth
//! outcomes, rate-limit decisions, jobs, the worker pool, patients, the
//! database pool, the limiter's Redis state, the process and build info. The
//! recorder is process-global and installed once; every metric is described
//! (`# HELP`) in [`describe`], and [`NAMES`] lists them for the docs test.

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use patientgen_storage::{ApiKeyRecord, Scope};
use std::sync::{LazyLock, OnceLock};
use std::time::Instant;

/// The `endpoint` label of requests no route matched (unknown paths), so that
/// the label set stays bounded whatever paths clients try.
pub const UNMATCHED: &str = "unmatched";

/// Histogram buckets, in seconds.
const REQUEST_BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
const JOB_BUCKETS: &[f64] = &[0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 600.0, 1800.0, 3600.0];
const ACQUIRE_BUCKETS: &[f64] =
    &[0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// Process CPU, memory, file descriptors and threads (`metrics-process`),
/// collected on every scrape.
static PROCESS: LazyLock<metrics_process::Collector> = LazyLock::new(metrics_process::Collector::default);

/// Installs (once) and returns the Prometheus recorder.
pub fn install() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full("api_request_duration_seconds".into()), REQUEST_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Full("job_execution_seconds".into()), JOB_BUCKETS)
                })
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Full("db_pool_acquire_seconds".into()), ACQUIRE_BUCKETS)
                });
            let recorder = match builder {
                Ok(b) => b.build_recorder(),
                Err(_) => PrometheusBuilder::new().build_recorder(),
            };
            let handle = recorder.handle();
            // Another recorder may already be installed in tests; ours still renders.
            let _ = metrics::set_global_recorder(recorder);
            describe();
            metrics::gauge!("patientgen_build_info", "version" => patientgen_core::VERSION).set(1.0);
            handle
        })
        .clone()
}

/// Every metric patientgen itself exports (`metrics-process`'s `process_*`
/// aside), as `(name, help)`.
pub const NAMES: &[(&str, &str)] = &[
    ("api_requests_total", "HTTP requests answered, by method, route template (or 'unmatched') and status"),
    (
        "api_request_duration_seconds",
        "Time to answer an HTTP request (until the response starts), by route template and method",
    ),
    ("auth_requests_total", "API-key checks by outcome: accepted, rejected (401) or error"),
    (
        "rate_limit_decisions_total",
        "Rate-limit decisions by outcome (allowed, limited), key type (admin, live, demo) and limit",
    ),
    (
        "rate_limited_requests_total",
        "Requests refused (429) by a rate limit or the daily patient quota, by limit",
    ),
    (
        "rate_limiter_degraded",
        "1 while Redis is configured but unreachable and limits are counted per instance, else 0",
    ),
    ("rate_limiter_redis_errors_total", "Redis failures of the rate limiter"),
    ("job_queue_size", "Jobs in the database by status (every instance reports the same numbers)"),
    ("job_queue_oldest_pending_age_seconds", "Age of the oldest pending job (0 when none is pending)"),
    ("job_status_changes_total", "Job state transitions made by this instance"),
    ("job_execution_seconds", "Duration of completed generation jobs, from claim to stored files"),
    ("worker_pool_size", "Job workers of this instance"),
    ("worker_pool_busy", "Job workers of this instance running a job"),
    (
        "patients_generated_total",
        "Patients generated, by output format and source (job or stream); a job writing two formats counts its patients once per format",
    ),
    ("db_pool_max", "Most database connections the pool opens"),
    ("db_pool_size", "Database connections open"),
    ("db_pool_idle", "Database connections open and idle"),
    ("db_connections_active", "Database connections in use"),
    ("db_pool_acquire_seconds", "Time waited for a pooled database connection, per acquisition"),
    (
        "process_memory_usage_bytes",
        "Resident memory of the process (Linux; same as process_resident_memory_bytes)",
    ),
    ("patientgen_build_info", "Always 1; the label 'version' is the running version"),
];

/// `# HELP` (and unit) of every metric.
fn describe() {
    for &(name, help) in NAMES {
        let unit = if name.ends_with("_seconds") {
            Some(Unit::Seconds)
        } else if name.ends_with("_bytes") {
            Some(Unit::Bytes)
        } else {
            None
        };
        let kind = kind_of(name);
        match (kind, unit) {
            (Kind::Counter, _) => describe_counter!(name, help),
            (Kind::Gauge, Some(u)) => describe_gauge!(name, u, help),
            (Kind::Gauge, None) => describe_gauge!(name, help),
            (Kind::Histogram, Some(u)) => describe_histogram!(name, u, help),
            (Kind::Histogram, None) => describe_histogram!(name, help),
        }
    }
    PROCESS.describe();
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

fn kind_of(name: &str) -> Kind {
    if name.ends_with("_total") {
        Kind::Counter
    } else if matches!(
        name,
        "api_request_duration_seconds" | "job_execution_seconds" | "db_pool_acquire_seconds"
    ) {
        Kind::Histogram
    } else {
        Kind::Gauge
    }
}

/// Updates the process figures (CPU, memory, file descriptors, threads).
pub fn collect_process() {
    PROCESS.collect();
}

/// The `method` label: the standard methods, anything else as `other` (a
/// client can send any token as a method).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "other",
    }
}

/// The route template of a request (`/api/v1/jobs/{job_id}`), or
/// [`UNMATCHED`]: never the raw path, so labels stay bounded.
pub fn route_of(request: &Request) -> String {
    request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| UNMATCHED.to_string(), |p| p.as_str().to_string())
}

/// Records every request and adds upstream's `X-Response-Time` header.
pub async fn track(request: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = method_label(request.method());
    let endpoint = route_of(&request);
    let mut response = next.run(request).await;
    let elapsed = start.elapsed();
    if endpoint != "/metrics" {
        let status = response.status().as_u16().to_string();
        metrics::counter!("api_requests_total", "method" => method, "endpoint" => endpoint.clone(), "status" => status)
            .increment(1);
        metrics::histogram!("api_request_duration_seconds", "endpoint" => endpoint, "method" => method)
            .record(elapsed.as_secs_f64());
    }
    if let Ok(v) = HeaderValue::from_str(&format!("{:.2}ms", elapsed.as_secs_f64() * 1000.0)) {
        response.headers_mut().insert("x-response-time", v);
    }
    response
}

/// Counts an authentication outcome by status code.
pub fn auth_outcome(status: u16) {
    let outcome = match status {
        200 => "accepted",
        401 => "rejected",
        _ => "error",
    };
    metrics::counter!("auth_requests_total", "outcome" => outcome).increment(1);
}

/// The `key_type` label: `admin` (admin scope), `demo` or `live`.
pub fn key_type(key: &ApiKeyRecord) -> &'static str {
    if key.has_scope(Scope::Admin) {
        "admin"
    } else if key.is_demo {
        "demo"
    } else {
        "live"
    }
}

/// Counts one rate-limit decision. `limit` is the limit that refused
/// (`requests_per_minute`, …, `patients_per_day`) or, when allowed, the check
/// that passed (`requests` or `patients_per_day`).
pub fn rate_limit_decision(key: &ApiKeyRecord, allowed: bool, limit: &'static str) {
    let outcome = if allowed { "allowed" } else { "limited" };
    metrics::counter!("rate_limit_decisions_total", "outcome" => outcome, "key_type" => key_type(key), "limit" => limit)
        .increment(1);
}

/// Counts a job status change.
pub fn job_transition(from: &str, to: &str) {
    metrics::counter!("job_status_changes_total", "from_status" => from.to_string(), "to_status" => to.to_string())
        .increment(1);
}

/// Counts patients generated in `format` by `source` (`job` or `stream`).
pub fn patients_generated(format: &'static str, source: &'static str, patients: u64) {
    metrics::counter!("patients_generated_total", "format" => format, "source" => source).increment(patients);
}

/// Registers the worker pool's size; [`WorkerBusy`] counts the busy ones.
pub fn worker_pool_started(workers: usize) {
    metrics::gauge!("worker_pool_size").increment(workers as f64);
    // Present (at 0) before the first job.
    metrics::gauge!("worker_pool_busy").increment(0.0);
}

/// The worker pool stopped.
pub fn worker_pool_stopped(workers: usize) {
    metrics::gauge!("worker_pool_size").decrement(workers as f64);
}

/// A worker busy with a job, for as long as this lives.
pub struct WorkerBusy(());

impl WorkerBusy {
    /// Marks one more worker busy.
    pub fn start() -> Self {
        metrics::gauge!("worker_pool_busy").increment(1.0);
        Self(())
    }
}

impl Drop for WorkerBusy {
    fn drop(&mut self) {
        metrics::gauge!("worker_pool_busy").decrement(1.0);
    }
}
