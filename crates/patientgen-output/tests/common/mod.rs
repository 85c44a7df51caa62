//! Helpers shared by the output tests.
#![allow(dead_code)]

use patientgen_core::data::catalog;
use patientgen_core::scenario::ValidationOptions;
use patientgen_core::time::UtcSeconds;
use patientgen_core::{Generator, Scenario, ScenarioConfig};
use patientgen_output::encode::{EncodeOptions, encoder_for};
use patientgen_output::pipeline::{GenerateOptions, generate};
use patientgen_output::{Format, Metadata};
use std::io::Write;

pub fn preset(id: &str, patients: u32, seed: u64) -> Scenario {
    let cat = catalog();
    let mut config =
        patientgen_core::ScenarioConfig::from_preset(&cat.presets, cat.presets.get(id).expect("preset"));
    config.total_patients = Some(patients.into());
    config.seed = Some(seed);
    config.validate(cat, ValidationOptions::default()).expect("valid")
}

pub fn scenario(json: &str) -> Scenario {
    ScenarioConfig::from_json(json)
        .expect("json")
        .validate(catalog(), ValidationOptions::default())
        .expect("valid")
}

pub fn meta(s: &Scenario) -> Metadata {
    Metadata::new(s, UtcSeconds(1_750_000_000))
}

/// Generates the formats into memory.
pub fn render(s: &Scenario, formats: &[Format], threads: usize, options: EncodeOptions) -> Vec<Vec<u8>> {
    let g = Generator::new(s);
    let encoders: Vec<_> = formats.iter().map(|f| encoder_for(*f, s.seed, options)).collect();
    let mut bufs: Vec<Vec<u8>> = formats.iter().map(|_| Vec::new()).collect();
    {
        let mut sinks: Vec<&mut dyn Write> = bufs.iter_mut().map(|b| b as &mut dyn Write).collect();
        generate(&g, &meta(s), &encoders, &mut sinks, &GenerateOptions { threads, ..Default::default() })
            .expect("generates");
    }
    bufs
}
