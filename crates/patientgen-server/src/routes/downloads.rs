//! `GET /api/v1/downloads/{job_id}`: the job's ZIP, or its patients as JSON.

use super::jobs::visible_job;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::models::ErrorResponse;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use patientgen_storage::JobStatus;
use patientgen_storage::Scope;
use serde::Deserialize;

/// `?format=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct DownloadQuery {
    /// `zip` (default), or one of the job's formats (`json`, `ndjson`, `csv`,
    /// `fhir`, `xml`) for that file alone.
    pub format: Option<String>,
}

/// Upstream's file name: the configuration name with only letters, digits,
/// space, `-` and `_`, then `_<job id>.zip`.
pub fn zip_file_name(name: &str, job_id: &str) -> String {
    let clean: String =
        name.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_')).collect();
    let clean = clean.trim();
    if clean.is_empty() { format!("patient_data_{job_id}.zip") } else { format!("{clean}_{job_id}.zip") }
}

/// Downloads a completed job.
#[utoipa::path(get, path = "/api/v1/downloads/{job_id}", tag = "downloads",
    params(("job_id" = String, Path, description = "Job id"), DownloadQuery),
    responses(
        (status = 200, description = "ZIP of the output files and manifest.json, or with ?format= one of the job's files (the patients as JSON with ?format=json)",
            content((String = "application/zip"), (Vec<Object> = "application/json"), (String = "application/x-ndjson"), (String = "text/csv"), (String = "application/fhir+ndjson"), (String = "application/xml"))),
        (status = 400, description = "Job not completed, or no output in that format", body = ErrorResponse),
        (status = 422, description = "Unknown format", body = ErrorResponse),
        (status = 404, description = "Unknown job", body = ErrorResponse)),
    security(("api_key" = [])))]
pub async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path(job_id): Path<String>,
    Query(q): Query<DownloadQuery>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Read)?;
    if let Some(other) = q.format.as_deref().filter(|f| !matches!(*f, "json" | "zip")) {
        super::download_entry::parse_format(other)?;
    }
    let job = visible_job(&state, &caller, &job_id).await?;
    if job.status != JobStatus::Completed {
        return Err(ApiError::bad_request(format!(
            "Job {job_id} is not completed yet. Current status: {}",
            job.status
        )));
    }
    if let Some(other) = q.format.as_deref().filter(|f| !matches!(*f, "json" | "zip")) {
        return super::download_entry::one_format(&state, &job, other).await;
    }
    let files = state.store.job_files(&job_id).await?;
    let want_json = q.format.as_deref() == Some("json");
    let name = if want_json { "patients.json" } else { "patients.zip" };
    let Some(file) = files.iter().find(|f| f.name == name) else {
        return Err(ApiError::bad_request(if want_json {
            "No JSON output file found for this job. Was the job generated with output_formats=['json']?"
                .to_string()
        } else {
            format!("Storage error: Output files not found for job {job_id}")
        }));
    };
    let stream = state.artifacts.open(&job_id, name).await?;
    let body = Body::from_stream(stream);
    let response = if want_json {
        ([(header::CONTENT_TYPE, "application/json".to_string())], body).into_response()
    } else {
        let title = job.options.name.as_str();
        (
            [
                (header::CONTENT_TYPE, "application/zip".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{}\"", zip_file_name(title, &job_id)),
                ),
                (header::CONTENT_LENGTH, file.bytes.to_string()),
            ],
            body,
        )
            .into_response()
    };
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_sanitised() {
        assert_eq!(zip_file_name("Baltic: day 1/2", "j"), "Baltic day 12_j.zip");
        assert_eq!(zip_file_name("***", "j"), "patient_data_j.zip");
    }
}
