//! Requested totals and shares are met exactly (largest remainder), for every
//! preset and for awkward totals.

mod common;

use patientgen_core::apportion::largest_remainder;
use patientgen_core::data::catalog;
use patientgen_core::model::InjuryType;
use patientgen_core::timeline::Plan;
use std::collections::BTreeMap;

fn check(scenario: &patientgen_core::Scenario) {
    let total = u64::from(scenario.total_patients);
    let mut fronts = vec![0u64; scenario.fronts.len()];
    let mut nations: BTreeMap<(u16, u16), u64> = BTreeMap::new();
    let mut injury = [0u64; 3];
    let mut n = 0u64;
    for slot in Plan::new(scenario, catalog()) {
        n += 1;
        fronts[usize::from(slot.front)] += 1;
        *nations.entry((slot.front, slot.nation.0)).or_default() += 1;
        injury[slot.injury_type.index()] += 1;
    }
    assert_eq!(n, total);
    let front_weights: Vec<f64> = scenario.fronts.iter().map(|f| f.weight).collect();
    let expected_fronts = largest_remainder(total, &front_weights);
    assert_eq!(fronts, expected_fronts, "front counts");
    for (i, f) in scenario.fronts.iter().enumerate() {
        let w: Vec<f64> = f.nations.iter().map(|(_, s)| *s).collect();
        let expected = largest_remainder(expected_fronts[i], &w);
        for ((id, _), e) in f.nations.iter().zip(expected) {
            assert_eq!(nations.get(&(i as u16, id.0)).copied().unwrap_or(0), e, "front {i} nation {}", id.0);
        }
    }
    assert_eq!(injury.to_vec(), largest_remainder(total, &scenario.injury_mix), "injury mix");
}

#[test]
fn every_preset_meets_its_shares_exactly() {
    for p in &catalog().presets.presets {
        for (n, seed) in [(1u32, 1u64), (7, 2), (101, 3), (2_345, 4)] {
            check(&common::preset(&p.id, n, seed));
        }
    }
}

#[test]
fn awkward_shares_are_exact() {
    let s = common::from_json(
        r#"{"total_patients": 9973, "seed": 77,
            "injury_mix": {"Battle Injury": 33.3, "Non-Battle Injury": 33.3, "Disease": 33.4},
            "front_configs": [
              {"id": "a", "name": "A", "casualty_rate": 0.333, "nationality_distribution": [{"nationality_code": "POL", "percentage": 33.3}, {"nationality_code": "DEU", "percentage": 66.7}]},
              {"id": "b", "name": "B", "casualty_rate": 0.667, "nationality_distribution": [{"nationality_code": "USA", "percentage": 100}]}
            ]}"#,
    );
    check(&s);
}

#[test]
fn all_32_nations_appear_when_listed() {
    let members = patientgen_core::data::nations::NATO_MEMBERS;
    let share = 100.0 / members.len() as f64;
    let dist: Vec<String> =
        members.iter().map(|c| format!(r#"{{"nationality_code": "{c}", "percentage": {share}}}"#)).collect();
    let json = format!(
        r#"{{"total_patients": 3200, "seed": 5, "front_configs": [{{"id": "all", "name": "Alliance", "casualty_rate": 1.0, "nationality_distribution": [{}]}}]}}"#,
        dist.join(",")
    );
    let s = common::from_json(&json);
    let generator = patientgen_core::Generator::new(&s);
    let mut seen: BTreeMap<String, u32> = BTreeMap::new();
    for slot in generator.plan() {
        let p = generator.patient(&slot);
        assert_eq!(p.nationality, p.demographics.nationality);
        *seen.entry(p.nationality.to_string()).or_default() += 1;
    }
    assert_eq!(seen.len(), 32);
    assert!(seen.values().all(|n| *n == 100), "{seen:?}");
}

#[test]
fn injury_categories_come_from_the_mix_not_the_id() {
    let s = common::from_json(
        r#"{"total_patients": 1000, "seed": 8, "injury_mix": {"Disease": 0.5, "Battle Injury": 0.5}}"#,
    );
    let cats: Vec<InjuryType> = Plan::new(&s, catalog()).map(|p| p.injury_type).collect();
    assert_eq!(cats.iter().filter(|c| **c == InjuryType::Disease).count(), 500);
    // Not periodic in the id (upstream used id mod 100).
    let every_other: Vec<&InjuryType> = cats.iter().step_by(2).collect();
    assert!(
        every_other.iter().any(|c| **c == InjuryType::Disease)
            && every_other.iter().any(|c| **c == InjuryType::BattleInjury)
    );
}
