//! Building one patient: demographics, injury, journey, record.

pub mod demographics;
pub mod medical;
pub mod record;
pub mod service_number;

pub use record::{
    ConditionEntry, DayLabel, Demographics, EventType, Hours, Patient, TimelineEvent, Treatment, VitalSigns,
};
