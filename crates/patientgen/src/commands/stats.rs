//! `patientgen stats FILE`.

use crate::cli::{ListFormat, StatsArgs};
use crate::error::{CliError, CliResult};
use crate::output::{out, outln};
use patientgen_core::SummaryBuilder;
use patientgen_core::summary::PatientView;
use patientgen_output::read::{ReadError, for_each_patient};
use std::fs::File;

pub fn run(args: StatsArgs) -> CliResult {
    let file = File::open(&args.file)
        .map_err(|e| CliError::input(format!("cannot open {}: {e}", args.file.display())))?;
    let mut builder = SummaryBuilder::default();
    let count = for_each_patient(file, |text| {
        let view: PatientView<'_> = serde_json::from_str(text).map_err(|e| e.to_string())?;
        builder.add(&view.facts()?);
        Ok(())
    })
    .map_err(|e| match e {
        ReadError::Io(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            CliError::input(format!("{}: not a patients file: {e}", args.file.display()))
        }
        ReadError::Io(e) => CliError::Runtime(e.into()),
        other => CliError::input(format!("{}: {other}", args.file.display())),
    })?;
    if count == 0 {
        return Err(CliError::input(format!("{}: no patients in the file", args.file.display())));
    }
    let summary = builder.build();
    match args.format {
        ListFormat::Table => out!("{summary}"),
        ListFormat::Json => {
            let text = serde_json::to_string_pretty(&summary).map_err(|e| CliError::Runtime(e.into()))?;
            outln!("{text}");
        }
    }
    Ok(())
}
