//! Metadata written with the patients (JSON envelope, XML attributes, manifest).

use patientgen_core::Scenario;
use patientgen_core::time::UtcSeconds;
use serde::Serialize;

/// Facts about one generation run.
#[derive(Debug, Clone, Serialize)]
pub struct Metadata {
    /// Patients in the file.
    pub patient_count: u64,
    /// Generation date, `YYYYMMDD` (upstream's field).
    pub generated_at: String,
    /// Generation time, RFC 3339.
    pub generated_at_iso: String,
    /// Always `patientgen`.
    pub generator: &'static str,
    /// patientgen version.
    pub generator_version: &'static str,
    /// The seed: with the scenario, reproduces these patients exactly.
    pub seed: u64,
    /// Scenario name.
    pub scenario: String,
    /// Preset id, if the scenario came from one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preset_id: Option<String>,
}

impl Metadata {
    /// Metadata for a scenario generated at `generated_at` (pin it for
    /// byte-identical files, e.g. from `SOURCE_DATE_EPOCH`).
    pub fn new(scenario: &Scenario, generated_at: UtcSeconds) -> Self {
        let iso = generated_at.to_string();
        Self {
            patient_count: u64::from(scenario.total_patients),
            generated_at: iso[..10].replace('-', ""),
            generated_at_iso: iso,
            generator: "patientgen",
            generator_version: patientgen_core::VERSION,
            seed: scenario.seed,
            scenario: scenario.name.clone(),
            preset_id: scenario.preset_id.clone(),
        }
    }
}
