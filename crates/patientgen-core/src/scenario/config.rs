//! The scenario configuration as clients send it: upstream's configuration object
//! (`POST /api/v1/generation/` `configuration`, presets' `generation_config`, the
//! web UI's payload), plus `seed` and `facility_chain`. Everything is optional
//! here; [`super::validate`] turns it into a checked [`super::Scenario`].

pub use crate::data::NationalityShare;
use crate::data::{Preset, PresetCatalog};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A scenario configuration in upstream's shape. Unknown keys are ignored, as
/// upstream does.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScenarioConfig {
    /// Scenario name (used for download file names).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Number of patients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_patients: Option<serde_json::Number>,
    /// Legacy alias of `total_patients`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<serde_json::Number>,
    /// Days of fighting (1–365).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_of_fighting: Option<serde_json::Number>,
    /// Presets' alias of `days_of_fighting`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_days: Option<serde_json::Number>,
    /// First day of the scenario, `YYYY-MM-DD` (UTC midnight) or an RFC 3339 instant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_date: Option<String>,
    /// Shares of `Battle Injury`, `Non-Battle Injury`, `Disease` (fractions or percentages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub injury_mix: Option<BTreeMap<String, f64>>,
    /// Legacy alias of `injury_mix`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub injury_distribution: Option<BTreeMap<String, f64>>,
    /// Fronts with their casualty shares and nationalities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub front_configs: Option<Vec<FrontConfig>>,
    /// Per-facility parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facility_configs: Option<Vec<FacilityConfig>>,
    /// The roles in use, e.g. `["POI","Role1","Role2","Role3"]` (default: all five).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facility_chain: Option<Vec<String>>,
    /// Active warfare types.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warfare_types: Option<BTreeMap<String, bool>>,
    /// Presets' single warfare type (used when `warfare_types` is absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warfare_type: Option<String>,
    /// `low`, `medium`, `high`, `extreme`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intensity: Option<String>,
    /// `sustained`, `escalating`, `surge`, `declining`, `intermittent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tempo: Option<String>,
    /// `major_offensive`, `ambush`, `mass_casualty`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub special_events: Option<BTreeMap<String, bool>>,
    /// Environmental conditions (e.g. `night_operations`) switched on or off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environmental_conditions: Option<BTreeMap<String, bool>>,
    /// Triage shares per injury type, overriding the warfare tables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triage_override: Option<BTreeMap<String, BTreeMap<String, f64>>>,
    /// Random seed; a random one is chosen (and reported) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Preset the configuration came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset_id: Option<String>,
    /// Name of that preset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset_name: Option<String>,
    /// Sent by upstream's UI; accepted and kept, not interpreted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medical_simulation: Option<serde_json::Value>,
    /// Sent by upstream's UI; its `scenario_modifiers` are used when the top-level
    /// keys are absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advanced_overrides: Option<serde_json::Value>,
}

/// A battle front.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FrontConfig {
    /// Identifier.
    pub id: String,
    /// Name (becomes the patient's `front`).
    pub name: String,
    /// Nationalities and their percentages (summing to 100).
    pub nationality_distribution: Vec<NationalityShare>,
    /// Share of casualties on this front (0–1; normalised over the fronts).
    #[serde(default)]
    pub casualty_rate: Option<f64>,
}

/// Parameters of one facility.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FacilityConfig {
    /// Identifier, e.g. `Role1` or `role2_poland`.
    pub id: String,
    /// Name.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Beds.
    #[serde(default)]
    pub capacity: Option<i64>,
    /// Death rate of patients treated here (0–1).
    pub kia_rate: f64,
    /// Return-to-duty rate of patients treated here (0–1).
    pub rtd_rate: f64,
    /// The role, when `id`/`name` do not say it (`Role2`, `R2`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The front this facility serves; all fronts when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub front_id: Option<String>,
}

/// Errors from reading a configuration document.
#[derive(Debug, thiserror::Error)]
pub enum ConfigParseError {
    /// The document is not valid JSON / TOML, or a value has the wrong type.
    #[error("{0}")]
    Syntax(String),
}

impl ScenarioConfig {
    /// The configuration of a preset (upstream's `generation_config`, plus the
    /// temporal settings so that it runs as described), with the catalogue's
    /// default facilities.
    pub fn from_preset(presets: &PresetCatalog, preset: &Preset) -> Self {
        Self {
            name: Some(preset.name.clone()),
            description: Some(preset.description.clone()),
            total_patients: Some(preset.total_patients.into()),
            days_of_fighting: Some(preset.duration_days.into()),
            duration_days: Some(preset.duration_days.into()),
            base_date: Some(preset.scenario.base_date.clone()),
            injury_distribution: Some(preset.injury_distribution.clone()),
            front_configs: Some(
                preset
                    .fronts
                    .iter()
                    .enumerate()
                    .map(|(i, f)| FrontConfig {
                        id: format!("front_{i}"),
                        name: f.name.clone(),
                        nationality_distribution: f.nationality_distribution.clone(),
                        casualty_rate: Some(f.casualty_rate),
                    })
                    .collect(),
            ),
            facility_configs: Some(
                presets
                    .facility_defaults
                    .iter()
                    .map(|f| FacilityConfig {
                        id: f.id.clone(),
                        name: f.name.clone(),
                        description: None,
                        capacity: None,
                        kia_rate: f.kia_rate,
                        rtd_rate: f.rtd_rate,
                        role: None,
                        front_id: None,
                    })
                    .collect(),
            ),
            warfare_types: Some(preset.scenario.warfare_types.clone()),
            warfare_type: Some(preset.warfare_type.clone()),
            intensity: Some(preset.scenario.intensity.clone()),
            tempo: Some(preset.scenario.tempo.clone()),
            special_events: Some(preset.scenario.special_events.clone()),
            environmental_conditions: Some(preset.scenario.environmental_conditions.clone()),
            triage_override: preset.triage_override.clone(),
            preset_id: Some(preset.id.clone()),
            preset_name: Some(preset.name.clone()),
            ..Self::default()
        }
    }

    /// Sets the patient count (and drops the legacy `count`, which would
    /// otherwise still be read) and the seed, where given: the command line's
    /// `-n`/`--seed` and the API's `total_patients`.
    pub fn with_overrides(mut self, total_patients: Option<i64>, seed: Option<u64>) -> Self {
        if let Some(n) = total_patients {
            self.total_patients = Some(n.into());
            self.count = None;
        }
        if let Some(seed) = seed {
            self.seed = Some(seed);
        }
        self
    }

    /// Validates, then writes the seed the scenario runs with (a given one or
    /// `options.fallback_seed`) back into the configuration, so that the
    /// configuration stored or packaged with the patients reproduces them.
    pub fn into_validated(
        mut self,
        catalog: &crate::data::Catalog,
        options: super::ValidationOptions,
    ) -> Result<(Self, super::Scenario), super::ValidationErrors> {
        let scenario = self.validate(catalog, options)?;
        self.seed = Some(scenario.seed);
        Ok((self, scenario))
    }
    /// Reads a JSON document; type errors name the field.
    pub fn from_json(text: &str) -> Result<Self, ConfigParseError> {
        let mut de = serde_json::Deserializer::from_str(text);
        let config = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            ConfigParseError::Syntax(describe(&e.path().to_string(), &e.into_inner().to_string()))
        })?;
        // Only whitespace may follow the configuration, as in a request body.
        de.end().map_err(|e| ConfigParseError::Syntax(describe(".", &e.to_string())))?;
        Ok(config)
    }

    /// Reads a JSON value (e.g. a request body's `configuration`).
    pub fn from_value(value: serde_json::Value) -> Result<Self, ConfigParseError> {
        serde_path_to_error::deserialize(value).map_err(|e| {
            ConfigParseError::Syntax(describe(&e.path().to_string(), &e.into_inner().to_string()))
        })
    }

    /// Reads a TOML document; type errors name the field.
    pub fn from_toml(text: &str) -> Result<Self, ConfigParseError> {
        let de = toml::Deserializer::parse(text).map_err(|e| ConfigParseError::Syntax(e.to_string()))?;
        serde_path_to_error::deserialize(de)
            .map_err(|e| ConfigParseError::Syntax(describe(&e.path().to_string(), e.into_inner().message())))
    }
}

/// `field: problem`, with serde's "missing field `x`" turned into `… -> x: field required`.
fn describe(path: &str, message: &str) -> String {
    let path = if path == "." { String::new() } else { display_path(path) };
    let join = |field: &str| {
        if path.is_empty() { field.to_string() } else { format!("{path} -> {field}") }
    };
    if let Some(rest) = message.strip_prefix("missing field `")
        && let Some(field) = rest.split('`').next()
    {
        return format!("{}: field required", join(field));
    }
    if path.is_empty() { message.to_string() } else { format!("{path}: {message}") }
}

/// Turns `front_configs[0].casualty_rate` into upstream's `front_configs -> 0 -> casualty_rate`.
pub fn display_path(path: &str) -> String {
    path.replace('[', ".")
        .replace(']', "")
        .split('.')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" -> ")
}
