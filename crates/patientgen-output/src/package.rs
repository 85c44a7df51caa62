//! Packages: every chosen format generated into a staging directory, then one
//! ZIP of those files plus `manifest.json` (scenario, seed, counts, versions,
//! SHA-256 and size of each file). [`write_package`] is the one way to make a
//! package; the CLI (`--format zip`) and the service's jobs only choose where
//! the archive goes and which layers the files get.

use crate::encode::{EncodeOptions, encoder_for};
use crate::pipeline::{GenerateOptions, generate};
use crate::sink::{HashingWriter, Layered, Layers};
use crate::{Format, Metadata, OutputError};
use patientgen_core::{Generator, Scenario, ScenarioConfig, Summary};
use serde::Serialize;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
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
    /// Patients in the package.
    pub patients: u64,
    /// Patients by outcome.
    pub outcomes: std::collections::BTreeMap<String, u64>,
    /// Patients by initial triage category.
    pub triage: std::collections::BTreeMap<String, u64>,
    /// Patients by injury type.
    pub injury_types: std::collections::BTreeMap<String, u64>,
    /// Patients by nationality (ISO alpha-3).
    pub nationalities: std::collections::BTreeMap<String, u64>,
    /// Patients by front name.
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
    /// The seed: with `scenario`, reproduces the files exactly.
    pub seed: u64,
    /// The scenario configuration as given (with the seed filled in).
    pub scenario: serde_json::Value,
    /// Patients by outcome, triage, injury type, nationality and front.
    pub counts: ManifestCounts,
    /// Every file in the archive but the manifest, in archive order.
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

/// What goes into a package.
pub struct PackageRequest<'a> {
    /// The validated scenario.
    pub scenario: &'a Scenario,
    /// The configuration it came from, seed filled in: recorded in the manifest
    /// so that the package says how to make it again.
    pub config: &'a ScenarioConfig,
    /// Metadata written with the patients and into the manifest.
    pub meta: &'a Metadata,
    /// The formats, one file each, in this order.
    pub formats: &'a [Format],
    /// Encoder settings (the JSON envelope).
    pub encode: EncodeOptions,
    /// Layers of each file inside the archive (a job's gzip and encryption).
    /// The CLI layers the archive as a whole instead and passes none here.
    pub file_layers: &'a Layers,
    /// Where the format files are written before they go into the archive; the
    /// caller creates it and removes it afterwards (a job keeps its
    /// `patients.json` there until it is stored).
    pub staging: &'a Path,
    /// Threads, cancellation and progress of the generation.
    pub generate: &'a GenerateOptions<'a>,
}

/// A format file of a package, as listed in its manifest and still present in
/// the staging directory.
#[derive(Debug, Clone)]
pub struct StagedFile {
    /// Its manifest entry (name, size, SHA-256, layers).
    pub entry: ManifestFile,
    /// Where it is in the staging directory.
    pub path: PathBuf,
}

/// A package written by [`write_package`].
#[derive(Debug, Clone)]
pub struct Package {
    /// The format files in the archive, in format order.
    pub files: Vec<StagedFile>,
    /// The summary of the patients generated.
    pub summary: Summary,
}

/// Generates every format of `request` into its staging directory (each file
/// hashed, with the file layers), then writes the ZIP with its manifest to
/// `out`. Returns `out` (flushed; the caller closes any layers of its own) and
/// what was packaged.
pub fn write_package<W: Write>(request: &PackageRequest<'_>, out: W) -> Result<(W, Package), OutputError> {
    let suffix = request.file_layers.suffix();
    let mut names = Vec::with_capacity(request.formats.len());
    let mut sinks = Vec::with_capacity(request.formats.len());
    for format in request.formats {
        let name = format!("{}{suffix}", format.file_name());
        let file = File::create(request.staging.join(&name))?;
        let hashed = HashingWriter::new(BufWriter::with_capacity(64 << 10, file));
        sinks.push(Layered::new(hashed, request.file_layers)?);
        names.push(name);
    }
    let encoders: Vec<_> =
        request.formats.iter().map(|f| encoder_for(*f, request.scenario.seed, request.encode)).collect();
    let generator = Generator::new(request.scenario);
    let summary = {
        let mut refs: Vec<&mut dyn Write> = sinks.iter_mut().map(|s| s as &mut dyn Write).collect();
        generate(&generator, request.meta, &encoders, &mut refs, request.generate)?.build()
    };
    let mut files = Vec::with_capacity(names.len());
    for ((sink, name), format) in sinks.into_iter().zip(names).zip(request.formats) {
        // Finishing the hashing layer flushes the buffered file under it.
        let (_, bytes, sha256) = sink.finish()?.finish()?;
        let entry = ManifestFile {
            format: format.as_str().to_string(),
            bytes,
            sha256,
            compressed: request.file_layers.gzip,
            encrypted: request.file_layers.encrypted(),
            name,
        };
        files.push(StagedFile { path: request.staging.join(&entry.name), entry });
    }
    let manifest = Manifest::new(
        request.meta,
        serde_json::to_value(request.config)?,
        ManifestCounts::from_summary(&summary),
        files.iter().map(|f| f.entry.clone()).collect(),
    );
    let readers = files
        .iter()
        .map(|f| File::open(&f.path).map(|file| (f.entry.clone(), file)))
        .collect::<Result<Vec<_>, _>>()?;
    let out = write_zip(out, readers, &manifest)?;
    Ok((out, Package { files, summary }))
}
