//! `patientgen generate`.

use crate::cli::{EnvelopeArg, FormatChoice, GenerateArgs};
use crate::error::{CliError, CliResult};
use crate::files::{self, PendingFile, ScratchDir, refuse_overwrite};
use crate::{password, scenario_input};
use indicatif::{HumanCount, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use patientgen_core::data::catalog;
use patientgen_core::scenario::ValidationOptions;
use patientgen_core::time::UtcSeconds;
use patientgen_core::{Generator, Scenario, ScenarioConfig};
use patientgen_output::encode::{EncodeOptions, encoder_for};
use patientgen_output::package::{PackageRequest, write_package};
use patientgen_output::pipeline::{GenerateOptions, generate};
use patientgen_output::sink::{CountingWriter, Encryption, Layered, Layers};
use patientgen_output::{Format, JsonEnvelope, Metadata};
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
    // The CLI's memory does not grow with the count: any count is taken (the
    // per-job ceiling is the service's, `serve --max-patients-per-job`).
    let (config, scenario) = config
        .with_overrides(args.patients.map(i64::from), args.seed)
        .into_validated(catalog(), ValidationOptions { fallback_seed, max_patients: u32::MAX })
        .map_err(|e| CliError::input(format!("invalid scenario: {e}")))?;

    let zip = args.formats.contains(&FormatChoice::Zip);
    let formats = record_formats(&args.formats);
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
    let encryption = password.map(|password| Encryption::Password {
        password: secrecy::ExposeSecret::expose_secret(&password).to_string(),
        iterations: patientgen_crypto::DEFAULT_ITERATIONS,
    });
    let layers = Layers { gzip: args.gzip, encryption };
    let destination = destination(&args.output, zip, formats.len())?;
    files::install_interrupt_handler();
    for dir in work_dirs(&destination) {
        for note in files::clean_stale(&dir) {
            eprintln!("{note}");
        }
    }

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
        run.zip(&formats, &config, zip_path(&destination, &layers, args.force)?.as_deref(), &layers)?
    } else {
        run.files(&formats, &file_paths(&destination, &formats, &layers, args.force)?, &layers)?
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

/// The record formats chosen, sorted, without repeats; JSON when none is.
fn record_formats(choices: &[FormatChoice]) -> Vec<Format> {
    let mut formats: Vec<Format> = choices
        .iter()
        .filter_map(|f| match f {
            FormatChoice::Records(format) => Some(*format),
            FormatChoice::Zip => None,
        })
        .collect();
    formats.sort();
    formats.dedup();
    if formats.is_empty() {
        formats.push(Format::Json);
    }
    formats
}

/// Where the ZIP goes (`None`: stdout), refusing to replace a file without `--force`.
fn zip_path(destination: &Destination, layers: &Layers, force: bool) -> CliResult<Option<PathBuf>> {
    let path = match destination {
        Destination::Stdout => None,
        Destination::File(p) => Some(p.clone()),
        Destination::Directory(d) => Some(d.join(format!("patients.zip{}", layers.suffix()))),
    };
    if let Some(p) = &path {
        refuse_overwrite(p, force)?;
    }
    Ok(path)
}

/// Where each format goes (`None`: stdout), refusing to replace files without `--force`.
fn file_paths(
    destination: &Destination,
    formats: &[Format],
    layers: &Layers,
    force: bool,
) -> CliResult<Vec<Option<PathBuf>>> {
    let paths: Vec<Option<PathBuf>> = match destination {
        Destination::Stdout => vec![None],
        Destination::File(p) => vec![Some(p.clone())],
        Destination::Directory(d) => {
            formats.iter().map(|f| Some(d.join(format!("{}{}", f.file_name(), layers.suffix())))).collect()
        }
    };
    for p in paths.iter().flatten() {
        refuse_overwrite(p, force)?;
    }
    Ok(paths)
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
    // `out/` names a directory on every platform (`out\\` too on Windows).
    let is_dir = output.is_dir() || output.as_os_str().to_string_lossy().ends_with(std::path::is_separator);
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

/// The directories this run writes into (where a killed run's leftovers would be).
fn work_dirs(destination: &Destination) -> Vec<PathBuf> {
    let dir = match destination {
        Destination::Stdout => return Vec::new(),
        Destination::Directory(d) => d.clone(),
        Destination::File(f) => match f.parent().filter(|p| !p.as_os_str().is_empty()) {
            Some(p) => p.to_path_buf(),
            None => PathBuf::from("."),
        },
    };
    vec![dir]
}

fn progress_bar(scenario: &Scenario, quiet: bool) -> ProgressBar {
    let bar = ProgressBar::new(u64::from(scenario.total_patients));
    if quiet || !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    } else if let Ok(style) =
        ProgressStyle::with_template("{spinner} {bar:40} {human_pos}/{human_len} patients  {rate}  eta {eta}")
    {
        bar.set_style(style.with_key("rate", |state: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = w.write_str(&rate(state.per_sec()));
        }));
    }
    bar
}

/// A generation rate in whole patients per second, digits grouped: `51,510/s`.
fn rate(per_sec: f64) -> String {
    // `as` saturates: NaN and negatives give 0, infinity u64::MAX.
    format!("{}/s", HumanCount(per_sec.round() as u64))
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

type Sink = Layered<CountingWriter<BufWriter<Box<dyn Write>>>>;

/// Opens the layers over a writer, counting the bytes that reach it.
fn open_sink(writer: Box<dyn Write>, layers: &Layers) -> CliResult<Sink> {
    let counted = CountingWriter::new(BufWriter::with_capacity(64 << 10, writer));
    Layered::new(counted, layers).map_err(|e| CliError::Runtime(e.into()))
}

/// Closes the layers; returns the bytes written.
fn close_sink(sink: Sink) -> CliResult<u64> {
    // Finishing the counting layer flushes the buffered file under it.
    let (_, bytes) = sink.finish()?.finish()?;
    Ok(bytes)
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
            sinks.push(open_sink(writer, layers)?);
        }
        let summary = {
            let mut refs: Vec<&mut dyn Write> = sinks.iter_mut().map(|s| s as &mut dyn Write).collect();
            self.generate_into(formats, &mut refs)?
        };
        let mut files = Vec::new();
        for (sink, path) in sinks.into_iter().zip(paths) {
            let bytes = close_sink(sink)?;
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
        let staging = ScratchDir::create(work_dir.join(files::staging_name()))?;
        self.zip_in(formats, config, path, layers, staging.path())
    }

    fn zip_in(
        &self,
        formats: &[Format],
        config: &ScenarioConfig,
        path: Option<&Path>,
        layers: &Layers,
        staging: &Path,
    ) -> CliResult<Written> {
        let (pending, writer): (Option<PendingFile>, Box<dyn Write>) = match path {
            Some(p) => {
                let (pf, file) = PendingFile::create(p)?;
                (Some(pf), Box::new(file))
            }
            None => (None, Box::new(std::io::stdout().lock())),
        };
        let bar = self.progress.clone();
        let progress = move |n: u64| bar.set_position(n);
        let request = PackageRequest {
            scenario: self.scenario,
            config,
            meta: self.meta,
            formats,
            encode: self.encode_options,
            // The archive as a whole gets the layers, its files none.
            file_layers: &Layers::default(),
            staging,
            generate: &GenerateOptions { threads: self.threads, cancel: None, progress: Some(&progress) },
        };
        let (sink, package) = write_package(&request, open_sink(writer, layers)?)?;
        let bytes = close_sink(sink)?;
        let mut files = Vec::new();
        if let (Some(pf), Some(p)) = (pending, path) {
            pf.commit()?;
            files.push((p.to_path_buf(), bytes));
        }
        Ok(Written { files, summary: package.summary })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_is_whole_patients_per_second() {
        assert_eq!(rate(51_510.481), "51,510/s");
        assert_eq!(rate(0.4), "0/s");
        assert_eq!(rate(999.5), "1,000/s");
        assert_eq!(rate(f64::NAN), "0/s");
    }
}
