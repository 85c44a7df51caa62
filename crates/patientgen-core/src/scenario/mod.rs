//! Scenarios: the configuration clients send ([`ScenarioConfig`]), its
//! validation, and the checked [`Scenario`] the generator runs.

mod config;
mod validate;

pub use config::{
    ConfigParseError, FacilityConfig, FrontConfig, NationalityShare, ScenarioConfig, display_path,
};
pub use validate::{FieldError, ValidationErrors, ValidationOptions};

use crate::data::NationId;
use crate::model::{Environment, Intensity, Role, SpecialEvent, Tempo, WarfareType};
use crate::time::CivilDate;

/// Default ceiling of `total_patients` per job in the service (configurable
/// there; the CLI has none).
pub const MAX_PATIENTS: u32 = 1_000_000;
/// Ceiling of `days_of_fighting`.
pub const MAX_DAYS: u32 = 365;

/// A validated scenario, ready to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Written into the metadata and used for download file names.
    pub name: String,
    /// Preset the scenario came from.
    pub preset_id: Option<String>,
    /// Number of patients (exact).
    pub total_patients: u32,
    /// Days of fighting.
    pub days: u32,
    /// Day 1 (00:00 UTC).
    pub base_date: CivilDate,
    /// Active warfare types with their weights.
    pub warfare: Vec<(WarfareType, f64)>,
    /// Scales mass casualties and triage severity.
    pub intensity: Intensity,
    /// How casualties spread over the days.
    pub tempo: Tempo,
    /// Active special events.
    pub special_events: Vec<SpecialEvent>,
    /// Active environmental conditions.
    pub environment: Vec<Environment>,
    /// Shares of battle injury, non-battle injury and disease (sum 1).
    pub injury_mix: [f64; 3],
    /// Fronts (weights sum to 1).
    pub fronts: Vec<Front>,
    /// Roles in use, starting with POI, in order.
    pub chain: Vec<Role>,
    /// Facility parameters per role (by [`Role::index`]) for all fronts.
    pub facilities: [FacilityParams; 5],
    /// Front-specific facility parameters: (front index, role, parameters).
    pub front_facilities: Vec<(usize, Role, FacilityParams)>,
    /// Triage shares per injury type (T1, T2, T3), overriding the warfare tables.
    pub triage_override: [Option<[f64; 3]>; 3],
    /// The seed of every random stream: with the rest, fixes every patient.
    pub seed: u64,
}

/// A front of a validated scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Front {
    /// Its id, as configured (facilities refer to it).
    pub id: String,
    /// Becomes the patients' `front`.
    pub name: String,
    /// Share of casualties.
    pub weight: f64,
    /// Nations and their shares (sum 1).
    pub nations: Vec<(NationId, f64)>,
}

/// Parameters of one facility role.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FacilityParams {
    /// Factor on death probabilities (configured rate / default rate).
    pub death_factor: f64,
    /// Factor on return-to-duty probabilities.
    pub rtd_factor: f64,
    /// Beds, when configured.
    pub capacity: Option<u32>,
}

impl Default for FacilityParams {
    fn default() -> Self {
        Self { death_factor: 1.0, rtd_factor: 1.0, capacity: None }
    }
}

impl Scenario {
    /// Whether the chain includes a role.
    pub fn has_role(&self, role: Role) -> bool {
        self.chain.contains(&role)
    }

    /// The next role in the chain at or after `role`, if any.
    pub fn next_available(&self, role: Role) -> Option<Role> {
        self.chain.iter().copied().find(|r| *r >= role && *r != Role::Poi)
    }

    /// The role after `role` in the chain.
    pub fn after(&self, role: Role) -> Option<Role> {
        self.chain.iter().copied().find(|r| *r > role)
    }

    /// Facility parameters for a role on a front.
    pub fn facility_params(&self, front: usize, role: Role) -> FacilityParams {
        self.front_facilities
            .iter()
            .find(|(f, r, _)| *f == front && *r == role)
            .map(|(_, _, p)| *p)
            .unwrap_or(self.facilities[role.index()])
    }
}
