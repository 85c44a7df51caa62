//! Per-format encoders. An encoder writes a header once, one record per
//! patient (in id order) and a footer; it keeps no state between records, so
//! records can be encoded on any thread.

mod csv;
mod fastjson;
mod fhir;
mod json;
mod xml;

pub use self::csv::CsvEncoder;
pub use fastjson::write_patient;
pub use fhir::FhirEncoder;
pub use json::{JsonEncoder, NdjsonEncoder};
pub use xml::XmlEncoder;

use crate::{Format, JsonEnvelope, Metadata, OutputError};
use patientgen_core::Patient;

/// Turns patients into the bytes of one format.
pub trait Encoder: Send + Sync {
    /// Bytes before the first record.
    fn header(&self, meta: &Metadata, out: &mut Vec<u8>) -> Result<(), OutputError>;
    /// One record; `first` is true for the first patient of the file.
    fn record(&self, patient: &Patient<'_>, first: bool, out: &mut Vec<u8>) -> Result<(), OutputError>;
    /// Bytes after the last record.
    fn footer(&self, meta: &Metadata, out: &mut Vec<u8>) -> Result<(), OutputError>;
}

/// Options that change how formats are written.
#[derive(Debug, Clone, Copy, Default)]
pub struct EncodeOptions {
    /// JSON shape.
    pub json_envelope: JsonEnvelope,
}

/// The encoder that writes `format`; `seed` goes into FHIR ids, `options` shape JSON.
pub fn encoder_for(format: Format, seed: u64, options: EncodeOptions) -> Box<dyn Encoder> {
    match format {
        Format::Json => Box::new(JsonEncoder { envelope: options.json_envelope }),
        Format::Ndjson => Box::new(NdjsonEncoder),
        Format::Csv => Box::new(CsvEncoder),
        Format::Fhir => Box::new(FhirEncoder::new(seed)),
        Format::Xml => Box::new(XmlEncoder),
    }
}
