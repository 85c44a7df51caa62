//! The fast JSON writer produces exactly the bytes serde would, so every
//! consumer of the `Serialize` impl (API, XML, tests) sees the same record.

mod common;

use patientgen_core::Generator;
use patientgen_core::data::catalog;
use patientgen_output::encode::write_patient;

#[test]
fn fast_writer_matches_serde_on_every_preset() {
    let mut checked = 0;
    for p in &catalog().presets.presets {
        let s = common::preset(&p.id, 400, 17);
        let g = Generator::new(&s);
        for slot in g.plan() {
            let patient = g.patient(&slot);
            let mut fast = Vec::new();
            write_patient(&patient, &mut fast);
            let serde = serde_json::to_vec(&patient).expect("serialises");
            assert_eq!(
                String::from_utf8_lossy(&fast),
                String::from_utf8_lossy(&serde),
                "{} patient {}",
                p.id,
                patient.id
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 9 * 400);
}

#[test]
fn fast_writer_escapes_user_strings() {
    let s = common::scenario(
        r#"{"total_patients": 50, "seed": 2, "front_configs": [{"id": "q", "name": "Front \"Q\" \\ north\n<&>", "casualty_rate": 1, "nationality_distribution": [{"nationality_code": "ISL", "percentage": 100}]}]}"#,
    );
    let g = Generator::new(&s);
    for slot in g.plan() {
        let patient = g.patient(&slot);
        let mut fast = Vec::new();
        write_patient(&patient, &mut fast);
        assert_eq!(fast, serde_json::to_vec(&patient).expect("serialises"));
    }
}
