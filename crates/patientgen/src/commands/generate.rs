//! `patientgen generate`.

use crate::cli::{EnvelopeArg, FormatArg, GenerateArgs};
use crate::error::{CliError, CliResult};
use crate::files::{PendingFile, refuse_overwrite};
use crate::{password, scenario_input};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use patientgen_core::data::catalog;
use patientgen_core::scenario::ValidationOptions;
use patientgen_core::time::UtcSeconds;
use patientgen_core::{Generator, Scenario, ScenarioConfig};
use patientgen_output::encode::{EncodeOptions, encoder_for};
use patientgen_output::package::{Manifest, ManifestCounts, ManifestFile, write_zip};
use patientgen_output::pipeline::{GenerateOptions, generate};
use patientgen_output::sink::{HashingWriter, Layered, Layers, layer_suffix};
use patientgen_output::{Format, JsonEnvelope, Metadata};
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Where the output goes.
enum Destination {
    Stdout,
    File(PathBuf),
    Directory(PathBuf),
}

pub fn run(args: GenerateArgs) -> CliResult {
    let config: ScenarioConfig = match (&args.scenario, &args.preset) {
        (Some(file), _) => scenario_input::from_file(file)?,
        (None, preset) => scenario_input::from_preset(preset.as_deref().unwrap_or("default"))?,
    };
    let fallback_seed: u64 = rand::random();
    let (config, scenario) = config
        .with_overrides(args.patients.map(i64::from), args.seed)
        .into_validated(catalog(), ValidationOptions { fallback_seed, ..ValidationOptions::default() })
        .map_err(|e| CliError::input(format!("invalid scenario: {e}")))?;

    let zip = args.formats.contains(&FormatArg::Zip);
    let mut formats: Vec<Format> = args
        .formats
        .iter()
        .filter_map(|f| match f {
            FormatArg::Json => Some(Format::Json),
            FormatArg::Ndjson => Some(Format::Ndjson),
            FormatArg::Csv => Some(Format::Csv),
            FormatArg::Fhir => Some(Format::Fhir),
            FormatArg::Xml => Some(Format::Xml),
            FormatArg::Zip => None,
        })
        .collect();
    formats.sort();
    formats.dedup();
    if formats.is_empty() {
        formats.push(Format::Json);
    }
    if zip && args.gzip {
        return Err(CliError::input("--gzip with --format zip: the ZIP archive is already compressed"));
    }
    let threads = match args.threads {
        Some(0) => return Err(CliError::input("--threads must be at least 1")),
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let generated_at = generated_at(args.generated_at.as_deref())?;
    let password =
        if args.encrypt { Some(password::read(args.password_env.as_deref(), true)?) } else { None };
    let layers = Layers {
        gzip: args.gzip,
        password,
        iterations: patientgen_crypto::DEFAULT_ITERATIONS,
        derived_key: None,
    };
    let destination = destination(&args.output, zip, formats.len())?;

    let meta = Metadata::new(&scenario, generated_at);
    let encode_options = EncodeOptions {
        json_envelope: match args.json_envelope {
            EnvelopeArg::Object => JsonEnvelope::Object,
            EnvelopeArg::Array => JsonEnvelope::Array,
        },
    };
    let progress = progress_bar(&scenario, args.quiet);
    let run = Run { scenario: &scenario, meta: &meta, encode_options, threads, progress: &progress };

    let written = if zip {
        let zip_name = format!("patients.zip{}", layer_suffix(&layers));
        let path = match &destination {
            Destination::Stdout => None,
            Destination::File(p) => Some(p.clone()),
            Destination::Directory(d) => Some(d.join(zip_name)),
        };
        if let Some(p) = &path {
            refuse_overwrite(p, args.force)?;
        }
        run.zip(&formats, &config, path.as_deref(), &layers)?
    } else {
        let paths: Vec<Option<PathBuf>> = match &destination {
            Destination::Stdout => vec![None],
            Destination::File(p) => vec![Some(p.clone())],
            Destination::Directory(d) => formats
                .iter()
                .map(|f| Some(d.join(format!("{}{}", f.file_name(), layer_suffix(&layers)))))
                .collect(),
        };
        for p in paths.iter().flatten() {
            refuse_overwrite(p, args.force)?;
        }
        run.files(&formats, &paths, &layers)?
    };
    progress.finish_and_clear();
    if !args.quiet {
        eprintln!("Generated {} patients (seed {}).", scenario.total_patients, scenario.seed);
        for (path, bytes) in &written.files {
            eprintln!("  {} ({bytes} bytes)", path.display());
        }
    }
    if args.summary {
        eprintln!("\n{}", written.summary);
    }
    Ok(())
}

fn generated_at(arg: Option<&str>) -> CliResult<UtcSeconds> {
    if let Some(text) = arg {
        let t = chrono::DateTime::parse_from_rfc3339(text)
            .map_err(|e| CliError::input(format!("--generated-at: not an RFC 3339 time ({e})")))?;
        return Ok(UtcSeconds(t.timestamp()));
    }
    if let Ok(epoch) = std::env::var("SOURCE_DATE_EPOCH") {
        let secs: i64 = epoch
            .trim()
            .parse()
            .map_err(|_| CliError::input("SOURCE_DATE_EPOCH must be a number of seconds"))?;
        return Ok(UtcSeconds(secs));
    }
    Ok(UtcSeconds(chrono::Utc::now().timestamp()))
}

fn destination(output: &Path, zip: bool, formats: usize) -> CliResult<Destination> {
    if output.as_os_str() == "-" {
        if !zip && formats > 1 {
            return Err(CliError::input(
                "several formats cannot go to stdout: choose one, add --format zip, or give a directory",
            ));
        }
        return Ok(Destination::Stdout);
    }
    let is_dir = output.is_dir() || output.as_os_str().to_string_lossy().ends_with(std::path::MAIN_SEPARATOR);
    if is_dir || (output.extension().is_none() && !output.exists()) {
        std::fs::create_dir_all(output)
            .map_err(|e| CliError::input(format!("cannot create directory {}: {e}", output.display())))?;
        return Ok(Destination::Directory(output.to_path_buf()));
    }
    if !zip && formats > 1 {
        return Err(CliError::input(format!(
            "{} is a file but {formats} formats were requested: give a directory or add --format zip",
            output.display()
        )));
    }
    if let Some(parent) = output.parent().filter(|p| !p.as_os_str().is_empty())
        && !parent.is_dir()
    {
        return Err(CliError::input(format!("directory {} does not exist", parent.display())));
    }
    Ok(Destination::File(output.to_path_buf()))
}

fn progress_bar(scenario: &Scenario, quiet: bool) -> ProgressBar {
    let bar = ProgressBar::new(u64::from(scenario.total_patients));
    if quiet || !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    } else if let Ok(style) =
        ProgressStyle::with_template("{spinner} {bar:40} {pos}/{len} patients  {per_sec}  eta {eta}")
    {
        bar.set_style(style);
    }
    bar
}

struct Written {
    files: Vec<(PathBuf, u64)>,
    summary: patientgen_core::Summary,
}

struct Run<'a> {
    scenario: &'a Scenario,
    meta: &'a Metadata,
    encode_options: EncodeOptions,
    threads: usize,
    progress: &'a ProgressBar,
}

type Sink = Layered<HashingWriter<BufWriter<Box<dyn Write>>>>;

/// Opens the layers over a writer; `hash` computes SHA-256 (for manifests).
fn open_sink(writer: Box<dyn Write>, layers: &Layers, hash: bool) -> CliResult<Sink> {
    let buffered = BufWriter::with_capacity(64 << 10, writer);
    let counted = if hash { HashingWriter::new(buffered) } else { HashingWriter::counting(buffered) };
    Layered::new(counted, layers).map_err(|e| CliError::Runtime(e.into()))
}

fn close_sink(sink: Sink) -> CliResult<(u64, String)> {
    // Finishing the counting layer flushes the buffered file under it.
    let (_, bytes, sha) = sink.finish()?.finish()?;
    Ok((bytes, sha))
}

impl Run<'_> {
    fn generate_into(
        &self,
        formats: &[Format],
        sinks: &mut [&mut dyn Write],
    ) -> CliResult<patientgen_core::SummaryBuilder> {
        let generator = Generator::new(self.scenario);
        let encoders: Vec<_> =
            formats.iter().map(|f| encoder_for(*f, self.scenario.seed, self.encode_options)).collect();
        let bar = self.progress.clone();
        let progress = move |n: u64| bar.set_position(n);
        let options = GenerateOptions { threads: self.threads, cancel: None, progress: Some(&progress) };
        Ok(generate(&generator, self.meta, &encoders, sinks, &options)?)
    }

    /// One file per format (or stdout).
    fn files(&self, formats: &[Format], paths: &[Option<PathBuf>], layers: &Layers) -> CliResult<Written> {
        let mut pending = Vec::new();
        let mut sinks = Vec::new();
        for path in paths {
            let writer: Box<dyn Write> = match path {
                Some(p) => {
                    let (pf, file) = PendingFile::create(p)?;
                    pending.push(pf);
                    Box::new(file)
                }
                None => Box::new(std::io::stdout().lock()),
            };
            sinks.push(open_sink(writer, layers, false)?);
        }
        let summary = {
            let mut refs: Vec<&mut dyn Write> = sinks.iter_mut().map(|s| s as &mut dyn Write).collect();
            self.generate_into(formats, &mut refs)?
        };
        let mut files = Vec::new();
        for (sink, path) in sinks.into_iter().zip(paths) {
            let (bytes, _) = close_sink(sink)?;
            if let Some(p) = path {
                files.push((p.clone(), bytes));
            }
        }
        for p in pending {
            p.commit()?;
        }
        Ok(Written { files, summary: summary.build() })
    }

    /// The formats into temporary files, then one ZIP with a manifest.
    fn zip(
        &self,
        formats: &[Format],
        config: &ScenarioConfig,
        path: Option<&Path>,
        layers: &Layers,
    ) -> CliResult<Written> {
        let work_dir = match path.and_then(Path::parent).filter(|p| !p.as_os_str().is_empty()) {
            Some(dir) => dir.to_path_buf(),
            None => std::env::temp_dir(),
        };
        let staging = work_dir.join(format!(".patientgen-staging-{}", std::process::id()));
        std::fs::create_dir_all(&staging)?;
        let result = self.zip_in(formats, config, path, layers, &staging);
        let _ = std::fs::remove_dir_all(&staging);
        result
    }

    fn zip_in(
        &self,
        formats: &[Format],
        config: &ScenarioConfig,
        path: Option<&Path>,
        layers: &Layers,
        staging: &Path,
    ) -> CliResult<Written> {
        let plain = Layers::default();
        let mut sinks = Vec::new();
        for f in formats {
            let file = File::create(staging.join(f.file_name()))?;
            sinks.push(open_sink(Box::new(file), &plain, true)?);
        }
        let summary = {
            let mut refs: Vec<&mut dyn Write> = sinks.iter_mut().map(|s| s as &mut dyn Write).collect();
            self.generate_into(formats, &mut refs)?
        };
        let mut entries = Vec::new();
        for (sink, f) in sinks.into_iter().zip(formats) {
            let (bytes, sha256) = close_sink(sink)?;
            let entry = ManifestFile {
                name: f.file_name().to_string(),
                format: f.as_str().to_string(),
                bytes,
                sha256,
                compressed: false,
                encrypted: false,
            };
            entries.push((entry, File::open(staging.join(f.file_name()))?));
        }
        let summary = summary.build();
        let manifest = Manifest::new(
            self.meta,
            serde_json::to_value(config).map_err(|e| CliError::Runtime(e.into()))?,
            ManifestCounts::from_summary(&summary),
            entries.iter().map(|(m, _)| m.clone()).collect(),
        );
        let (pending, writer): (Option<PendingFile>, Box<dyn Write>) = match path {
            Some(p) => {
                let (pf, file) = PendingFile::create(p)?;
                (Some(pf), Box::new(file))
            }
            None => (None, Box::new(std::io::stdout().lock())),
        };
        let sink = open_sink(writer, layers, false)?;
        let sink = write_zip(sink, entries, &manifest)?;
        let (bytes, _) = close_sink(sink)?;
        let mut files = Vec::new();
        if let (Some(pf), Some(p)) = (pending, path) {
            pf.commit()?;
            files.push((p.to_path_buf(), bytes));
        }
        Ok(Written { files, summary })
    }
}
