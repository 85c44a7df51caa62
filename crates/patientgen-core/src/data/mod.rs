//! The embedded data tables. Every probability table, name list and code table
//! lives in a JSON file under `data/` (each with its source noted there and in
//! `docs/DATA_SOURCES.md`), compiled into the binary and parsed once.

pub mod clinical;
pub mod flow;
pub mod nations;
pub mod presets;
pub mod warfare;

pub use clinical::{
    ClinicalData, Condition, ConditionId, Pool, Procedure, ProcedureId, Protocol, ProtocolStep, VitalsProfile,
};
pub use flow::{FacilityFlow, FlowData, OutcomeShares, PoiFlow};
pub use nations::{Demography, FamilyName, Nation, NationId, Rank};
pub use presets::{NationalityShare, Preset, PresetCatalog, PresetFront};
pub use warfare::{
    EnvironmentEffect, InjuryPattern, IntensityLevel, SpecialEventTemplate, TempoCurve, TriageWeights,
    WarfareData, WarfareProfile,
};

use std::sync::OnceLock;

/// Every table the generator uses.
#[derive(Debug)]
pub struct Catalog {
    /// Nations with names, ranks, units and population statistics.
    pub nations: nations::NationTable,
    /// Rank pyramid, ages and female shares.
    pub demography: Demography,
    /// Warfare types, temporal patterns, intensity, tempo, events, environment.
    pub warfare: WarfareData,
    /// Outcome probabilities and timings along the chain of care.
    pub flow: FlowData,
    /// Conditions, procedures, treatment protocols and code tables.
    pub clinical: ClinicalData,
    /// Scenario presets.
    pub presets: PresetCatalog,
}

/// The catalogue, parsed on first use.
///
/// # Panics
/// Only if an embedded data file is malformed, which the test suite rules out.
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| match Catalog::load() {
        Ok(c) => c,
        Err(e) => panic!("embedded data is invalid: {e}"),
    })
}

/// A problem in the embedded data (found by the tests, never at run time).
#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct DataError {
    /// Data file.
    pub file: &'static str,
    /// What is wrong.
    pub message: String,
}

impl DataError {
    pub(crate) fn new(file: &'static str, message: impl Into<String>) -> Self {
        Self { file, message: message.into() }
    }
}

pub(crate) fn parse<T: serde::de::DeserializeOwned>(file: &'static str, text: &str) -> Result<T, DataError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de)
        .map_err(|e| DataError::new(file, format!("{}: {}", e.path(), e.inner())))
}

impl Catalog {
    fn load() -> Result<Self, DataError> {
        let nations = nations::NationTable::load()?;
        let demography = nations::Demography::load(&nations)?;
        let clinical = clinical::ClinicalData::load()?;
        let warfare = warfare::WarfareData::load(&clinical)?;
        let flow = flow::FlowData::load()?;
        let presets = presets::PresetCatalog::load(&nations)?;
        Ok(Self { nations, demography, warfare, flow, clinical, presets })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn embedded_data_loads() {
        let c = super::Catalog::load();
        assert!(c.is_ok(), "{:?}", c.err());
    }
}
