//! Summaries of a patient population: counts and shares by outcome, triage,
//! injury type, nationality and front; calibration figures; arrival-time
//! percentiles per facility and triage. Used by `generate --summary`,
//! `patientgen stats FILE` and job summaries.

use crate::model::{InjuryType, Outcome, Role, Triage};
use crate::patient::{EventType, Patient};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The facts of one patient that a summary needs.
#[derive(Debug, Clone, Copy)]
pub struct PatientFacts<'s> {
    /// Outcome.
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

/// A patient record as read back from a file (upstream's or ours).
#[derive(Debug, Deserialize)]
pub struct PatientView<'a> {
    /// Triage.
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
    /// Nationality.
    #[serde(borrow, default)]
    pub nationality: Option<&'a str>,
    /// Front.
    #[serde(borrow, default)]
    pub front: Option<&'a str>,
    /// Mass casualty.
    #[serde(default)]
    pub mass_casualty: bool,
    /// Timeline.
    #[serde(borrow, default)]
    pub movement_timeline: Vec<EventView<'a>>,
}

/// A timeline event as read back.
#[derive(Debug, Deserialize)]
pub struct EventView<'a> {
    /// Type.
    #[serde(borrow)]
    pub event_type: &'a str,
    /// Facility.
    #[serde(borrow, default)]
    pub facility: Option<&'a str>,
    /// Hours.
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

/// Count and share.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Share {
    /// Count.
    pub count: u64,
    /// Share of the relevant population, 0–1.
    pub share: f64,
}

/// Percentiles in hours.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Percentiles {
    /// Patients measured.
    pub count: u64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Maximum.
    pub max: f64,
}

/// Figures a planner checks against published registries.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Calibration {
    /// Battle injuries.
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
    /// Patients.
    pub total_patients: u64,
    /// By outcome.
    pub outcomes: BTreeMap<String, Share>,
    /// By triage.
    pub triage: BTreeMap<String, Share>,
    /// By injury type.
    pub injury_types: BTreeMap<String, Share>,
    /// By nationality.
    pub nationalities: BTreeMap<String, Share>,
    /// By front.
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
    /// From.
    pub from: String,
    /// To.
    pub to: String,
    /// Patients.
    pub count: u64,
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

fn pct(s: &Share) -> String {
    format!("{:>8} {:>6.1} %", s.count, s.share * 100.0)
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Patients: {}", self.total_patients)?;
        let section =
            |f: &mut fmt::Formatter<'_>, title: &str, map: &BTreeMap<String, Share>| -> fmt::Result {
                writeln!(f, "\n{title}")?;
                let mut rows: Vec<(&String, &Share)> = map.iter().collect();
                rows.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(b.0)));
                for (k, v) in rows {
                    writeln!(f, "  {k:<28}{}", pct(v))?;
                }
                Ok(())
            };
        section(f, "Outcome", &self.outcomes)?;
        section(f, "Triage", &self.triage)?;
        section(f, "Injury type", &self.injury_types)?;
        section(f, "Front", &self.fronts)?;
        section(f, "Nationality", &self.nationalities)?;
        section(f, "Reached facility", &self.facilities_reached)?;
        writeln!(f, "\nMass-casualty patients       {}", pct(&self.mass_casualty))?;
        let c = &self.calibration;
        writeln!(f, "\nCalibration (guide values from military trauma registries)")?;
        writeln!(
            f,
            "  KIA of battle injuries            {:>6.1} %   (10-20 %)",
            c.kia_share_of_battle_injuries * 100.0
        )?;
        writeln!(
            f,
            "  DOW of battle injuries at care    {:>6.1} %   (2-6 %)",
            c.dow_share_of_battle_injuries_reaching_care * 100.0
        )?;
        writeln!(
            f,
            "  RTD of disease/non-battle         {:>6.1} %   (>= 80 %)",
            c.rtd_share_of_dnbi * 100.0
        )?;
        writeln!(f, "    of which at Role 1-2            {:>6.1} %", c.dnbi_rtd_at_role1_2_share * 100.0)?;
        writeln!(
            f,
            "  Reached Role 4 (all patients)     {:>6.1} %   (a minority)",
            c.reached_role4_share * 100.0
        )?;
        writeln!(f, "\nHours from injury to arrival (p50 / p90 / p99)")?;
        writeln!(f, "  {:<8}{:>22}{:>22}{:>22}{:>22}{:>22}", "", "T1", "T2", "T3", "T4", "all")?;
        for role in Role::FACILITIES {
            let Some(row) = self.arrival_hours.get(role.as_str()) else {
                continue;
            };
            write!(f, "  {:<8}", role.as_str())?;
            for t in ["T1", "T2", "T3", "T4", "all"] {
                match row.get(t) {
                    Some(p) => write!(f, "{:>22}", format!("{:.1} / {:.1} / {:.1}", p.p50, p.p90, p.p99))?,
                    None => write!(f, "{:>22}", "-")?,
                }
            }
            writeln!(f)?;
        }
        writeln!(f, "\nHours from injury to outcome (p50 / p90 / max)")?;
        for (k, p) in &self.outcome_hours {
            writeln!(f, "  {k:<14}{:.1} / {:.1} / {:.1}", p.p50, p.p90, p.max)?;
        }
        Ok(())
    }
}
