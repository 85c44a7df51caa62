//! Visualisation data: dashboard aggregates from job summaries, single patients
//! and patient summaries (rebuilt deterministically from the job's seed).

use super::jobs::{plain_json_allowed, regenerate};
use crate::auth::Caller;
use crate::clock::rfc3339;
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::models::{ErrorResponse, VisualizationResponse};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use patientgen_core::model::Role;
use patientgen_storage::Scope;
use patientgen_storage::{JobRecord, JobStatus, JobSummary};
use serde::Deserialize;
use serde_json::{Value, json};

/// `?job_id=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct JobQuery {
    /// Job id (default: the latest completed job).
    pub job_id: Option<String>,
}

/// `?job_id=&limit=` of sample-patients.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SampleQuery {
    /// Job id (default: the latest completed job).
    pub job_id: Option<String>,
    /// Patients to return (1–100, default 10).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

fn short(role: &str) -> &str {
    match Role::parse(role) {
        Some(r) => r.short_id(),
        None => role,
    }
}

fn response(state: &AppState, data: Value, metadata: Value) -> VisualizationResponse {
    VisualizationResponse { data, metadata, generated_at: rfc3339(state.clock.now()), cache_expires_at: None }
}

/// Upstream's dashboard shape from a job summary.
fn dashboard(summary: &JobSummary) -> Value {
    let count = |map: &std::collections::BTreeMap<String, u64>, key: &str| map.get(key).copied().unwrap_or(0);
    let total = summary.total_patients;
    let outcomes = &summary.outcomes;
    let kia = count(outcomes, "KIA") + count(outcomes, "DOW");
    let rtd = count(outcomes, "RTD");
    let pct = |n: u64, of: u64| if of == 0 { 0.0 } else { (n as f64 * 1000.0 / of as f64).round() / 10.0 };
    let mut nodes: Vec<Value> =
        Role::ALL.iter().map(|r| json!({ "id": r.short_id(), "name": r.short_id() })).collect();
    nodes.push(json!({ "id": "RTD", "name": "RTD" }));
    nodes.push(json!({ "id": "KIA", "name": "KIA" }));
    let mut links: Vec<Value> = Vec::new();
    for f in &summary.flows {
        links.push(json!({ "source": short(&f.from), "target": short(&f.to), "value": f.count }));
    }
    let no_outcomes = std::collections::BTreeMap::new();
    let mut stats = serde_json::Map::new();
    for role in Role::ALL {
        let (id, role) = (role.short_id(), role.as_str());
        let ended = summary.outcomes_by_facility.get(role).unwrap_or(&no_outcomes);
        let reached = summary.facilities_reached.get(role).map_or(0, |s| s.count);
        let dead = count(ended, "KIA") + count(ended, "DOW");
        let back = count(ended, "RTD");
        let stayed = count(ended, "REMAINS_ROLE4");
        let onward = reached.saturating_sub(dead + back + stayed);
        if dead > 0 {
            links.push(json!({ "source": id, "target": "KIA", "value": dead }));
        }
        if back > 0 {
            links.push(json!({ "source": id, "target": "RTD", "value": back }));
        }
        stats.insert(id.into(), json!({
            "total": reached, "to_kia": dead, "to_rtd": back, "to_next": onward, "remaining": stayed,
            "kia_percent": pct(dead, reached), "rtd_percent": pct(back, reached), "next_percent": pct(onward, reached),
        }));
    }
    json!({
        "summary": { "total_patients": total, "total_kia": kia, "total_rtd": rtd, "kia_percent": pct(kia, total), "rtd_percent": pct(rtd, total) },
        "patient_flow": { "nodes": nodes, "links": links },
        "facility_stats": stats,
    })
}

/// The completed job `job_id` visible to the caller (`None` when there is no
/// such job), or the caller's latest completed job.
async fn completed_job(
    state: &AppState,
    caller: &Caller,
    job_id: Option<&str>,
) -> Result<Option<JobRecord>, ApiError> {
    Ok(match job_id {
        Some(id) => {
            state.store.get_job(id, caller.owner_filter()).await?.filter(|j| j.status == JobStatus::Completed)
        }
        None => state.store.latest_completed_job(caller.owner_filter()).await?,
    })
}

/// [`completed_job`], where a named job that is not there is a 404.
async fn chosen_job(
    state: &AppState,
    caller: &Caller,
    job_id: Option<&str>,
) -> Result<Option<JobRecord>, ApiError> {
    match (completed_job(state, caller, job_id).await?, job_id) {
        (None, Some(id)) => Err(ApiError::not_found(format!("Job {id} not found or not completed"))),
        (job, _) => Ok(job),
    }
}

/// Aggregates of a completed job (default: the latest).
#[utoipa::path(get, path = "/api/v1/visualizations/dashboard-data", tag = "visualizations", params(JobQuery),
    responses((status = 200, description = "Dashboard data", body = VisualizationResponse), (status = 404, description = "Unknown job", body = ErrorResponse)),
    security(("api_key" = [])))]
pub async fn dashboard_data(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<JobQuery>,
) -> Result<Json<VisualizationResponse>, ApiError> {
    caller.require(Scope::Read)?;
    let job = chosen_job(&state, &caller, q.job_id.as_deref()).await?;
    let completed = state.store.count_completed_jobs(caller.owner_filter()).await?;
    Ok(Json(match job {
        Some(job) => {
            let Some(summary) = &job.summary else {
                return Err(ApiError::internal_logged("a completed job has no summary", &job.job_id));
            };
            response(
                &state,
                dashboard(summary),
                json!({ "job_id": job.job_id, "total_completed_jobs": completed, "data_source": "completed_job", "completed_at": job.completed_at.map(rfc3339) }),
            )
        }
        None => response(
            &state,
            json!({ "summary": { "total_patients": 0, "rtd_count": 0, "kia_count": 0, "evacuated_count": 0 },
                    "front_distribution": [], "nationality_distribution": [], "injury_distribution": [],
                    "flow_data": { "nodes": [], "links": [] }, "timeline_data": [], "facility_load": [] }),
            json!({ "job_id": null, "total_completed_jobs": 0, "data_source": "empty" }),
        ),
    }))
}

/// One patient of a completed job.
#[utoipa::path(get, path = "/api/v1/visualizations/patient-detail/{patient_id}", tag = "visualizations",
    params(("patient_id" = String, Path, description = "Patient id"), JobQuery),
    responses((status = 200, description = "The patient record", body = VisualizationResponse), (status = 404, description = "Not found", body = ErrorResponse),
        (status = 409, description = "The job was made by another patientgen version", body = ErrorResponse)),
    security(("api_key" = [])))]
pub async fn patient_detail(
    State(state): State<AppState>,
    caller: Caller,
    Path(patient_id): Path<String>,
    Query(q): Query<JobQuery>,
) -> Result<Json<VisualizationResponse>, ApiError> {
    caller.require(Scope::Read)?;
    let missing =
        || ApiError::not_found(format!("Patient {patient_id} not found. Ensure job_id is provided."));
    let job_id = q.job_id.as_deref().ok_or_else(missing)?;
    let job = completed_job(&state, &caller, Some(job_id)).await?.ok_or_else(missing)?;
    let index: u64 = patient_id.trim().parse().map_err(|_| missing())?;
    if !plain_json_allowed(&job) || index >= u64::try_from(job.total_patients).unwrap_or(0) {
        return Err(missing());
    }
    let bytes = regenerate(&job, index, 1).await?;
    let mut list: Vec<Value> = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::internal_logged("regenerated patient unreadable", e))?;
    let patient = list.pop().ok_or_else(missing)?;
    Ok(Json(response(
        &state,
        patient,
        json!({ "patient_id": patient_id, "job_id": job.job_id, "data_source": "generated_file" }),
    )))
}

/// Summaries of the first patients of a completed job.
#[utoipa::path(get, path = "/api/v1/visualizations/sample-patients", tag = "visualizations", params(SampleQuery),
    responses((status = 200, description = "Patient summaries", body = VisualizationResponse),
        (status = 409, description = "The job was made by another patientgen version", body = ErrorResponse),
        (status = 422, description = "Bad limit", body = ErrorResponse)),
    security(("api_key" = [])))]
pub async fn sample_patients(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<SampleQuery>,
) -> Result<Json<VisualizationResponse>, ApiError> {
    caller.require(Scope::Read)?;
    let limit = q.limit.unwrap_or(10);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::unprocessable("query -> limit: Input should be between 1 and 100"));
    }
    let job = completed_job(&state, &caller, q.job_id.as_deref()).await?;
    let Some(job) = job.filter(plain_json_allowed) else {
        return Ok(Json(response(
            &state,
            json!({ "patients": [] }),
            json!({ "job_id": q.job_id, "requested_limit": limit, "actual_count": 0, "data_source": "no_data" }),
        )));
    };
    let n = (limit as u64).min(u64::try_from(job.total_patients).unwrap_or(0));
    let bytes = regenerate(&job, 0, n).await?;
    let list: Vec<Value> = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::internal_logged("regenerated patients unreadable", e))?;
    let patients: Vec<Value> = list
        .iter()
        .map(|p| {
            let d = &p["demographics"];
            json!({
                "id": p["id"],
                "name": format!("{} {}", d["given_name"].as_str().unwrap_or(""), d["family_name"].as_str().unwrap_or("")),
                "nationality": p["nationality"], "age": d["age"], "gender": p["gender"], "injury_type": p["injury_type"],
                "triage_category": p["triage_category"], "final_status": p["final_status"], "front": p["front"], "day_of_injury": p["day"],
            })
        })
        .collect();
    Ok(Json(response(
        &state,
        json!({ "patients": patients }),
        json!({ "job_id": job.job_id, "requested_limit": limit, "actual_count": patients.len(), "data_source": "generated_file" }),
    )))
}
