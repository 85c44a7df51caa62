//! `POST /api/v1/generation/`: check the request, resolve the scenario, store a
//! pending job and wake a worker.

use crate::admission::admit_patients;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::job_request::JobRequest;
use crate::models::{ErrorResponse, GenerationRequest, GenerationResponse};
use crate::scenario_source::resolve_scenario;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use patientgen_storage::Scope;

/// Starts a generation job.
#[utoipa::path(post, path = "/api/v1/generation/", tag = "generation", request_body = GenerationRequest,
    responses(
        (status = 201, description = "Job created", body = GenerationResponse),
        (status = 400, description = "More patients than the key allows", body = ErrorResponse),
        (status = 401, description = "No or bad key", body = ErrorResponse),
        (status = 404, description = "Unknown configuration_id", body = ErrorResponse),
        (status = 422, description = "Invalid request; detail names the field", body = ErrorResponse)),
    security(("api_key" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<GenerationRequest>,
) -> Result<(StatusCode, Json<GenerationResponse>), ApiError> {
    caller.require(Scope::Generate)?;
    let request = JobRequest::try_from((body, state.config.max_patients_per_job))?;
    let (config, scenario) =
        resolve_scenario(&state, &caller, &request.source, request.total_patients).await?;
    // On failure the charge is dropped, which gives the patients back.
    let warnings = super::configurations::warning_texts(&config);
    let charge = admit_patients(&state, &caller, scenario.total_patients).await?;
    let encryption_key = match &request.password {
        Some(password) => Some(derive_key(&state, password.clone()).await?),
        None => None,
    };
    let formats = request.formats.len();
    let job_id = uuid::Uuid::new_v4().to_string();
    let job = request.into_job(job_id.clone(), caller.key_id(), config, &scenario, encryption_key);
    state.store.insert_job(&job, state.clock.now()).await?;
    state.job_views.created(Some(caller.key_id()));
    charge.commit();
    crate::metrics::job_transition("none", "pending");
    state.wake_workers.notify_waiters();
    // ~100,000 patients/s for a job on this class of machine, plus packaging.
    let estimated = (u64::from(scenario.total_patients) / 100_000 + 2) * formats.max(1) as u64;
    Ok((
        StatusCode::CREATED,
        Json(GenerationResponse {
            message: format!("Patient generation job '{job_id}' created successfully"),
            job_id,
            status: "pending".into(),
            estimated_duration: estimated.min(3600),
            warnings,
        }),
    ))
}

/// The job's encryption key, derived from the password (PBKDF2, on a blocking
/// thread), as hex: the password itself is never stored.
async fn derive_key(state: &AppState, password: secrecy::SecretString) -> Result<String, ApiError> {
    let iterations = state.config.encryption_iterations;
    tokio::task::spawn_blocking(move || {
        patientgen_crypto::DerivedKey::derive(
            secrecy::ExposeSecret::expose_secret(&password).as_bytes(),
            iterations,
        )
    })
    .await
    .map_err(|e| ApiError::internal_logged("key derivation crashed", e))?
    .map(|key| key.to_hex())
    .map_err(|e| ApiError::internal_logged("key derivation failed", e))
}
