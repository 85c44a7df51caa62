//! Scenario presets (`data/presets.json`): upstream's eight plus `default`.

use super::nations::NationTable;
use super::{DataError, parse};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const FILE: &str = "data/presets.json";

// Presets and scenario configurations share this type; its doc comment is the
// OpenAPI description of the service's schemas.
/// One nationality of a front.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NationalityShare {
    /// ISO 3166-1 alpha-3 code (`USA`); the alpha-2 code (`US`) is accepted too.
    pub nationality_code: String,
    /// Percentage (0–100).
    pub percentage: f64,
}

/// A front of a preset, as `presets.json` gives it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PresetFront {
    /// Becomes the patients' `front`.
    pub name: String,
    /// Nationalities of its casualties, percentages summing to 100.
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
    /// `low`, `medium`, `high` or `extreme`.
    pub intensity: String,
    /// `sustained`, `escalating`, `surge`, `declining` or `intermittent`.
    pub tempo: String,
    /// Special events switched on or off by name.
    pub special_events: BTreeMap<String, bool>,
    /// Environmental conditions switched on or off by name.
    pub environmental_conditions: BTreeMap<String, bool>,
}

/// A ready-made scenario (upstream's preset shape, plus its temporal settings).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Preset {
    /// Its id on the command line and in the API, e.g. `nato_article_5`.
    pub id: String,
    /// Shown in listings; becomes the scenario name.
    pub name: String,
    /// One or two sentences for listings.
    pub description: String,
    /// Category id.
    pub category: String,
    /// Difficulty id.
    pub difficulty: String,
    /// Patients it generates unless overridden.
    pub total_patients: u32,
    /// Days of fighting.
    pub duration_days: u32,
    /// Main warfare type (upstream's field).
    pub warfare_type: String,
    /// Fronts with their casualty shares and nationalities.
    pub fronts: Vec<PresetFront>,
    /// Injury mix.
    pub injury_distribution: BTreeMap<String, f64>,
    /// Triage shares per injury type replacing the warfare tables' (rare).
    pub triage_override: Option<BTreeMap<String, BTreeMap<String, f64>>>,
    /// Temporal settings.
    pub scenario: PresetScenario,
}

/// A category or difficulty label.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Label {
    /// Shown to users.
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
    /// Facility id in the generation configuration, e.g. `Role1`.
    pub id: String,
    /// Shown to users.
    pub name: String,
    /// Death rate.
    pub kia_rate: f64,
    /// Return-to-duty rate.
    pub rtd_rate: f64,
}

/// All presets.
#[derive(Debug, Clone, Deserialize)]
pub struct PresetCatalog {
    /// Presets in display order.
    pub presets: Vec<Preset>,
    /// Category id → label and icon.
    pub categories: BTreeMap<String, Label>,
    /// Difficulty id → label and colour.
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
