//! Scenario presets (`data/presets.json`): upstream's eight plus `default`.

use super::nations::NationTable;
use super::{DataError, parse};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const FILE: &str = "data/presets.json";

/// One nationality of a front: an ISO 3166-1 alpha-3 code and its percentage
/// (0–100) of the front's casualties. Presets and scenario configurations share it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NationalityShare {
    /// ISO 3166-1 alpha-3 code.
    pub nationality_code: String,
    /// Percentage (0–100).
    pub percentage: f64,
}

/// A front of a preset.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PresetFront {
    /// Name.
    pub name: String,
    /// Nationalities.
    pub nationality_distribution: Vec<NationalityShare>,
    /// Casualty share.
    pub casualty_rate: f64,
}

/// Temporal settings of a preset.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PresetScenario {
    /// Day 1.
    pub base_date: String,
    /// Active warfare types.
    pub warfare_types: BTreeMap<String, bool>,
    /// Intensity.
    pub intensity: String,
    /// Tempo.
    pub tempo: String,
    /// Special events.
    pub special_events: BTreeMap<String, bool>,
    /// Environment.
    pub environmental_conditions: BTreeMap<String, bool>,
}

/// A preset.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Preset {
    /// Identifier.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Category id.
    pub category: String,
    /// Difficulty id.
    pub difficulty: String,
    /// Patients.
    pub total_patients: u32,
    /// Days.
    pub duration_days: u32,
    /// Main warfare type (upstream's field).
    pub warfare_type: String,
    /// Fronts.
    pub fronts: Vec<PresetFront>,
    /// Injury mix.
    pub injury_distribution: BTreeMap<String, f64>,
    /// Triage override.
    pub triage_override: Option<BTreeMap<String, BTreeMap<String, f64>>>,
    /// Temporal settings.
    pub scenario: PresetScenario,
}

/// A category or difficulty label.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Label {
    /// Name.
    pub name: String,
    /// Icon (categories).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    /// Colour (difficulty levels).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
}

/// A default facility configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FacilityDefault {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Death rate.
    pub kia_rate: f64,
    /// RTD rate.
    pub rtd_rate: f64,
}

/// All presets.
#[derive(Debug, Clone, Deserialize)]
pub struct PresetCatalog {
    /// Presets in display order.
    pub presets: Vec<Preset>,
    /// Categories.
    pub categories: BTreeMap<String, Label>,
    /// Difficulty levels.
    pub difficulty_levels: BTreeMap<String, Label>,
    /// Facility configurations a preset's generation config carries.
    pub facility_defaults: Vec<FacilityDefault>,
}

impl PresetCatalog {
    pub(crate) fn load(nations: &NationTable) -> Result<Self, DataError> {
        let cat: PresetCatalog = parse(FILE, include_str!("../../data/presets.json"))?;
        for p in &cat.presets {
            for f in &p.fronts {
                for n in &f.nationality_distribution {
                    if nations.find(&n.nationality_code).is_none() {
                        return Err(DataError::new(
                            FILE,
                            format!("{}: unknown nation {}", p.id, n.nationality_code),
                        ));
                    }
                }
            }
            if !cat.categories.contains_key(&p.category) {
                return Err(DataError::new(FILE, format!("{}: unknown category", p.id)));
            }
        }
        Ok(cat)
    }

    /// A preset by id.
    pub fn get(&self, id: &str) -> Option<&Preset> {
        self.presets.iter().find(|p| p.id == id)
    }
}
