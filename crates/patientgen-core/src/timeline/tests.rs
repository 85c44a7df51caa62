use super::*;
use crate::data::catalog;
use crate::scenario::{ScenarioConfig, ValidationOptions};
use std::collections::BTreeMap;

fn scenario(json: &str) -> Scenario {
    let config = ScenarioConfig::from_json(json).expect("parses");
    config.validate(catalog(), ValidationOptions::default()).expect("valid")
}

#[test]
fn slots_are_in_time_order_with_sequential_ids() {
    let s = scenario(r#"{"total_patients": 20000, "seed": 3, "days_of_fighting": 4}"#);
    let slots: Vec<PatientSlot> = Plan::new(&s, catalog()).collect();
    assert_eq!(slots.len(), 20_000);
    for (i, w) in slots.windows(2).enumerate() {
        assert!(w[0].injury_time <= w[1].injury_time, "slot {i} goes back in time");
        assert_eq!(w[0].index + 1, w[1].index);
    }
    let first_day = s.base_date.midnight();
    let end = first_day.plus(4 * 86_400);
    assert!(slots.iter().all(|p| p.injury_time >= first_day && p.injury_time < end));
    for p in &slots {
        assert_eq!(p.injury_time.date().0 - s.base_date.0 + 1, i64::from(p.day));
    }
}

#[test]
fn no_lump_of_patients_at_one_instant() {
    // Upstream put 20-34 % of all patients on the last event's timestamp.
    let s = scenario(
        r#"{"total_patients": 20000, "seed": 11, "environmental_conditions": {"night_operations": true, "storm": true}}"#,
    );
    let mut at: BTreeMap<i64, u32> = BTreeMap::new();
    for p in Plan::new(&s, catalog()) {
        *at.entry(p.injury_time.0).or_default() += 1;
    }
    let biggest = at.values().max().copied().unwrap_or(0);
    assert!(biggest <= 60, "{biggest} patients share one second");
    let last_day_share = {
        let last = s.base_date.midnight().plus(7 * 86_400).0;
        at.range(last..).map(|(_, n)| *n).sum::<u32>() as f64 / 20_000.0
    };
    assert!(last_day_share < 0.2, "last day holds {last_day_share}");
}

#[test]
fn every_warfare_type_produces_its_own_casualties() {
    for w in WarfareType::ALL.iter().filter(|w| **w != WarfareType::Mixed) {
        let s = scenario(&format!(
            r#"{{"total_patients": 3000, "seed": 5, "warfare_types": {{"{w}": true}}, "special_events": {{}}}}"#
        ));
        let slots: Vec<PatientSlot> = Plan::new(&s, catalog()).collect();
        assert_eq!(slots.len(), 3000, "{w}");
        let combat = slots.iter().filter(|p| p.kind != EventKind::Background).count();
        assert!(combat > 0, "{w}: no combat casualties");
        assert!(slots.iter().all(|p| p.warfare == *w), "{w}: foreign warfare type");
        let mut hours = [0u32; 24];
        for p in slots.iter().filter(|p| p.kind != EventKind::Background) {
            hours[(p.injury_time.0.rem_euclid(86_400) / 3600) as usize] += 1;
        }
        assert!(hours.iter().filter(|h| **h > 0).count() >= 1, "{w}");
    }
}

#[test]
fn special_events_happen_on_their_days() {
    let s = scenario(
        r#"{"total_patients": 8000, "seed": 9, "special_events": {"major_offensive": true, "ambush": true, "mass_casualty": false}}"#,
    );
    let slots: Vec<PatientSlot> = Plan::new(&s, catalog()).collect();
    let offensive: Vec<&PatientSlot> =
        slots.iter().filter(|p| p.kind == EventKind::Special(SpecialEvent::MajorOffensive)).collect();
    assert!(!offensive.is_empty());
    assert!(offensive.iter().all(|p| p.day == 2 && p.warfare == WarfareType::Mixed));
    // Spread over the offensive's hours, not one instant.
    let first = offensive.iter().map(|p| p.injury_time).min();
    let last = offensive.iter().map(|p| p.injury_time).max();
    assert!(last.zip(first).is_some_and(|(l, f)| l.0 - f.0 > 3600));
    let ambush_days: std::collections::BTreeSet<u32> =
        slots.iter().filter(|p| p.kind == EventKind::Special(SpecialEvent::Ambush)).map(|p| p.day).collect();
    assert_eq!(ambush_days.into_iter().collect::<Vec<_>>(), vec![1, 4, 6]);
    assert!(slots.iter().filter(|p| p.kind.is_mass_casualty()).all(|p| p.kind != EventKind::Background));
}

#[test]
fn event_ids_follow_upstream_patterns() {
    let s = scenario(r#"{"total_patients": 2000, "seed": 1}"#);
    for p in Plan::new(&s, catalog()) {
        let id = p.event_id();
        let ok = match p.kind {
            EventKind::Individual => id.starts_with(&format!("IND_{}_", p.warfare)),
            EventKind::MassCasualty => id.starts_with(&format!("MC_{}_", p.warfare)),
            EventKind::Special(e) => id.starts_with(&format!("SE_{e}_{}_", p.day)),
            EventKind::Background => id.starts_with("DNBI_"),
        };
        assert!(ok, "{id}");
        assert_eq!(id.rsplit('_').next().map(str::len), Some(8));
    }
}

#[test]
fn tempo_shapes_days() {
    let s = scenario(
        r#"{"total_patients": 9000, "seed": 2, "tempo": "escalating", "injury_mix": {"Battle Injury": 1.0}, "special_events": {}}"#,
    );
    let mut per_day = [0u32; 8];
    for p in Plan::new(&s, catalog()) {
        per_day[(p.day - 1) as usize] += 1;
    }
    assert!(per_day.windows(2).all(|w| w[0] < w[1]), "{per_day:?}");
    let long = scenario(
        r#"{"total_patients": 30000, "seed": 2, "days_of_fighting": 30, "tempo": "declining", "special_events": {}}"#,
    );
    let mut first = 0;
    let mut last = 0;
    for p in Plan::new(&long, catalog()) {
        if p.day == 1 {
            first += 1;
        }
        if p.day == 30 {
            last += 1;
        }
    }
    assert!(first > last, "declining over 30 days: day 1 {first}, day 30 {last}");
}
