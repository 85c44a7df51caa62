//! The journey through the chain of care: a per-patient state machine over POI
//! and Role 1–4, driven by the per-facility, per-triage tables of
//! `data/flow.json` and the scenario's facility chain and parameters.
//!
//! All times are whole seconds after injury and only ever move forward, so
//! `hours_since_injury` is non-decreasing and there is exactly one terminal
//! event, which agrees with the outcome.

use crate::data::{Catalog, ProtocolStep};
use crate::model::{InjuryType, Outcome, Role, Triage};
use crate::patient::medical::Injury;
use crate::patient::record::{EventType, Hours, TimelineEvent, Treatment};
use crate::rng::Rng;
use crate::scenario::Scenario;
use crate::time::UtcSeconds;
use crate::timeline::PatientSlot;

/// How a journey ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Journey {
    /// Outcome.
    pub outcome: Outcome,
    /// Facility of the terminal event.
    pub last_facility: Role,
}

fn secs(hours: f64) -> u32 {
    (hours * 3600.0).round().max(0.0) as u32
}

fn draw_hours(rng: &mut Rng, range: [f64; 2]) -> f64 {
    if range[1] <= range[0] { range[0] } else { rng.uniform(range[0], range[1]) }
}

struct Context<'c, 'a> {
    catalog: &'a Catalog,
    injury: &'c Injury,
    injury_time: UtcSeconds,
    events: &'c mut Vec<TimelineEvent>,
    treatments: &'c mut Vec<Treatment<'a>>,
}

impl<'a> Context<'_, 'a> {
    fn event(&mut self, kind: EventType, facility: Role, at: u32) -> &mut TimelineEvent {
        self.events.push(TimelineEvent::new(kind, facility, self.injury_time, at));
        let last = self.events.len() - 1;
        &mut self.events[last]
    }

    /// Applies the protocol steps of `role` between `from` and `until` seconds.
    fn treat(&mut self, rng: &mut Rng, role: Role, from: u32, until: u32) {
        let clinical = &self.catalog.clinical;
        let condition = clinical.condition(self.injury.primary);
        let protocol = clinical.protocol_for(condition, self.injury.body_part);
        let start = self.treatments.len();
        for step in &protocol.steps[role.index()] {
            if !applies(step, self.injury, rng) {
                continue;
            }
            let [lo, hi] = step.minutes_after_arrival;
            let at = from + secs(draw_hours(rng, [lo, hi]) / 60.0);
            if at > until {
                continue;
            }
            let p = clinical.procedure(step.procedure);
            self.treatments.push(Treatment {
                treatment: &p.key,
                code: &p.code,
                display: &p.display,
                timestamp: self.injury_time.plus(i64::from(at)),
                location: role,
                hours_since_injury: Hours(at),
            });
        }
        self.treatments[start..].sort_by_key(|t| t.hours_since_injury);
    }
}

fn applies(step: &ProtocolStep, injury: &Injury, rng: &mut Rng) -> bool {
    if let Some(region) = step.requires
        && !injury.body_part.is_some_and(|p| region.contains(p))
    {
        return false;
    }
    rng.chance(step.probability[injury.triage.index()])
}

/// Simulates a patient's journey, appending timeline events and treatments.
#[allow(clippy::too_many_arguments)]
pub fn simulate<'a>(
    rng: &mut Rng,
    catalog: &'a Catalog,
    scenario: &Scenario,
    slot: &PatientSlot,
    injury: &Injury,
    events: &mut Vec<TimelineEvent>,
    treatments: &mut Vec<Treatment<'a>>,
) -> Journey {
    let flow = &catalog.flow;
    let warfare = &catalog.warfare;
    let category = slot.injury_type.index();
    let triage = injury.triage;
    let t = triage.index();
    let mass_casualty = slot.kind.is_mass_casualty();
    // What the conditions allow: death only if one of them can kill, no
    // evacuation beyond the highest role one of them needs, and a bounded stay
    // for a self-limiting condition on its own.
    let clinical = &catalog.clinical;
    let primary = clinical.condition(injury.primary);
    let others = || injury.additional.iter().map(|id| clinical.condition(*id));
    let lethal = primary.lethal || others().any(|c| c.lethal);
    let max_role = others().map(|c| c.max_role).fold(primary.max_role, Role::max);
    let stay_cap = if injury.additional.is_empty() { primary.max_stay_hours } else { None };
    let mut mortality = if lethal { injury.mortality_modifier } else { 0.0 };
    if mass_casualty {
        mortality *= flow.modifiers.mass_casualty_death_factor;
    }
    let delay_minutes: f64 =
        scenario.environment.iter().map(|e| warfare.environment[e.index()].evacuation_delay_minutes).sum();
    let [flo, fhi] = flow.modifiers.environment_delay_fraction;
    let delay_hours = delay_minutes / 60.0 * draw_hours(rng, [flo, fhi]);
    let mobility: f64 =
        scenario.environment.iter().map(|e| warfare.environment[e.index()].mobility).product();
    let transit_factor = (1.0 / mobility.max(0.2)).min(3.0);

    let mut ctx = Context { catalog, injury, injury_time: slot.injury_time, events, treatments };
    ctx.event(EventType::Arrival, Role::Poi, 0);

    // Point of injury.
    let poi = &flow.poi;
    let care = secs(draw_hours(rng, poi.care_start_hours[t]));
    let poi_params = scenario.facility_params(usize::from(slot.front), Role::Poi);
    let mut p_death = poi.death[category][t] * mortality * poi_params.death_factor;
    if triage == Triage::T1 {
        p_death *= 1.0 + flow.modifiers.golden_hour_death_increase_per_hour * delay_hours;
    }
    if rng.chance(p_death.min(0.98)) {
        let [lo, hi] = poi.death_window_hours;
        // Most of those killed die within minutes.
        let at = secs(lo + (hi - lo) * rng.unit().powi(2));
        ctx.treat(rng, Role::Poi, care, at);
        ctx.event(EventType::Kia, Role::Poi, at).outcome = Some(Outcome::Kia);
        return Journey { outcome: Outcome::Kia, last_facility: Role::Poi };
    }
    let mut wait_hours = draw_hours(rng, poi.evacuation_wait_hours[t]) + delay_hours;
    if mass_casualty {
        wait_hours *= flow.modifiers.mass_casualty_wait_factor;
    }
    let wait = secs(wait_hours);
    let choices: Vec<f64> = poi.first_destination[t].iter().map(|(_, p)| *p).collect();
    let wanted = if slot.injury_type == InjuryType::BattleInjury {
        poi.first_destination[t][rng.weighted(&choices)].0.min(max_role)
    } else {
        Role::Role1
    };
    let mut facility =
        scenario.next_available(wanted).or_else(|| scenario.chain.last().copied()).unwrap_or(Role::Role1);
    ctx.treat(rng, Role::Poi, care, care + wait);
    let transit = secs(draw_hours(rng, flow.transit_hours(Role::Poi, facility, triage)) * transit_factor);
    {
        let e = ctx.event(EventType::EvacuationStart, Role::Poi, care);
        e.evacuation_duration_hours = Some(Hours(wait));
        e.next_facility = Some(facility);
        e.triage_category = Some(triage);
    }
    {
        let e = ctx.event(EventType::TransitStart, Role::Poi, care + wait);
        e.from_facility = Some(Role::Poi);
        e.to_facility = Some(facility);
        e.transit_duration_hours = Some(Hours(transit));
        e.triage_category = Some(triage);
    }
    let mut now = care + wait + transit;

    // Facilities.
    loop {
        ctx.event(EventType::Arrival, facility, now);
        let stage = flow.facility(facility);
        let params = scenario.facility_params(usize::from(slot.front), facility);
        let shares = stage.outcomes[category][t];
        let mut death = shares.death * mortality * params.death_factor;
        let mut rtd = shares.rtd * params.rtd_factor;
        if death + rtd > 1.0 {
            let scale = 1.0 / (death + rtd);
            death *= scale;
            rtd *= scale;
        }
        let chain_next = scenario.after(facility);
        let next = chain_next.filter(|n| *n <= max_role);
        let u = rng.unit();
        if u < death {
            let window = stage.treatment_hours[t][1];
            let at = now + secs(window * rng.unit().powi(2)).max(60);
            ctx.treat(rng, facility, now, at);
            ctx.event(EventType::Kia, facility, at).outcome = Some(Outcome::Dow);
            return Journey { outcome: Outcome::Dow, last_facility: facility };
        }
        // Not evacuated further when the condition needs no higher role, nor (at
        // the end of the chain) when it resolves on its own: return to duty.
        let stays_to_recover = next.is_none() && (chain_next.is_some() || stay_cap.is_some());
        if u < death + rtd || stays_to_recover {
            let mut stay = draw_hours(rng, stage.rtd_hours[t]);
            if let Some(cap) = stay_cap {
                stay = stay.min(draw_hours(rng, cap));
            }
            let at = now + secs(stay);
            ctx.treat(rng, facility, now, at);
            ctx.event(EventType::Rtd, facility, at).outcome = Some(Outcome::Rtd);
            return Journey { outcome: Outcome::Rtd, last_facility: facility };
        }
        let Some(next) = next else {
            let at = now + secs(draw_hours(rng, stage.remain_hours));
            ctx.treat(rng, facility, now, at);
            ctx.event(EventType::RemainsRole4, facility, at).outcome = Some(Outcome::RemainsRole4);
            return Journey { outcome: Outcome::RemainsRole4, last_facility: facility };
        };
        let treat = secs(draw_hours(rng, stage.treatment_hours[t]));
        let wait = secs(draw_hours(rng, stage.evacuation_wait_hours[t]));
        let transit = secs(draw_hours(rng, flow.transit_hours(facility, next, triage)) * transit_factor);
        ctx.treat(rng, facility, now, now + treat + wait);
        {
            let e = ctx.event(EventType::EvacuationStart, facility, now + treat);
            e.evacuation_duration_hours = Some(Hours(wait));
            e.next_facility = Some(next);
            e.triage_category = Some(triage);
        }
        {
            let e = ctx.event(EventType::TransitStart, facility, now + treat + wait);
            e.from_facility = Some(facility);
            e.to_facility = Some(next);
            e.transit_duration_hours = Some(Hours(transit));
            e.triage_category = Some(triage);
        }
        now += treat + wait + transit;
        facility = next;
    }
}
