//! Summaries of a patient population: counts and shares by outcome, triage,
//! injury type, nationality and front; calibration figures; arrival-time
//! percentiles per facility and triage. Used by `generate --summary`,
//! `patientgen stats FILE` and job summaries.
//!
//! [`SummaryBuilder`] (builder.rs) accumulates [`PatientFacts`] of generated
//! patients, or of records read back from a file through [`PatientView`]
//! (view.rs), into a [`Summary`]; report.rs prints it as text.

mod builder;
mod report;
mod view;

pub use builder::{PatientFacts, SummaryBuilder};
pub use view::{EventView, PatientView};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Count and share.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Share {
    /// Patients.
    pub count: u64,
    /// Share of the relevant population, 0–1.
    pub share: f64,
}

/// Percentiles in hours.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Percentiles {
    /// Patients measured.
    pub count: u64,
    /// 50th percentile (median).
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// The longest.
    pub max: f64,
}

/// Figures a planner checks against published registries.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Calibration {
    /// Patients with a battle injury.
    pub battle_injuries: u64,
    /// Share of battle injuries killed before reaching care.
    pub kia_share_of_battle_injuries: f64,
    /// Battle injuries that reached a facility.
    pub battle_injuries_reaching_care: u64,
    /// Share of those that died of wounds.
    pub dow_share_of_battle_injuries_reaching_care: f64,
    /// Disease and non-battle injuries.
    pub dnbi: u64,
    /// Share of them returned to duty.
    pub rtd_share_of_dnbi: f64,
    /// Share of their returns to duty made at Role 1 or Role 2.
    pub dnbi_rtd_at_role1_2_share: f64,
    /// Share of all patients who reached Role 4.
    pub reached_role4_share: f64,
}

/// A population summary.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    /// Patients summarised.
    pub total_patients: u64,
    /// Patients by outcome (`RTD`, `KIA`, `DOW`, `REMAINS_ROLE4`).
    pub outcomes: BTreeMap<String, Share>,
    /// Patients by initial triage category (`T1`…`T4`).
    pub triage: BTreeMap<String, Share>,
    /// Patients by injury type (battle, non-battle, disease).
    pub injury_types: BTreeMap<String, Share>,
    /// Patients by nationality (ISO alpha-3).
    pub nationalities: BTreeMap<String, Share>,
    /// Patients by front name.
    pub fronts: BTreeMap<String, Share>,
    /// Patients who reached each facility.
    pub facilities_reached: BTreeMap<String, Share>,
    /// Mass-casualty patients.
    pub mass_casualty: Share,
    /// Calibration figures.
    pub calibration: Calibration,
    /// Hours from injury to arrival, by facility, then by triage (`all` for every triage).
    pub arrival_hours: BTreeMap<String, BTreeMap<String, Percentiles>>,
    /// Hours from injury to the terminal event, by outcome.
    pub outcome_hours: BTreeMap<String, Percentiles>,
    /// Moves between facilities: (from, to, patients).
    pub flows: Vec<Flow>,
    /// Where journeys ended: facility → outcome → patients.
    pub outcomes_by_facility: BTreeMap<String, BTreeMap<String, u64>>,
}

/// Patients moving from one facility to the next one they reached.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Flow {
    /// The facility left (`POI`, `Role1`…).
    pub from: String,
    /// The next facility reached.
    pub to: String,
    /// Patients who made this move.
    pub count: u64,
}
