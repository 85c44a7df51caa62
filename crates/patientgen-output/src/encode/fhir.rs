//! FHIR R4: one `collection` Bundle per patient (NDJSON, one Bundle per line):
//! Patient, Condition(s), an Encounter per facility visit, Procedure per
//! treatment, Observations for vital signs, weight, height, ABO group and Rh.
//! Resource ids are UUIDs drawn from the seed, so output is reproducible.
//! The resources are typed structs serialised directly (no JSON tree).

use super::Encoder;
use crate::{Metadata, OutputError};
use patientgen_core::data::{Catalog, catalog};
use patientgen_core::model::{Outcome, Role};
use patientgen_core::patient::{EventType, Patient};
use patientgen_core::rng::{Domain, Rng};
use patientgen_core::time::UtcSeconds;
use serde::{Serialize, Serializer};

const SNOMED: &str = "http://snomed.info/sct";
const LOINC: &str = "http://loinc.org";
const UCUM: &str = "http://unitsofmeasure.org";
const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
const OBS_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
const CONDITION_CLINICAL: &str = "http://terminology.hl7.org/CodeSystem/condition-clinical";
const CONDITION_VERIFICATION: &str = "http://terminology.hl7.org/CodeSystem/condition-ver-status";
const CONDITION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/condition-category";
const DISCHARGE: &str = "http://terminology.hl7.org/CodeSystem/discharge-disposition";
const RELIGION: &str = "http://terminology.hl7.org/CodeSystem/v3-ReligiousAffiliation";

/// A UUID written as `urn:uuid:…` (`urn`) or bare (`id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Id([u8; 16]);

impl Id {
    fn hyphenated(self) -> [u8; 36] {
        let mut buf = [0u8; 36];
        uuid::Builder::from_random_bytes(self.0).into_uuid().hyphenated().encode_lower(&mut buf);
        buf
    }
}

struct Bare(Id);
struct Urn(Id);

impl Serialize for Bare {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let h = self.0.hyphenated();
        s.serialize_str(std::str::from_utf8(&h).map_err(serde::ser::Error::custom)?)
    }
}

impl Serialize for Urn {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; 45];
        buf[..9].copy_from_slice(b"urn:uuid:");
        buf[9..].copy_from_slice(&self.0.hyphenated());
        s.serialize_str(std::str::from_utf8(&buf).map_err(serde::ser::Error::custom)?)
    }
}

#[derive(Serialize)]
struct Coding<'a> {
    system: &'a str,
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    display: Option<&'a str>,
}

#[derive(Serialize)]
struct Concept<'a> {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    coding: Vec<Coding<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
}

impl<'a> Concept<'a> {
    fn coded(system: &'a str, code: &'a str, display: Option<&'a str>) -> Self {
        Self { coding: vec![Coding { system, code, display }], text: None }
    }

    fn with_text(mut self, text: &'a str) -> Self {
        self.text = Some(text);
        self
    }

    fn text(text: &'a str) -> Self {
        Self { coding: Vec::new(), text: Some(text) }
    }
}

#[derive(Serialize)]
struct Reference {
    reference: Urn,
}

#[derive(Serialize)]
struct Display<'a> {
    display: &'a str,
}

#[derive(Serialize)]
struct Period {
    start: UtcSeconds,
    #[serde(skip_serializing_if = "Option::is_none")]
    end: Option<UtcSeconds>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Extension<'a> {
    url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    value_codeable_concept: Option<Concept<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    extension: Vec<Extension<'a>>,
}

#[derive(Serialize)]
struct Identifier<'a> {
    #[serde(rename = "use")]
    use_: &'a str,
    #[serde(rename = "type")]
    kind: Concept<'a>,
    system: String,
    value: &'a str,
}

#[derive(Serialize)]
struct HumanName<'a> {
    #[serde(rename = "use")]
    use_: &'a str,
    family: &'a str,
    given: [&'a str; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PatientResource<'a> {
    resource_type: &'a str,
    id: Bare,
    extension: Vec<Extension<'a>>,
    identifier: [Identifier<'a>; 1],
    name: [HumanName<'a>; 1],
    gender: &'a str,
    birth_date: patientgen_core::time::CivilDate,
    #[serde(skip_serializing_if = "Option::is_none")]
    deceased_date_time: Option<UtcSeconds>,
}

#[derive(Serialize)]
struct EncounterLocation<'a> {
    location: Display<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Hospitalization<'a> {
    discharge_disposition: Concept<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EncounterResource<'a> {
    resource_type: &'a str,
    id: Bare,
    status: &'a str,
    class: Coding<'a>,
    subject: Reference,
    period: Period,
    location: [EncounterLocation<'a>; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    hospitalization: Option<Hospitalization<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConditionResource<'a> {
    resource_type: &'a str,
    id: Bare,
    clinical_status: Concept<'a>,
    verification_status: Concept<'a>,
    category: [Concept<'a>; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    severity: Option<Concept<'a>>,
    code: Concept<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body_site: Option<[Concept<'a>; 1]>,
    subject: Reference,
    #[serde(skip_serializing_if = "Option::is_none")]
    encounter: Option<Reference>,
    onset_date_time: UtcSeconds,
    #[serde(skip_serializing_if = "Option::is_none")]
    abatement_date_time: Option<UtcSeconds>,
    recorded_date: UtcSeconds,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProcedureResource<'a> {
    resource_type: &'a str,
    id: Bare,
    status: &'a str,
    code: Concept<'a>,
    subject: Reference,
    #[serde(skip_serializing_if = "Option::is_none")]
    encounter: Option<Reference>,
    performed_date_time: UtcSeconds,
}

#[derive(Serialize)]
struct Quantity<'a> {
    value: f64,
    unit: &'a str,
    system: &'a str,
    code: &'a str,
}

impl<'a> Quantity<'a> {
    fn ucum(value: f64, unit: &'a str) -> Self {
        Self { value, unit, system: UCUM, code: unit }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Component<'a> {
    code: Concept<'a>,
    value_quantity: Quantity<'a>,
}

/// `value[x]` of an Observation.
#[derive(Serialize)]
enum ObservationValue<'a> {
    #[serde(rename = "valueQuantity")]
    Quantity(Quantity<'a>),
    #[serde(rename = "valueInteger")]
    Integer(u32),
    #[serde(rename = "valueCodeableConcept")]
    CodeableConcept(Concept<'a>),
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ObservationResource<'a> {
    resource_type: &'a str,
    id: Bare,
    status: &'a str,
    category: [Concept<'a>; 1],
    code: Concept<'a>,
    subject: Reference,
    #[serde(skip_serializing_if = "Option::is_none")]
    encounter: Option<Reference>,
    effective_date_time: UtcSeconds,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    value: Option<ObservationValue<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    component: Vec<Component<'a>>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Resource<'a> {
    Patient(PatientResource<'a>),
    Encounter(EncounterResource<'a>),
    Condition(ConditionResource<'a>),
    Procedure(ProcedureResource<'a>),
    Observation(ObservationResource<'a>),
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Entry<'a> {
    full_url: Urn,
    resource: Resource<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Bundle<'a> {
    resource_type: &'a str,
    id: Bare,
    #[serde(rename = "type")]
    kind: &'a str,
    timestamp: UtcSeconds,
    entry: Vec<Entry<'a>>,
}

/// `patients.fhir.ndjson`.
#[derive(Debug, Clone, Copy)]
pub struct FhirEncoder {
    seed: u64,
    catalog: &'static Catalog,
}

impl FhirEncoder {
    /// An encoder whose resource ids derive from `seed`.
    pub fn new(seed: u64) -> Self {
        Self { seed, catalog: catalog() }
    }

    /// Writes the Bundle of one patient as JSON.
    pub fn write_bundle(&self, p: &Patient<'_>, out: &mut Vec<u8>) -> Result<(), OutputError> {
        serde_json::to_writer(out, &self.bundle(p))?;
        Ok(())
    }

    fn bundle<'a>(&'a self, p: &'a Patient<'a>) -> Bundle<'a> {
        let mut ids = Rng::stream(self.seed, Domain::Identifiers, u64::from(p.id));
        let mut next_id = || {
            let mut bytes = [0u8; 16];
            bytes[..8].copy_from_slice(&ids.next_u64().to_le_bytes());
            bytes[8..].copy_from_slice(&ids.next_u64().to_le_bytes());
            Id(bytes)
        };
        let clinical = &self.catalog.clinical;
        let bundle_id = next_id();
        let patient_id = next_id();
        let subject = || Reference { reference: Urn(patient_id) };
        let mut entry: Vec<Entry<'a>> = Vec::with_capacity(24);
        let d = &p.demographics;
        let died = matches!(p.outcome, Outcome::Kia | Outcome::Dow);
        let end_time = p.terminal_event().map_or(p.injury_time, |e| e.timestamp);

        let mut extension = vec![Extension {
            url: "http://hl7.org/fhir/StructureDefinition/patient-nationality",
            value_codeable_concept: None,
            extension: vec![Extension {
                url: "code",
                value_codeable_concept: Some(Concept::coded("urn:iso:std:iso:3166", d.nationality, None)),
                extension: Vec::new(),
            }],
        }];
        if let Some(religion) = d.religion {
            extension.push(Extension {
                url: "http://hl7.org/fhir/StructureDefinition/patient-religion",
                value_codeable_concept: Some(Concept::coded(RELIGION, religion, None)),
                extension: Vec::new(),
            });
        }
        let service_system = format!(
            "https://patientgen.example/fhir/sid/service-number/{}",
            d.nationality.to_ascii_lowercase()
        );
        entry.push(Entry {
            full_url: Urn(patient_id),
            resource: Resource::Patient(PatientResource {
                resource_type: "Patient",
                id: Bare(patient_id),
                extension,
                identifier: [Identifier {
                    use_: "official",
                    kind: Concept::text("Military service number"),
                    system: service_system,
                    value: &d.service_number,
                }],
                name: [HumanName { use_: "official", family: d.family_name, given: [d.given_name] }],
                gender: d.gender.as_str(),
                birth_date: d.birthdate,
                deceased_date_time: died.then_some(end_time),
            }),
        });

        // Encounters: one per facility visit, from the timeline.
        let mut visits: Vec<(Role, UtcSeconds, Option<UtcSeconds>, Id)> = Vec::with_capacity(5);
        for e in &p.movement_timeline {
            match e.event_type {
                EventType::Arrival => visits.push((e.facility, e.timestamp, None, next_id())),
                EventType::TransitStart | EventType::Kia | EventType::Rtd => {
                    if let Some(v) = visits.last_mut() {
                        v.2 = Some(e.timestamp);
                    }
                }
                EventType::RemainsRole4 | EventType::EvacuationStart => {}
            }
        }
        for (i, (role, start, end, id)) in visits.iter().enumerate() {
            let (code, display) = match role {
                Role::Poi => ("FLD", "field"),
                Role::Role1 => ("EMER", "emergency"),
                Role::Role2 => ("ACUTE", "inpatient acute"),
                Role::Role3 | Role::Role4 => ("IMP", "inpatient encounter"),
            };
            let last = i + 1 == visits.len();
            let hospitalization = last.then(|| Hospitalization {
                discharge_disposition: match p.outcome {
                    Outcome::Kia | Outcome::Dow => Concept::coded(DISCHARGE, "exp", Some("Expired")),
                    Outcome::Rtd => Concept::text("Returned to duty"),
                    Outcome::RemainsRole4 => Concept::text("Remains in care"),
                },
            });
            entry.push(Entry {
                full_url: Urn(*id),
                resource: Resource::Encounter(EncounterResource {
                    resource_type: "Encounter",
                    id: Bare(*id),
                    status: if last && p.outcome == Outcome::RemainsRole4 {
                        "in-progress"
                    } else {
                        "finished"
                    },
                    class: Coding { system: ACT_CODE, code, display: Some(display) },
                    subject: subject(),
                    period: Period { start: *start, end: *end },
                    location: [EncounterLocation { location: Display { display: role.display_name() } }],
                    hospitalization,
                }),
            });
        }
        let encounter_at =
            |role: Role| visits.iter().find(|v| v.0 == role).map(|v| Reference { reference: Urn(v.3) });
        let first_encounter = visits.first().map(|v| v.3);

        // Conditions.
        for (i, c) in p.conditions.iter().chain(&p.additional_conditions).enumerate() {
            let body_site = if i == 0 {
                p.body_part
                    .and_then(|b| clinical.body_sites.get(b.as_str()))
                    .map(|site| [Concept::coded(SNOMED, &site.code, Some(&site.display))])
            } else {
                None
            };
            let id = next_id();
            entry.push(Entry {
                full_url: Urn(id),
                resource: Resource::Condition(ConditionResource {
                    resource_type: "Condition",
                    id: Bare(id),
                    clinical_status: Concept::coded(
                        CONDITION_CLINICAL,
                        if p.outcome == Outcome::Rtd { "resolved" } else { "active" },
                        None,
                    ),
                    verification_status: Concept::coded(CONDITION_VERIFICATION, "confirmed", None),
                    category: [Concept::coded(
                        CONDITION_CATEGORY,
                        "encounter-diagnosis",
                        Some("Encounter Diagnosis"),
                    )],
                    severity: Some(Concept::coded(SNOMED, c.severity_code, Some(c.severity))),
                    code: Concept::coded(SNOMED, c.code, Some(c.name)).with_text(c.name),
                    body_site,
                    subject: subject(),
                    encounter: first_encounter.map(|e| Reference { reference: Urn(e) }),
                    onset_date_time: p.injury_time,
                    abatement_date_time: (p.outcome == Outcome::Rtd).then_some(end_time),
                    recorded_date: p.injury_time,
                }),
            });
        }

        // Procedures.
        for t in &p.treatments {
            let id = next_id();
            entry.push(Entry {
                full_url: Urn(id),
                resource: Resource::Procedure(ProcedureResource {
                    resource_type: "Procedure",
                    id: Bare(id),
                    status: "completed",
                    code: Concept::coded(SNOMED, t.code, Some(t.display)).with_text(t.display),
                    subject: subject(),
                    encounter: encounter_at(t.location),
                    performed_date_time: t.timestamp,
                }),
            });
        }

        // Observations at first medical contact.
        let observed = p
            .movement_timeline
            .iter()
            .find(|e| e.event_type == EventType::Arrival && e.facility != Role::Poi)
            .map_or(p.injury_time, |e| e.timestamp);
        let observed_in = visits.iter().find(|v| v.0 != Role::Poi).map(|v| v.3).or(first_encounter);
        let v = &p.vital_signs;
        let mut observation = |category: &'a str,
                               key: &str,
                               value: Option<ObservationValue<'a>>,
                               component: Vec<Component<'a>>| {
            let Some(coding) = clinical.loinc(key) else { return };
            let id = next_id();
            entry.push(Entry {
                full_url: Urn(id),
                resource: Resource::Observation(ObservationResource {
                    resource_type: "Observation",
                    id: Bare(id),
                    status: "final",
                    category: [Concept::coded(OBS_CATEGORY, category, None)],
                    code: Concept::coded(LOINC, &coding.code, Some(&coding.display))
                        .with_text(&coding.display),
                    subject: subject(),
                    encounter: observed_in.map(|e| Reference { reference: Urn(e) }),
                    effective_date_time: observed,
                    value,
                    component,
                }),
            });
        };
        let quantity =
            |value: f64, unit: &'a str| Some(ObservationValue::Quantity(Quantity::ucum(value, unit)));
        observation("vital-signs", "heart_rate", quantity(f64::from(v.heart_rate), "/min"), Vec::new());
        observation(
            "vital-signs",
            "respiratory_rate",
            quantity(f64::from(v.respiratory_rate), "/min"),
            Vec::new(),
        );
        observation(
            "vital-signs",
            "oxygen_saturation",
            quantity(f64::from(v.oxygen_saturation), "%"),
            Vec::new(),
        );
        observation("vital-signs", "body_temperature", quantity(v.temperature, "Cel"), Vec::new());
        let bp = |key: &str, value: u32| {
            clinical.loinc(key).map(|c| Component {
                code: Concept::coded(LOINC, &c.code, Some(&c.display)),
                value_quantity: Quantity::ucum(f64::from(value), "mm[Hg]"),
            })
        };
        let components = [bp("systolic_bp", v.systolic_bp), bp("diastolic_bp", v.diastolic_bp)]
            .into_iter()
            .flatten()
            .collect();
        observation("vital-signs", "blood_pressure", None, components);
        observation("exam", "gcs_total", Some(ObservationValue::Integer(v.gcs)), Vec::new());
        observation("vital-signs", "body_weight", quantity(d.weight, "kg"), Vec::new());
        observation("vital-signs", "body_height", quantity(f64::from(d.height), "cm"), Vec::new());
        if let Some(abo) = clinical.blood_groups.get(d.blood_type) {
            let value =
                ObservationValue::CodeableConcept(Concept::coded(SNOMED, &abo.code, Some(&abo.display)));
            observation("laboratory", "abo_group", Some(value), Vec::new());
        }
        if let Some(rh) = clinical.rh_factor.get(d.rh_factor) {
            let value =
                ObservationValue::CodeableConcept(Concept::coded(SNOMED, &rh.code, Some(&rh.display)));
            observation("laboratory", "rh_type", Some(value), Vec::new());
        }

        Bundle {
            resource_type: "Bundle",
            id: Bare(bundle_id),
            kind: "collection",
            timestamp: end_time,
            entry,
        }
    }
}

impl Encoder for FhirEncoder {
    fn header(&self, _meta: &Metadata, _out: &mut Vec<u8>) -> Result<(), OutputError> {
        Ok(())
    }

    fn record(&self, patient: &Patient<'_>, _first: bool, out: &mut Vec<u8>) -> Result<(), OutputError> {
        self.write_bundle(patient, out)?;
        out.push(b'\n');
        Ok(())
    }

    fn footer(&self, _meta: &Metadata, _out: &mut Vec<u8>) -> Result<(), OutputError> {
        Ok(())
    }
}
