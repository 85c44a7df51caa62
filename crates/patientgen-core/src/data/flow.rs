//! Outcome probabilities and timings along the chain of care (`data/flow.json`).

use super::{DataError, parse};
use crate::model::{InjuryType, Role, Triage};
use serde::Deserialize;
use std::collections::BTreeMap;

const FILE: &str = "data/flow.json";

/// Per-triage hour ranges, by [`Triage::index`].
pub type HoursByTriage = [[f64; 2]; 4];

/// Death and return-to-duty shares at one facility (the rest are evacuated).
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct OutcomeShares {
    /// Probability of dying here.
    pub death: f64,
    /// Probability of returning to duty from here.
    pub rtd: f64,
}

/// The point-of-injury stage.
#[derive(Debug, Clone)]
pub struct PoiFlow {
    /// Death before reaching care, by category then triage.
    pub death: [[f64; 4]; 3],
    /// Window after injury in which KIA deaths happen.
    pub death_window_hours: [f64; 2],
    /// Time until first aid starts.
    pub care_start_hours: HoursByTriage,
    /// Time waiting for evacuation.
    pub evacuation_wait_hours: HoursByTriage,
    /// First facility by triage: (role, probability).
    pub first_destination: [Vec<(Role, f64)>; 4],
}

/// One facility's stage.
#[derive(Debug, Clone)]
pub struct FacilityFlow {
    /// Outcome shares by category then triage.
    pub outcomes: [[OutcomeShares; 4]; 3],
    /// Time until the evacuation decision (also the window for deaths).
    pub treatment_hours: HoursByTriage,
    /// Time waiting for transport.
    pub evacuation_wait_hours: HoursByTriage,
    /// Time until return to duty.
    pub rtd_hours: HoursByTriage,
    /// Time until tracking ends for patients who stay.
    pub remain_hours: [f64; 2],
}

/// Adjustments to the flow model for mass casualties, the golden hour and the environment.
#[derive(Debug, Clone, Deserialize)]
pub struct FlowModifiers {
    /// Death factor in mass-casualty events.
    pub mass_casualty_death_factor: f64,
    /// Factor on the POI wait in mass-casualty events.
    pub mass_casualty_wait_factor: f64,
    /// Added relative death risk of T1 patients per hour of extra delay.
    pub golden_hour_death_increase_per_hour: f64,
    /// Fraction of the environmental delay that applies (range).
    pub environment_delay_fraction: [f64; 2],
}

/// Default facility rates (upstream's `facility_defaults`).
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct FacilityRates {
    /// Death rate.
    pub kia_rate: f64,
    /// Return-to-duty rate.
    pub rtd_rate: f64,
}

/// The whole flow model.
#[derive(Debug, Clone)]
pub struct FlowData {
    /// POI stage.
    pub poi: PoiFlow,
    /// Role1..Role4, by `role.index() - 1`.
    pub facilities: Vec<FacilityFlow>,
    /// Transit ranges keyed by (from, to).
    pub transit: BTreeMap<(Role, Role), HoursByTriage>,
    /// Mass-casualty, golden-hour and environment adjustments.
    pub modifiers: FlowModifiers,
    /// Default rates by [`Role::index`] (POI included).
    pub defaults: Vec<FacilityRates>,
}

#[derive(Debug, Deserialize)]
struct PoiFile {
    death: BTreeMap<String, BTreeMap<String, f64>>,
    death_window_hours: [f64; 2],
    care_start_hours: BTreeMap<String, [f64; 2]>,
    evacuation_wait_hours: BTreeMap<String, [f64; 2]>,
    first_destination: BTreeMap<String, BTreeMap<String, f64>>,
}

#[derive(Debug, Deserialize)]
struct FacilityFile {
    outcomes: BTreeMap<String, BTreeMap<String, OutcomeShares>>,
    treatment_hours: BTreeMap<String, [f64; 2]>,
    evacuation_wait_hours: BTreeMap<String, [f64; 2]>,
    rtd_hours: BTreeMap<String, [f64; 2]>,
    remain_hours: [f64; 2],
}

#[derive(Debug, Deserialize)]
struct FlowFile {
    poi: PoiFile,
    facilities: BTreeMap<String, FacilityFile>,
    transit_hours: BTreeMap<String, BTreeMap<String, [f64; 2]>>,
    modifiers: FlowModifiers,
    facility_defaults: BTreeMap<String, FacilityRates>,
}

fn by_triage<T: Copy>(map: &BTreeMap<String, T>, what: &str) -> Result<[T; 4], DataError> {
    let get = |t: Triage| {
        map.get(t.as_str()).copied().ok_or_else(|| DataError::new(FILE, format!("{what}: {t} missing")))
    };
    Ok([get(Triage::T1)?, get(Triage::T2)?, get(Triage::T3)?, get(Triage::T4)?])
}

fn by_category<T: Copy>(
    map: &BTreeMap<String, BTreeMap<String, T>>,
    what: &str,
) -> Result<[[T; 4]; 3], DataError> {
    let get = |c: InjuryType| {
        map.get(c.as_str())
            .ok_or_else(|| DataError::new(FILE, format!("{what}: {c} missing")))
            .and_then(|m| by_triage(m, what))
    };
    Ok([get(InjuryType::BattleInjury)?, get(InjuryType::NonBattleInjury)?, get(InjuryType::Disease)?])
}

fn check_range(r: [f64; 2], what: &str) -> Result<(), DataError> {
    if !(r[0] >= 0.0 && r[1] >= r[0]) {
        return Err(DataError::new(FILE, format!("{what}: bad range {r:?}")));
    }
    Ok(())
}

impl FlowData {
    pub(crate) fn load() -> Result<Self, DataError> {
        let raw: FlowFile = parse(FILE, include_str!("../../data/flow.json"))?;
        let mut first_destination: [Vec<(Role, f64)>; 4] = Default::default();
        for t in Triage::ALL {
            let row = raw
                .poi
                .first_destination
                .get(t.as_str())
                .ok_or_else(|| DataError::new(FILE, format!("first_destination {t} missing")))?;
            for (role, p) in row {
                let role = Role::parse(role)
                    .filter(|r| *r != Role::Poi)
                    .ok_or_else(|| DataError::new(FILE, format!("bad role {role}")))?;
                first_destination[t.index()].push((role, *p));
            }
        }
        let poi = PoiFlow {
            death: by_category(&raw.poi.death, "poi.death")?,
            death_window_hours: raw.poi.death_window_hours,
            care_start_hours: by_triage(&raw.poi.care_start_hours, "care_start_hours")?,
            evacuation_wait_hours: by_triage(&raw.poi.evacuation_wait_hours, "poi wait")?,
            first_destination,
        };
        let mut facilities = Vec::new();
        let mut defaults = Vec::new();
        for role in Role::ALL {
            defaults.push(
                *raw.facility_defaults
                    .get(role.as_str())
                    .ok_or_else(|| DataError::new(FILE, format!("facility_defaults {role} missing")))?,
            );
        }
        for role in Role::FACILITIES {
            let f = raw
                .facilities
                .get(role.as_str())
                .ok_or_else(|| DataError::new(FILE, format!("facility {role} missing")))?;
            let flow = FacilityFlow {
                outcomes: by_category(&f.outcomes, role.as_str())?,
                treatment_hours: by_triage(&f.treatment_hours, "treatment_hours")?,
                evacuation_wait_hours: by_triage(&f.evacuation_wait_hours, "evacuation_wait")?,
                rtd_hours: by_triage(&f.rtd_hours, "rtd_hours")?,
                remain_hours: f.remain_hours,
            };
            for row in &flow.outcomes {
                for o in row {
                    if o.death < 0.0 || o.rtd < 0.0 || o.death + o.rtd > 1.0 + 1e-9 {
                        return Err(DataError::new(FILE, format!("{role}: shares exceed 1")));
                    }
                }
            }
            for r in flow.treatment_hours.iter().chain(&flow.rtd_hours) {
                check_range(*r, role.as_str())?;
            }
            facilities.push(flow);
        }
        let mut transit = BTreeMap::new();
        for (key, table) in &raw.transit_hours {
            let (from, to) = key
                .split_once('>')
                .and_then(|(a, b)| Some((Role::parse(a)?, Role::parse(b)?)))
                .ok_or_else(|| DataError::new(FILE, format!("bad route {key}")))?;
            let hours = by_triage(table, key)?;
            for r in &hours {
                check_range(*r, key)?;
            }
            transit.insert((from, to), hours);
        }
        Ok(Self { poi, facilities, transit, modifiers: raw.modifiers, defaults })
    }

    /// The stage of a facility role (not POI).
    pub fn facility(&self, role: Role) -> &FacilityFlow {
        &self.facilities[role.index().saturating_sub(1)]
    }

    /// Transit hours for a route; routes missing from the table are composed
    /// from the legs in between.
    pub fn transit_hours(&self, from: Role, to: Role, triage: Triage) -> [f64; 2] {
        if let Some(t) = self.transit.get(&(from, to)) {
            return t[triage.index()];
        }
        let mut lo = 0.0;
        let mut hi = 0.0;
        let roles = Role::ALL;
        for w in roles[from.index()..=to.index()].windows(2) {
            let leg = self.transit.get(&(w[0], w[1])).map(|t| t[triage.index()]).unwrap_or([1.0, 3.0]);
            lo += leg[0];
            hi += leg[1];
        }
        [lo, hi]
    }
}
