//! Test databases (see `patientgen_storage::testing`).
#![allow(dead_code)]

pub use patientgen_storage::testing::{postgres, sqlite};
