//! `POST /api/v1/generation/`: validate the request, resolve the scenario, store a
//! pending job and wake a worker.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::jobs::JobOptions;
use crate::models::{ErrorResponse, GenerationRequest, GenerationResponse};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use patientgen_core::data::catalog;
use patientgen_core::scenario::ValidationOptions;
use patientgen_core::{Scenario, ScenarioConfig};
use patientgen_output::Format;
use patientgen_storage::NewJob;
use patientgen_storage::Scope;
use serde_json::{Map, Value};

/// Resolves and validates the scenario of a request body (inline or saved).
pub async fn resolve_scenario(
    state: &AppState,
    caller: &Caller,
    configuration_id: Option<&str>,
    configuration: Option<&Value>,
    total_patients: Option<i64>,
) -> Result<(ScenarioConfig, Scenario), ApiError> {
    let config = match (configuration_id, configuration) {
        (Some(id), None) => {
            let record = state
                .store
                .get_configuration(id, caller.owner_filter())
                .await?
                .ok_or_else(|| ApiError::not_found(format!("Configuration {id} not found")))?;
            super::configurations::scenario_of(&record).map_err(ApiError::unprocessable)?
        }
        (None, Some(v)) => ScenarioConfig::from_value(v.clone())
            .map_err(|e| ApiError::unprocessable(format!("configuration -> {e}")))?,
        _ => {
            return Err(ApiError::unprocessable("Either configuration_id or configuration must be provided"));
        }
    };
    let options =
        ValidationOptions { max_patients: state.config.max_patients_per_job, fallback_seed: rand::random() };
    config.with_overrides(total_patients, None).into_validated(catalog(), options).map_err(|e| {
        let parts: Vec<String> =
            e.0.iter().map(|f| format!("configuration -> {}: {}", f.field, f.message)).collect();
        ApiError::unprocessable(parts.join("; "))
    })
}

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
    JsonBody(req): JsonBody<GenerationRequest>,
) -> Result<(StatusCode, Json<GenerationResponse>), ApiError> {
    caller.require(Scope::Generate)?;
    let configuration = req.configuration.as_ref().filter(|v| v.as_object().is_none_or(|o| !o.is_empty()));
    if let Some(v) = configuration
        && !v.is_object()
    {
        return Err(ApiError::unprocessable("configuration: Input should be a valid dictionary"));
    }
    let configuration_id = req.configuration_id.as_deref();
    match (configuration_id, configuration) {
        (Some(""), _) => {
            return Err(ApiError::unprocessable("configuration_id: String should have at least 1 character"));
        }
        (Some(_), Some(_)) => {
            return Err(ApiError::unprocessable(
                "Provide either configuration_id or configuration, not both",
            ));
        }
        (None, None) => {
            return Err(ApiError::unprocessable("Either configuration_id or configuration must be provided"));
        }
        _ => {}
    }
    let max = i64::from(state.config.max_patients_per_job);
    match req.total_patients {
        Some(n) if n < 1 => {
            return Err(ApiError::unprocessable(
                "total_patients: Input should be greater than or equal to 1",
            ));
        }
        Some(n) if n > max => {
            return Err(ApiError::unprocessable(format!(
                "total_patients: Input should be less than or equal to {max}"
            )));
        }
        _ => {}
    }
    let formats = req.output_formats.clone().unwrap_or_else(|| vec!["json".into()]);
    if formats.is_empty() {
        return Err(ApiError::unprocessable(
            "output_formats: List should have at least 1 item after validation, not 0",
        ));
    }
    // Exact wire names only (the CLI's aliases such as `jsonl` are not accepted here).
    for f in &formats {
        if !Format::ALL.iter().any(|known| known.as_str() == f) {
            let valid: Vec<&str> = Format::ALL.iter().map(|k| k.as_str()).collect();
            return Err(ApiError::unprocessable(format!(
                "output_formats: Invalid output format: {f}. Valid formats: {valid:?}"
            )));
        }
    }
    let priority = req.priority.clone().unwrap_or_else(|| "normal".into());
    if !["low", "normal", "high"].contains(&priority.as_str()) {
        return Err(ApiError::unprocessable(format!(
            "priority: Invalid priority: {priority}. Valid priorities: ['low', 'normal', 'high']"
        )));
    }
    let password = if req.use_encryption {
        match req.encryption_password.as_deref() {
            None => {
                return Err(ApiError::unprocessable(
                    "encryption_password: required when use_encryption is true",
                ));
            }
            Some(p) if p.chars().count() < 8 => {
                return Err(ApiError::unprocessable(
                    "encryption_password: String should have at least 8 characters",
                ));
            }
            Some(p) => Some(p.to_string()),
        }
    } else {
        None
    };

    let (config, scenario) =
        resolve_scenario(&state, &caller, configuration_id, configuration, req.total_patients).await?;
    let admitted = crate::admission::admit_patients(&state, &caller, scenario.total_patients).await?;

    let encryption_key = match password {
        None => None,
        Some(pw) => {
            let iterations = state.config.encryption_iterations;
            let key = tokio::task::spawn_blocking(move || {
                patientgen_crypto::DerivedKey::derive(pw.as_bytes(), iterations)
            })
            .await
            .map_err(|_| ApiError::internal())?
            .map_err(|_| ApiError::internal())?;
            Some(key.to_hex())
        }
    };

    let mut formats: Vec<Format> = formats.iter().filter_map(|f| f.parse().ok()).collect();
    formats.sort();
    formats.dedup();
    let options = JobOptions {
        output_formats: formats.iter().map(|f| f.as_str().to_string()).collect(),
        use_compression: req.use_compression,
        use_encryption: req.use_encryption,
        priority: priority.clone(),
        name: scenario.name.clone(),
    };
    // The config echoed back: the inline configuration flat (or the id), plus the
    // options — never the password.
    let mut echo: Map<String, Value> = match configuration {
        Some(v) => v.as_object().cloned().unwrap_or_default(),
        None => Map::from_iter([(
            "configuration_id".to_string(),
            Value::from(configuration_id.unwrap_or_default()),
        )]),
    };
    if let Some(n) = req.total_patients {
        echo.insert("total_patients".into(), Value::from(n));
    }
    echo.insert("output_formats".into(), serde_json::to_value(&options.output_formats).unwrap_or_default());
    echo.insert("use_compression".into(), Value::from(req.use_compression));
    echo.insert("use_encryption".into(), Value::from(req.use_encryption));
    echo.insert("priority".into(), Value::from(priority));
    echo.insert("seed".into(), Value::from(scenario.seed));

    let job_id = uuid::Uuid::new_v4().to_string();
    let job = NewJob {
        job_id: job_id.clone(),
        owner_key_id: Some(caller.key_id().to_string()),
        config: Value::Object(echo),
        scenario: serde_json::to_value(&config).unwrap_or_default(),
        options: serde_json::to_value(&options).unwrap_or_default(),
        seed: scenario.seed,
        total_patients: i32::try_from(scenario.total_patients).unwrap_or(i32::MAX),
        encryption_key,
        generator_version: patientgen_core::VERSION.to_string(),
    };
    // On failure `admitted` is dropped, which gives the patients back.
    state.store.insert_job(&job, Utc::now()).await?;
    admitted.commit();
    crate::metrics::job_transition("none", "pending");
    state.wake_workers.notify_waiters();
    // ~100,000 patients/s for a job on this class of machine, plus packaging.
    let estimated = (u64::from(scenario.total_patients) / 100_000 + 2) * formats.len().max(1) as u64;
    Ok((
        StatusCode::CREATED,
        Json(GenerationResponse {
            message: format!("Patient generation job '{job_id}' created successfully"),
            job_id,
            status: "pending".into(),
            estimated_duration: estimated.min(3600),
        }),
    ))
}
