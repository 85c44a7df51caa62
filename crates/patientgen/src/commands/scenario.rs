//! `patientgen scenario validate`.

use crate::cli::ScenarioCommand;
use crate::error::{CliError, CliResult};
use crate::output::outln;
use crate::scenario_input;
use patientgen_core::data::catalog;
use patientgen_core::scenario::ValidationOptions;

pub fn run(cmd: ScenarioCommand) -> CliResult {
    match cmd {
        ScenarioCommand::Validate { file } => {
            let config = scenario_input::from_file(&file)?;
            let s = config
                .validate(catalog(), ValidationOptions::default())
                .map_err(|e| CliError::input(format!("{}: invalid scenario: {e}", file.display())))?;
            outln!("{}: valid", file.display());
            outln!("  name:        {}", s.name);
            outln!("  patients:    {}", s.total_patients);
            outln!("  days:        {} from {}", s.days, s.base_date);
            let warfare: Vec<String> = s.warfare.iter().map(|(w, _)| w.to_string()).collect();
            outln!("  warfare:     {} ({} intensity, {} tempo)", warfare.join(", "), s.intensity, s.tempo);
            outln!(
                "  injury mix:  battle {:.0} %, non-battle {:.0} %, disease {:.0} %",
                s.injury_mix[0] * 100.0,
                s.injury_mix[1] * 100.0,
                s.injury_mix[2] * 100.0
            );
            for f in &s.fronts {
                outln!("  front:       {} ({:.0} %, {} nations)", f.name, f.weight * 100.0, f.nations.len());
            }
            let chain: Vec<&str> = s.chain.iter().map(|r| r.as_str()).collect();
            outln!("  chain:       {}", chain.join(" > "));
            Ok(())
        }
    }
}
