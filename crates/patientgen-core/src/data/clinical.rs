//! Conditions, procedures, treatment protocols and code tables (`data/clinical.json`).
//!
//! There is one code table for the whole program: every SNOMED CT and LOINC
//! code that appears in any output comes from this file.

use super::{DataError, parse};
use crate::model::{BodyPart, Environment, Role, Triage};
use crate::rng::WeightedTable;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

const FILE: &str = "data/clinical.json";

/// Index of a condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConditionId(pub u16);

/// Index of a procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProcedureId(pub u16);

/// How vital signs look for a condition (a row of `vitals_profiles` in the data file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VitalsProfile {
    /// Bleeding / shock physiology scaled by triage.
    Trauma,
    /// Traumatic brain injury: a depressed level of consciousness by severity.
    HeadInjury,
    /// Concussion (mild TBI): GCS 13–15.
    Concussion,
    /// Infection with fever (sepsis when severe).
    Fever,
    /// Vomiting and diarrhoea: fluid loss, consciousness preserved.
    Gastrointestinal,
    /// Low core temperature (Swiss staging by severity).
    Hypothermia,
    /// High core temperature (heat exhaustion; heat stroke when severe).
    Hyperthermia,
    /// Breathing difficulty and low saturation.
    Respiratory,
    /// Breathing difficulty with fever (pneumonia).
    RespiratoryInfection,
    /// Cholinergic poisoning (slow pulse, wet lungs).
    Cholinergic,
    /// Mental health: arousal, normal consciousness.
    Psychiatric,
    /// Burns: tachycardia, burn shock develops later.
    Burn,
    /// Spinal cord injury: hypotension with a slow pulse.
    Neurogenic,
    /// Essentially normal (pain at most).
    Minor,
}

impl VitalsProfile {
    /// Every profile, in declaration order.
    pub const ALL: [VitalsProfile; 14] = [
        VitalsProfile::Trauma,
        VitalsProfile::HeadInjury,
        VitalsProfile::Concussion,
        VitalsProfile::Fever,
        VitalsProfile::Gastrointestinal,
        VitalsProfile::Hypothermia,
        VitalsProfile::Hyperthermia,
        VitalsProfile::Respiratory,
        VitalsProfile::RespiratoryInfection,
        VitalsProfile::Cholinergic,
        VitalsProfile::Psychiatric,
        VitalsProfile::Burn,
        VitalsProfile::Neurogenic,
        VitalsProfile::Minor,
    ];

    /// The key in `vitals_profiles`.
    pub fn key(self) -> &'static str {
        match self {
            VitalsProfile::Trauma => "trauma",
            VitalsProfile::HeadInjury => "head_injury",
            VitalsProfile::Concussion => "concussion",
            VitalsProfile::Fever => "fever",
            VitalsProfile::Gastrointestinal => "gastrointestinal",
            VitalsProfile::Hypothermia => "hypothermia",
            VitalsProfile::Hyperthermia => "hyperthermia",
            VitalsProfile::Respiratory => "respiratory",
            VitalsProfile::RespiratoryInfection => "respiratory_infection",
            VitalsProfile::Cholinergic => "cholinergic",
            VitalsProfile::Psychiatric => "psychiatric",
            VitalsProfile::Burn => "burn",
            VitalsProfile::Neurogenic => "neurogenic",
            VitalsProfile::Minor => "minor",
        }
    }
}

/// Vital-sign ranges of one profile at one triage category: each runs from the
/// least to the most deranged value.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VitalRanges {
    /// Beats per minute.
    pub heart_rate: [f64; 2],
    /// mmHg.
    pub systolic_bp: [f64; 2],
    /// Breaths per minute.
    pub respiratory_rate: [f64; 2],
    /// Percent.
    pub oxygen_saturation: [f64; 2],
    /// Glasgow coma scale.
    pub gcs: [f64; 2],
    /// Degrees Celsius.
    pub temperature: [f64; 2],
}

/// A coded concept.
#[derive(Debug, Clone, Deserialize)]
pub struct Coding {
    /// Code.
    pub code: String,
    /// Display.
    pub display: String,
    /// Unit (observations).
    #[serde(default)]
    pub unit: Option<String>,
}

/// A condition the generator can assign.
#[derive(Debug, Clone)]
pub struct Condition {
    /// Key in the data file.
    pub key: String,
    /// SNOMED CT concept id.
    pub code: String,
    /// SNOMED CT preferred term.
    pub display: String,
    /// Body parts it affects; empty for systemic conditions.
    pub body_parts: Vec<BodyPart>,
    /// Draw table over `body_parts`.
    pub body_part_table: WeightedTable,
    /// Affinity to each triage category (T1..T4).
    pub triage_affinity: [f64; 4],
    /// Treatment protocol when no region-specific one applies.
    pub protocol: usize,
    /// Region-specific protocols: head, torso, limb.
    pub protocol_by_region: [Option<usize>; 3],
    /// Vital-sign profile.
    pub vitals: VitalsProfile,
    /// Whether it can kill: a patient none of whose conditions can is never KIA or DOW.
    pub lethal: bool,
    /// Highest role of care it needs; a patient is not evacuated beyond it.
    pub max_role: Role,
    /// For self-limiting conditions: the longest stay before return to duty
    /// (a range drawn per patient), whatever the facility's usual stay.
    pub max_stay_hours: Option<[f64; 2]>,
    /// Factor per environmental condition (by [`Environment::index`]).
    pub environment: [f64; 9],
    /// Conditions that often accompany this one (polytrauma).
    pub related: Vec<ConditionId>,
    /// Whether it is an infection (sensitive to the environment's disease factor).
    pub infectious: bool,
}

/// A procedure.
#[derive(Debug, Clone)]
pub struct Procedure {
    /// Key in the data file (also upstream's `treatment` name).
    pub key: String,
    /// SNOMED CT concept id.
    pub code: String,
    /// SNOMED CT preferred term.
    pub display: String,
}

/// Anatomical requirement of a protocol step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Region {
    /// Head or neck.
    Head,
    /// Chest or abdomen.
    Torso,
    /// Arm or leg.
    Limb,
}

impl Region {
    /// Whether a body part lies in this region.
    pub fn contains(self, part: BodyPart) -> bool {
        match self {
            Region::Head => part == BodyPart::Head,
            Region::Torso => part == BodyPart::Torso,
            Region::Limb => part.is_limb(),
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    /// The region of a body part.
    pub fn of(part: BodyPart) -> Region {
        match part {
            BodyPart::Head => Region::Head,
            BodyPart::Torso => Region::Torso,
            _ => Region::Limb,
        }
    }
}

/// One possible step of a protocol at one role.
#[derive(Debug, Clone)]
pub struct ProtocolStep {
    /// Procedure.
    pub procedure: ProcedureId,
    /// Probability by triage (T1..T4).
    pub probability: [f64; 4],
    /// Body region the procedure needs, if any.
    pub requires: Option<Region>,
    /// Only on the patient's first visit at this role type (e.g. surgery).
    pub minutes_after_arrival: [f64; 2],
}

/// A treatment protocol: steps per role.
#[derive(Debug, Clone)]
pub struct Protocol {
    /// Key.
    pub key: String,
    /// Steps by [`Role::index`].
    pub steps: [Vec<ProtocolStep>; 5],
}

/// A weighted set of conditions.
#[derive(Debug, Clone)]
pub struct Pool {
    /// Conditions and base weights.
    pub entries: Vec<(ConditionId, f64)>,
}

#[derive(Debug, Deserialize)]
struct ConditionFile {
    code: String,
    display: String,
    #[serde(default)]
    body_parts: BTreeMap<String, f64>,
    triage: [f64; 3],
    protocol: String,
    #[serde(default)]
    protocol_by_region: BTreeMap<String, String>,
    vitals: VitalsProfile,
    #[serde(default = "yes")]
    lethal: bool,
    #[serde(default)]
    max_role: Option<String>,
    #[serde(default)]
    max_stay_hours: Option<[f64; 2]>,
    #[serde(default)]
    environment: BTreeMap<String, f64>,
    #[serde(default)]
    related: Vec<String>,
    #[serde(default)]
    infectious: bool,
}

#[derive(Debug, Deserialize)]
struct StepFile {
    procedure: String,
    p: [f64; 4],
    #[serde(default)]
    requires: Option<Region>,
    #[serde(default = "default_minutes")]
    minutes: [f64; 2],
}

fn yes() -> bool {
    true
}

fn default_minutes() -> [f64; 2] {
    [5.0, 30.0]
}

#[derive(Debug, Deserialize)]
struct ClinicalFile {
    conditions: BTreeMap<String, ConditionFile>,
    vitals_profiles: BTreeMap<String, serde_json::Value>,
    pools: BTreeMap<String, BTreeMap<String, f64>>,
    procedures: BTreeMap<String, Coding>,
    protocols: BTreeMap<String, BTreeMap<String, Vec<StepFile>>>,
    severity: BTreeMap<String, Coding>,
    blood_groups: BTreeMap<String, Coding>,
    rh_factor: BTreeMap<String, Coding>,
    body_sites: BTreeMap<String, Coding>,
    loinc: BTreeMap<String, Coding>,
}

/// Every clinical table.
#[derive(Debug)]
pub struct ClinicalData {
    /// Conditions.
    pub conditions: Vec<Condition>,
    /// Vital-sign ranges by [`VitalsProfile`] (declaration order) and triage.
    pub vitals: Vec<[VitalRanges; 4]>,
    by_key: HashMap<String, ConditionId>,
    /// Condition pools by name (`Non-Battle Injury`, `Disease`, `cbrn_exposure`…).
    pub pools: BTreeMap<String, Pool>,
    /// Procedures.
    pub procedures: Vec<Procedure>,
    /// Protocols.
    pub protocols: Vec<Protocol>,
    /// Severity qualifiers (`mild`, `mild_to_moderate`, `moderate`, `moderate_to_severe`, `severe`).
    pub severity: BTreeMap<String, Coding>,
    /// ABO groups (`A`, `B`, `AB`, `O`).
    pub blood_groups: BTreeMap<String, Coding>,
    /// Rh (`positive`, `negative`).
    pub rh_factor: BTreeMap<String, Coding>,
    /// Body structures by [`BodyPart`] wire name.
    pub body_sites: BTreeMap<String, Coding>,
    /// LOINC codes by observation key.
    pub loinc: BTreeMap<String, Coding>,
}

impl ClinicalData {
    pub(crate) fn load() -> Result<Self, DataError> {
        let raw: ClinicalFile = parse(FILE, include_str!("../../data/clinical.json"))?;
        let err = |m: String| DataError::new(FILE, m);

        let procedures: Vec<Procedure> = raw
            .procedures
            .iter()
            .map(|(k, c)| Procedure { key: k.clone(), code: c.code.clone(), display: c.display.clone() })
            .collect();
        let procedure_id = |k: &str| {
            procedures
                .iter()
                .position(|p| p.key == k)
                .map(|i| ProcedureId(i as u16))
                .ok_or_else(|| err(format!("unknown procedure {k}")))
        };

        let mut protocols = Vec::new();
        for (key, by_role) in &raw.protocols {
            let mut steps: [Vec<ProtocolStep>; 5] = Default::default();
            for (role, list) in by_role {
                let role = Role::parse(role).ok_or_else(|| err(format!("{key}: bad role {role}")))?;
                for s in list {
                    steps[role.index()].push(ProtocolStep {
                        procedure: procedure_id(&s.procedure)?,
                        probability: s.p,
                        requires: s.requires,
                        minutes_after_arrival: s.minutes,
                    });
                }
            }
            protocols.push(Protocol { key: key.clone(), steps });
        }
        let protocol_id = |k: &str| {
            protocols.iter().position(|p| p.key == k).ok_or_else(|| err(format!("unknown protocol {k}")))
        };

        let keys: Vec<&String> = raw.conditions.keys().collect();
        let by_key: HashMap<String, ConditionId> =
            keys.iter().enumerate().map(|(i, k)| ((*k).clone(), ConditionId(i as u16))).collect();
        let mut conditions = Vec::new();
        for (key, c) in &raw.conditions {
            let mut parts = Vec::new();
            let mut weights = Vec::new();
            for (name, w) in &c.body_parts {
                parts.push(BodyPart::parse(name).ok_or_else(|| err(format!("{key}: body part {name}")))?);
                weights.push(*w);
            }
            let mut by_region = [None; 3];
            for (region, p) in &c.protocol_by_region {
                let r = match region.as_str() {
                    "head" => Region::Head,
                    "torso" => Region::Torso,
                    "limb" => Region::Limb,
                    other => return Err(err(format!("{key}: region {other}"))),
                };
                by_region[r.index()] = Some(protocol_id(p)?);
            }
            let mut environment = [1.0; 9];
            for (name, f) in &c.environment {
                let e = Environment::parse(name).ok_or_else(|| err(format!("{key}: env {name}")))?;
                environment[e.index()] = *f;
            }
            let related = c
                .related
                .iter()
                .map(|r| by_key.get(r).copied().ok_or_else(|| err(format!("{key}: related {r}"))))
                .collect::<Result<_, _>>()?;
            let max_role = match &c.max_role {
                None => Role::Role4,
                Some(r) => Role::parse(r)
                    .filter(|r| *r != Role::Poi)
                    .ok_or_else(|| err(format!("{key}: max_role {r}")))?,
            };
            if let Some([lo, hi]) = c.max_stay_hours
                && !(lo > 0.0 && hi >= lo)
            {
                return Err(err(format!("{key}: bad max_stay_hours")));
            }
            conditions.push(Condition {
                key: key.clone(),
                code: c.code.clone(),
                display: c.display.clone(),
                body_parts: parts,
                body_part_table: WeightedTable::new(weights),
                // Expectant (T4) patients are dying: only of conditions that can kill.
                triage_affinity: [
                    c.triage[0],
                    c.triage[1],
                    c.triage[2],
                    if c.lethal { c.triage[0] } else { 0.0 },
                ],
                protocol: protocol_id(&c.protocol)?,
                protocol_by_region: by_region,
                vitals: c.vitals,
                lethal: c.lethal,
                max_role,
                max_stay_hours: c.max_stay_hours,
                environment,
                related,
                infectious: c.infectious,
            });
        }
        let mut vitals = Vec::new();
        for profile in VitalsProfile::ALL {
            let table = raw
                .vitals_profiles
                .get(profile.key())
                .ok_or_else(|| err(format!("vitals_profiles.{} missing", profile.key())))?;
            let row = |t: Triage| -> Result<VitalRanges, DataError> {
                let v = table
                    .get(t.as_str())
                    .ok_or_else(|| err(format!("vitals_profiles.{}.{t} missing", profile.key())))?;
                let r: VitalRanges = serde_json::from_value(v.clone())
                    .map_err(|e| err(format!("vitals_profiles.{}.{t}: {e}", profile.key())))?;
                let within = |x: [f64; 2], lo: f64, hi: f64| x.iter().all(|v| (lo..=hi).contains(v));
                if !(within(r.gcs, 3.0, 15.0)
                    && within(r.oxygen_saturation, 50.0, 100.0)
                    && within(r.heart_rate, 20.0, 220.0)
                    && within(r.systolic_bp, 30.0, 250.0)
                    && within(r.respiratory_rate, 2.0, 60.0)
                    && within(r.temperature, 20.0, 44.0))
                {
                    return Err(err(format!("vitals_profiles.{}.{t}: value out of range", profile.key())));
                }
                Ok(r)
            };
            vitals.push([row(Triage::T1)?, row(Triage::T2)?, row(Triage::T3)?, row(Triage::T4)?]);
        }
        let mut pools = BTreeMap::new();
        for (name, entries) in &raw.pools {
            let entries = entries
                .iter()
                .map(|(k, w)| {
                    by_key.get(k).map(|id| (*id, *w)).ok_or_else(|| err(format!("pool {name}: {k}")))
                })
                .collect::<Result<_, _>>()?;
            pools.insert(name.clone(), Pool { entries });
        }
        for required in ["Non-Battle Injury", "Disease"] {
            if !pools.contains_key(required) {
                return Err(err(format!("pool {required} missing")));
            }
        }
        for level in ["mild", "mild_to_moderate", "moderate", "moderate_to_severe", "severe"] {
            if !raw.severity.contains_key(level) {
                return Err(err(format!("severity {level} missing")));
            }
        }
        // A code that fails its check digit is not a code: refuse to load.
        let snomed = conditions
            .iter()
            .map(|c| (c.key.as_str(), c.code.as_str()))
            .chain(procedures.iter().map(|p| (p.key.as_str(), p.code.as_str())))
            .chain(
                [&raw.severity, &raw.blood_groups, &raw.rh_factor, &raw.body_sites]
                    .into_iter()
                    .flat_map(|t| t.iter().map(|(k, c)| (k.as_str(), c.code.as_str()))),
            );
        for (key, code) in snomed {
            if !sctid_is_concept(code) {
                return Err(err(format!("{key}: {code} is not a valid SNOMED CT concept id")));
            }
        }
        for (key, c) in &raw.loinc {
            if !loinc_is_valid(&c.code) {
                return Err(err(format!("{key}: {} fails the LOINC check digit", c.code)));
            }
        }
        Ok(Self {
            conditions,
            vitals,
            by_key,
            pools,
            procedures,
            protocols,
            severity: raw.severity,
            blood_groups: raw.blood_groups,
            rh_factor: raw.rh_factor,
            body_sites: raw.body_sites,
            loinc: raw.loinc,
        })
    }

    /// A condition by key.
    pub fn find(&self, key: &str) -> Option<ConditionId> {
        self.by_key.get(key).copied()
    }

    /// A condition by id.
    pub fn condition(&self, id: ConditionId) -> &Condition {
        &self.conditions[usize::from(id.0)]
    }

    /// The vital-sign ranges of a profile at a triage category.
    pub fn vital_ranges(&self, profile: VitalsProfile, triage: Triage) -> &VitalRanges {
        &self.vitals[profile as usize][triage.index()]
    }

    /// A procedure by id.
    pub fn procedure(&self, id: ProcedureId) -> &Procedure {
        &self.procedures[usize::from(id.0)]
    }

    /// A pool by name.
    pub fn pool(&self, name: &str) -> Option<&Pool> {
        self.pools.get(name)
    }

    /// The protocol that treats a condition on a body part.
    pub fn protocol_for(&self, condition: &Condition, part: Option<BodyPart>) -> &Protocol {
        let idx = part
            .and_then(|p| condition.protocol_by_region[Region::of(p).index()])
            .unwrap_or(condition.protocol);
        &self.protocols[idx]
    }

    /// The LOINC coding of an observation key (e.g. `heart_rate`).
    pub fn loinc(&self, key: &str) -> Option<&Coding> {
        self.loinc.get(key)
    }
}

/// Triage shares used when drawing a condition for a triage category.
pub fn affinity(condition: &Condition, triage: Triage) -> f64 {
    condition.triage_affinity[triage.index()]
}

/// Whether `id` is a well-formed SNOMED CT concept identifier: 6 to 18 digits
/// without a leading zero, a concept partition identifier (`00` short format,
/// `10` long format with a namespace) in the second and third digits from the
/// right, and a valid Verhoeff check digit in the last.
pub fn sctid_is_concept(id: &str) -> bool {
    let b = id.as_bytes();
    if !(6..=18).contains(&b.len()) || b[0] == b'0' || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let partition = &id[id.len() - 3..id.len() - 1];
    (partition == "00" || partition == "10") && verhoeff_valid(id)
}

/// Verhoeff check over a string of decimal digits whose last digit is the check digit.
pub fn verhoeff_valid(digits: &str) -> bool {
    const D: [[u8; 10]; 10] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
        [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
        [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
        [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
        [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
        [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
        [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
        [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
        [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    ];
    const P: [[u8; 10]; 8] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
        [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
        [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
        [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
        [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
        [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
        [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
    ];
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return false;
    }
    let check = digits
        .bytes()
        .rev()
        .enumerate()
        .fold(0u8, |c, (i, ch)| D[usize::from(c)][usize::from(P[i % 8][usize::from(ch - b'0')])]);
    check == 0
}

/// Whether `code` is a well-formed LOINC code: 1 to 7 digits, a hyphen, and the
/// mod-10 check digit of the LOINC Users' Guide (the Luhn algorithm).
pub fn loinc_is_valid(code: &str) -> bool {
    let Some((body, check)) = code.split_once('-') else {
        return false;
    };
    if body.is_empty() || body.len() > 7 || check.len() != 1 || !body.bytes().all(|c| c.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let d = u32::from(c - b'0');
            if i % 2 == 0 {
                let x = d * 2;
                x / 10 + x % 10
            } else {
                d
            }
        })
        .sum();
    check.bytes().next().is_some_and(|c| u32::from(c) == u32::from(b'0') + (10 - sum % 10) % 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digit_algorithms_match_known_values() {
        // SNOMED CT: 22298006 |Myocardial infarction|, 71388002 |Procedure|;
        // a long-format id with a namespace (partition 10).
        assert!(sctid_is_concept("22298006"));
        assert!(sctid_is_concept("71388002"));
        assert!(sctid_is_concept("999000011000000103"));
        // One digit changed, transposed digits, a description partition (01), a leading zero.
        assert!(!sctid_is_concept("22298007"));
        assert!(!sctid_is_concept("22928006"));
        assert!(!sctid_is_concept("89658006"));
        assert!(verhoeff_valid("2154018") && !sctid_is_concept("2154018"));
        assert!(!sctid_is_concept("022298006"));
        // Verhoeff's own example: 236 has check digit 3.
        assert!(verhoeff_valid("2363"));
        assert!(!verhoeff_valid("2364"));
        // LOINC: 8867-4 heart rate, 2160-0 creatinine; wrong check digits fail.
        assert!(loinc_is_valid("8867-4"));
        assert!(loinc_is_valid("2160-0"));
        assert!(!loinc_is_valid("8867-5"));
        assert!(!loinc_is_valid("88674"));
        assert!(!loinc_is_valid("-4"));
    }

    #[test]
    fn vitals_profiles_are_listed_in_declaration_order() {
        // `vital_ranges` indexes the table by discriminant.
        for (i, p) in VitalsProfile::ALL.iter().enumerate() {
            assert_eq!(*p as usize, i, "{}", p.key());
        }
    }

    #[test]
    fn every_code_in_clinical_json_is_well_formed() {
        // Read the file itself (not only what the loader keeps), so a code in any
        // table is checked: `code` under a LOINC key is LOINC, any other is SNOMED CT.
        let raw: serde_json::Value =
            serde_json::from_str(include_str!("../../data/clinical.json")).unwrap_or_default();
        let mut checked = 0;
        let mut bad = Vec::new();
        let mut stack = vec![("", &raw)];
        while let Some((table, v)) = stack.pop() {
            match v {
                serde_json::Value::Object(map) => {
                    if let Some(serde_json::Value::String(code)) = map.get("code") {
                        checked += 1;
                        let ok = if table == "loinc" { loinc_is_valid(code) } else { sctid_is_concept(code) };
                        if !ok {
                            bad.push(code.clone());
                        }
                    }
                    for (k, child) in map {
                        let table = if table.is_empty() { k.as_str() } else { table };
                        stack.push((table, child));
                    }
                }
                serde_json::Value::Array(items) => stack.extend(items.iter().map(|i| (table, i))),
                _ => {}
            }
        }
        assert!(checked > 100, "only {checked} codes found");
        assert!(bad.is_empty(), "invalid codes: {bad:?}");
    }
}
