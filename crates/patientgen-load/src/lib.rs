//! Load tests for the patientgen service, on [goose](https://book.goose.rs)
//! (Locust-style users running weighted scenarios).
//!
//! A run drives one service (one instance, or a load balancer in front of
//! several) on a loopback address with scenarios modelled on how the product is
//! used, checks every answer (a job's download holds exactly the patients and
//! formats it asked for, a stream has as many lines as patients, 429s only for
//! the key meant to get them), samples the servers' RSS and CPU, scrapes their
//! `/metrics` before and after, and decides: no 5xx, no transport error, every
//! check passed, the servers' `api_requests_total` deltas equal the tool's own
//! counts, and the limited key never got more than its limit.
//!
//! The binary is `patientgen-load`; the integration test `tests/smoke.rs` runs
//! the same [`run`] against an in-process server.

pub mod check;
pub mod keys;
pub mod loopback;
pub mod plan;
pub mod probe;
pub mod procstat;
pub mod promtext;
pub mod record;
pub mod report;
pub mod run;
pub mod scenarios;

pub use keys::{KeyRole, Keys};
pub use plan::{Plan, Weights};
pub use report::Summary;
pub use run::run;
