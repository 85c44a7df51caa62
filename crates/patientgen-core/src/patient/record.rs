//! The patient record: upstream's field names and key order (so that upstream's
//! timeline viewer reads it), plus the fields patientgen adds (outcome, rank,
//! unit, service number, Rh factor, height, vital signs, coded treatments).

use crate::model::{
    BodyPart, Environment, Gender, InjuryType, Outcome, Role, SpecialEvent, Triage, WarfareType,
};
use crate::time::{CivilDate, UtcSeconds};
use serde::{Serialize, Serializer};

/// A duration in whole seconds, written as hours with two decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Hours(pub u32);

impl Hours {
    /// The value written to files.
    pub fn as_f64(self) -> f64 {
        (f64::from(self.0) / 36.0).round() / 100.0
    }
}

impl Serialize for Hours {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.as_f64())
    }
}

/// `Day N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DayLabel(pub u32);

impl Serialize for DayLabel {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = itoa::Buffer::new();
        let mut text = String::with_capacity(8);
        text.push_str("Day ");
        text.push_str(buf.format(self.0));
        s.serialize_str(&text)
    }
}

/// Demographic data.
#[derive(Debug, Clone, Serialize)]
pub struct Demographics<'a> {
    /// Family name.
    pub family_name: &'a str,
    /// Given name.
    pub given_name: &'a str,
    /// Gender.
    pub gender: Gender,
    /// Date of birth.
    pub birthdate: CivilDate,
    /// Age in whole years on the day of injury.
    pub age: u32,
    /// ISO alpha-3.
    pub nationality: &'a str,
    /// HL7 v3 ReligiousAffiliation code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub religion: Option<&'a str>,
    /// Kilograms, one decimal.
    pub weight: f64,
    /// Centimetres.
    pub height: u32,
    /// ABO group (`A`, `B`, `AB`, `O`).
    pub blood_type: &'a str,
    /// `positive` or `negative`.
    pub rh_factor: &'a str,
    /// National rank title.
    pub rank: &'a str,
    /// NATO rank code (STANAG 2116).
    pub rank_code: &'a str,
    /// Service number in the nation's format.
    pub service_number: String,
    /// Unit.
    pub unit: &'a str,
}

/// A coded condition.
#[derive(Debug, Clone, Serialize)]
pub struct ConditionEntry<'a> {
    /// SNOMED CT code.
    pub code: &'a str,
    /// SNOMED CT preferred term (upstream's field name).
    pub name: &'a str,
    /// Severity (SNOMED CT qualifier term).
    pub severity: &'a str,
    /// Severity qualifier code.
    pub severity_code: &'a str,
}

/// A treatment given at a facility.
#[derive(Debug, Clone, Serialize)]
pub struct Treatment<'a> {
    /// Short name (upstream's field).
    pub treatment: &'a str,
    /// SNOMED CT procedure code.
    pub code: &'a str,
    /// SNOMED CT preferred term.
    pub display: &'a str,
    /// When.
    pub timestamp: UtcSeconds,
    /// Where.
    pub location: Role,
    /// Hours since injury.
    pub hours_since_injury: Hours,
}

/// Vital signs at first medical contact.
#[derive(Debug, Clone, Copy, Serialize, Default)]
pub struct VitalSigns {
    /// Beats per minute.
    pub heart_rate: u32,
    /// mmHg.
    pub systolic_bp: u32,
    /// mmHg.
    pub diastolic_bp: u32,
    /// Breaths per minute.
    pub respiratory_rate: u32,
    /// Percent.
    pub oxygen_saturation: u32,
    /// Degrees Celsius, one decimal.
    pub temperature: f64,
    /// Glasgow coma scale, 3–15.
    pub gcs: u32,
}

/// Kinds of timeline events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    /// Arrival at a facility (or injury at POI).
    Arrival,
    /// Evacuation requested; waiting for transport.
    EvacuationStart,
    /// Transport departs.
    TransitStart,
    /// Death (KIA or DOW).
    Kia,
    /// Return to duty.
    Rtd,
    /// Still under care when tracking ends.
    RemainsRole4,
}

impl EventType {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventType::Arrival => "arrival",
            EventType::EvacuationStart => "evacuation_start",
            EventType::TransitStart => "transit_start",
            EventType::Kia => "kia",
            EventType::Rtd => "rtd",
            EventType::RemainsRole4 => "remains_role4",
        }
    }
}

/// One event of the movement timeline.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineEvent {
    /// Event type.
    pub event_type: EventType,
    /// Where.
    pub facility: Role,
    /// When.
    pub timestamp: UtcSeconds,
    /// Hours since injury.
    pub hours_since_injury: Hours,
    /// Transit origin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_facility: Option<Role>,
    /// Transit destination.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_facility: Option<Role>,
    /// Transit duration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transit_duration_hours: Option<Hours>,
    /// Wait before transport.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evacuation_duration_hours: Option<Hours>,
    /// Next facility (evacuation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_facility: Option<Role>,
    /// Triage during evacuation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub triage_category: Option<Triage>,
    /// Outcome of a terminal event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
}

impl TimelineEvent {
    /// An event with only the common fields.
    pub fn new(event_type: EventType, facility: Role, injury: UtcSeconds, at: u32) -> Self {
        Self {
            event_type,
            facility,
            timestamp: injury.plus(i64::from(at)),
            hours_since_injury: Hours(at),
            from_facility: None,
            to_facility: None,
            transit_duration_hours: None,
            evacuation_duration_hours: None,
            next_facility: None,
            triage_category: None,
            outcome: None,
        }
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_empty<T>(v: &[T]) -> bool {
    v.is_empty()
}

/// One generated patient.
#[derive(Debug, Clone, Serialize)]
pub struct Patient<'a> {
    /// 0-based id in injury-time order.
    pub id: u32,
    /// ISO alpha-3.
    pub nationality: &'a str,
    /// Gender.
    pub gender: Gender,
    /// Injury category.
    pub injury_type: InjuryType,
    /// Initial triage.
    pub triage_category: Triage,
    /// Final state (`KIA`, `DOW`, `RTD`, or the facility where the patient remains).
    pub status: &'a str,
    /// Front name.
    pub front: &'a str,
    /// Upstream viewer status: `KIA`, `RTD`, `Remains_Role4`.
    pub final_status: &'a str,
    /// `KIA`, `DOW`, `RTD`, `REMAINS_ROLE4`.
    pub outcome: Outcome,
    /// Last facility reached.
    pub last_facility: Role,
    /// Demographics.
    pub demographics: Demographics<'a>,
    /// Primary conditions.
    pub conditions: Vec<ConditionEntry<'a>>,
    /// Severity 1–9 (upstream scale).
    pub severity: u8,
    /// Further injuries (polytrauma).
    #[serde(skip_serializing_if = "is_empty")]
    pub additional_conditions: Vec<ConditionEntry<'a>>,
    /// Vital signs at first medical contact.
    pub vital_signs: VitalSigns,
    /// Treatments.
    #[serde(skip_serializing_if = "is_empty")]
    pub treatments: Vec<Treatment<'a>>,
    /// Movement through the chain of care.
    pub movement_timeline: Vec<TimelineEvent>,
    /// Injury time (upstream's name).
    pub injury_time: UtcSeconds,
    /// Injury time (the viewer's name).
    pub injury_timestamp: UtcSeconds,
    /// Warfare type of the event.
    pub scenario: WarfareType,
    /// Casualty event id.
    pub event_id: String,
    /// Part of a mass-casualty event.
    #[serde(skip_serializing_if = "is_false")]
    pub mass_casualty: bool,
    /// Special event, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub special_event: Option<SpecialEvent>,
    /// `Day N`.
    pub day: DayLabel,
    /// Body part of the primary injury.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_part: Option<BodyPart>,
    /// Environmental conditions.
    #[serde(skip_serializing_if = "is_empty")]
    pub environmental_conditions: &'a [Environment],
}

impl Patient<'_> {
    /// The terminal event (always the last one).
    pub fn terminal_event(&self) -> Option<&TimelineEvent> {
        self.movement_timeline.last()
    }

    /// Whether the patient was ever at a facility (POI included).
    pub fn location_visited(&self, role: Role) -> bool {
        self.movement_timeline.iter().any(|e| e.facility == role)
    }

    /// Arrival time (hours since injury) at a facility, if reached.
    pub fn arrival_at(&self, role: Role) -> Option<Hours> {
        self.movement_timeline
            .iter()
            .find(|e| e.event_type == EventType::Arrival && e.facility == role)
            .map(|e| e.hours_since_injury)
    }
}
