//! FHIR R4: one `collection` Bundle per patient (NDJSON, one Bundle per line):
//! Patient, Condition(s), an Encounter per facility visit, Procedure per
//! treatment, Observations for vital signs, weight, height, ABO group and Rh.
//! Resource ids are UUIDs drawn from the seed, so output is reproducible.

use super::Encoder;
use crate::{Format, Metadata, OutputError};
use patientgen_core::data::{Catalog, catalog};
use patientgen_core::model::{Outcome, Role};
use patientgen_core::patient::{EventType, Patient};
use patientgen_core::rng::{Domain, Rng};
use patientgen_core::time::UtcSeconds;
use serde_json::{Value, json};

const SNOMED: &str = "http://snomed.info/sct";
const LOINC: &str = "http://loinc.org";
const UCUM: &str = "http://unitsofmeasure.org";
const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
const OBS_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";

/// `patients.fhir.ndjson`.
#[derive(Debug, Clone, Copy)]
pub struct FhirEncoder {
    seed: u64,
    catalog: &'static Catalog,
}

impl FhirEncoder {
    /// An encoder whose resource ids derive from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            catalog: catalog(),
        }
    }

    /// The Bundle of one patient.
    pub fn bundle(&self, p: &Patient<'_>) -> Value {
        let mut ids = Rng::stream(self.seed, Domain::Identifiers, u64::from(p.id));
        let mut uuid = || {
            let mut bytes = [0u8; 16];
            bytes[..8].copy_from_slice(&ids.next_u64().to_le_bytes());
            bytes[8..].copy_from_slice(&ids.next_u64().to_le_bytes());
            format!(
                "urn:uuid:{}",
                uuid::Builder::from_random_bytes(bytes).into_uuid()
            )
        };
        let clinical = &self.catalog.clinical;
        let at = |t: UtcSeconds| t.to_string();
        let bundle_id = uuid();
        let patient_ref = uuid();
        let mut entries: Vec<Value> = Vec::new();
        let mut entry = |full_url: &str, mut resource: Value| {
            if let Some(obj) = resource.as_object_mut() {
                obj.insert(
                    "id".into(),
                    Value::from(full_url.trim_start_matches("urn:uuid:")),
                );
            }
            entries.push(json!({ "fullUrl": full_url, "resource": resource }));
        };

        // Patient.
        let d = &p.demographics;
        let died = matches!(p.outcome, Outcome::Kia | Outcome::Dow);
        let end_time = p.terminal_event().map_or(p.injury_time, |e| e.timestamp);
        let mut extension = vec![json!({
            "url": "http://hl7.org/fhir/StructureDefinition/patient-nationality",
            "extension": [{ "url": "code", "valueCodeableConcept": {
                "coding": [{ "system": "urn:iso:std:iso:3166", "code": d.nationality }] } }]
        })];
        if let Some(religion) = d.religion {
            extension.push(json!({
                "url": "http://hl7.org/fhir/StructureDefinition/patient-religion",
                "valueCodeableConcept": { "coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/v3-ReligiousAffiliation", "code": religion }] }
            }));
        }
        let mut patient = json!({
            "resourceType": "Patient",
            "extension": extension,
            "identifier": [{
                "use": "official",
                "type": { "text": "Military service number" },
                "system": format!("https://patientgen.example/fhir/sid/service-number/{}", d.nationality.to_ascii_lowercase()),
                "value": d.service_number
            }],
            "name": [{ "use": "official", "family": d.family_name, "given": [d.given_name] }],
            "gender": d.gender.as_str(),
            "birthDate": d.birthdate.to_string(),
        });
        if died {
            patient["deceasedDateTime"] = Value::from(at(end_time));
        }
        entry(&patient_ref, patient);

        // Encounters: one per facility visit, from the timeline.
        let mut visits: Vec<(Role, UtcSeconds, Option<UtcSeconds>, String)> = Vec::new();
        for e in &p.movement_timeline {
            match e.event_type {
                EventType::Arrival => visits.push((e.facility, e.timestamp, None, uuid())),
                EventType::TransitStart | EventType::Kia | EventType::Rtd => {
                    if let Some(v) = visits.last_mut() {
                        v.2 = Some(e.timestamp);
                    }
                }
                EventType::RemainsRole4 | EventType::EvacuationStart => {}
            }
        }
        let visit_count = visits.len();
        for (i, (role, start, end, id)) in visits.iter().enumerate() {
            let (code, display) = match role {
                Role::Poi => ("FLD", "field"),
                Role::Role1 => ("EMER", "emergency"),
                Role::Role2 => ("ACUTE", "inpatient acute"),
                Role::Role3 | Role::Role4 => ("IMP", "inpatient encounter"),
            };
            let last = i + 1 == visit_count;
            let mut period = json!({ "start": at(*start) });
            if let Some(end) = end {
                period["end"] = Value::from(at(*end));
            }
            let mut encounter = json!({
                "resourceType": "Encounter",
                "status": if last && p.outcome == Outcome::RemainsRole4 { "in-progress" } else { "finished" },
                "class": { "system": ACT_CODE, "code": code, "display": display },
                "subject": { "reference": patient_ref },
                "period": period,
                "location": [{ "location": { "display": role.display_name() } }],
            });
            if last {
                let disposition = match p.outcome {
                    Outcome::Kia | Outcome::Dow => json!({ "coding": [{
                        "system": "http://terminology.hl7.org/CodeSystem/discharge-disposition",
                        "code": "exp", "display": "Expired" }] }),
                    Outcome::Rtd => json!({ "text": "Returned to duty" }),
                    Outcome::RemainsRole4 => json!({ "text": "Remains in care" }),
                };
                encounter["hospitalization"] = json!({ "dischargeDisposition": disposition });
            }
            entry(id, encounter);
        }
        let encounter_at = |role: Role| visits.iter().find(|v| v.0 == role).map(|v| v.3.clone());
        let first_encounter = visits.first().map(|v| v.3.clone());

        // Conditions.
        let severity = clinical.severity.values().find(|s| {
            p.conditions
                .first()
                .is_some_and(|c| c.severity_code == s.code)
        });
        for (i, c) in p
            .conditions
            .iter()
            .chain(&p.additional_conditions)
            .enumerate()
        {
            let mut condition = json!({
                "resourceType": "Condition",
                "clinicalStatus": { "coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": if p.outcome == Outcome::Rtd { "resolved" } else { "active" } }] },
                "verificationStatus": { "coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed" }] },
                "category": [{ "coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                    "code": "encounter-diagnosis", "display": "Encounter Diagnosis" }] }],
                "code": { "coding": [{ "system": SNOMED, "code": c.code, "display": c.name }], "text": c.name },
                "subject": { "reference": patient_ref },
                "onsetDateTime": at(p.injury_time),
                "recordedDate": at(p.injury_time),
            });
            if let Some(s) = severity {
                condition["severity"] = json!({ "coding": [{ "system": SNOMED, "code": s.code, "display": s.display }] });
            }
            if i == 0
                && let Some(site) = p
                    .body_part
                    .and_then(|b| clinical.body_sites.get(b.as_str()))
            {
                condition["bodySite"] = json!([{ "coding": [{ "system": SNOMED, "code": site.code, "display": site.display }] }]);
            }
            if let Some(e) = &first_encounter {
                condition["encounter"] = json!({ "reference": e });
            }
            if p.outcome == Outcome::Rtd {
                condition["abatementDateTime"] = Value::from(at(end_time));
            }
            entry(&uuid(), condition);
        }

        // Procedures.
        for t in &p.treatments {
            let mut procedure = json!({
                "resourceType": "Procedure",
                "status": "completed",
                "code": { "coding": [{ "system": SNOMED, "code": t.code, "display": t.display }], "text": t.display },
                "subject": { "reference": patient_ref },
                "performedDateTime": at(t.timestamp),
            });
            if let Some(e) = encounter_at(t.location) {
                procedure["encounter"] = json!({ "reference": e });
            }
            entry(&uuid(), procedure);
        }

        // Observations.
        let observed = p
            .movement_timeline
            .iter()
            .find(|e| e.event_type == EventType::Arrival && e.facility != Role::Poi)
            .map_or(p.injury_time, |e| e.timestamp);
        let observed_in = visits
            .iter()
            .find(|v| v.0 != Role::Poi)
            .map(|v| v.3.clone())
            .or(first_encounter.clone());
        let v = &p.vital_signs;
        let loinc = |key: &str| {
            clinical
                .loinc(key)
                .map(|c| (c.code.as_str(), c.display.as_str()))
        };
        let quantity = |value: f64, unit: &str| json!({ "value": value, "unit": unit, "system": UCUM, "code": unit });
        let mut observation = |category: &str,
                               key: &str,
                               value: (&str, Value),
                               components: Option<Value>| {
            let Some((code, display)) = loinc(key) else {
                return;
            };
            let mut obs = json!({
                "resourceType": "Observation",
                "status": "final",
                "category": [{ "coding": [{ "system": OBS_CATEGORY, "code": category }] }],
                "code": { "coding": [{ "system": LOINC, "code": code, "display": display }], "text": display },
                "subject": { "reference": patient_ref },
                "effectiveDateTime": at(observed),
            });
            if !value.0.is_empty() {
                obs[value.0] = value.1;
            }
            if let Some(c) = components {
                obs["component"] = c;
            }
            if let Some(e) = &observed_in {
                obs["encounter"] = json!({ "reference": e });
            }
            entry(&uuid(), obs);
        };
        observation(
            "vital-signs",
            "heart_rate",
            ("valueQuantity", quantity(f64::from(v.heart_rate), "/min")),
            None,
        );
        observation(
            "vital-signs",
            "respiratory_rate",
            (
                "valueQuantity",
                quantity(f64::from(v.respiratory_rate), "/min"),
            ),
            None,
        );
        observation(
            "vital-signs",
            "oxygen_saturation",
            (
                "valueQuantity",
                quantity(f64::from(v.oxygen_saturation), "%"),
            ),
            None,
        );
        observation(
            "vital-signs",
            "body_temperature",
            ("valueQuantity", quantity(v.temperature, "Cel")),
            None,
        );
        let bp_component = |key: &str, value: u32| {
            loinc(key).map(|(code, display)| json!({
                "code": { "coding": [{ "system": LOINC, "code": code, "display": display }] },
                "valueQuantity": { "value": value, "unit": "mm[Hg]", "system": UCUM, "code": "mm[Hg]" }
            }))
        };
        let components: Vec<Value> = [
            bp_component("systolic_bp", v.systolic_bp),
            bp_component("diastolic_bp", v.diastolic_bp),
        ]
        .into_iter()
        .flatten()
        .collect();
        observation(
            "vital-signs",
            "blood_pressure",
            ("", Value::Null),
            Some(Value::from(components)),
        );
        observation(
            "exam",
            "gcs_total",
            ("valueInteger", Value::from(v.gcs)),
            None,
        );
        observation(
            "vital-signs",
            "body_weight",
            ("valueQuantity", quantity(d.weight, "kg")),
            None,
        );
        observation(
            "vital-signs",
            "body_height",
            ("valueQuantity", quantity(f64::from(d.height), "cm")),
            None,
        );
        if let Some(abo) = clinical.blood_groups.get(d.blood_type) {
            observation(
                "laboratory",
                "abo_group",
                (
                    "valueCodeableConcept",
                    json!({ "coding": [{ "system": SNOMED, "code": abo.code, "display": abo.display }] }),
                ),
                None,
            );
        }
        if let Some(rh) = clinical.rh_factor.get(d.rh_factor) {
            observation(
                "laboratory",
                "rh_type",
                (
                    "valueCodeableConcept",
                    json!({ "coding": [{ "system": SNOMED, "code": rh.code, "display": rh.display }] }),
                ),
                None,
            );
        }

        json!({
            "resourceType": "Bundle",
            "id": bundle_id.trim_start_matches("urn:uuid:"),
            "type": "collection",
            "timestamp": at(end_time),
            "entry": entries,
        })
    }
}

impl Encoder for FhirEncoder {
    fn format(&self) -> Format {
        Format::Fhir
    }

    fn header(&self, _meta: &Metadata, _out: &mut Vec<u8>) -> Result<(), OutputError> {
        Ok(())
    }

    fn record(
        &self,
        patient: &Patient<'_>,
        _first: bool,
        out: &mut Vec<u8>,
    ) -> Result<(), OutputError> {
        serde_json::to_writer(&mut *out, &self.bundle(patient))?;
        out.push(b'\n');
        Ok(())
    }

    fn footer(&self, _meta: &Metadata, _out: &mut Vec<u8>) -> Result<(), OutputError> {
        Ok(())
    }
}
