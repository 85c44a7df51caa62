//! Medical plausibility (issue #7): unique service numbers, plausible bodies.

mod common;

use patientgen_core::Generator;
use patientgen_core::data::catalog;
use patientgen_core::patient::{Patient, demographics};
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
