//! Medical plausibility (issue #7, items 12–14): unique service numbers, plausible
//! bodies, physiology that follows the condition and its severity, courses that
//! fit the condition, deaths only of conditions that can kill.

mod common;

use patientgen_core::Generator;
use patientgen_core::data::{VitalsProfile, catalog};
use patientgen_core::model::{InjuryType, Outcome, Role, Triage};
use patientgen_core::patient::{EventType, Patient, demographics};
use patientgen_core::rng::{Domain, Rng};
use std::collections::{HashMap, HashSet};

/// Runs `check` on every patient of a preset.
fn each_patient(preset: &str, n: u32, seed: u64, mut check: impl FnMut(&Patient<'_>)) {
    let scenario = common::preset(preset, n, seed);
    let g = Generator::new(&scenario);
    for slot in g.plan() {
        check(&g.patient(&slot));
    }
}

#[test]
fn a_million_patients_have_unique_service_numbers_and_plausible_bodies() {
    // Demographics come first from each patient's stream, so drawing them alone
    // gives exactly the patients' demographics (checked on a sample below)
    // while skipping the flow: a million patients in a few seconds.
    let scenario = common::preset("default", 1_000_000, 20_251_127);
    let g = Generator::new(&scenario);
    let cat = catalog();
    let mut seen: HashSet<String> = HashSet::with_capacity(1_000_000);
    let mut per_nation: HashMap<&str, u32> = HashMap::new();
    let (mut bmi_min, mut bmi_max) = (f64::MAX, 0.0f64);
    let mut count = 0u32;
    for slot in g.plan() {
        let mut rng = Rng::stream(scenario.seed, Domain::Patient, u64::from(slot.index));
        let d = demographics::draw(&mut rng, cat, scenario.seed, &slot);
        if slot.index < 1_000 {
            let p = g.patient(&slot);
            assert_eq!(p.demographics.service_number, d.service_number);
            assert_eq!((p.demographics.height, p.demographics.weight), (d.height, d.weight));
        }
        let h = f64::from(d.height) / 100.0;
        let bmi = d.weight / (h * h);
        bmi_min = bmi_min.min(bmi);
        bmi_max = bmi_max.max(bmi);
        assert!((17.0..=40.0).contains(&bmi), "patient {}: {} cm, {} kg", slot.index, d.height, d.weight);
        *per_nation.entry(d.nationality).or_default() += 1;
        let number = format!("{}:{}", d.nationality, d.service_number);
        assert!(
            seen.insert(number),
            "patient {}: {} {} repeats",
            slot.index,
            d.nationality,
            d.service_number
        );
        count += 1;
    }
    assert_eq!(count, 1_000_000);
    // Every nation of the preset took part, the big ones with 100,000+ numbers.
    assert_eq!(per_nation.len(), 8, "{per_nation:?}");
    assert!(per_nation["POL"] > 250_000 && per_nation["NLD"] > 100_000, "{per_nation:?}");
    // The limits are reached, not merely respected: real variety at both ends.
    assert!(bmi_min < 18.5 && bmi_max > 35.0, "BMI {bmi_min}..{bmi_max}");
}

#[test]
fn service_numbers_are_unique_in_every_preset() {
    for preset in ["nato_article_5", "arctic_operation", "maritime_operation", "peacekeeping"] {
        let mut seen = HashSet::new();
        each_patient(preset, 50_000, 8, |p| {
            let d = &p.demographics;
            assert!(
                seen.insert(format!("{}:{}", d.nationality, d.service_number)),
                "{preset}: {}",
                d.service_number
            );
        });
    }
}

/// GCS and vital signs follow the condition and its severity, not the triage alone.
#[test]
fn vital_signs_follow_the_condition() {
    let clinical = &catalog().clinical;
    let mut gcs_by_key: HashMap<&str, Vec<u32>> = HashMap::new();
    let mut checked_conscious = 0;
    for (preset, seed) in
        [("default", 3), ("nato_article_5", 4), ("arctic_operation", 5), ("cbrn_incident", 6)]
    {
        each_patient(preset, 60_000, seed, |p| {
            let key = clinical
                .conditions
                .iter()
                .find(|c| c.code == p.conditions[0].code && c.display == p.conditions[0].name);
            let Some(c) = key else { panic!("unknown condition {}", p.conditions[0].code) };
            let v = &p.vital_signs;
            assert!((3..=15).contains(&v.gcs) && v.oxygen_saturation <= 100);
            assert!(v.diastolic_bp < v.systolic_bp);
            gcs_by_key.entry(c.key.as_str()).or_default().push(v.gcs);
            // Conditions that do not touch consciousness leave GCS at 15 whatever
            // the triage (diarrhoea at T2 had GCS 13); fluid loss, infection,
            // bleeding or hypoxia lower it only when severe (T1).
            let conscious = matches!(
                c.vitals,
                VitalsProfile::Minor | VitalsProfile::Psychiatric | VitalsProfile::Neurogenic
            ) || (matches!(
                c.vitals,
                VitalsProfile::Gastrointestinal
                    | VitalsProfile::Fever
                    | VitalsProfile::Respiratory
                    | VitalsProfile::RespiratoryInfection
                    | VitalsProfile::Trauma
                    | VitalsProfile::Burn
            ) && p.triage_category != Triage::T1
                && p.triage_category != Triage::T4);
            let head_too = p.additional_conditions.iter().any(|a| {
                clinical.conditions.iter().any(|k| {
                    k.code == a.code
                        && matches!(k.vitals, VitalsProfile::HeadInjury | VitalsProfile::Concussion)
                })
            });
            if conscious && !head_too && p.triage_category != Triage::T4 {
                assert_eq!(v.gcs, 15, "{} at {}: GCS {}", c.key, p.triage_category, v.gcs);
                checked_conscious += 1;
            }
            match c.vitals {
                VitalsProfile::Hypothermia => {
                    assert!(v.temperature < 35.0, "hypothermia at {} °C", v.temperature)
                }
                VitalsProfile::Fever | VitalsProfile::RespiratoryInfection => {
                    assert!(v.temperature >= 37.5, "{} at {} °C", c.key, v.temperature)
                }
                VitalsProfile::Gastrointestinal | VitalsProfile::Minor | VitalsProfile::Psychiatric
                    if p.triage_category != Triage::T4 =>
                {
                    // No shock without a cause.
                    assert!(
                        v.systolic_bp >= 80,
                        "{} at {}: systolic {}",
                        c.key,
                        p.triage_category,
                        v.systolic_bp
                    );
                }
                _ => {}
            }
            if c.key == "traumatic_brain_injury" && p.triage_category == Triage::T1 {
                assert!(v.gcs <= 12, "severe TBI with GCS {}", v.gcs);
            }
            if c.key == "concussion" {
                assert!(v.gcs >= 13, "concussion with GCS {}", v.gcs);
            }
        });
    }
    assert!(checked_conscious > 100_000, "{checked_conscious}");
    let mean = |k: &str| {
        let v = &gcs_by_key[k];
        v.iter().map(|g| f64::from(*g)).sum::<f64>() / v.len() as f64
    };
    for k in ["diarrhea", "ankle_sprain", "rib_fracture", "anxiety_disorder"] {
        assert_eq!(mean(k), 15.0, "{k}");
    }
    assert!(mean("traumatic_brain_injury") < 11.0, "TBI mean GCS {}", mean("traumatic_brain_injury"));
    assert!(mean("concussion") > 14.0 && mean("concussion") < 15.0);
}

/// Self-limiting conditions recover near the front in days; nobody is evacuated
/// beyond the highest role their conditions need.
#[test]
fn self_limiting_conditions_return_to_duty_within_days() {
    let clinical = &catalog().clinical;
    let by_code = |code: &str, name: &str| {
        clinical.conditions.iter().find(|c| c.code == code && c.display == name).map(|c| c.key.as_str())
    };
    let mut self_limiting = 0;
    let mut gastro = 0;
    for (preset, seed) in [("default", 7), ("peacekeeping", 8), ("cbrn_incident", 9)] {
        each_patient(preset, 60_000, seed, |p| {
            let keys: Vec<_> = p
                .conditions
                .iter()
                .chain(&p.additional_conditions)
                .filter_map(|c| by_code(c.code, c.name))
                .filter_map(|k| clinical.find(k).map(|id| clinical.condition(id)))
                .collect();
            let max_role = keys.iter().map(|c| c.max_role).max().unwrap_or(Role::Role4);
            let first_facility =
                p.movement_timeline.iter().find(|e| e.facility != Role::Poi).map(|e| e.facility);
            for e in &p.movement_timeline {
                if e.event_type == EventType::Arrival && Some(e.facility) != first_facility {
                    assert!(e.facility <= max_role, "{:?} evacuated to {}", keys[0].key, e.facility);
                }
            }
            let primary = keys[0];
            let Some([_, cap]) = primary.max_stay_hours else { return };
            if !p.additional_conditions.is_empty() {
                return;
            }
            self_limiting += 1;
            assert!(
                matches!(p.outcome, Outcome::Rtd | Outcome::Kia | Outcome::Dow),
                "{}: {}",
                primary.key,
                p.outcome
            );
            assert_ne!(p.outcome, Outcome::RemainsRole4);
            if p.outcome == Outcome::Rtd {
                let end = p.movement_timeline.last().map_or(0.0, |e| e.hours_since_injury.as_f64());
                let arrived = p
                    .movement_timeline
                    .iter()
                    .rev()
                    .find(|e| e.event_type == EventType::Arrival)
                    .map_or(0.0, |e| e.hours_since_injury.as_f64());
                assert!(
                    end - arrived <= cap + 0.01,
                    "{} stayed {} h (cap {cap})",
                    primary.key,
                    end - arrived
                );
                if primary.key == "gastroenteritis" {
                    gastro += 1;
                    // Gastroenteritis once returned to duty after 2,265 h at Role 4.
                    assert!(end <= 14.0 * 24.0, "gastroenteritis RTD after {end} h");
                    assert!(p.last_facility <= Role::Role2);
                }
            }
        });
    }
    assert!(self_limiting > 50_000 && gastro > 1_000, "{self_limiting} / {gastro}");
}

/// A patient dies (KIA or DOW) only of a condition that can kill: a rib fracture,
/// a sprain or a sore throat never does.
#[test]
fn only_conditions_that_can_kill_cause_death() {
    let clinical = &catalog().clinical;
    let lethal = |code: &str, name: &str| {
        clinical.conditions.iter().any(|c| c.code == code && c.display == name && c.lethal)
    };
    let mut deaths = [0u32; 3];
    for (preset, seed) in [("default", 11), ("nato_article_5", 12), ("arctic_operation", 13)] {
        each_patient(preset, 80_000, seed, |p| {
            if matches!(p.outcome, Outcome::Kia | Outcome::Dow) {
                let can_kill =
                    p.conditions.iter().chain(&p.additional_conditions).any(|c| lethal(c.code, c.name));
                assert!(
                    can_kill,
                    "{} died of {} ({})",
                    p.injury_type, p.conditions[0].name, p.triage_category
                );
                deaths[p.injury_type.index()] += 1;
            }
            if p.conditions[0].name == "Fracture of rib" {
                assert!(!matches!(p.outcome, Outcome::Kia | Outcome::Dow));
            }
        });
    }
    // Deaths still happen in every category that has lethal conditions.
    assert!(deaths[InjuryType::BattleInjury.index()] > 1_000, "{deaths:?}");
    assert!(deaths[InjuryType::NonBattleInjury.index()] > 0, "{deaths:?}");
    assert!(deaths[InjuryType::Disease.index()] > 0, "{deaths:?}");
}

#[test]
fn the_torso_is_coded_as_the_trunk() {
    let site = &catalog().clinical.body_sites["Torso"];
    // 22943007 |Trunk structure (body structure)|; the torso is chest and abdomen,
    // not 51185008 |Thoracic structure| (the chest alone).
    assert_eq!((site.code.as_str(), site.display.as_str()), ("22943007", "Trunk structure"));
}
