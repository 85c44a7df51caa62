//! Loading a scenario configuration from a preset or a JSON/TOML file.

use crate::error::{CliError, CliResult};
use patientgen_core::ScenarioConfig;
use patientgen_core::data::catalog;
use std::path::Path;

/// Reads a scenario file (JSON or TOML, by extension, else by content).
pub fn from_file(path: &Path) -> CliResult<ScenarioConfig> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::input(format!("cannot read scenario file {}: {e}", path.display())))?;
    let is_toml = match path.extension().and_then(|e| e.to_str()) {
        Some(ext) if ext.eq_ignore_ascii_case("toml") => true,
        Some(ext) if ext.eq_ignore_ascii_case("json") => false,
        _ => !text.trim_start().starts_with('{'),
    };
    let parsed = if is_toml { ScenarioConfig::from_toml(&text) } else { ScenarioConfig::from_json(&text) };
    // Accept a request body that wraps the configuration, as the API does.
    let parsed = parsed.or_else(|e| {
        if is_toml {
            return Err(e);
        }
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|_| e)?;
        match value.get("configuration") {
            Some(inner) => ScenarioConfig::from_value(inner.clone()),
            None => Err(patientgen_core::scenario::ConfigParseError::Syntax("not a scenario".into())),
        }
    });
    parsed.map_err(|e| CliError::input(format!("{}: {e}", path.display())))
}

/// A preset's configuration.
pub fn from_preset(id: &str) -> CliResult<ScenarioConfig> {
    let cat = catalog();
    let preset = cat.presets.get(id).ok_or_else(|| {
        let ids: Vec<&str> = cat.presets.presets.iter().map(|p| p.id.as_str()).collect();
        CliError::input(format!("unknown preset '{id}' (available: {})", ids.join(", ")))
    })?;
    Ok(cat.presets.config_for(preset))
}
