//! Configuration templates: CRUD and validation, scoped to the calling key.

use crate::auth::Caller;
use crate::clock::rfc3339;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::extract::Path;
use crate::models::{ConfigurationResponse, ConfigurationTemplate, ErrorResponse, ValidationResult};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use patientgen_core::ScenarioConfig;
use patientgen_core::data::catalog;
use patientgen_core::scenario::ValidationOptions;
use patientgen_storage::Scope;
use patientgen_storage::{ConfigurationRecord, NewConfiguration};
use serde_json::Value;

/// The scenario fields a template has as named fields; the rest is in `extra`.
const TEMPLATE_FIELDS: [&str; 6] =
    ["name", "description", "front_configs", "facility_configs", "total_patients", "injury_distribution"];

fn template_scenario(t: &ConfigurationTemplate) -> Result<ScenarioConfig, String> {
    let mut map = t.extra.clone();
    for key in TEMPLATE_FIELDS {
        map.remove(key);
    }
    let v = serde_json::to_value(t).map_err(|e| e.to_string())?;
    for key in TEMPLATE_FIELDS {
        if let Some(x) = v.get(key).filter(|x| !x.is_null()) {
            map.insert(key.into(), x.clone());
        }
    }
    ScenarioConfig::from_value(Value::Object(map)).map_err(|e| e.to_string())
}

/// The checks of the template's schema (documented in OpenAPI): a 422 on
/// every route that takes a template, `validate/` included.
fn check_shape(state: &AppState, t: &ConfigurationTemplate) -> Result<(), ApiError> {
    let max = i64::from(state.config.max_patients_per_job);
    if t.total_patients <= 0 {
        return Err(ApiError::unprocessable("total_patients: Input should be greater than 0"));
    }
    if t.total_patients > max {
        return Err(ApiError::unprocessable(format!(
            "total_patients: Input should be less than or equal to {max}"
        )));
    }
    if t.version.is_some_and(|v| v < 1) {
        return Err(ApiError::unprocessable("version: Input should be greater than or equal to 1"));
    }
    if t.name.chars().count() > 255 {
        return Err(ApiError::unprocessable("name: String should have at most 255 characters"));
    }
    Ok(())
}

/// The template to store and the warnings about it.
async fn check(
    state: &AppState,
    caller: &Caller,
    t: &ConfigurationTemplate,
) -> Result<(NewConfiguration, Vec<String>), ApiError> {
    check_shape(state, t)?;
    if let Some(parent) = &t.parent_config_id
        && state.store.get_configuration(parent, caller.owner_filter()).await?.is_none()
    {
        return Err(ApiError::unprocessable(format!("parent_config_id: configuration {parent} not found")));
    }
    let config = template_scenario(t).map_err(ApiError::unprocessable)?;
    let options = ValidationOptions { max_patients: state.config.max_patients_per_job, fallback_seed: 0 };
    config.validate(catalog(), options).map_err(|e| ApiError::unprocessable(e.to_string()))?;
    let warnings = warning_texts(&config);
    let mut extra = t.extra.clone();
    extra.remove("id");
    extra.remove("created_at");
    extra.remove("updated_at");
    extra.remove("warnings");
    let json = |v: Result<Value, serde_json::Error>| {
        v.map_err(|e| ApiError::internal_logged("template unwritable", e))
    };
    let new = NewConfiguration {
        name: t.name.clone(),
        description: t.description.clone(),
        front_configs: json(serde_json::to_value(&t.front_configs))?,
        facility_configs: json(serde_json::to_value(&t.facility_configs))?,
        injury_distribution: json(serde_json::to_value(&t.injury_distribution))?,
        total_patients: i32::try_from(t.total_patients).unwrap_or(i32::MAX),
        version: t.version.map_or(1, |v| i32::try_from(v).unwrap_or(1)),
        parent_config_id: t.parent_config_id.clone(),
        extra,
    };
    Ok((new, warnings))
}

/// The configuration's warnings as `field: message` texts.
pub fn warning_texts(config: &ScenarioConfig) -> Vec<String> {
    config.warnings().into_iter().map(|w| format!("{}: {}", w.field, w.message)).collect()
}

fn response(r: ConfigurationRecord, warnings: Vec<String>) -> ConfigurationResponse {
    ConfigurationResponse {
        name: r.name,
        description: r.description,
        front_configs: r.front_configs,
        facility_configs: r.facility_configs,
        total_patients: r.total_patients,
        injury_distribution: r.injury_distribution,
        version: r.version,
        parent_config_id: r.parent_config_id,
        id: r.id,
        created_at: rfc3339(r.created_at),
        updated_at: rfc3339(r.updated_at),
        extra: r.extra,
        warnings,
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Configuration {id} not found"))
}

/// Creates a template.
#[utoipa::path(post, path = "/api/v1/configurations/", tag = "configurations", request_body = ConfigurationTemplate,
    responses((status = 201, description = "Created", body = ConfigurationResponse), (status = 401, description = "No or bad key", body = ErrorResponse), (status = 422, description = "Invalid", body = ErrorResponse)),
    security(("api_key" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(t): JsonBody<ConfigurationTemplate>,
) -> Result<(StatusCode, Json<ConfigurationResponse>), ApiError> {
    caller.require(Scope::Generate)?;
    let (c, warnings) = check(&state, &caller, &t).await?;
    let id = uuid::Uuid::new_v4().to_string();
    let record = state.store.insert_configuration(&id, Some(caller.key_id()), &c, state.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(response(record, warnings))))
}

/// Lists templates (at most 100, by name).
#[utoipa::path(get, path = "/api/v1/configurations/", tag = "configurations",
    responses((status = 200, description = "Templates", body = Vec<ConfigurationResponse>), (status = 401, description = "No or bad key", body = ErrorResponse)),
    security(("api_key" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<ConfigurationResponse>>, ApiError> {
    caller.require(Scope::Read)?;
    let rows = state.store.list_configurations(caller.owner_filter(), 100).await?;
    Ok(Json(rows.into_iter().map(|r| response(r, Vec::new())).collect()))
}

/// One template.
#[utoipa::path(get, path = "/api/v1/configurations/{config_id}", tag = "configurations",
    params(("config_id" = String, Path, description = "Template id")),
    responses((status = 200, description = "Template", body = ConfigurationResponse), (status = 404, description = "Not found", body = ErrorResponse)),
    security(("api_key" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(config_id): Path<String>,
) -> Result<Json<ConfigurationResponse>, ApiError> {
    caller.require(Scope::Read)?;
    let r = state
        .store
        .get_configuration(&config_id, caller.owner_filter())
        .await?
        .ok_or_else(|| not_found(&config_id))?;
    Ok(Json(response(r, Vec::new())))
}

/// Replaces a template.
#[utoipa::path(put, path = "/api/v1/configurations/{config_id}", tag = "configurations", request_body = ConfigurationTemplate,
    params(("config_id" = String, Path, description = "Template id")),
    responses((status = 200, description = "Updated", body = ConfigurationResponse), (status = 404, description = "Not found", body = ErrorResponse), (status = 422, description = "Invalid", body = ErrorResponse)),
    security(("api_key" = [])))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(config_id): Path<String>,
    JsonBody(t): JsonBody<ConfigurationTemplate>,
) -> Result<Json<ConfigurationResponse>, ApiError> {
    caller.require(Scope::Generate)?;
    if state.store.get_configuration(&config_id, caller.owner_filter()).await?.is_none() {
        return Err(not_found(&config_id));
    }
    let (c, warnings) = check(&state, &caller, &t).await?;
    if c.parent_config_id.as_deref() == Some(config_id.as_str()) {
        return Err(ApiError::unprocessable("parent_config_id: a configuration cannot be its own parent"));
    }
    let r = state
        .store
        .update_configuration(&config_id, caller.owner_filter(), &c, state.clock.now())
        .await?
        .ok_or_else(|| not_found(&config_id))?;
    Ok(Json(response(r, warnings)))
}

/// Deletes a template.
#[utoipa::path(delete, path = "/api/v1/configurations/{config_id}", tag = "configurations",
    params(("config_id" = String, Path, description = "Template id")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "Not found", body = ErrorResponse)),
    security(("api_key" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(config_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(Scope::Generate)?;
    if state.store.delete_configuration(&config_id, caller.owner_filter()).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(&config_id))
    }
}

/// Validates a template without saving it.
#[utoipa::path(post, path = "/api/v1/configurations/validate/", tag = "configurations", request_body = ConfigurationTemplate,
    responses((status = 200, description = "Validation result", body = ValidationResult), (status = 422, description = "Not a template", body = ErrorResponse)),
    security(("api_key" = [])))]
pub async fn validate(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(t): JsonBody<ConfigurationTemplate>,
) -> Result<Json<ValidationResult>, ApiError> {
    caller.require(Scope::Read)?;
    check_shape(&state, &t)?;
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let sum: f64 = t.injury_distribution.values().sum();
    if sum > 110.0 {
        errors.push("Injury distribution percentages sum to more than 100%".to_string());
    }
    if t.front_configs.is_empty() {
        errors.push("At least one front configuration is required".to_string());
    }
    match template_scenario(&t) {
        Err(e) => errors.push(e),
        Ok(config) => {
            warnings = warning_texts(&config);
            let options =
                ValidationOptions { max_patients: state.config.max_patients_per_job, fallback_seed: 0 };
            if let Err(e) = config.validate(catalog(), options) {
                errors.extend(e.0.into_iter().map(|f| format!("{}: {}", f.field, f.message)));
            }
        }
    }
    Ok(Json(ValidationResult { valid: errors.is_empty(), errors, warnings }))
}
