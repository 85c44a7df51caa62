//! Bad configurations are rejected with the field and the rule named; good
//! ones (upstream's shapes included) are accepted.

use patientgen_core::ScenarioConfig;
use patientgen_core::data::catalog;
use patientgen_core::scenario::ValidationOptions;

fn errors(json: &str) -> String {
    match ScenarioConfig::from_json(json) {
        Err(e) => e.to_string(),
        Ok(c) => match c.validate(catalog(), ValidationOptions { max_patients: 10_000, fallback_seed: 1 }) {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        },
    }
}

#[test]
fn each_rule_names_its_field() {
    let cases = [
        (r#"{"total_patients": 0}"#, "total_patients: must be between 1 and 10000"),
        (r#"{"total_patients": 10001}"#, "total_patients: must be between 1 and 10000"),
        (r#"{"total_patients": 12.5}"#, "total_patients: must be a whole number"),
        (r#"{"total_patients": "many"}"#, "total_patients: invalid type"),
        (r#"{"days_of_fighting": 0}"#, "days_of_fighting: must be between 1 and 365"),
        (r#"{"days_of_fighting": 366}"#, "days_of_fighting: must be between 1 and 365"),
        (r#"{"base_date": "01/06/2025"}"#, "base_date: must be a date written YYYY-MM-DD"),
        (r#"{"warfare_types": {"laser": true}}"#, "warfare_types -> laser: unknown warfare type"),
        (
            r#"{"warfare_types": {"conventional": false}}"#,
            "warfare_types: at least one warfare type must be true",
        ),
        (
            r#"{"intensity": "apocalyptic"}"#,
            "intensity: 'apocalyptic' is not one of low, medium, high, extreme",
        ),
        (r#"{"tempo": "fast"}"#, "tempo: 'fast' is not one of"),
        (r#"{"special_events": {"parade": true}}"#, "special_events -> parade: unknown special event"),
        (
            r#"{"environmental_conditions": {"lava": true}}"#,
            "environmental_conditions -> lava: unknown condition",
        ),
        (r#"{"injury_mix": {"Battle Injury": 0.5, "Disease": 0.2}}"#, "injury_mix: shares must sum to 1"),
        (r#"{"injury_mix": {"Gunshot": 1.0}}"#, "injury_mix -> Gunshot: unknown injury type"),
        (
            r#"{"front_configs": [{"id": "a", "name": "A", "casualty_rate": 1, "nationality_distribution": [{"nationality_code": "XXX", "percentage": 100}]}]}"#,
            "front_configs -> 0 -> nationality_distribution -> 0 -> nationality_code: unknown nation 'XXX'",
        ),
        (
            r#"{"front_configs": [{"id": "a", "name": "A", "casualty_rate": 1, "nationality_distribution": [{"nationality_code": "POL", "percentage": 60}]}]}"#,
            "front_configs -> 0 -> nationality_distribution: percentages must sum to 100, got 60",
        ),
        (
            r#"{"front_configs": [{"id": "a", "name": "A", "casualty_rate": 1.5, "nationality_distribution": [{"nationality_code": "POL", "percentage": 100}]}]}"#,
            "front_configs -> 0 -> casualty_rate: must be between 0 and 1",
        ),
        (
            r#"{"front_configs": [{"name": "A", "nationality_distribution": []}]}"#,
            "front_configs -> 0 -> id: field required",
        ),
        (
            r#"{"front_configs": [{"id": "a", "name": "A", "casualty_rate": 0.5, "nationality_distribution": [{"nationality_code": "POL", "percentage": 100}]}, {"id": "b", "name": "B", "nationality_distribution": [{"nationality_code": "POL", "percentage": 100}]}]}"#,
            "front_configs: casualty_rate must be given for every front or for none",
        ),
        (r#"{"facility_chain": ["Role1", "Role2"]}"#, "facility_chain: must start with POI"),
        (
            r#"{"facility_chain": ["POI", "Role3", "Role2"]}"#,
            "facility_chain -> 2: roles must be listed once",
        ),
        (
            r#"{"facility_configs": [{"id": "Role2", "name": "R2", "kia_rate": 1.2, "rtd_rate": 0.5}]}"#,
            "facility_configs -> 0 -> kia_rate: must be between 0 and 1",
        ),
        (
            r#"{"facility_configs": [{"id": "Role2", "name": "R2", "rtd_rate": 0.5}]}"#,
            "facility_configs -> 0 -> kia_rate: field required",
        ),
        (r#"{"triage_override": {"Battle Injury": {"T9": 1}}}"#, "triage_override -> Battle Injury -> T9"),
    ];
    for (json, expected) in cases {
        let got = errors(json);
        assert!(got.contains(expected), "{json}\n  expected: {expected}\n  got:      {got}");
    }
}

/// Issue #7.9: upstream's own tests send a facility without a role and
/// alpha-2 nation codes; upstream accepts both.
#[test]
fn upstream_laxities_are_accepted() {
    let options = ValidationOptions { max_patients: 10_000, fallback_seed: 1 };
    let with_role_less = ScenarioConfig::from_json(
        r#"{"total_patients": 20, "seed": 3, "facility_configs": [{"id": "test_facility", "name": "Test Facility", "kia_rate": 0.1, "rtd_rate": 0.3}]}"#,
    )
    .expect("parses");
    let plain = ScenarioConfig::from_json(r#"{"total_patients": 20, "seed": 3}"#).expect("parses");
    let ignored = with_role_less.validate(catalog(), options).expect("a facility without a role is ignored");
    assert_eq!(ignored, plain.validate(catalog(), options).expect("valid"), "the facility changes nothing");
    let warnings = with_role_less.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].field, "facility_configs -> 0");
    assert!(warnings[0].message.contains("ignored") && warnings[0].message.contains("test_facility"));
    assert!(plain.warnings().is_empty());

    let front = |a: &str, b: &str| {
        format!(
            r#"{{"total_patients": 50, "seed": 9, "front_configs": [{{"id": "f", "name": "F", "casualty_rate": 1, "nationality_distribution": [{{"nationality_code": "{a}", "percentage": 60}}, {{"nationality_code": "{b}", "percentage": 40}}]}}]}}"#
        )
    };
    let alpha2 = ScenarioConfig::from_json(&front("US", "gb")).expect("parses");
    let alpha3 = ScenarioConfig::from_json(&front("USA", "GBR")).expect("parses");
    assert_eq!(
        alpha2.validate(catalog(), options).expect("alpha-2 codes are accepted"),
        alpha3.validate(catalog(), options).expect("valid"),
    );
    assert!(errors(&front("UK", "US")).contains("unknown nation 'UK'"));
}

#[test]
fn all_problems_are_reported_together() {
    let got = errors(r#"{"total_patients": 0, "days_of_fighting": 0, "intensity": "x"}"#);
    assert!(
        got.contains("total_patients") && got.contains("days_of_fighting") && got.contains("intensity"),
        "{got}"
    );
}

#[test]
fn upstream_ui_payload_is_accepted() {
    // The configuration object upstream's web UI sends (static/js/app.js).
    let json = r#"{
      "name": "UI scenario", "description": "", "total_patients": 1440, "days_of_fighting": 8, "base_date": "2025-06-01",
      "injury_mix": {"Disease": 0.52, "Non-Battle Injury": 0.33, "Battle Injury": 0.15},
      "warfare_types": {"conventional": true, "artillery": true, "urban": false, "guerrilla": false, "drone": true, "naval": false, "cbrn": false, "peacekeeping": false},
      "intensity": "high", "tempo": "sustained",
      "special_events": {"major_offensive": false, "ambush": true, "mass_casualty": true},
      "environmental_conditions": {"night_operations": true, "extreme_weather": false, "mountainous_terrain": false, "urban_environment": false},
      "front_configs": [{"id": "poland", "name": "Poland Front", "casualty_rate": 0.6, "nationality_distribution": [{"nationality_code": "POL", "percentage": 50}, {"nationality_code": "LTU", "percentage": 25}, {"nationality_code": "NLD", "percentage": 20}, {"nationality_code": "ESP", "percentage": 5}]},
                        {"id": "estonia", "name": "Estonia Front", "casualty_rate": 0.4, "nationality_distribution": [{"nationality_code": "EST", "percentage": 50}, {"nationality_code": "GBR", "percentage": 50}]}],
      "facility_configs": [{"id": "role2_poland", "name": "Role 2 Poland Front", "capacity": 600, "role": "Role2", "front_id": "poland", "kia_rate": 0.05, "rtd_rate": 0.85}],
      "medical_simulation": {"enable_treatment_utility": true, "enable_diagnostic_uncertainty": true, "enable_markov_chain": true, "enable_warfare_modifiers": true},
      "advanced_overrides": {"scenario_modifiers": {"intensity": "high"}}
    }"#;
    assert_eq!(errors(json), "");
}

#[test]
fn every_preset_and_its_upstream_generation_config_validate() {
    let cat = catalog();
    assert_eq!(cat.presets.presets.len(), 9);
    for id in [
        "nato_article_5",
        "peacekeeping",
        "urban_assault",
        "cbrn_incident",
        "training_exercise",
        "mass_casualty",
        "arctic_operation",
        "maritime_operation",
        "default",
    ] {
        let preset = cat.presets.get(id).unwrap_or_else(|| panic!("{id} missing"));
        let config = ScenarioConfig::from_preset(&cat.presets, preset);
        let s = config.validate(cat, ValidationOptions::default()).unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(s.total_patients, preset.total_patients);
        assert_eq!(s.days, preset.duration_days);
        // Upstream's generation_config has no temporal keys: it must still run as the preset describes.
        let mut bare = config.clone();
        bare.warfare_types = None;
        bare.days_of_fighting = None;
        let s = bare.validate(cat, ValidationOptions::default()).unwrap_or_else(|e| panic!("{id} bare: {e}"));
        assert_eq!(s.days, preset.duration_days, "{id}: duration_days ignored");
        assert_eq!(s.warfare.len(), 1, "{id}: warfare_type ignored");
    }
}

#[test]
fn toml_scenarios_work_and_name_bad_fields() {
    let ok = ScenarioConfig::from_toml(
        "total_patients = 50\nseed = 3\n[warfare_types]\nurban = true\n[[front_configs]]\nid = \"x\"\nname = \"X\"\ncasualty_rate = 1.0\nnationality_distribution = [{ nationality_code = \"NOR\", percentage = 100 }]\n",
    )
    .expect("parses");
    let s = ok.validate(catalog(), ValidationOptions::default()).expect("valid");
    assert_eq!(s.total_patients, 50);
    let bad = ScenarioConfig::from_toml("total_patients = \"lots\"\n");
    assert!(bad.is_err_and(|e| e.to_string().contains("total_patients")));
}
