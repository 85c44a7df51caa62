//! `patientgen presets`.

use crate::cli::{ListFormat, PresetsArgs};
use crate::error::{CliError, CliResult};
use crate::output::outln;
use crate::scenario_input;
use patientgen_core::data::catalog;

pub fn run(args: PresetsArgs) -> CliResult {
    if let Some(id) = &args.show {
        let config = scenario_input::from_preset(id)?;
        let text = serde_json::to_string_pretty(&config).map_err(|e| CliError::Runtime(e.into()))?;
        outln!("{text}");
        return Ok(());
    }
    let presets = &catalog().presets.presets;
    match args.format {
        ListFormat::Json => {
            let text = serde_json::to_string_pretty(presets).map_err(|e| CliError::Runtime(e.into()))?;
            outln!("{text}");
        }
        ListFormat::Table => {
            outln!("{:<20} {:>8} {:>5}  {:<14} {:<9} NAME", "ID", "PATIENTS", "DAYS", "WARFARE", "LEVEL");
            for p in presets {
                outln!(
                    "{:<20} {:>8} {:>5}  {:<14} {:<9} {}",
                    p.id,
                    p.total_patients,
                    p.duration_days,
                    p.warfare_type,
                    p.difficulty,
                    p.name
                );
            }
        }
    }
    Ok(())
}
