//! Helpers shared by the core integration tests.
#![allow(dead_code)]

use patientgen_core::data::catalog;
use patientgen_core::scenario::ValidationOptions;
use patientgen_core::{Scenario, ScenarioConfig};

pub fn from_json(json: &str) -> Scenario {
    ScenarioConfig::from_json(json)
        .expect("parses")
        .validate(catalog(), ValidationOptions::default())
        .expect("valid")
}

pub fn preset(id: &str, patients: u32, seed: u64) -> Scenario {
    let cat = catalog();
    let mut config = ScenarioConfig::from_preset(&cat.presets, cat.presets.get(id).expect("preset exists"));
    config.total_patients = Some(patients.into());
    config.seed = Some(seed);
    config.validate(cat, ValidationOptions::default()).expect("preset validates")
}
