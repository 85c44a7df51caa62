//! Generated FHIR bundles validate against the official FHIR R4 (4.0.1) JSON
//! schema (tests/fixtures/fhir-r4.schema.json.gz, from HL7's fhir.schema.json),
//! plus checks the schema cannot express (references resolve, periods ordered).

mod common;

use patientgen_output::Format;
use patientgen_output::encode::EncodeOptions;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::LazyLock;

static SCHEMA: LazyLock<Value> = LazyLock::new(|| {
    let gz =
        std::fs::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/fhir-r4.schema.json.gz"))
            .expect("schema fixture");
    serde_json::from_reader(std::io::BufReader::new(flate2::read::GzDecoder::new(gz))).expect("schema parses")
});

static FHIR_R4: LazyLock<jsonschema::Validator> =
    LazyLock::new(|| jsonschema::draft6::new(&SCHEMA).expect("FHIR R4 schema compiles"));

/// Explains a failure resource by resource (the root `oneOf` hides details).
fn explain(bundle: &Value) -> String {
    let mut out = String::new();
    for entry in bundle["entry"].as_array().into_iter().flatten() {
        let kind = entry["resource"]["resourceType"].as_str().unwrap_or("?");
        let mut schema = SCHEMA.clone();
        if let Some(obj) = schema.as_object_mut() {
            obj.remove("oneOf");
            obj.insert("$ref".into(), Value::from(format!("#/definitions/{kind}")));
        }
        if let Ok(v) = jsonschema::draft6::new(&schema) {
            for e in v.iter_errors(&entry["resource"]) {
                out.push_str(&format!("{kind} {}: {e}\n", e.instance_path()));
            }
        }
    }
    out
}

fn bundles(preset: &str, n: u32, seed: u64) -> Vec<Value> {
    let s = common::preset(preset, n, seed);
    let out = common::render(&s, &[Format::Fhir], 2, EncodeOptions::default());
    let text = String::from_utf8(out.into_iter().next().unwrap_or_default()).expect("utf-8");
    text.lines().map(|l| serde_json::from_str(l).expect("each line is JSON")).collect()
}

#[test]
fn generated_bundles_are_valid_fhir_r4() {
    let mut kinds = HashSet::new();
    let mut deceased = 0;
    for (preset, n) in [
        ("default", 300),
        ("nato_article_5", 300),
        ("cbrn_incident", 150),
        ("arctic_operation", 150),
        ("mass_casualty", 150),
    ] {
        let all = bundles(preset, n, 31);
        assert_eq!(all.len(), n as usize);
        for b in &all {
            assert!(FHIR_R4.is_valid(b), "{preset}: invalid bundle:\n{}", explain(b));
            let urls: HashSet<&str> =
                b["entry"].as_array().into_iter().flatten().filter_map(|e| e["fullUrl"].as_str()).collect();
            for e in b["entry"].as_array().into_iter().flatten() {
                let r = &e["resource"];
                kinds.insert(r["resourceType"].as_str().unwrap_or("").to_string());
                assert_eq!(
                    Some(r["id"].as_str().unwrap_or("")),
                    e["fullUrl"].as_str().map(|u| u.trim_start_matches("urn:uuid:"))
                );
                for key in ["subject", "encounter"] {
                    if let Some(reference) = r[key]["reference"].as_str() {
                        assert!(urls.contains(reference), "dangling {key} reference {reference}");
                    }
                }
                if r["resourceType"] == "Observation" {
                    assert_eq!(r["status"], "final");
                }
                if r["resourceType"] == "Encounter"
                    && let (Some(s), Some(e)) = (r["period"]["start"].as_str(), r["period"]["end"].as_str())
                {
                    assert!(s <= e, "period goes backwards");
                }
                if r["resourceType"] == "Patient" && r.get("deceasedDateTime").is_some() {
                    deceased += 1;
                }
            }
        }
    }
    for kind in ["Patient", "Condition", "Encounter", "Procedure", "Observation"] {
        assert!(kinds.contains(kind), "no {kind} generated");
    }
    assert!(deceased > 0);
}

#[test]
fn the_schema_check_is_not_vacuous() {
    let mut b = bundles("default", 3, 5).remove(0);
    assert!(FHIR_R4.is_valid(&b));
    b["entry"][0]["resource"]["gender"] = json!("robot");
    assert!(!FHIR_R4.is_valid(&b));
    let mut b = bundles("default", 3, 5).remove(0);
    b["entry"][1]["resource"]["class"] = json!({"coding": []});
    assert!(!FHIR_R4.is_valid(&b));
}

#[test]
fn resource_ids_are_deterministic_uuids_from_the_seed() {
    let a = bundles("default", 20, 77);
    let b = bundles("default", 20, 77);
    let c = bundles("default", 20, 78);
    assert_eq!(a, b);
    assert_ne!(a[0]["id"], c[0]["id"]);
    let id = a[0]["id"].as_str().unwrap_or("");
    assert_eq!(id.len(), 36);
    assert_eq!(&id[14..15], "4", "version-4 UUID");
}

/// Every coding in `v`: (system, code, display).
fn codings<'v>(v: &'v Value, out: &mut Vec<(&'v str, &'v str, Option<&'v str>)>) {
    match v {
        Value::Object(map) => {
            if let (Some(Value::String(system)), Some(Value::String(code))) =
                (map.get("system"), map.get("code"))
            {
                out.push((system, code, map.get("display").and_then(Value::as_str)));
            }
            map.values().for_each(|child| codings(child, out));
        }
        Value::Array(items) => items.iter().for_each(|i| codings(i, out)),
        _ => {}
    }
}

#[test]
fn every_code_in_the_bundles_is_well_formed() {
    use patientgen_core::data::clinical::{loinc_is_valid, sctid_is_concept};
    // The HL7 codes the encoder writes itself, with the values their code systems define.
    let hl7: &[(&str, &[&str])] = &[
        ("http://terminology.hl7.org/CodeSystem/v3-ActCode", &["FLD", "EMER", "ACUTE", "IMP"]),
        ("http://terminology.hl7.org/CodeSystem/discharge-disposition", &["exp"]),
        ("http://terminology.hl7.org/CodeSystem/condition-clinical", &["active", "resolved"]),
        ("http://terminology.hl7.org/CodeSystem/condition-ver-status", &["confirmed"]),
        ("http://terminology.hl7.org/CodeSystem/condition-category", &["encounter-diagnosis"]),
        (
            "http://terminology.hl7.org/CodeSystem/observation-category",
            &["vital-signs", "exam", "laboratory"],
        ),
    ];
    let mut seen = HashSet::new();
    for (preset, n) in
        [("default", 400), ("nato_article_5", 400), ("cbrn_incident", 200), ("arctic_operation", 200)]
    {
        for b in bundles(preset, n, 44) {
            let mut all = Vec::new();
            codings(&b, &mut all);
            for (system, code, display) in all {
                match system {
                    "http://snomed.info/sct" => {
                        assert!(sctid_is_concept(code), "SNOMED CT {code} ({display:?}) is not a concept id")
                    }
                    "http://loinc.org" => assert!(loinc_is_valid(code), "LOINC {code} fails its check digit"),
                    "http://unitsofmeasure.org" => {}
                    "urn:iso:std:iso:3166" => {
                        assert!(code.len() == 3 && code.bytes().all(|c| c.is_ascii_uppercase()))
                    }
                    "http://terminology.hl7.org/CodeSystem/v3-ReligiousAffiliation" => {
                        assert!(code.len() == 4 && code.bytes().all(|c| c.is_ascii_digit()))
                    }
                    other => match hl7.iter().find(|(s, _)| *s == other) {
                        Some((_, codes)) => assert!(codes.contains(&code), "{other}: unknown code {code}"),
                        None => panic!("{other}: code {code} from a code system this test does not know"),
                    },
                }
                seen.insert(code.to_string());
            }
        }
    }
    // The burn-care procedure that once carried an invalid id is among the codes checked.
    assert!(seen.contains("133901003"), "no burn care in the sample");
}
