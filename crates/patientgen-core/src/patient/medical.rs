//! The medical picture at injury: triage, conditions, body part, severity and
//! vital signs. Triage is drawn first (from the warfare tables, so the configured
//! triage mix holds); the condition is then drawn in proportion to how typical it
//! is of the warfare type and of that triage category.

use super::record::{ConditionEntry, VitalSigns};
use crate::data::{Catalog, Condition, ConditionId, VitalsProfile};
use crate::model::{BodyPart, InjuryType, Triage};
use crate::rng::Rng;
use crate::scenario::Scenario;
use crate::timeline::{EventKind, PatientSlot};

/// The medical picture of a patient.
#[derive(Debug, Clone)]
pub struct Injury {
    /// Triage.
    pub triage: Triage,
    /// Primary condition.
    pub primary: ConditionId,
    /// Additional conditions.
    pub additional: Vec<ConditionId>,
    /// Body part of the primary condition.
    pub body_part: Option<BodyPart>,
    /// Upstream's 1–9 severity.
    pub severity: u8,
    /// Severity qualifier key (`severe`, …).
    pub severity_key: &'static str,
    /// Factor on death probabilities from the warfare pattern.
    pub mortality_modifier: f64,
}

/// Draws the injury of a patient.
pub fn draw(rng: &mut Rng, catalog: &Catalog, scenario: &Scenario, slot: &PatientSlot) -> Injury {
    let triage = draw_triage(rng, catalog, scenario, slot);
    let warfare = &catalog.warfare;
    let profile = warfare.profile(slot.warfare);
    let pattern = &warfare.injury_patterns[profile.injury_pattern];
    let env_factor = |c: &Condition| -> f64 {
        scenario.environment.iter().map(|e| c.environment[e.index()]).product::<f64>()
    };
    let clinical = &catalog.clinical;
    let entries: &[(ConditionId, f64)] = match slot.injury_type {
        InjuryType::BattleInjury => &pattern.conditions,
        InjuryType::NonBattleInjury => &clinical.pools["Non-Battle Injury"].entries,
        InjuryType::Disease => {
            let pool = match (&profile.disease_pool, slot.kind) {
                (Some(p), kind) if kind != EventKind::Background => p.as_str(),
                _ => "Disease",
            };
            &clinical.pool(pool).unwrap_or(&clinical.pools["Disease"]).entries
        }
    };
    let infectious_factor: f64 =
        scenario.environment.iter().map(|e| warfare.environment[e.index()].disease_multiplier).product();
    let weights: Vec<f64> = entries
        .iter()
        .map(|(id, w)| {
            let c = clinical.condition(*id);
            let infectious =
                if slot.injury_type == InjuryType::Disease && c.infectious { infectious_factor } else { 1.0 };
            w * crate::data::clinical::affinity(c, triage) * env_factor(c) * infectious
        })
        .collect();
    let primary = if weights.iter().sum::<f64>() > 0.0 {
        entries[rng.weighted(&weights)].0
    } else {
        let base: Vec<f64> = entries.iter().map(|(_, w)| *w).collect();
        entries[rng.weighted(&base)].0
    };
    let condition = clinical.condition(primary);
    let body_part = if condition.body_parts.is_empty() {
        None
    } else {
        Some(condition.body_parts[condition.body_part_table.sample(rng)])
    };

    let mut additional = Vec::new();
    if slot.injury_type == InjuryType::BattleInjury && !condition.related.is_empty() {
        let factor = [1.5, 1.0, 0.3, 2.0][triage.index()];
        if rng.chance((pattern.polytrauma_rate * factor).min(0.95)) {
            let wanted = if rng.chance(0.35) { 2 } else { 1 };
            let mut pool = condition.related.clone();
            while additional.len() < wanted && !pool.is_empty() {
                let pick = pool.swap_remove(rng.index(pool.len()));
                if pick != primary {
                    additional.push(pick);
                }
            }
        }
    }

    let (severity, severity_key) = match triage {
        Triage::T1 => (8, "severe"),
        Triage::T2 => {
            if rng.chance(0.5) {
                (6, "moderate_to_severe")
            } else {
                (4, "moderate")
            }
        }
        Triage::T3 => {
            if rng.chance(0.4) {
                (2, "mild_to_moderate")
            } else {
                (1, "mild")
            }
        }
        Triage::T4 => (9, "severe"),
    };
    let mortality_modifier =
        if slot.injury_type == InjuryType::BattleInjury { pattern.mortality_modifier } else { 1.0 };
    Injury { triage, primary, additional, body_part, severity, severity_key, mortality_modifier }
}

fn draw_triage(rng: &mut Rng, catalog: &Catalog, scenario: &Scenario, slot: &PatientSlot) -> Triage {
    let warfare = &catalog.warfare;
    let intensity = &warfare.intensity[scenario.intensity.index()];
    let category = slot.injury_type;
    if category == InjuryType::BattleInjury {
        let mut p = intensity.expectant_share;
        if slot.kind.is_mass_casualty() {
            p *= 2.5;
        }
        if rng.chance(p) {
            return Triage::T4;
        }
    }
    let base = scenario.triage_override[category.index()]
        .unwrap_or(warfare.profile(slot.warfare).triage[category.index()]);
    let mut w = base;
    for (i, t) in [Triage::T1, Triage::T2, Triage::T3].iter().enumerate() {
        w[i] *= intensity.triage_factor.get(t.as_str()).copied().unwrap_or(1.0);
    }
    if let EventKind::Special(e) = slot.kind {
        w[0] *= warfare.special_events[e.index()].severity_increase;
    }
    [Triage::T1, Triage::T2, Triage::T3][rng.weighted(&w)]
}

/// The primary and additional conditions as written to the record.
pub fn condition_entries<'a>(
    catalog: &'a Catalog,
    injury: &Injury,
    out: &mut Vec<ConditionEntry<'a>>,
    extra: &mut Vec<ConditionEntry<'a>>,
) {
    let sev = &catalog.clinical.severity[injury.severity_key];
    let entry = |id: ConditionId| {
        let c = catalog.clinical.condition(id);
        ConditionEntry { code: &c.code, name: &c.display, severity: &sev.display, severity_code: &sev.code }
    };
    out.push(entry(injury.primary));
    extra.extend(injury.additional.iter().map(|id| entry(*id)));
}

/// Vital signs at first medical contact: the condition's physiology at its
/// severity. The profile's ranges for the triage category run from the least
/// to the most deranged value; the severity qualifier picks the milder or the
/// more severe part of that span, and each vital spreads a little on its own.
/// An accompanying head injury (polytrauma) can only lower consciousness.
pub fn vital_signs(rng: &mut Rng, catalog: &Catalog, injury: &Injury) -> VitalSigns {
    let clinical = &catalog.clinical;
    let condition = clinical.condition(injury.primary);
    let (lo, hi) = match injury.severity_key {
        "mild" | "moderate" => (0.0, 0.6),
        "mild_to_moderate" | "moderate_to_severe" => (0.4, 1.0),
        _ => (0.0, 1.0),
    };
    let position = rng.uniform(lo, hi);
    let r = clinical.vital_ranges(condition.vitals, injury.triage);
    let mut at = |range: [f64; 2]| {
        let t = (position + rng.uniform(-0.2, 0.2)).clamp(0.0, 1.0);
        range[0] + (range[1] - range[0]) * t
    };
    let whole = |x: f64| x.round().max(0.0) as u32;
    let mut v = VitalSigns {
        heart_rate: whole(at(r.heart_rate)),
        systolic_bp: whole(at(r.systolic_bp)),
        diastolic_bp: 0,
        respiratory_rate: whole(at(r.respiratory_rate)),
        oxygen_saturation: whole(at(r.oxygen_saturation)).min(100),
        temperature: (at(r.temperature) * 10.0).round() / 10.0,
        gcs: whole(at(r.gcs)).clamp(3, 15),
    };
    for id in &injury.additional {
        let profile = clinical.condition(*id).vitals;
        if matches!(profile, VitalsProfile::HeadInjury | VitalsProfile::Concussion) {
            let gcs = at(clinical.vital_ranges(profile, injury.triage).gcs);
            v.gcs = v.gcs.min(whole(gcs).clamp(3, 15));
        }
    }
    v.diastolic_bp = (f64::from(v.systolic_bp) * rng.uniform(0.58, 0.68)).round() as u32;
    v
}
