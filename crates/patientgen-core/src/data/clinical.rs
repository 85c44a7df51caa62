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

/// How vital signs look for a condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VitalsProfile {
    /// Bleeding / shock physiology scaled by triage.
    Trauma,
    /// Trauma with a depressed level of consciousness.
    HeadInjury,
    /// Infection with fever.
    Fever,
    /// Low core temperature.
    Hypothermia,
    /// High core temperature.
    Hyperthermia,
    /// Breathing difficulty and low saturation.
    Respiratory,
    /// Cholinergic poisoning (slow pulse, wet lungs).
    Cholinergic,
    /// Essentially normal.
    Minor,
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

fn default_minutes() -> [f64; 2] {
    [5.0, 30.0]
}

#[derive(Debug, Deserialize)]
struct ClinicalFile {
    conditions: BTreeMap<String, ConditionFile>,
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
            conditions.push(Condition {
                key: key.clone(),
                code: c.code.clone(),
                display: c.display.clone(),
                body_parts: parts,
                body_part_table: WeightedTable::new(weights),
                triage_affinity: [c.triage[0], c.triage[1], c.triage[2], c.triage[0]],
                protocol: protocol_id(&c.protocol)?,
                protocol_by_region: by_region,
                vitals: c.vitals,
                environment,
                related,
                infectious: c.infectious,
            });
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
        Ok(Self {
            conditions,
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
