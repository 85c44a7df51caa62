//! The generator: a scenario's plan plus the per-patient builder.

use crate::data::{Catalog, catalog};
use crate::flow;
use crate::patient::{DayLabel, Patient, demographics, medical};
use crate::rng::{Domain, Rng};
use crate::scenario::Scenario;
use crate::timeline::{EventKind, PatientSlot, Plan};

/// Generates the patients of one scenario.
#[derive(Debug, Clone, Copy)]
pub struct Generator<'a> {
    scenario: &'a Scenario,
    catalog: &'static Catalog,
}

impl<'a> Generator<'a> {
    /// A generator for a validated scenario.
    pub fn new(scenario: &'a Scenario) -> Self {
        Self { scenario, catalog: catalog() }
    }

    /// The scenario it generates.
    pub fn scenario(&self) -> &'a Scenario {
        self.scenario
    }

    /// The casualty plan: one slot per patient, in id order.
    pub fn plan(&self) -> Plan<'a> {
        Plan::new(self.scenario, self.catalog)
    }

    /// Builds the patient of a slot. Depends only on (seed, slot), so patients can
    /// be built on any thread in any order.
    pub fn patient(&self, slot: &PatientSlot) -> Patient<'a> {
        let scenario = self.scenario;
        let catalog = self.catalog;
        let mut rng = Rng::stream(scenario.seed, Domain::Patient, u64::from(slot.index));
        let demographics = demographics::draw(&mut rng, catalog, scenario.seed, slot);
        let injury = medical::draw(&mut rng, catalog, scenario, slot);
        let mut conditions = Vec::with_capacity(1);
        let mut additional = Vec::new();
        medical::condition_entries(catalog, &injury, &mut conditions, &mut additional);
        let vital_signs = medical::vital_signs(&mut rng, catalog, &injury);
        let mut movement_timeline = Vec::with_capacity(10);
        let mut treatments = Vec::with_capacity(8);
        let journey = flow::simulate(
            &mut rng,
            catalog,
            scenario,
            slot,
            &injury,
            &mut movement_timeline,
            &mut treatments,
        );
        let status = match journey.outcome {
            crate::model::Outcome::Kia => "KIA",
            crate::model::Outcome::Dow => "DOW",
            crate::model::Outcome::Rtd => "RTD",
            crate::model::Outcome::RemainsRole4 => journey.last_facility.as_str(),
        };
        let front = &scenario.fronts[usize::from(slot.front)];
        Patient {
            id: slot.index,
            nationality: demographics.nationality,
            gender: demographics.gender,
            injury_type: slot.injury_type,
            triage_category: injury.triage,
            status,
            front: &front.name,
            final_status: journey.outcome.final_status(),
            outcome: journey.outcome,
            last_facility: journey.last_facility,
            demographics,
            conditions,
            severity: injury.severity,
            additional_conditions: additional,
            vital_signs,
            treatments,
            movement_timeline,
            injury_time: slot.injury_time,
            injury_timestamp: slot.injury_time,
            scenario: slot.warfare,
            event_id: slot.event_id(),
            mass_casualty: slot.kind.is_mass_casualty(),
            special_event: match slot.kind {
                EventKind::Special(e) => Some(e),
                _ => None,
            },
            day: DayLabel(slot.day),
            body_part: injury.body_part,
            environmental_conditions: &scenario.environment,
        }
    }
}
