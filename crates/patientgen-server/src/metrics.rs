//! Prometheus metrics: HTTP requests by route template (bounded labels), auth
//! outcomes, jobs, patients, database pool, build info. The recorder is
//! process-global and installed once.

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

/// Installs (once) and returns the Prometheus recorder.
pub fn install() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("api_request_duration_seconds".into()),
                    &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0],
                )
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full("job_execution_seconds".into()),
                        &[1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 600.0, 1800.0, 3600.0],
                    )
                });
            let recorder = match builder {
                Ok(b) => b.build_recorder(),
                Err(_) => PrometheusBuilder::new().build_recorder(),
            };
            let handle = recorder.handle();
            // Another recorder may already be installed in tests; ours still renders.
            let _ = metrics::set_global_recorder(recorder);
            metrics::gauge!("patientgen_build_info", "version" => patientgen_core::VERSION).set(1.0);
            handle
        })
        .clone()
}

/// Records every request and adds upstream's `X-Response-Time` header.
pub async fn track(request: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = request.method().as_str().to_string();
    let endpoint = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let mut response = next.run(request).await;
    let elapsed = start.elapsed();
    if endpoint != "/metrics" {
        let status = response.status().as_u16().to_string();
        metrics::counter!("api_requests_total", "method" => method.clone(), "endpoint" => endpoint.clone(), "status" => status)
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

/// Counts a job status change.
pub fn job_transition(from: &str, to: &str) {
    metrics::counter!("job_status_changes_total", "from_status" => from.to_string(), "to_status" => to.to_string())
        .increment(1);
}
