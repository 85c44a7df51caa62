//! The casualty plan: when each patient is injured, in which event, on which
//! front, of which nationality and injury category.
//!
//! The plan is drawn from one sequential random stream, one day at a time, so it
//! costs a few dozen bytes per patient of the current day and nothing more. It
//! yields [`PatientSlot`]s in injury-time order; their index is the patient id.
//!
//! Exactness: category, front and nationality counts are fixed up front by
//! largest remainder and then drawn without replacement from urns, so the
//! requested shares come out exactly whatever the events look like. Combat events
//! draw battle injuries (and the other categories in the share each warfare type
//! produces in combat); the rest of the disease and non-battle-injury patients
//! present steadily over each day ("sick call").

mod patterns;

use crate::apportion::{Urn, largest_remainder};
use crate::data::{Catalog, NationId};
use crate::model::{InjuryType, SpecialEvent, WarfareType};
use crate::rng::{Domain, Rng};
use crate::scenario::Scenario;
use crate::time::UtcSeconds;

pub use patterns::hourly_weights;

/// What kind of event a patient came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// One to three casualties of ordinary combat.
    Individual,
    /// A mass-casualty cluster of ordinary combat.
    MassCasualty,
    /// A special event (always a mass-casualty event).
    Special(SpecialEvent),
    /// A disease or non-battle injury presenting outside combat.
    Background,
}

impl EventKind {
    /// Whether the patient is flagged as part of a mass-casualty event.
    pub fn is_mass_casualty(self) -> bool {
        matches!(self, EventKind::MassCasualty | EventKind::Special(_))
    }
}

/// Everything the plan decides about one patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PatientSlot {
    /// Patient id (0-based, in injury-time order).
    pub index: u32,
    /// Day of the scenario (1-based).
    pub day: u32,
    /// When the patient is injured (UTC).
    pub injury_time: UtcSeconds,
    /// Warfare type of the event (`mixed` for special events).
    pub warfare: WarfareType,
    /// Event kind.
    pub kind: EventKind,
    /// Event start, seconds after midnight of `day`.
    pub event_second: u32,
    /// Random tag that makes the event id unique.
    pub event_tag: u32,
    /// Injury category.
    pub injury_type: InjuryType,
    /// Index of the front in the scenario.
    pub front: u16,
    /// The patient's nation.
    pub nation: NationId,
    /// Number of earlier patients of the same nationality (0-based, in id
    /// order): service numbers derive their uniqueness from it.
    pub nation_ordinal: u32,
}

impl PatientSlot {
    /// Upstream-style event id, e.g. `MC_artillery_2_7_41_3f9c2a1b`.
    pub fn event_id(&self) -> String {
        let hour = self.event_second / 3600;
        let minute = self.event_second / 60 % 60;
        let day0 = self.day - 1;
        match self.kind {
            EventKind::Individual => {
                format!("IND_{}_{day0}_{hour}_{minute}_{:08x}", self.warfare, self.event_tag)
            }
            EventKind::MassCasualty => {
                format!("MC_{}_{day0}_{hour}_{minute}_{:08x}", self.warfare, self.event_tag)
            }
            EventKind::Special(e) => format!("SE_{e}_{}_{hour}_{:08x}", self.day, self.event_tag),
            EventKind::Background => format!("DNBI_{day0}_{hour}_{minute}_{:08x}", self.event_tag),
        }
    }
}

/// One event of a day before expansion into patients.
#[derive(Debug, Clone, Copy)]
struct DayEvent {
    second: u32,
    count: u32,
    /// Seconds over which its patients are spread.
    spread: u32,
    warfare: WarfareType,
    kind: EventKind,
    tag: u32,
}

/// The plan iterator.
#[derive(Debug)]
pub struct Plan<'a> {
    scenario: &'a Scenario,
    catalog: &'a Catalog,
    rng: Rng,
    event_days: Vec<u64>,
    background_days: Vec<u64>,
    event_categories: Urn,
    background_categories: Urn,
    fronts: Urn,
    nations: Vec<Urn>,
    /// Patients of each nation emitted so far, by [`NationId`].
    per_nation: Vec<u32>,
    /// Day being emitted (1-based); 0 before the first.
    day: u32,
    buffer: Vec<PatientSlot>,
    cursor: usize,
    next_index: u32,
    category_bias: [[f64; 3]; 9],
    cluster_factor: f64,
}

/// Number of patients per category that come from combat events.
fn event_counts(scenario: &Scenario, catalog: &Catalog, per_category: &[u64]) -> [u64; 3] {
    let total_weight: f64 = scenario.warfare.iter().map(|(_, w)| w).sum();
    let mut out = [0u64; 3];
    for t in InjuryType::ALL {
        let fraction: f64 = scenario
            .warfare
            .iter()
            .map(|(w, weight)| weight / total_weight * catalog.warfare.profile(*w).event_fraction[t.index()])
            .sum();
        let n = per_category[t.index()];
        out[t.index()] = ((n as f64 * fraction.clamp(0.0, 1.0)).round() as u64).min(n);
    }
    out
}

/// Daily weights for a tempo over `days` days.
fn tempo_weights(scenario: &Scenario, catalog: &Catalog) -> Vec<f64> {
    use crate::data::warfare::Beyond;
    let curve = &catalog.warfare.tempo[scenario.tempo.index()];
    let base = &curve.daily_intensity;
    let days = scenario.days as usize;
    if days <= base.len() {
        return base[..days].to_vec();
    }
    match curve.beyond_eight_days {
        Beyond::Cycle => (0..days).map(|d| base[d % base.len()]).collect(),
        Beyond::Stretch => (0..days)
            .map(|d| {
                let pos = d as f64 * (base.len() - 1) as f64 / (days - 1) as f64;
                let i = pos.floor() as usize;
                let frac = pos - i as f64;
                let next = base[(i + 1).min(base.len() - 1)];
                base[i] * (1.0 - frac) + next * frac
            })
            .collect(),
    }
}

impl<'a> Plan<'a> {
    /// Prepares the plan of a scenario.
    pub fn new(scenario: &'a Scenario, catalog: &'a Catalog) -> Self {
        let mut rng = Rng::stream(scenario.seed, Domain::Plan, 0);
        let total = u64::from(scenario.total_patients);
        let per_category = largest_remainder(total, &scenario.injury_mix);
        let events = event_counts(scenario, catalog, &per_category);
        let background: Vec<u64> = per_category.iter().zip(events).map(|(n, e)| n - e).collect();
        let event_total: u64 = events.iter().sum();
        let background_total: u64 = background.iter().sum();
        let event_days = largest_remainder(event_total, &tempo_weights(scenario, catalog));
        let background_days = largest_remainder(background_total, &vec![1.0; scenario.days as usize]);
        let front_weights: Vec<f64> = scenario.fronts.iter().map(|f| f.weight).collect();
        let front_counts = largest_remainder(total, &front_weights);
        let nations = scenario
            .fronts
            .iter()
            .zip(&front_counts)
            .map(|(f, n)| {
                let w: Vec<f64> = f.nations.iter().map(|(_, s)| *s).collect();
                Urn::new(largest_remainder(*n, &w))
            })
            .collect();
        let mut category_bias = [[1.0; 3]; 9];
        for w in WarfareType::ALL {
            category_bias[w.index()] = catalog.warfare.profile(*w).category_bias;
        }
        let cluster_factor: f64 = scenario
            .environment
            .iter()
            .map(|e| catalog.warfare.environment[e.index()].casualty_modifier)
            .product();
        // One draw so that different seeds diverge from the first event on.
        let _ = rng.next_u64();
        Self {
            scenario,
            catalog,
            rng,
            event_days,
            background_days,
            event_categories: Urn::new(events.to_vec()),
            background_categories: Urn::new(background),
            fronts: Urn::new(front_counts),
            nations,
            per_nation: vec![0; catalog.nations.all().len()],
            day: 0,
            buffer: Vec::new(),
            cursor: 0,
            next_index: 0,
            category_bias,
            cluster_factor,
        }
    }

    /// Builds the events of day `day` (1-based).
    fn day_events(&mut self, day: u32) -> Vec<DayEvent> {
        let d = (day - 1) as usize;
        let mut combat = self.event_days[d];
        let mut events = Vec::new();
        let warfare = &self.catalog.warfare;

        // Special events come out of the day's combat casualties.
        let day_combat = combat;
        for special in &self.scenario.special_events {
            let t = &warfare.special_events[special.index()];
            if t.days.as_ref().is_some_and(|days| !days.contains(&day)) {
                continue;
            }
            if !self.rng.chance(t.daily_probability) || combat == 0 {
                continue;
            }
            let share = self
                .rng
                .uniform(t.share_of_day[0], t.share_of_day[1].max(t.share_of_day[0]))
                .min(t.max_share_of_day);
            let mut size = (day_combat as f64 * share).floor() as u64;
            if let Some(cap) = t.max_patients {
                size = size.min(u64::from(cap));
            }
            size = size.min(combat);
            if size == 0 {
                continue;
            }
            combat -= size;
            let start = if t.start_hours.is_empty() {
                12
            } else {
                t.start_hours[self.rng.index(t.start_hours.len())]
            };
            let second = start * 3600 + self.rng.int_in(0, 59) * 60;
            let spread = ((t.duration_hours * 3600.0) as u32).min(86_399 - second);
            events.push(DayEvent {
                second,
                count: size as u32,
                spread,
                warfare: WarfareType::Mixed,
                kind: EventKind::Special(*special),
                tag: self.rng.next_u64() as u32,
            });
        }

        // The rest of the day's combat casualties, by warfare type and hour.
        let weights: Vec<f64> = self.scenario.warfare.iter().map(|(_, w)| *w).collect();
        let per_type = largest_remainder(combat, &weights);
        let mc_factor = warfare.intensity[self.scenario.intensity.index()].mass_casualty_factor;
        for ((w, _), n) in self.scenario.warfare.iter().zip(per_type) {
            if n == 0 {
                continue;
            }
            let profile = warfare.profile(*w);
            let hourly = hourly_weights(&profile.pattern, &warfare.hourly_baseline, &mut self.rng);
            let per_hour = largest_remainder(n, &hourly);
            for (hour, mut left) in per_hour.into_iter().enumerate() {
                let hour = hour as u32;
                let p = (profile.mass_casualty_probability * mc_factor).min(0.95);
                if left > 5 && self.rng.chance(p) {
                    let [lo, hi] = profile.cluster_size;
                    let size =
                        (f64::from(self.rng.int_in(lo, hi.max(lo))) * self.cluster_factor).round() as u64;
                    let size = size.clamp(2, left);
                    left -= size;
                    events.push(DayEvent {
                        second: hour * 3600 + self.rng.int_in(0, 3599),
                        count: size as u32,
                        spread: 180,
                        warfare: *w,
                        kind: EventKind::MassCasualty,
                        tag: self.rng.next_u64() as u32,
                    });
                }
                while left > 0 {
                    let size = u64::from(self.rng.int_in(1, 3)).min(left);
                    left -= size;
                    events.push(DayEvent {
                        second: hour * 3600 + self.rng.int_in(0, 3599),
                        count: size as u32,
                        spread: 60,
                        warfare: *w,
                        kind: EventKind::Individual,
                        tag: self.rng.next_u64() as u32,
                    });
                }
            }
        }

        // Disease and non-battle injuries present through the day.
        let background = self.background_days[d];
        if background > 0 {
            let per_hour = largest_remainder(background, &warfare.background_hourly);
            let types: Vec<f64> = self.scenario.warfare.iter().map(|(_, w)| *w).collect();
            for (hour, n) in per_hour.into_iter().enumerate() {
                for _ in 0..n {
                    let w = self.scenario.warfare[self.rng.weighted(&types)].0;
                    events.push(DayEvent {
                        second: hour as u32 * 3600 + self.rng.int_in(0, 3599),
                        count: 1,
                        spread: 0,
                        warfare: w,
                        kind: EventKind::Background,
                        tag: self.rng.next_u64() as u32,
                    });
                }
            }
        }
        events.sort_by_key(|e| e.second);
        events
    }

    /// Expands a day's events into patient slots, in time order.
    fn fill_day(&mut self, day: u32) {
        self.buffer.clear();
        self.cursor = 0;
        let day_start = self.scenario.base_date.midnight().plus(i64::from(day - 1) * 86_400);
        let events = self.day_events(day);
        const BI: usize = 0;
        for e in &events {
            let mut remaining = u64::from(e.count);
            let mut offset = 0u32;
            while remaining > 0 {
                let Some((front, taken)) = self.fronts.draw_up_to(&mut self.rng, None, remaining) else {
                    break;
                };
                remaining -= taken;
                for _ in 0..taken {
                    let (urn, bias) = if e.kind == EventKind::Background {
                        (&mut self.background_categories, None)
                    } else {
                        let mut b = self.category_bias[e.warfare.index()];
                        if e.kind.is_mass_casualty() {
                            b[BI] *= 10.0;
                        }
                        (&mut self.event_categories, Some(b))
                    };
                    let category = urn
                        .draw(&mut self.rng, bias.as_ref().map(|b| b.as_slice()))
                        .map_or(InjuryType::BattleInjury, |i| InjuryType::ALL[i]);
                    let nation_urn = &mut self.nations[front];
                    let nation = nation_urn
                        .draw(&mut self.rng, None)
                        .map(|i| self.scenario.fronts[front].nations[i].0)
                        .unwrap_or(self.scenario.fronts[front].nations[0].0);
                    if e.spread > 0 {
                        let step = self.rng.int_in(0, (e.spread / e.count.max(1)).max(1));
                        offset = (offset + step).min(e.spread);
                    }
                    let second = (e.second + offset).min(86_399);
                    self.buffer.push(PatientSlot {
                        index: 0,
                        day,
                        injury_time: day_start.plus(i64::from(second)),
                        warfare: e.warfare,
                        kind: e.kind,
                        event_second: e.second,
                        event_tag: e.tag,
                        injury_type: category,
                        front: front as u16,
                        nation,
                        nation_ordinal: 0,
                    });
                }
            }
        }
        self.buffer.sort_by_key(|s| s.injury_time);
        for slot in &mut self.buffer {
            slot.index = self.next_index;
            self.next_index += 1;
            let seen = &mut self.per_nation[usize::from(slot.nation.0)];
            slot.nation_ordinal = *seen;
            *seen += 1;
        }
    }
}

impl Iterator for Plan<'_> {
    type Item = PatientSlot;

    fn next(&mut self) -> Option<PatientSlot> {
        while self.cursor >= self.buffer.len() {
            if self.day >= self.scenario.days {
                return None;
            }
            self.day += 1;
            let day = self.day;
            self.fill_day(day);
        }
        let slot = self.buffer[self.cursor];
        self.cursor += 1;
        Some(slot)
    }
}

#[cfg(test)]
mod tests;
