//! Scenario presets.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::models::{CategoryEntry, CategoryList, ErrorResponse, PresetDetail, PresetList, PresetSummary};
use axum::Json;
use patientgen_core::data::catalog;
use patientgen_storage::Scope;
use serde::Deserialize;
use serde_json::{Value, json};

/// Filters of the preset list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct PresetFilter {
    /// Category id.
    pub category: Option<String>,
    /// Difficulty id.
    pub difficulty: Option<String>,
}

/// Embedded preset data as JSON (a 500, logged, if it cannot be written).
fn to_json(value: &impl serde::Serialize) -> Result<Value, ApiError> {
    serde_json::to_value(value).map_err(|e| ApiError::internal_logged("preset data unwritable", e))
}

/// Lists presets.
#[utoipa::path(get, path = "/api/v1/presets", tag = "presets", params(PresetFilter),
    responses((status = 200, description = "Presets", body = PresetList), (status = 401, description = "No or bad key", body = ErrorResponse)),
    security(("api_key" = [])))]
pub async fn list(caller: Caller, Query(filter): Query<PresetFilter>) -> Result<Json<PresetList>, ApiError> {
    caller.require(Scope::Read)?;
    let cat = &catalog().presets;
    let presets: Vec<PresetSummary> = cat
        .presets
        .iter()
        .filter(|p| filter.category.as_ref().is_none_or(|c| *c == p.category))
        .filter(|p| filter.difficulty.as_ref().is_none_or(|d| *d == p.difficulty))
        .map(|p| PresetSummary {
            id: p.id.clone(),
            name: p.name.clone(),
            description: p.description.clone(),
            category: p.category.clone(),
            difficulty: p.difficulty.clone(),
            total_patients: p.total_patients,
            duration_days: p.duration_days,
        })
        .collect();
    Ok(Json(PresetList {
        total_count: presets.len(),
        presets,
        categories: to_json(&cat.categories)?,
        difficulty_levels: to_json(&cat.difficulty_levels)?,
    }))
}

/// One preset and a generation configuration built from it.
#[utoipa::path(get, path = "/api/v1/presets/{preset_id}", tag = "presets",
    params(("preset_id" = String, Path, description = "Preset id")),
    responses((status = 200, description = "Preset", body = PresetDetail), (status = 404, description = "Unknown preset", body = ErrorResponse)),
    security(("api_key" = [])))]
pub async fn get(caller: Caller, Path(preset_id): Path<String>) -> Result<Json<PresetDetail>, ApiError> {
    caller.require(Scope::Read)?;
    let cat = &catalog().presets;
    let preset =
        cat.get(&preset_id).ok_or_else(|| ApiError::not_found(format!("Preset '{preset_id}' not found")))?;
    let mut preset_json = to_json(preset)?;
    if let Some(obj) = preset_json.as_object_mut() {
        obj.remove("scenario");
    }
    let mut config = to_json(&patientgen_core::ScenarioConfig::from_preset(cat, preset))?;
    if let Some(obj) = config.as_object_mut() {
        obj.insert("output_formats".into(), json!(["json"]));
    }
    Ok(Json(PresetDetail { preset: preset_json, generation_config: config }))
}

/// Categories with their preset counts.
#[utoipa::path(get, path = "/api/v1/presets/categories/list", tag = "presets",
    responses((status = 200, description = "Categories", body = CategoryList)),
    security(("api_key" = [])))]
pub async fn categories(caller: Caller) -> Result<Json<CategoryList>, ApiError> {
    caller.require(Scope::Read)?;
    let cat = &catalog().presets;
    let categories: Vec<CategoryEntry> = cat
        .categories
        .iter()
        .map(|(id, label)| CategoryEntry {
            id: id.clone(),
            name: label.name.clone(),
            icon: label.icon.clone(),
            preset_count: cat.presets.iter().filter(|p| p.category == *id).count(),
        })
        .collect();
    Ok(Json(CategoryList { total_categories: categories.len(), categories }))
}
