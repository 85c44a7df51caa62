//! The generation pipeline: the plan is read sequentially, patients are built
//! and encoded in parallel in small batches, and the encoded bytes are written
//! in id order, so output is identical for any number of threads and memory is
//! bounded by one batch.

use crate::encode::Encoder;
use crate::{Metadata, OutputError};
use patientgen_core::Generator;
use patientgen_core::summary::{PatientFacts, SummaryBuilder};
use patientgen_core::timeline::PatientSlot;
use rayon::prelude::*;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// Patients per parallel work item.
const CHUNK: usize = 64;
/// Chunks per thread in one batch.
const CHUNKS_PER_THREAD: usize = 4;

/// Pipeline settings.
#[derive(Default)]
pub struct GenerateOptions<'c> {
    /// Worker threads (0 or 1: the calling thread only).
    pub threads: usize,
    /// Set to stop generation; checked before every batch.
    pub cancel: Option<&'c AtomicBool>,
    /// Called after every batch with the number of patients written so far.
    pub progress: Option<&'c (dyn Fn(u64) + Sync)>,
}

struct Encoded<'a> {
    bytes: Vec<Vec<u8>>,
    facts: Vec<PatientFacts<'a>>,
}

fn encode_chunk<'a>(
    generator: &Generator<'a>,
    targets: &[&dyn Encoder],
    slots: &[PatientSlot],
) -> Result<Encoded<'a>, OutputError> {
    let mut bytes: Vec<Vec<u8>> = targets.iter().map(|_| Vec::with_capacity(slots.len() * 3072)).collect();
    let mut facts = Vec::with_capacity(slots.len());
    for slot in slots {
        let patient = generator.patient(slot);
        for (encoder, out) in targets.iter().zip(bytes.iter_mut()) {
            encoder.record(&patient, slot.index == 0, out)?;
        }
        facts.push(PatientFacts::of(&patient));
    }
    Ok(Encoded { bytes, facts })
}

/// Generates every patient of the scenario, encoding it with `encoders[i]` into
/// `sinks[i]`, and returns the summary. Sinks are flushed but not closed: the
/// caller finishes any layers.
pub fn generate<'a>(
    generator: &Generator<'a>,
    meta: &Metadata,
    encoders: &[Box<dyn Encoder>],
    sinks: &mut [&mut dyn Write],
    options: &GenerateOptions<'_>,
) -> Result<SummaryBuilder, OutputError> {
    assert_eq!(encoders.len(), sinks.len(), "one sink per encoder");
    let mut header = Vec::new();
    for (encoder, sink) in encoders.iter().zip(sinks.iter_mut()) {
        header.clear();
        encoder.header(meta, &mut header)?;
        sink.write_all(&header)?;
    }
    let threads = options.threads.max(1);
    let pool = if threads > 1 {
        Some(
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .thread_name(|i| format!("patientgen-worker-{i}"))
                .build()
                .map_err(|e| OutputError::Threads(e.to_string()))?,
        )
    } else {
        None
    };
    let batch = threads * CHUNK * CHUNKS_PER_THREAD;
    let encoders: Vec<&dyn Encoder> = encoders.iter().map(|e| e.as_ref()).collect();
    let mut summary = SummaryBuilder::default();
    let mut plan = generator.plan();
    let mut slots: Vec<PatientSlot> = Vec::with_capacity(batch);
    let mut done = 0u64;
    loop {
        if options.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Err(OutputError::Cancelled);
        }
        slots.clear();
        slots.extend(plan.by_ref().take(batch));
        if slots.is_empty() {
            break;
        }
        let encoded: Vec<Encoded<'a>> = match &pool {
            Some(pool) => pool.install(|| {
                slots
                    .par_chunks(CHUNK)
                    .map(|c| encode_chunk(generator, &encoders, c))
                    .collect::<Result<_, _>>()
            })?,
            None => vec![encode_chunk(generator, &encoders, &slots)?],
        };
        for chunk in encoded {
            for (sink, bytes) in sinks.iter_mut().zip(&chunk.bytes) {
                sink.write_all(bytes)?;
            }
            for f in &chunk.facts {
                summary.add(f);
            }
        }
        done += slots.len() as u64;
        if let Some(progress) = options.progress {
            progress(done);
        }
    }
    let mut footer = Vec::new();
    for (encoder, sink) in encoders.iter().zip(sinks.iter_mut()) {
        footer.clear();
        encoder.footer(meta, &mut footer)?;
        sink.write_all(&footer)?;
        sink.flush()?;
    }
    Ok(summary)
}
