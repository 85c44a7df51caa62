//! CSV: one row per patient, RFC 4180 quoting (via `csv-core`). The first
//! twelve columns are upstream's, with real names and statuses.

use super::Encoder;
use crate::{Metadata, OutputError};
use csv_core::{Terminator, WriteResult, Writer, WriterBuilder};
use patientgen_core::Patient;

/// Column names, in order.
pub const COLUMNS: [&str; 30] = [
    "patient_id",
    "name",
    "age",
    "gender",
    "nationality",
    "injury",
    "triage",
    "front",
    "final_status",
    "last_facility",
    "total_timeline_events",
    "injury_timestamp",
    "outcome",
    "given_name",
    "family_name",
    "birthdate",
    "rank",
    "rank_code",
    "service_number",
    "unit",
    "blood_type",
    "rh_factor",
    "primary_condition_code",
    "primary_condition",
    "severity",
    "body_part",
    "mass_casualty",
    "event_id",
    "scenario",
    "hours_to_outcome",
];

/// `patients.csv`.
#[derive(Debug, Clone, Copy)]
pub struct CsvEncoder;

fn writer() -> Writer {
    WriterBuilder::new().terminator(Terminator::CRLF).build()
}

/// Writes one row of fields with RFC 4180 quoting and CRLF.
fn write_row<'f>(out: &mut Vec<u8>, fields: impl IntoIterator<Item = &'f [u8]>) {
    let mut w = writer();
    let mut buf = [0u8; 1024];
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            let (_, n) = w.delimiter(&mut buf);
            out.extend_from_slice(&buf[..n]);
        }
        let mut input = field;
        loop {
            let (res, nin, nout) = w.field(input, &mut buf);
            out.extend_from_slice(&buf[..nout]);
            input = &input[nin..];
            if res == WriteResult::InputEmpty {
                break;
            }
        }
    }
    let (_, n) = w.terminator(&mut buf);
    out.extend_from_slice(&buf[..n]);
}

impl Encoder for CsvEncoder {
    fn header(&self, _meta: &Metadata, out: &mut Vec<u8>) -> Result<(), OutputError> {
        write_row(out, COLUMNS.iter().map(|c| c.as_bytes()));
        Ok(())
    }

    fn record(&self, p: &Patient<'_>, _first: bool, out: &mut Vec<u8>) -> Result<(), OutputError> {
        let d = &p.demographics;
        let name = format!("{} {}", d.given_name, d.family_name);
        let primary = p.conditions.first();
        let hours = p.terminal_event().map_or(0.0, |e| e.hours_since_injury.as_f64());
        let values: [String; 30] = [
            p.id.to_string(),
            name,
            d.age.to_string(),
            p.gender.to_string(),
            p.nationality.to_string(),
            p.injury_type.to_string(),
            p.triage_category.to_string(),
            p.front.to_string(),
            p.final_status.to_string(),
            p.last_facility.to_string(),
            p.movement_timeline.len().to_string(),
            p.injury_timestamp.to_string(),
            p.outcome.to_string(),
            d.given_name.to_string(),
            d.family_name.to_string(),
            d.birthdate.to_string(),
            d.rank.to_string(),
            d.rank_code.to_string(),
            d.service_number.clone(),
            d.unit.to_string(),
            d.blood_type.to_string(),
            d.rh_factor.to_string(),
            primary.map_or(String::new(), |c| c.code.to_string()),
            primary.map_or(String::new(), |c| c.name.to_string()),
            p.severity.to_string(),
            p.body_part.map_or(String::new(), |b| b.to_string()),
            p.mass_casualty.to_string(),
            p.event_id.clone(),
            p.scenario.to_string(),
            hours.to_string(),
        ];
        write_row(out, values.iter().map(|v| v.as_bytes()));
        Ok(())
    }

    fn footer(&self, _meta: &Metadata, _out: &mut Vec<u8>) -> Result<(), OutputError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_fields_that_need_it() {
        let mut out = Vec::new();
        write_row(&mut out, [&b"plain"[..], b"has,comma", b"has \"quote\"", b"two\nlines"]);
        assert_eq!(
            String::from_utf8_lossy(&out),
            "plain,\"has,comma\",\"has \"\"quote\"\"\",\"two\nlines\"\r\n"
        );
    }
}
