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
    let parsed = if is_toml {
        ScenarioConfig::from_toml(&text)
    } else {
        // Accept a request body that wraps the configuration, as the API does.
        match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(serde_json::Value::Object(mut body)) if body.contains_key("configuration") => {
                ScenarioConfig::from_value(body.remove("configuration").unwrap_or_default())
            }
            _ => ScenarioConfig::from_json(&text),
        }
    };
    let config = parsed.map_err(|e| CliError::input(format!("{}: {e}", path.display())))?;
    // What is accepted but ignored (a facility whose role cannot be told) is said on stderr.
    for w in config.warnings() {
        eprintln!("warning: {}: {}: {}", path.display(), w.field, w.message);
    }
    Ok(config)
}

/// A preset's configuration.
pub fn from_preset(id: &str) -> CliResult<ScenarioConfig> {
    let cat = catalog();
    let preset = cat.presets.get(id).ok_or_else(|| {
        let ids: Vec<&str> = cat.presets.presets.iter().map(|p| p.id.as_str()).collect();
        CliError::input(format!("unknown preset '{id}' (available: {})", ids.join(", ")))
    })?;
    Ok(ScenarioConfig::from_preset(&cat.presets, preset))
}
