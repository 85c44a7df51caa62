//! Health, readiness, metrics, the front-end configuration and the UI redirect.

use crate::clock::rfc3339;
use crate::envelope::DocumentedBody;
use crate::error::ApiError;
use crate::models::{FrontendConfig, HealthErrorResponse, HealthReport, StatusBody};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use serde_json::json;

/// `GET /`: upstream's UI location.
pub async fn root() -> Redirect {
    Redirect::temporary("/static/index.html")
}

/// A health body with its status code, never wrapped in the error envelope.
fn health_response(code: StatusCode, body: impl serde::Serialize) -> Response {
    (code, Extension(DocumentedBody), Json(body)).into_response()
}

/// Simple health (upstream's `/health`): `healthy`; `degraded` (200) while
/// Redis is unreachable (limits are then per instance, requests still
/// served); `unhealthy` (503) while the database is unreachable. Redis is
/// probed in the background, so this reflects it without any traffic.
#[utoipa::path(get, path = "/health", tag = "health", responses((status = 200, description = "Service health", body = StatusBody), (status = 503, description = "Database unreachable", body = StatusBody)))]
pub async fn health(State(state): State<AppState>) -> Response {
    let database = state.store.ping().await.is_ok();
    let limiter = state.limiter.status();
    let mut services = json!({ "database": database });
    if limiter.backend == "redis" {
        services["redis"] = json!(!limiter.degraded);
    }
    let (code, status) = match (database, limiter.degraded) {
        (false, _) => (StatusCode::SERVICE_UNAVAILABLE, "unhealthy"),
        (true, true) => (StatusCode::OK, "degraded"),
        (true, false) => (StatusCode::OK, "healthy"),
    };
    health_response(code, StatusBody { status: status.into(), services: Some(services), error: None })
}

/// Upstream's `/ready`, now meaningful: the database answers and is migrated.
#[utoipa::path(get, path = "/ready", tag = "health", responses((status = 200, description = "Ready", body = StatusBody), (status = 503, description = "Not ready", body = StatusBody)))]
pub async fn ready(State(state): State<AppState>) -> Response {
    readiness(&state).await
}

async fn readiness(state: &AppState) -> Response {
    let check = async {
        state.store.ping().await.map_err(|e| e.to_string())?;
        let applied = state.store.applied_migrations().await.map_err(|e| e.to_string())?;
        if applied.len() < state.store.known_migrations() {
            return Err(format!(
                "{} of {} migrations applied",
                applied.len(),
                state.store.known_migrations()
            ));
        }
        Ok::<(), String>(())
    };
    match check.await {
        Ok(()) => Json(StatusBody { status: "ready".into(), services: None, error: None }).into_response(),
        Err(e) => health_response(
            StatusCode::SERVICE_UNAVAILABLE,
            StatusBody { status: "not_ready".into(), services: None, error: Some(e) },
        ),
    }
}

/// Liveness: the process answers (no database access).
#[utoipa::path(get, path = "/api/v1/health/live", tag = "health", responses((status = 200, description = "Alive", body = StatusBody)))]
pub async fn live() -> Json<StatusBody> {
    Json(StatusBody { status: "alive".into(), services: None, error: None })
}

/// Readiness: database reachable and migrated.
#[utoipa::path(get, path = "/api/v1/health/ready", tag = "health", responses((status = 200, description = "Ready", body = StatusBody), (status = 503, description = "Not ready", body = StatusBody)))]
pub async fn api_ready(State(state): State<AppState>) -> Response {
    readiness(&state).await
}

fn pool_json(state: &AppState) -> serde_json::Value {
    let (size, idle) = state.store.pool_stats();
    json!({ "size": state.store.pool_max(), "open": size, "available": idle, "in_use": (size as usize).saturating_sub(idle) })
}

/// Full health report.
#[utoipa::path(get, path = "/api/v1/health", tag = "health", responses((status = 200, description = "Healthy", body = HealthReport), (status = 503, description = "Unhealthy", body = HealthReport)))]
pub async fn full(State(state): State<AppState>) -> Response {
    let database = match state.store.ping().await {
        Ok(()) => json!({ "status": "healthy", "backend": state.store.kind(), "pool": pool_json(&state) }),
        Err(e) => json!({ "status": "unhealthy", "backend": state.store.kind(), "error": e.to_string() }),
    };
    let healthy = database["status"] == "healthy";
    let limiter = state.limiter.status();
    let checks = json!({
        "api": { "status": "healthy", "version": patientgen_core::VERSION, "uptime_seconds": state.started.elapsed().as_secs() },
        "database": database,
        "job_worker": { "status": "healthy", "workers": state.config.workers, "instance": state.config.instance_id },
        "rate_limiter": {
            "status": if limiter.degraded { "degraded" } else { "healthy" },
            "backend": limiter.backend,
            "shared_between_instances": limiter.backend == "redis" && !limiter.degraded,
        },
    });
    let status = match (healthy, limiter.degraded) {
        (false, _) => "unhealthy",
        (true, true) => "degraded",
        (true, false) => "healthy",
    };
    let report = HealthReport { status: status.into(), timestamp: rfc3339(state.clock.now()), checks };
    let code = if healthy { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    health_response(code, report)
}

/// Database and pool details (no credentials).
#[utoipa::path(get, path = "/api/v1/health/database", tag = "health", responses((status = 200, description = "Database healthy", body = Object), (status = 503, description = "Database unhealthy: the envelope with an object `detail`", body = HealthErrorResponse)))]
pub async fn database(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    match state.store.server_version().await {
        Ok(version) => {
            let migrations = state.store.applied_migrations().await.map(|m| m.len()).unwrap_or(0);
            Ok(Json(json!({
                "status": "healthy",
                "database": { "backend": state.store.kind(), "version": version, "migrations_applied": migrations },
                "pool": pool_json(&state),
            })))
        }
        Err(e) => Err(ApiError::with_detail(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "status": "unhealthy", "error": e.to_string() }),
        )),
    }
}

/// Pool and process figures as JSON.
#[utoipa::path(get, path = "/api/v1/health/metrics", tag = "health", responses((status = 200, description = "Figures", body = Object)))]
pub async fn health_metrics(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(json!({
        "database": pool_json(&state),
        "process": { "uptime_seconds": state.started.elapsed().as_secs(), "resident_memory_bytes": resident_memory_bytes() },
    }))
}

/// Resident memory of this process (Linux), for the health report.
pub fn resident_memory_bytes() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb * 1024)
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// Prometheus exposition.
#[utoipa::path(get, path = "/metrics", tag = "health", responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    refresh_gauges(&state).await;
    (
        [
            (header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache, no-store, must-revalidate"),
        ],
        state.metrics.render(),
    )
        .into_response()
}

async fn refresh_gauges(state: &AppState) {
    let (size, idle) = state.store.pool_stats();
    metrics::gauge!("db_pool_size").set(f64::from(size));
    metrics::gauge!("db_pool_idle").set(idle as f64);
    metrics::gauge!("db_connections_active").set(size.saturating_sub(idle as u32) as f64);
    metrics::gauge!("db_pool_max").set(f64::from(state.store.pool_max()));
    if let Ok(counts) = state.store.job_counts().await {
        for status in ["pending", "running", "completed", "failed", "cancelled"] {
            let n = counts.iter().find(|(s, _)| s == status).map_or(0, |(_, n)| *n);
            metrics::gauge!("job_queue_size", "status" => status).set(n as f64);
        }
    }
    if let Ok(oldest) = state.store.oldest_pending_job_at().await {
        let age = oldest.map_or(0.0, |t| (state.clock.now() - t).num_milliseconds().max(0) as f64 / 1000.0);
        metrics::gauge!("job_queue_oldest_pending_age_seconds").set(age);
    }
    if let Some(rss) = resident_memory_bytes() {
        metrics::gauge!("process_memory_usage_bytes", "type" => "rss").set(rss as f64);
    }
    crate::metrics::collect_process();
}

/// Upstream's front-end configuration. It never returns a secret: `apiKey` is
/// the public demo key when that is enabled, else null.
#[utoipa::path(get, path = "/api/v1/config/frontend", tag = "system", responses((status = 200, description = "Front-end settings", body = FrontendConfig)))]
pub async fn frontend(State(state): State<AppState>) -> Json<FrontendConfig> {
    Json(FrontendConfig {
        api_key: state.config.demo_key.then(|| crate::config::DEMO_KEY.to_string()),
        app_name: "Military Medical Exercise Patient Generator".into(),
        version: patientgen_core::VERSION.into(),
        debug: false,
    })
}
