//! ZIP packaging: the chosen format files plus `manifest.json` (scenario,
//! seed, counts, versions, SHA-256 and size of each file).

use crate::OutputError;
use patientgen_core::Summary;
use serde::Serialize;
use std::io::{Read, Write};
use zip::write::SimpleFileOptions;

/// One file in a manifest.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ManifestFile {
    /// Name inside the archive (or on disk).
    pub name: String,
    /// Record format.
    pub format: String,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256 of the bytes, lower-case hex.
    pub sha256: String,
    /// Gzip layer.
    pub compressed: bool,
    /// Encryption layer.
    pub encrypted: bool,
}

/// Counts recorded in a manifest.
#[derive(Debug, Clone, Serialize)]
pub struct ManifestCounts {
    /// Patients.
    pub patients: u64,
    /// By outcome.
    pub outcomes: std::collections::BTreeMap<String, u64>,
    /// By triage.
    pub triage: std::collections::BTreeMap<String, u64>,
    /// By injury type.
    pub injury_types: std::collections::BTreeMap<String, u64>,
    /// By nationality.
    pub nationalities: std::collections::BTreeMap<String, u64>,
    /// By front.
    pub fronts: std::collections::BTreeMap<String, u64>,
}

impl ManifestCounts {
    /// Counts from a summary.
    pub fn from_summary(s: &Summary) -> Self {
        let counts = |m: &std::collections::BTreeMap<String, patientgen_core::summary::Share>| {
            m.iter().map(|(k, v)| (k.clone(), v.count)).collect()
        };
        Self {
            patients: s.total_patients,
            outcomes: counts(&s.outcomes),
            triage: counts(&s.triage),
            injury_types: counts(&s.injury_types),
            nationalities: counts(&s.nationalities),
            fronts: counts(&s.fronts),
        }
    }
}

/// `manifest.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    /// Manifest layout version.
    pub manifest_version: u32,
    /// Always `patientgen`.
    pub generator: &'static str,
    /// patientgen version.
    pub generator_version: &'static str,
    /// Generation time (RFC 3339).
    pub generated_at: String,
    /// Seed.
    pub seed: u64,
    /// The scenario configuration as given (with the seed filled in).
    pub scenario: serde_json::Value,
    /// Counts.
    pub counts: ManifestCounts,
    /// Files.
    pub files: Vec<ManifestFile>,
}

impl Manifest {
    /// The manifest of files generated with `meta` from `scenario` (its
    /// configuration as given).
    pub fn new(
        meta: &crate::Metadata,
        scenario: serde_json::Value,
        counts: ManifestCounts,
        files: Vec<ManifestFile>,
    ) -> Self {
        Self {
            manifest_version: 1,
            generator: meta.generator,
            generator_version: meta.generator_version,
            generated_at: meta.generated_at_iso.clone(),
            seed: meta.seed,
            scenario,
            counts,
            files,
        }
    }
}

/// Streams files into a ZIP archive (DEFLATE, fixed timestamps so the same
/// inputs give the same bytes) and appends `manifest.json`.
pub fn write_zip<W: Write, R: Read>(
    out: W,
    files: Vec<(ManifestFile, R)>,
    manifest: &Manifest,
) -> Result<W, OutputError> {
    let mut zip = zip::ZipWriter::new_stream(out);
    let options = |large: bool| {
        SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(zip::DateTime::default())
            .unix_permissions(0o644)
            .large_file(large)
    };
    for (file, mut reader) in files {
        zip.start_file(file.name.as_str(), options(file.bytes >= u64::from(u32::MAX)))?;
        std::io::copy(&mut reader, &mut zip)?;
    }
    zip.start_file("manifest.json", options(false))?;
    serde_json::to_writer_pretty(&mut zip, manifest)?;
    zip.write_all(b"\n")?;
    let stream = zip.finish()?;
    Ok(stream.into_inner())
}
