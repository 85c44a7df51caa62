//! Patients per second for each format, on one thread and on all threads.
//! Run with `cargo bench -p patientgen-output --bench throughput`.

use divan::{Bencher, counter::ItemsCount};
use patientgen_core::data::catalog;
use patientgen_core::scenario::ValidationOptions;
use patientgen_core::time::UtcSeconds;
use patientgen_core::{Generator, Scenario};
use patientgen_output::encode::{EncodeOptions, encoder_for};
use patientgen_output::pipeline::{GenerateOptions, generate};
use patientgen_output::{Format, Metadata};
use std::io::Write;

const PATIENTS: u32 = 20_000;

fn main() {
    divan::main();
}

fn scenario() -> Scenario {
    let cat = catalog();
    let mut config = patientgen_core::ScenarioConfig::from_preset(
        &cat.presets,
        cat.presets.get("default").expect("preset"),
    );
    config.total_patients = Some(PATIENTS.into());
    config.seed = Some(1);
    config.validate(cat, ValidationOptions::default()).expect("valid")
}

fn run(bencher: Bencher, format: Option<Format>, threads: usize) {
    let s = scenario();
    let meta = Metadata::new(&s, UtcSeconds(0));
    bencher.counter(ItemsCount::new(PATIENTS)).bench(|| {
        let g = Generator::new(&s);
        let encoders: Vec<_> = format.iter().map(|f| encoder_for(*f, 1, EncodeOptions::default())).collect();
        let mut sink = std::io::sink();
        let mut sinks: Vec<&mut dyn Write> = if format.is_some() { vec![&mut sink] } else { vec![] };
        generate(&g, &meta, &encoders, &mut sinks, &GenerateOptions { threads, ..Default::default() })
            .expect("generates")
    });
}

fn all_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Generation alone (no encoding): the ceiling for every format.
#[divan::bench(sample_count = 10)]
fn generate_only_1_thread(b: Bencher) {
    run(b, None, 1);
}

#[divan::bench(sample_count = 10, args = [Format::Ndjson, Format::Json, Format::Csv, Format::Xml, Format::Fhir])]
fn one_thread(b: Bencher, format: Format) {
    run(b, Some(format), 1);
}

#[divan::bench(sample_count = 10, args = [Format::Ndjson, Format::Json, Format::Csv, Format::Xml, Format::Fhir])]
fn all_threads_(b: Bencher, format: Format) {
    run(b, Some(format), all_threads());
}
