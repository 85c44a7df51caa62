//! `patientgen-load`: load test a patientgen service on this machine.
//!
//! Exit status: 0 when every criterion passed, 1 when the run was made and a
//! criterion failed, 2 when the run could not be made.

use clap::Parser;
use patientgen_load::keys::RoleKey;
use patientgen_load::plan::{Weights, parse_duration, parse_range};
use patientgen_load::procstat::GrowthBound;
use patientgen_load::run::{Extras, run_with};
use patientgen_load::{Keys, Plan, loopback, probe};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Load test a patientgen service on this machine (loopback only) with
/// weighted scenarios: reference data and presets, configurations, small
/// checked jobs, checked streams, health probes and a key driven into 429.
#[derive(Debug, Parser)]
#[command(name = "patientgen-load", version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    probe: Option<Probe>,
    #[command(flatten)]
    args: Args,
}

/// Single timed requests (used by scripts/perf-guard); print one JSON line.
#[derive(Debug, clap::Subcommand)]
enum Probe {
    /// Time one job from its creation until its ZIP is downloaded.
    ProbeJob {
        /// The service.
        #[arg(long, default_value = "http://127.0.0.1:8000")]
        host: String,
        /// API key (patients per request at least --patients).
        #[arg(long, env = "PATIENTGEN_LOAD_KEY", hide_env_values = true)]
        key: String,
        /// Patients.
        #[arg(long, default_value_t = 10_000)]
        patients: u32,
        /// Status poll interval.
        #[arg(long, default_value = "5ms", value_parser = parse_duration)]
        poll: Duration,
    },
    /// Time one NDJSON stream, read to the end.
    ProbeStream {
        /// The service.
        #[arg(long, default_value = "http://127.0.0.1:8000")]
        host: String,
        /// API key (patients per request at least --patients).
        #[arg(long, env = "PATIENTGEN_LOAD_KEY", hide_env_values = true)]
        key: String,
        /// Patients.
        #[arg(long, default_value_t = 200_000)]
        patients: u32,
    },
}

/// Options of a load run.
#[derive(Debug, clap::Args)]
struct Args {
    /// The service: http:// on 127.0.0.0/8, [::1] or localhost.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8000")]
    host: String,
    /// Concurrent users.
    #[arg(short, long, default_value_t = 10)]
    users: usize,
    /// Flows start for this long, then the run drains and stops (e.g. 60s, 10m; at most 4h).
    #[arg(short = 't', long, default_value = "60s", value_parser = parse_duration)]
    run_time: Duration,
    /// Users started per second (default: all within a second).
    #[arg(long, value_name = "RATE")]
    increase_rate: Option<f64>,
    /// Flows stop starting once this many requests have been sent.
    #[arg(long, default_value_t = 2_000_000)]
    max_requests: u64,
    /// API keys as ROLE=KEY (roles: jobs, browse, limited); repeatable.
    #[arg(
        long = "key",
        value_name = "ROLE=KEY",
        env = "PATIENTGEN_LOAD_KEYS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    keys: Vec<RoleKey>,
    /// The limited key's requests per minute: checked that no more got through.
    #[arg(long, value_name = "N", env = "PATIENTGEN_LOAD_LIMITED_PER_MINUTE")]
    limited_per_minute: Option<u64>,
    /// Base URL of each server's /metrics (default: --host); repeatable.
    #[arg(long = "metrics-url", value_name = "URL")]
    metrics_urls: Vec<String>,
    /// Endpoint template left out of the /metrics comparison; repeatable.
    #[arg(long = "metrics-ignore", value_name = "TEMPLATE")]
    metrics_ignore: Vec<String>,
    /// Server process to sample (RSS, CPU); repeatable or comma-separated.
    #[arg(
        long = "server-pid",
        value_name = "PID",
        env = "PATIENTGEN_LOAD_SERVER_PIDS",
        value_delimiter = ','
    )]
    server_pids: Vec<u32>,
    /// Sampling interval.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    sample_every: Duration,
    /// Think time between a user's flows, MIN-MAX milliseconds.
    #[arg(long, value_name = "MIN-MAX", default_value = "10-100", value_parser = parse_range)]
    think_ms: std::ops::RangeInclusive<u32>,
    /// Scenario weights, NAME=N comma-separated (reference, configurations, jobs, streaming, health, limited).
    #[arg(long, value_name = "NAME=N,...")]
    weights: Option<String>,
    /// Patients per job, MIN-MAX.
    #[arg(long, value_name = "MIN-MAX", default_value = "10-200", value_parser = parse_range)]
    job_patients: std::ops::RangeInclusive<u32>,
    /// Patients per stream, MIN-MAX.
    #[arg(long, value_name = "MIN-MAX", default_value = "50-500", value_parser = parse_range)]
    stream_patients: std::ops::RangeInclusive<u32>,
    /// Longest a job may take to complete.
    #[arg(long, default_value = "120s", value_parser = parse_duration)]
    job_deadline: Duration,
    /// Directory for summary.json, samples.csv and goose's report.html / goose.json.
    #[arg(long, default_value = "target/load/run")]
    out: PathBuf,
    /// Name of the run in the summary.
    #[arg(long, default_value = "run")]
    label: String,
    /// Seed of the tool's choices (job sizes, formats and seeds).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Also print goose's console output and tables.
    #[arg(long)]
    goose_console: bool,
    /// Judge server memory growth after warm-up (the soak; needs --server-pid).
    #[arg(long)]
    soak: bool,
    /// Soak: samples before this are warm-up.
    #[arg(long, default_value = "120s", value_parser = parse_duration)]
    soak_warmup: Duration,
    /// Soak: largest least-squares RSS slope after warm-up, MB per minute.
    #[arg(long, default_value_t = 1.0)]
    soak_max_slope: f64,
    /// Soak: largest ratio of the last RSS sample to the post-warm-up median.
    #[arg(long, default_value_t = 1.2)]
    soak_max_last_ratio: f64,
}

fn weights(spec: Option<&str>) -> Result<Weights, String> {
    let mut w = Weights::default();
    let Some(spec) = spec else { return Ok(w) };
    for part in spec.split(',').filter(|p| !p.trim().is_empty()) {
        let (name, n) = part.split_once('=').ok_or_else(|| format!("--weights: '{part}' is not NAME=N"))?;
        let n: usize = n.trim().parse().map_err(|_| format!("--weights: '{part}': N is not a number"))?;
        let slot = match name.trim() {
            "reference" => &mut w.reference,
            "configurations" => &mut w.configurations,
            "jobs" => &mut w.jobs,
            "streaming" => &mut w.streaming,
            "health" => &mut w.health,
            "limited" => &mut w.limited,
            other => return Err(format!("--weights: unknown scenario '{other}'")),
        };
        *slot = n;
    }
    Ok(w)
}

fn plan(args: &Args) -> Result<(Plan, Extras), String> {
    let host = loopback::loopback_url(&args.host)?;
    let keys = Keys::from_pairs(&args.keys)?;
    let mut plan = Plan::new(host.clone(), keys);
    plan.metrics_urls = if args.metrics_urls.is_empty() {
        vec![host]
    } else {
        args.metrics_urls.iter().map(|u| loopback::loopback_url(u)).collect::<Result<_, _>>()?
    };
    plan.metrics_ignore = args.metrics_ignore.clone();
    plan.users = args.users;
    plan.increase_rate = args.increase_rate.unwrap_or(args.users.max(1) as f64);
    plan.run_time = args.run_time;
    plan.max_requests = args.max_requests;
    plan.think = Duration::from_millis(u64::from(*args.think_ms.start()))
        ..=Duration::from_millis(u64::from(*args.think_ms.end()));
    plan.limited_per_minute = args.limited_per_minute;
    plan.weights = weights(args.weights.as_deref())?;
    plan.job_patients = args.job_patients.clone();
    plan.stream_patients = args.stream_patients.clone();
    plan.job_deadline = args.job_deadline;
    plan.server_pids = args.server_pids.clone();
    plan.sample_every = args.sample_every;
    plan.out_dir = args.out.clone();
    plan.label = args.label.clone();
    plan.seed = args.seed;
    plan.goose_console = args.goose_console;
    plan.validate()?;
    let growth = args.soak.then_some(GrowthBound {
        warmup_seconds: args.soak_warmup.as_secs_f64(),
        max_slope_mb_per_min: args.soak_max_slope,
        max_last_over_median: args.soak_max_last_ratio,
    });
    if args.soak && args.server_pids.is_empty() {
        return Err("--soak needs --server-pid".into());
    }
    Ok((plan, Extras { growth }))
}

async fn probe(p: Probe) -> Result<String, String> {
    match p {
        Probe::ProbeJob { host, key, patients, poll } => {
            let host = loopback::loopback_url(&host)?;
            let took = probe::job(&host, &key, patients, poll, Duration::from_secs(600)).await?;
            Ok(format!(r#"{{"probe":"job","patients":{patients},"seconds":{:.6}}}"#, took.as_secs_f64()))
        }
        Probe::ProbeStream { host, key, patients } => {
            let host = loopback::loopback_url(&host)?;
            let (took, bytes) = probe::stream(&host, &key, patients).await?;
            Ok(format!(
                r#"{{"probe":"stream","patients":{patients},"bytes":{bytes},"seconds":{:.6}}}"#,
                took.as_secs_f64()
            ))
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("patientgen-load: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(p) = cli.probe {
        return match runtime.block_on(probe(p)) {
            Ok(line) => {
                println!("{line}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("patientgen-load: {e}");
                ExitCode::from(1)
            }
        };
    }
    let args = cli.args;
    let (plan, extras) = match plan(&args) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("patientgen-load: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run_with(plan, extras)) {
        Ok(summary) => {
            print!("{}", summary.render());
            println!("summary: {}", args.out.join("summary.json").display());
            if summary.passed { ExitCode::SUCCESS } else { ExitCode::from(1) }
        }
        Err(e) => {
            eprintln!("patientgen-load: {e:#}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_parse() {
        let w = weights(Some("jobs=5, limited=0")).expect("weights");
        assert_eq!((w.jobs, w.limited, w.reference), (5, 0, 3));
        assert!(weights(Some("nope=1")).is_err());
        assert!(weights(Some("jobs")).is_err());
    }

    #[test]
    fn non_loopback_hosts_are_refused_before_anything_is_sent() {
        let args =
            Cli::parse_from(["patientgen-load", "--host", "http://10.0.0.5:8000", "--key", "jobs=k"]).args;
        assert!(plan(&args).unwrap_err().contains("refused"));
        let args = Cli::parse_from([
            "patientgen-load",
            "--key",
            "jobs=k",
            "--metrics-url",
            "http://192.168.0.2:8000",
        ])
        .args;
        assert!(plan(&args).unwrap_err().contains("refused"));
        let args = Cli::parse_from(["patientgen-load", "--key", "jobs=k", "--users", "5"]).args;
        let (p, _) = plan(&args).expect("plan");
        assert_eq!(p.increase_rate, 5.0);
    }
}
