//! Jobs: list, get, paged results, cancel, delete — scoped to the calling key
//! (admins see all; other keys' jobs answer 404).

use crate::auth::Caller;
use crate::clock::rfc3339;
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::job_views::JobView;
use crate::jobs::job_scenario;
use crate::models::{DeleteResponse, ErrorResponse, JobFileInfo, JobResponse, ProgressDetails, ResultsPage};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use patientgen_core::Generator;
use patientgen_output::Format;
use patientgen_storage::Scope;
use patientgen_storage::{JobFile, JobRecord, JobStatus};
use serde::Deserialize;
use std::time::Duration;

/// Builds upstream's `JobResponse` (plus files and attempts) as of `now`.
pub fn job_response(job: &JobRecord, files: &[JobFile], now: DateTime<Utc>) -> Result<JobResponse, ApiError> {
    let status = job.status;
    let progress_details = (status == JobStatus::Running).then(|| {
        let step = match job.phase.as_deref() {
            Some("packaging") => 2,
            Some("storing") => 3,
            _ => 1,
        };
        let rate = job
            .started_at
            .map(|s| (now - s).num_milliseconds().max(1) as f64 / 1000.0)
            .map(|secs| job.patients_done as f64 / secs);
        ProgressDetails {
            current_step: job.phase.clone().unwrap_or_else(|| "running".into()),
            total_steps: 3,
            completed_steps: step - 1,
            patients_generated: job.patients_done,
            estimated_remaining_time: rate.filter(|r| *r > 0.0).map(|r| {
                ((f64::from(job.total_patients) - job.patients_done as f64).max(0.0) / r * 10.0).round()
                    / 10.0
            }),
        }
    });
    let summary = match &job.summary {
        Some(summary) => Some(
            serde_json::to_value(summary)
                .map_err(|e| ApiError::internal_logged("job summary unwritable", e))?,
        ),
        None => None,
    };
    Ok(JobResponse {
        job_id: job.job_id.clone(),
        status: job.status.to_string(),
        created_at: rfc3339(job.created_at),
        progress: job.progress,
        config: job.config.clone(),
        completed_at: job.completed_at.map(rfc3339),
        error: job.error.clone(),
        output_files: if status == JobStatus::Completed { job.options.file_names() } else { Vec::new() },
        progress_details,
        summary,
        // Only a completed job's files are its output (a job cancelled while
        // storing may have some).
        files: files
            .iter()
            .filter(|_| status == JobStatus::Completed)
            .map(|f| JobFileInfo {
                name: f.name.clone(),
                format: f.format.clone(),
                bytes: f.bytes,
                sha256: f.sha256.clone(),
            })
            .collect(),
        started_at: job.started_at.map(rfc3339),
        attempts: job.attempts,
    })
}

pub(crate) fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Job {id} not found"))
}

/// A job the caller may see.
pub async fn visible_job(state: &AppState, caller: &Caller, id: &str) -> Result<JobRecord, ApiError> {
    state.store.get_job(id, caller.owner_filter()).await?.ok_or_else(|| not_found(id))
}

/// Lists the caller's jobs (all jobs for admins), oldest first.
#[utoipa::path(get, path = "/api/v1/jobs/", tag = "jobs",
    responses((status = 200, description = "Jobs", body = Vec<JobResponse>), (status = 401, description = "No or bad key", body = ErrorResponse)),
    security(("api_key" = [])))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.require(Scope::Read)?;
    let owner = caller.owner_filter();
    if let Some(body) = state.job_views.list(owner) {
        return Ok(json_body(body));
    }
    let generation = state.job_views.generation();
    let jobs = state.store.list_jobs_with_files(owner, 1000).await?;
    let now = state.clock.now();
    let list =
        jobs.iter().map(|(job, files)| job_response(job, files, now)).collect::<Result<Vec<_>, _>>()?;
    let body = to_body(&list)?;
    // A list of ended jobs changes only when a job is created or deleted.
    if jobs.iter().all(|(job, _)| job.status.is_terminal()) {
        state.job_views.keep_list(owner, generation, body.clone());
    }
    Ok(json_body(body))
}

/// A JSON body as axum's `Json` writes it.
fn to_body<T: serde::Serialize>(value: &T) -> Result<Bytes, ApiError> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(|e| ApiError::internal_logged("job view unwritable", e))
}

fn json_body(body: Bytes) -> Response {
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
}

/// One job with its progress and summary.
#[utoipa::path(get, path = "/api/v1/jobs/{job_id}", tag = "jobs",
    params(("job_id" = String, Path, description = "Job id")),
    responses((status = 200, description = "Job", body = JobResponse), (status = 404, description = "Unknown (or another key's) job", body = ErrorResponse)),
    security(("api_key" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(job_id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Read)?;
    if let Some(view) = state.job_views.job(&job_id) {
        if caller.is_admin() || view.owner.as_deref() == Some(caller.key_id()) {
            return Ok(json_body(view.body));
        }
        return Err(not_found(&job_id));
    }
    let generation = state.job_views.generation();
    let job = visible_job(&state, &caller, &job_id).await?;
    let files = if job.status == JobStatus::Completed {
        state.store.job_files(&job.job_id).await?
    } else {
        Vec::new()
    };
    let body = to_body(&job_response(&job, &files, state.clock.now())?)?;
    // An ended job does not change any more (until it is deleted).
    if job.status.is_terminal() {
        let view = JobView { owner: job.owner_key_id.clone(), body: body.clone() };
        state.job_views.keep_job(&job.job_id, generation, view);
    }
    Ok(json_body(body))
}

/// Paging of results.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct PageQuery {
    /// Page number, from 1.
    #[param(minimum = 1)]
    pub page: Option<i64>,
    /// Patients per page, 1–500.
    #[param(minimum = 1, maximum = 500)]
    pub per_page: Option<i64>,
}

/// Whether a job's patients may be served in plain JSON: the client asked for
/// JSON and not for encryption.
pub fn plain_json_allowed(job: &JobRecord) -> bool {
    job.options.output_formats.contains(&Format::Json) && !job.options.use_encryption
}

/// Builds patients `[from, from + count)` of a completed job again: generation
/// is deterministic, so these are the bytes of its `patients.json`.
pub async fn regenerate(job: &JobRecord, from: u64, count: u64) -> Result<Vec<u8>, ApiError> {
    if job.generator_version != patientgen_core::VERSION {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "Job {} was generated by patientgen {}; this server ({}) cannot page it. Download its files instead.",
                job.job_id,
                job.generator_version,
                patientgen_core::VERSION
            ),
        ));
    }
    let scenario = job_scenario(job)
        .map_err(|e| ApiError::internal_logged("a completed job's scenario is invalid", e))?;
    tokio::task::spawn_blocking(move || {
        let generator = Generator::new(&scenario);
        let mut out = Vec::with_capacity(count as usize * 2600);
        out.push(b'[');
        for (i, slot) in generator.plan().skip(from as usize).take(count as usize).enumerate() {
            if i > 0 {
                out.push(b',');
            }
            patientgen_output::encode::write_patient(&generator.patient(&slot), &mut out);
        }
        out.push(b']');
        out
    })
    .await
    .map_err(|e| ApiError::internal_logged("regenerating patients crashed", e))
}

/// A page of a completed job's patients.
#[utoipa::path(get, path = "/api/v1/jobs/{job_id}/results", tag = "jobs",
    params(("job_id" = String, Path, description = "Job id"), PageQuery),
    responses(
        (status = 200, description = "Patients", body = ResultsPage),
        (status = 400, description = "Job not completed", body = ErrorResponse),
        (status = 404, description = "Unknown job or no JSON output", body = ErrorResponse),
        (status = 409, description = "The job was made by another patientgen version: download its files instead", body = ErrorResponse),
        (status = 422, description = "Bad page", body = ErrorResponse)),
    security(("api_key" = [])))]
pub async fn results(
    State(state): State<AppState>,
    caller: Caller,
    Path(job_id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Read)?;
    let page = q.page.unwrap_or(1);
    let per_page = q.per_page.unwrap_or(50);
    if page < 1 {
        return Err(ApiError::unprocessable("query -> page: Input should be greater than or equal to 1"));
    }
    if !(1..=500).contains(&per_page) {
        return Err(ApiError::unprocessable(if per_page < 1 {
            "query -> per_page: Input should be greater than or equal to 1"
        } else {
            "query -> per_page: Input should be less than or equal to 500"
        }));
    }
    let job = visible_job(&state, &caller, &job_id).await?;
    if job.status != JobStatus::Completed {
        return Err(ApiError::bad_request(format!(
            "Job {job_id} is not completed yet. Current status: {}",
            job.status
        )));
    }
    if !plain_json_allowed(&job) {
        return Err(ApiError::not_found(
            "No JSON results file found. Job may have been generated without JSON output format.",
        ));
    }
    let total = u64::try_from(job.total_patients).unwrap_or(0);
    let (page, per_page) = (page as u64, per_page as u64);
    let from = (page - 1).saturating_mul(per_page);
    let patients =
        if from < total { regenerate(&job, from, per_page.min(total - from)).await? } else { b"[]".to_vec() };
    let head = serde_json::json!({
        "job_id": job.job_id, "total": total, "page": page, "per_page": per_page, "total_pages": total.div_ceil(per_page),
    });
    let mut body =
        serde_json::to_vec(&head).map_err(|e| ApiError::internal_logged("page head unwritable", e))?;
    body.pop();
    body.extend_from_slice(b",\"patients\":");
    body.extend_from_slice(&patients);
    body.push(b'}');
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// Cancels a pending or running job; generation stops within a second.
#[utoipa::path(post, path = "/api/v1/jobs/{job_id}/cancel", tag = "jobs",
    params(("job_id" = String, Path, description = "Job id")),
    responses(
        (status = 200, description = "Cancelled", body = JobResponse),
        (status = 400, description = "Already finished", body = ErrorResponse),
        (status = 404, description = "Unknown job", body = ErrorResponse)),
    security(("api_key" = [])))]
pub async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(job_id): Path<String>,
) -> Result<Json<JobResponse>, ApiError> {
    caller.require(Scope::Generate)?;
    let job = visible_job(&state, &caller, &job_id).await?;
    if job.status.is_terminal() {
        return Err(ApiError::bad_request(format!("Cannot cancel job {job_id} with status {}", job.status)));
    }
    let mut job = state
        .store
        .cancel_job(&job_id, caller.owner_filter(), state.clock.now())
        .await?
        .ok_or_else(|| not_found(&job_id))?;
    // A running job stops at its worker's next check (≤ 250 ms); wait for it briefly.
    let deadline = tokio::time::Instant::now() + Duration::from_millis(1500);
    while job.status == JobStatus::Running && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        job = state.store.get_job(&job_id, caller.owner_filter()).await?.ok_or_else(|| not_found(&job_id))?;
    }
    Ok(Json(job_response(&job, &[], state.clock.now())?))
}

/// Deletes a job and its files (a running job stops within a second).
#[utoipa::path(delete, path = "/api/v1/jobs/{job_id}", tag = "jobs",
    params(("job_id" = String, Path, description = "Job id")),
    responses((status = 200, description = "Deleted", body = DeleteResponse), (status = 404, description = "Unknown job", body = ErrorResponse)),
    security(("api_key" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(job_id): Path<String>,
) -> Result<Json<DeleteResponse>, ApiError> {
    caller.require(Scope::Generate)?;
    // A running job's worker finds its row gone at the next heartbeat and stops.
    if !state.store.delete_job(&job_id, caller.owner_filter()).await? {
        return Err(not_found(&job_id));
    }
    state.job_views.deleted(&job_id);
    state.artifacts.remove_job(&job_id).await?;
    Ok(Json(DeleteResponse {
        success: true,
        message: "Job deleted successfully".into(),
        deleted_id: job_id,
        timestamp: rfc3339(state.clock.now()),
    }))
}
