//! Accumulating patients into a [`Summary`] in bounded memory: counters plus
//! one HDR histogram per (facility, triage) and per outcome.

use super::{Calibration, Flow, Percentiles, Share, Summary};
use crate::model::{InjuryType, Outcome, Role, Triage};
use crate::patient::{EventType, Patient};
use hdrhistogram::Histogram;
use std::collections::BTreeMap;

/// The facts of one patient that a summary needs.
#[derive(Debug, Clone, Copy)]
pub struct PatientFacts<'s> {
    /// How the journey ended.
    pub outcome: Outcome,
    /// Initial triage.
    pub triage: Triage,
    /// Injury category.
    pub injury_type: InjuryType,
    /// ISO alpha-3.
    pub nationality: &'s str,
    /// Front name.
    pub front: &'s str,
    /// Arrival at each role in seconds after injury (by [`Role::index`]).
    pub arrivals: [Option<u32>; 5],
    /// Time of the terminal event, seconds after injury.
    pub end: u32,
    /// Facility of the terminal event.
    pub last_facility: Role,
    /// Mass-casualty flag.
    pub mass_casualty: bool,
}

impl<'s> PatientFacts<'s> {
    /// Facts of a generated patient.
    pub fn of(p: &Patient<'s>) -> Self {
        let mut arrivals = [None; 5];
        for e in &p.movement_timeline {
            if e.event_type == EventType::Arrival && arrivals[e.facility.index()].is_none() {
                arrivals[e.facility.index()] = Some(e.hours_since_injury.0);
            }
        }
        Self {
            outcome: p.outcome,
            triage: p.triage_category,
            injury_type: p.injury_type,
            nationality: p.nationality,
            front: p.front,
            arrivals,
            end: p.terminal_event().map_or(0, |e| e.hours_since_injury.0),
            last_facility: p.last_facility,
            mass_casualty: p.mass_casualty,
        }
    }
}

/// Accumulates [`PatientFacts`] into a [`Summary`] in bounded memory.
#[derive(Debug, Clone)]
pub struct SummaryBuilder {
    total: u64,
    outcomes: [u64; 4],
    triage: [u64; 4],
    injury: [u64; 3],
    nationalities: BTreeMap<String, u64>,
    fronts: BTreeMap<String, u64>,
    reached: [u64; 5],
    mass_casualty: u64,
    bi_kia: u64,
    bi_reaching: u64,
    bi_dow: u64,
    dnbi_rtd: u64,
    dnbi_rtd_low: u64,
    arrivals: Vec<Histogram<u64>>,
    ends: Vec<Histogram<u64>>,
    transitions: [[u64; 5]; 5],
    ended_at: [[u64; 4]; 5],
}

fn histogram() -> Histogram<u64> {
    // Seconds up to 10 years, three significant figures; a few tens of KiB.
    match Histogram::new_with_bounds(1, 315_360_000, 3) {
        Ok(h) => h,
        Err(_) => Histogram::new(3).unwrap_or_else(|_| unreachable!("valid histogram bounds")),
    }
}

impl Default for SummaryBuilder {
    fn default() -> Self {
        Self {
            total: 0,
            outcomes: [0; 4],
            triage: [0; 4],
            injury: [0; 3],
            nationalities: BTreeMap::new(),
            fronts: BTreeMap::new(),
            reached: [0; 5],
            mass_casualty: 0,
            bi_kia: 0,
            bi_reaching: 0,
            bi_dow: 0,
            dnbi_rtd: 0,
            dnbi_rtd_low: 0,
            arrivals: (0..25).map(|_| histogram()).collect(),
            ends: (0..4).map(|_| histogram()).collect(),
            transitions: [[0; 5]; 5],
            ended_at: [[0; 4]; 5],
        }
    }
}

impl SummaryBuilder {
    /// Adds one patient.
    pub fn add(&mut self, f: &PatientFacts<'_>) {
        self.total += 1;
        self.outcomes[f.outcome.index()] += 1;
        self.triage[f.triage.index()] += 1;
        self.injury[f.injury_type.index()] += 1;
        *self.nationalities.entry(f.nationality.to_string()).or_default() += 1;
        *self.fronts.entry(f.front.to_string()).or_default() += 1;
        if f.mass_casualty {
            self.mass_casualty += 1;
        }
        let reached_mtf = f.arrivals[1..].iter().any(Option::is_some);
        for (role, at) in f.arrivals.iter().enumerate() {
            if let Some(at) = at {
                self.reached[role] += 1;
                let at = u64::from(*at).max(1);
                let _ = self.arrivals[role * 5 + f.triage.index()].record(at);
                let _ = self.arrivals[role * 5 + 4].record(at);
            }
        }
        let _ = self.ends[f.outcome.index()].record(u64::from(f.end).max(1));
        let mut visited: Vec<(u32, usize)> =
            f.arrivals.iter().enumerate().filter_map(|(role, at)| at.map(|t| (t, role))).collect();
        visited.sort_unstable();
        for w in visited.windows(2) {
            self.transitions[w[0].1][w[1].1] += 1;
        }
        self.ended_at[f.last_facility.index()][f.outcome.index()] += 1;
        match f.injury_type {
            InjuryType::BattleInjury => {
                if f.outcome == Outcome::Kia {
                    self.bi_kia += 1;
                }
                if reached_mtf {
                    self.bi_reaching += 1;
                    if f.outcome == Outcome::Dow {
                        self.bi_dow += 1;
                    }
                }
            }
            _ => {
                if f.outcome == Outcome::Rtd {
                    self.dnbi_rtd += 1;
                    if matches!(f.last_facility, Role::Role1 | Role::Role2) {
                        self.dnbi_rtd_low += 1;
                    }
                }
            }
        }
    }

    /// Merges another builder (for parallel accumulation).
    pub fn merge(&mut self, other: &SummaryBuilder) {
        self.total += other.total;
        for i in 0..4 {
            self.outcomes[i] += other.outcomes[i];
            self.triage[i] += other.triage[i];
        }
        for i in 0..3 {
            self.injury[i] += other.injury[i];
        }
        for (k, v) in &other.nationalities {
            *self.nationalities.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.fronts {
            *self.fronts.entry(k.clone()).or_default() += v;
        }
        for i in 0..5 {
            self.reached[i] += other.reached[i];
        }
        self.mass_casualty += other.mass_casualty;
        self.bi_kia += other.bi_kia;
        self.bi_reaching += other.bi_reaching;
        self.bi_dow += other.bi_dow;
        self.dnbi_rtd += other.dnbi_rtd;
        self.dnbi_rtd_low += other.dnbi_rtd_low;
        for (a, b) in self.arrivals.iter_mut().zip(&other.arrivals) {
            let _ = a.add(b);
        }
        for (a, b) in self.ends.iter_mut().zip(&other.ends) {
            let _ = a.add(b);
        }
        for i in 0..5 {
            for j in 0..5 {
                self.transitions[i][j] += other.transitions[i][j];
            }
            for j in 0..4 {
                self.ended_at[i][j] += other.ended_at[i][j];
            }
        }
    }

    /// The summary so far.
    pub fn build(&self) -> Summary {
        let total = self.total;
        let share = |count: u64, of: u64| Share {
            count,
            share: if of == 0 { 0.0 } else { count as f64 / of as f64 },
        };
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let bi = self.injury[InjuryType::BattleInjury.index()];
        let dnbi = total - bi;
        let percentiles = |h: &Histogram<u64>| Percentiles {
            count: h.len(),
            p50: hours(h.value_at_quantile(0.5)),
            p90: hours(h.value_at_quantile(0.9)),
            p99: hours(h.value_at_quantile(0.99)),
            max: hours(h.max()),
        };
        let mut arrival_hours = BTreeMap::new();
        for role in Role::ALL {
            let mut by_triage = BTreeMap::new();
            for (i, label) in ["T1", "T2", "T3", "T4", "all"].iter().enumerate() {
                let h = &self.arrivals[role.index() * 5 + i];
                if !h.is_empty() {
                    by_triage.insert((*label).to_string(), percentiles(h));
                }
            }
            arrival_hours.insert(role.as_str().to_string(), by_triage);
        }
        Summary {
            total_patients: total,
            outcomes: Outcome::ALL
                .iter()
                .map(|o| (o.as_str().to_string(), share(self.outcomes[o.index()], total)))
                .collect(),
            triage: Triage::ALL
                .iter()
                .map(|t| (t.as_str().to_string(), share(self.triage[t.index()], total)))
                .collect(),
            injury_types: InjuryType::ALL
                .iter()
                .map(|t| (t.as_str().to_string(), share(self.injury[t.index()], total)))
                .collect(),
            nationalities: self.nationalities.iter().map(|(k, v)| (k.clone(), share(*v, total))).collect(),
            fronts: self.fronts.iter().map(|(k, v)| (k.clone(), share(*v, total))).collect(),
            facilities_reached: Role::ALL
                .iter()
                .map(|r| (r.as_str().to_string(), share(self.reached[r.index()], total)))
                .collect(),
            mass_casualty: share(self.mass_casualty, total),
            calibration: Calibration {
                battle_injuries: bi,
                kia_share_of_battle_injuries: ratio(self.bi_kia, bi),
                battle_injuries_reaching_care: self.bi_reaching,
                dow_share_of_battle_injuries_reaching_care: ratio(self.bi_dow, self.bi_reaching),
                dnbi,
                rtd_share_of_dnbi: ratio(self.dnbi_rtd, dnbi),
                dnbi_rtd_at_role1_2_share: ratio(self.dnbi_rtd_low, self.dnbi_rtd),
                reached_role4_share: ratio(self.reached[Role::Role4.index()], total),
            },
            arrival_hours,
            outcome_hours: Outcome::ALL
                .iter()
                .filter(|o| !self.ends[o.index()].is_empty())
                .map(|o| (o.as_str().to_string(), percentiles(&self.ends[o.index()])))
                .collect(),
            flows: Role::ALL
                .iter()
                .flat_map(|from| Role::ALL.iter().map(move |to| (*from, *to)))
                .filter(|(from, to)| self.transitions[from.index()][to.index()] > 0)
                .map(|(from, to)| Flow {
                    from: from.as_str().into(),
                    to: to.as_str().into(),
                    count: self.transitions[from.index()][to.index()],
                })
                .collect(),
            outcomes_by_facility: Role::ALL
                .iter()
                .map(|r| {
                    let by_outcome = Outcome::ALL
                        .iter()
                        .map(|o| (o.as_str().to_string(), self.ended_at[r.index()][o.index()]))
                        .collect();
                    (r.as_str().to_string(), by_outcome)
                })
                .collect(),
        }
    }
}

fn hours(seconds: u64) -> f64 {
    (seconds as f64 / 36.0).round() / 100.0
}
