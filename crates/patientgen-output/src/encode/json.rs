//! JSON (`{metadata, patients}` or a bare array) and NDJSON.

use super::Encoder;
use crate::{JsonEnvelope, Metadata, OutputError};
use patientgen_core::Patient;

/// `patients.json`.
#[derive(Debug, Clone, Copy)]
pub struct JsonEncoder {
    /// Object or bare array.
    pub envelope: JsonEnvelope,
}

impl Encoder for JsonEncoder {
    fn header(&self, meta: &Metadata, out: &mut Vec<u8>) -> Result<(), OutputError> {
        match self.envelope {
            JsonEnvelope::Object => {
                out.extend_from_slice(b"{\"metadata\":");
                serde_json::to_writer(&mut *out, meta)?;
                out.extend_from_slice(b",\"patients\":[");
            }
            JsonEnvelope::Array => out.push(b'['),
        }
        Ok(())
    }

    fn record(&self, patient: &Patient<'_>, first: bool, out: &mut Vec<u8>) -> Result<(), OutputError> {
        if !first {
            out.push(b',');
        }
        super::write_patient(patient, out);
        Ok(())
    }

    fn footer(&self, _meta: &Metadata, out: &mut Vec<u8>) -> Result<(), OutputError> {
        match self.envelope {
            JsonEnvelope::Object => out.extend_from_slice(b"]}\n"),
            JsonEnvelope::Array => out.extend_from_slice(b"]\n"),
        }
        Ok(())
    }
}

/// `patients.ndjson`: one patient per line.
#[derive(Debug, Clone, Copy)]
pub struct NdjsonEncoder;

impl Encoder for NdjsonEncoder {
    fn header(&self, _meta: &Metadata, _out: &mut Vec<u8>) -> Result<(), OutputError> {
        Ok(())
    }

    fn record(&self, patient: &Patient<'_>, _first: bool, out: &mut Vec<u8>) -> Result<(), OutputError> {
        super::write_patient(patient, out);
        out.push(b'\n');
        Ok(())
    }

    fn footer(&self, _meta: &Metadata, _out: &mut Vec<u8>) -> Result<(), OutputError> {
        Ok(())
    }
}
