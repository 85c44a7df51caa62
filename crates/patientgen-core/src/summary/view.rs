//! Patient records read back from a file (ours or upstream's), reduced to the
//! [`PatientFacts`] a summary needs.

use super::PatientFacts;
use crate::model::{InjuryType, Outcome, Role, Triage};
use serde::Deserialize;

/// A patient record as read back from a file (upstream's or ours).
#[derive(Debug, Deserialize)]
pub struct PatientView<'a> {
    /// Initial triage category.
    #[serde(borrow, default)]
    pub triage_category: Option<&'a str>,
    /// Our outcome.
    #[serde(borrow, default)]
    pub outcome: Option<&'a str>,
    /// Upstream's final status.
    #[serde(borrow, default)]
    pub final_status: Option<&'a str>,
    /// Injury category.
    #[serde(borrow, default)]
    pub injury_type: Option<&'a str>,
    /// ISO alpha-3 (upstream's records too).
    #[serde(borrow, default)]
    pub nationality: Option<&'a str>,
    /// Front name.
    #[serde(borrow, default)]
    pub front: Option<&'a str>,
    /// Injured in a mass-casualty event.
    #[serde(default)]
    pub mass_casualty: bool,
    /// Events in time order; arrivals give the facility times.
    #[serde(borrow, default)]
    pub movement_timeline: Vec<EventView<'a>>,
}

/// A timeline event as read back.
#[derive(Debug, Deserialize)]
pub struct EventView<'a> {
    /// `arrival`, `evacuation_start`, `kia`…
    #[serde(borrow)]
    pub event_type: &'a str,
    /// Where it happened (`POI`, `Role1`…).
    #[serde(borrow, default)]
    pub facility: Option<&'a str>,
    /// When, in hours after injury.
    #[serde(default)]
    pub hours_since_injury: f64,
}

impl<'a> PatientView<'a> {
    /// Facts of a record, or why it cannot be summarised.
    pub fn facts(&self) -> Result<PatientFacts<'a>, String> {
        let triage = self
            .triage_category
            .and_then(Triage::parse)
            .ok_or_else(|| "missing or unknown triage_category".to_string())?;
        let injury_type = match self.injury_type {
            Some("BATTLE_TRAUMA") | Some("Polytrauma") => InjuryType::BattleInjury,
            Some("NON_BATTLE") => InjuryType::NonBattleInjury,
            Some("DISEASE") => InjuryType::Disease,
            Some(s) => InjuryType::parse(s).ok_or_else(|| format!("unknown injury_type '{s}'"))?,
            None => return Err("missing injury_type".into()),
        };
        let mut arrivals = [None; 5];
        let mut end = 0u32;
        let mut last_facility = Role::Poi;
        for e in &self.movement_timeline {
            let role = e.facility.and_then(Role::parse);
            let at = (e.hours_since_injury.max(0.0) * 3600.0).round() as u32;
            if e.event_type == "arrival"
                && let Some(r) = role
            {
                arrivals[r.index()].get_or_insert(at);
            }
            if let Some(r) = role {
                last_facility = r;
            }
            end = end.max(at);
        }
        let reached_mtf = arrivals[1..].iter().any(Option::is_some);
        let outcome = match (self.outcome, self.final_status) {
            (Some(o), _) => Outcome::parse(o).ok_or_else(|| format!("unknown outcome '{o}'"))?,
            (None, Some("KIA")) if reached_mtf => Outcome::Dow,
            (None, Some("KIA")) => Outcome::Kia,
            (None, Some("RTD")) => Outcome::Rtd,
            (None, Some(_)) => Outcome::RemainsRole4,
            (None, None) => return Err("missing outcome and final_status".into()),
        };
        Ok(PatientFacts {
            outcome,
            triage,
            injury_type,
            nationality: self.nationality.unwrap_or("UNKNOWN"),
            front: self.front.unwrap_or("UNKNOWN"),
            arrivals,
            end,
            last_facility,
            mass_casualty: self.mass_casualty,
        })
    }
}
