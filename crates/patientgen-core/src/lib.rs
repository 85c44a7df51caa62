//! patientgen-core: the generation model with no I/O.
//!
//! A validated [`scenario::Scenario`] yields a [`timeline::Plan`] (who is
//! injured when, where, in which event) and, per plan slot, a
//! [`patient::Patient`] built from its own random stream, so patients can be
//! generated in parallel and still come out byte-identical.

pub mod apportion;
pub mod data;
pub mod flow;
pub mod generator;
pub mod model;
pub mod patient;
pub mod rng;
pub mod scenario;
pub mod summary;
pub mod time;
pub mod timeline;

pub use generator::Generator;
pub use patient::Patient;
pub use scenario::{Scenario, ScenarioConfig};
pub use summary::{Summary, SummaryBuilder};

/// Version of the generator, recorded in output metadata.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
