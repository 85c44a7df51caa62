//! Warfare types, temporal patterns, intensity, tempo, special events and
//! environment (`data/warfare.json`).

use super::{ClinicalData, ConditionId, DataError, parse};
use crate::model::{Environment, InjuryType, Intensity, SpecialEvent, Tempo, Triage, WarfareType};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Triage shares T1, T2, T3.
pub type TriageWeights = [f64; 3];

/// Hour-of-day pattern of a warfare type.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Pattern {
    /// Peaks in the morning and evening, quiet nights.
    SustainedCombat {
        /// Hours of day (0–23) with the peak weight.
        peak_hours: Vec<u32>,
        /// Weight in peak hours.
        peak_intensity: f64,
        /// Weight otherwise.
        base_intensity: f64,
        /// Factor at night.
        night_reduction: f64,
    },
    /// A few intense bombardments per day.
    Surge {
        /// How many surges a day has.
        surges_per_day: u32,
        /// How long each surge lasts, hours.
        surge_duration_hours: u32,
        /// Weight inside a surge.
        surge_intensity: f64,
        /// Weight outside.
        between_surge_intensity: f64,
        /// Hours surges prefer to start.
        preferred_hours: Vec<u32>,
    },
    /// Assault phases at fixed times.
    PhasedAssault {
        /// The phases, in the order of the day.
        assault_phases: Vec<AssaultPhase>,
        /// Weight outside the phases.
        baseline_intensity: f64,
    },
    /// Irregular attacks, preferring dawn and dusk.
    Sporadic {
        /// Incidents per day.
        events_per_day_range: [u32; 2],
        /// Factor at dawn and dusk.
        dawn_dusk_preference: f64,
        /// Factor at night.
        night_activity_level: f64,
    },
    /// A few strikes per day, mostly in daylight.
    PrecisionStrike {
        /// Strikes per day, drawn from this inclusive range.
        strikes_per_day_range: [u32; 2],
        /// Probability that a strike ignores the daylight window.
        time_randomization: f64,
    },
    /// Landing waves at set times.
    WaveAssault {
        /// Wave hours.
        wave_times: Vec<u32>,
        /// Weight in a wave.
        wave_intensity: f64,
        /// Weight between waves.
        between_wave_intensity: f64,
    },
    /// A release followed by immediate and delayed casualties.
    ContaminationSpread {
        /// Hours a release may happen.
        release_hours: Vec<u32>,
        /// Share of casualties in the first hours.
        immediate_share: f64,
        /// Hours after release and the share presenting then.
        delayed: Vec<(u32, f64)>,
    },
    /// Incidents in working hours.
    LowIntensity {
        /// Hours of day (0–23) in which incidents happen.
        incident_hours: Vec<u32>,
        /// Weight in those hours.
        incident_intensity: f64,
        /// Weight otherwise.
        quiet_intensity: f64,
    },
    /// Special events, placed by their own templates.
    SpecialEvent,
}

/// One phase of a phased assault.
#[derive(Debug, Clone, Deserialize)]
pub struct AssaultPhase {
    /// First hour.
    pub start_hour: u32,
    /// How long the phase lasts, hours.
    pub duration: u32,
    /// Weight of its hours against the baseline.
    pub intensity: f64,
}

#[derive(Debug, Clone, Deserialize)]
struct ProfileFile {
    display_name: String,
    weight: f64,
    pattern: Pattern,
    mass_casualty_probability: f64,
    cluster_size: [u32; 2],
    event_fraction: BTreeMap<String, f64>,
    category_bias: BTreeMap<String, f64>,
    triage: BTreeMap<String, BTreeMap<String, f64>>,
    injury_pattern: String,
    #[serde(default)]
    disease_pool: Option<String>,
}

/// Everything about one warfare type.
#[derive(Debug, Clone)]
pub struct WarfareProfile {
    /// Shown to users, e.g. "Artillery/Indirect Fire".
    pub display_name: String,
    /// Share of combat casualties relative to the other active types.
    pub weight: f64,
    /// Hour-of-day pattern.
    pub pattern: Pattern,
    /// Chance that an hour's casualties include a mass-casualty cluster.
    pub mass_casualty_probability: f64,
    /// Cluster size range.
    pub cluster_size: [u32; 2],
    /// Share of each category's patients that come from combat events (by
    /// [`InjuryType::index`]); battle injuries always do.
    pub event_fraction: [f64; 3],
    /// How strongly events of this type draw each category.
    pub category_bias: [f64; 3],
    /// Triage shares per category.
    pub triage: [TriageWeights; 3],
    /// Index into [`WarfareData::injury_patterns`].
    pub injury_pattern: usize,
    /// Condition pool for disease patients of this type's events.
    pub disease_pool: Option<String>,
}

/// Battle-injury conditions of a warfare type.
#[derive(Debug, Clone)]
pub struct InjuryPattern {
    /// Key in `clinical.json` and the patients' condition pool.
    pub name: String,
    /// Severity factor.
    pub severity_modifier: f64,
    /// Chance of additional injuries.
    pub polytrauma_rate: f64,
    /// Factor on death probabilities.
    pub mortality_modifier: f64,
    /// Conditions and weights.
    pub conditions: Vec<(ConditionId, f64)>,
}

#[derive(Debug, Clone, Deserialize)]
struct InjuryPatternFile {
    severity_modifier: f64,
    polytrauma_rate: f64,
    mortality_modifier: f64,
    conditions: BTreeMap<String, f64>,
}

/// What an intensity level (`low`…`extreme`) changes.
#[derive(Debug, Clone, Deserialize)]
pub struct IntensityLevel {
    /// Factor on mass-casualty probabilities.
    pub mass_casualty_factor: f64,
    /// Factors on triage shares.
    pub triage_factor: BTreeMap<String, f64>,
    /// Share of battle injuries triaged T4 (expectant).
    pub expectant_share: f64,
}

/// How a tempo continues past eight days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Beyond {
    /// Repeat the eight-day pattern.
    Cycle,
    /// Stretch the curve over the whole scenario.
    Stretch,
}

/// Daily intensities of a tempo.
#[derive(Debug, Clone, Deserialize)]
pub struct TempoCurve {
    /// Eight daily weights.
    pub daily_intensity: Vec<f64>,
    /// Continuation rule.
    pub beyond_eight_days: Beyond,
}

/// When and how a special event (e.g. a major offensive) happens.
#[derive(Debug, Clone, Deserialize)]
pub struct SpecialEventTemplate {
    /// Days (1-based) it happens on; every day when absent.
    pub days: Option<Vec<u32>>,
    /// Chance per eligible day.
    pub daily_probability: f64,
    /// Share of the day's combat casualties.
    pub share_of_day: [f64; 2],
    /// Upper bound on that share.
    pub max_share_of_day: f64,
    /// Hours of day (0–23) it may start at.
    pub start_hours: Vec<u32>,
    /// How long it lasts, hours.
    pub duration_hours: f64,
    /// Factor on T1 triage for its casualties.
    pub severity_increase: f64,
    /// Cap on patients per event.
    pub max_patients: Option<u32>,
}

/// Effect of an environmental condition.
#[derive(Debug, Clone, Deserialize)]
pub struct EnvironmentEffect {
    /// Visibility factor.
    pub visibility: f64,
    /// Mobility factor.
    pub mobility: f64,
    /// Factor on casualty-cluster sizes.
    pub casualty_modifier: f64,
    /// Extra minutes before evacuation.
    pub evacuation_delay_minutes: f64,
    /// Factor on disease conditions.
    pub disease_multiplier: f64,
}

#[derive(Debug, Clone, Deserialize)]
struct WarfareFile {
    hourly_baseline: Vec<f64>,
    background_hourly: Vec<f64>,
    warfare_types: BTreeMap<String, ProfileFile>,
    injury_patterns: BTreeMap<String, InjuryPatternFile>,
    intensity: BTreeMap<String, IntensityLevel>,
    tempo: BTreeMap<String, TempoCurve>,
    special_events: BTreeMap<String, SpecialEventTemplate>,
    environment: BTreeMap<String, EnvironmentEffect>,
}

/// All warfare tables, indexed by the model enums.
#[derive(Debug)]
pub struct WarfareData {
    /// Activity per hour of day.
    pub hourly_baseline: [f64; 24],
    /// Presentation pattern of disease and non-battle injuries.
    pub background_hourly: [f64; 24],
    /// Profiles by [`WarfareType::index`].
    pub profiles: Vec<WarfareProfile>,
    /// Injury patterns by name (the profiles point at them).
    pub injury_patterns: Vec<InjuryPattern>,
    /// By [`Intensity::index`].
    pub intensity: Vec<IntensityLevel>,
    /// By [`Tempo::index`].
    pub tempo: Vec<TempoCurve>,
    /// By [`SpecialEvent::index`].
    pub special_events: Vec<SpecialEventTemplate>,
    /// By [`Environment::index`].
    pub environment: Vec<EnvironmentEffect>,
}

const FILE: &str = "data/warfare.json";

fn hours24(v: &[f64], what: &str) -> Result<[f64; 24], DataError> {
    v.try_into().map_err(|_| DataError::new(FILE, format!("{what}: needs 24 values")))
}

fn by_enum<T: Clone, E: Copy + std::fmt::Display>(
    all: &[E],
    map: &BTreeMap<String, T>,
    what: &str,
) -> Result<Vec<T>, DataError> {
    all.iter()
        .map(|e| {
            map.get(&e.to_string())
                .cloned()
                .ok_or_else(|| DataError::new(FILE, format!("{what}: {e} missing")))
        })
        .collect()
}

fn by_category(map: &BTreeMap<String, f64>, default: f64) -> [f64; 3] {
    let mut out = [default; 3];
    for t in InjuryType::ALL {
        if let Some(v) = map.get(t.as_str()) {
            out[t.index()] = *v;
        }
    }
    out
}

impl WarfareData {
    pub(crate) fn load(clinical: &ClinicalData) -> Result<Self, DataError> {
        let raw: WarfareFile = parse(FILE, include_str!("../../data/warfare.json"))?;
        let mut pattern_names = Vec::new();
        let mut injury_patterns = Vec::new();
        for (name, p) in &raw.injury_patterns {
            let mut conditions = Vec::new();
            for (cond, w) in &p.conditions {
                let id = clinical.find(cond).ok_or_else(|| {
                    DataError::new(FILE, format!("injury pattern {name}: unknown condition {cond}"))
                })?;
                conditions.push((id, *w));
            }
            pattern_names.push(name.clone());
            injury_patterns.push(InjuryPattern {
                name: name.clone(),
                severity_modifier: p.severity_modifier,
                polytrauma_rate: p.polytrauma_rate,
                mortality_modifier: p.mortality_modifier,
                conditions,
            });
        }
        let mut profiles = Vec::new();
        for w in WarfareType::ALL {
            let p = raw
                .warfare_types
                .get(w.as_str())
                .ok_or_else(|| DataError::new(FILE, format!("warfare type {w} missing")))?;
            let mut triage = [[0.0; 3]; 3];
            for t in InjuryType::ALL {
                let row = p
                    .triage
                    .get(t.as_str())
                    .ok_or_else(|| DataError::new(FILE, format!("{w}: triage for {t} missing")))?;
                for (i, tri) in [Triage::T1, Triage::T2, Triage::T3].iter().enumerate() {
                    triage[t.index()][i] = row.get(tri.as_str()).copied().unwrap_or(0.0);
                }
            }
            let injury_pattern = pattern_names
                .iter()
                .position(|n| *n == p.injury_pattern)
                .ok_or_else(|| DataError::new(FILE, format!("{w}: unknown injury pattern")))?;
            if let Some(pool) = &p.disease_pool
                && clinical.pool(pool).is_none()
            {
                return Err(DataError::new(FILE, format!("{w}: unknown pool {pool}")));
            }
            let mut event_fraction = by_category(&p.event_fraction, 0.0);
            event_fraction[InjuryType::BattleInjury.index()] = 1.0;
            profiles.push(WarfareProfile {
                display_name: p.display_name.clone(),
                weight: p.weight,
                pattern: p.pattern.clone(),
                mass_casualty_probability: p.mass_casualty_probability,
                cluster_size: p.cluster_size,
                event_fraction,
                category_bias: by_category(&p.category_bias, 1.0),
                triage,
                injury_pattern,
                disease_pool: p.disease_pool.clone(),
            });
        }
        Ok(Self {
            hourly_baseline: hours24(&raw.hourly_baseline, "hourly_baseline")?,
            background_hourly: hours24(&raw.background_hourly, "background_hourly")?,
            profiles,
            injury_patterns,
            intensity: by_enum(Intensity::ALL, &raw.intensity, "intensity")?,
            tempo: by_enum(Tempo::ALL, &raw.tempo, "tempo")?,
            special_events: by_enum(SpecialEvent::ALL, &raw.special_events, "special_events")?,
            environment: by_enum(Environment::ALL, &raw.environment, "environment")?,
        })
    }

    /// The profile of a warfare type.
    pub fn profile(&self, w: WarfareType) -> &WarfareProfile {
        &self.profiles[w.index()]
    }
}
