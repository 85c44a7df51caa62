//! Output formats and their file names.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A record format. Serialised as its wire name (`json`, `ndjson`, `csv`,
/// `fhir`, `xml`); only [`FromStr`] also takes the CLI's aliases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// `patients.json`: `{metadata, patients}` or a bare array.
    Json,
    /// `patients.ndjson`: one patient per line.
    Ndjson,
    /// `patients.csv`: one row per patient.
    Csv,
    /// `patients.fhir.ndjson`: one FHIR R4 Bundle per line.
    Fhir,
    /// `patients.xml`: one well-formed document.
    Xml,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 5] = [Format::Json, Format::Ndjson, Format::Csv, Format::Fhir, Format::Xml];

    /// Name on the command line and in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Ndjson => "ndjson",
            Format::Csv => "csv",
            Format::Fhir => "fhir",
            Format::Xml => "xml",
        }
    }

    /// Default file name.
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Json => "patients.json",
            Format::Ndjson => "patients.ndjson",
            Format::Csv => "patients.csv",
            Format::Fhir => "patients.fhir.ndjson",
            Format::Xml => "patients.xml",
        }
    }

    /// MIME type.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Ndjson => "application/x-ndjson",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Fhir => "application/fhir+ndjson",
            Format::Xml => "application/xml",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "json" => Ok(Format::Json),
            "ndjson" | "jsonl" => Ok(Format::Ndjson),
            "csv" => Ok(Format::Csv),
            "fhir" | "fhir-ndjson" => Ok(Format::Fhir),
            "xml" => Ok(Format::Xml),
            other => Err(format!("unknown format '{other}' (json, ndjson, csv, fhir, xml)")),
        }
    }
}

/// Shape of the JSON format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JsonEnvelope {
    /// `{"metadata": {...}, "patients": [...]}`.
    #[default]
    Object,
    /// A bare array of patients (upstream API's shape).
    Array,
}
