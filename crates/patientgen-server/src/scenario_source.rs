//! Where a request's scenario comes from — a saved configuration template or
//! an inline configuration — and its resolution into a validated scenario
//! (generation jobs and streaming share it).

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use patientgen_core::data::catalog;
use patientgen_core::scenario::ValidationOptions;
use patientgen_core::{Scenario, ScenarioConfig};
use patientgen_storage::ConfigurationRecord;
use serde_json::{Map, Value};

/// The scenario a request names.
#[derive(Debug, Clone)]
pub enum ScenarioSource {
    /// A saved configuration template, by id (visible to the caller).
    Saved(String),
    /// An inline configuration object (upstream's configuration shape).
    Inline(Map<String, Value>),
}

/// The scenario configuration a stored template describes: its named fields
/// over its `extra` ones.
pub fn template_config(record: &ConfigurationRecord) -> Result<ScenarioConfig, String> {
    let mut map = record.extra.clone();
    map.insert("name".into(), Value::from(record.name.clone()));
    if let Some(d) = &record.description {
        map.insert("description".into(), Value::from(d.clone()));
    }
    map.insert("front_configs".into(), record.front_configs.clone());
    map.insert("facility_configs".into(), record.facility_configs.clone());
    map.insert("injury_distribution".into(), record.injury_distribution.clone());
    map.insert("total_patients".into(), Value::from(record.total_patients));
    ScenarioConfig::from_value(Value::Object(map)).map_err(|e| e.to_string())
}

/// Resolves and validates the scenario of a request, with the patient count
/// overridden when given: 404 for an unknown template, 422 naming each bad
/// field. Returns the configuration (seed filled in) and the scenario.
pub async fn resolve_scenario(
    state: &AppState,
    caller: &Caller,
    source: &ScenarioSource,
    total_patients: Option<i64>,
) -> Result<(ScenarioConfig, Scenario), ApiError> {
    let config = match source {
        ScenarioSource::Saved(id) => {
            let record = state
                .store
                .get_configuration(id, caller.owner_filter())
                .await?
                .ok_or_else(|| ApiError::not_found(format!("Configuration {id} not found")))?;
            template_config(&record).map_err(ApiError::unprocessable)?
        }
        ScenarioSource::Inline(map) => ScenarioConfig::from_value(Value::Object(map.clone()))
            .map_err(|e| ApiError::unprocessable(format!("configuration -> {e}")))?,
    };
    let options =
        ValidationOptions { max_patients: state.config.max_patients_per_job, fallback_seed: rand::random() };
    config.with_overrides(total_patients, None).into_validated(catalog(), options).map_err(|e| {
        let parts: Vec<String> =
            e.0.iter().map(|f| format!("configuration -> {}: {}", f.field, f.message)).collect();
        ApiError::unprocessable(parts.join("; "))
    })
}
