//! One run: scrape `/metrics`, start sampling, run goose until the budget is
//! spent and the flows have drained, scrape again, judge, write the summary.

use crate::plan::Plan;
use crate::procstat::{self, GrowthBound, Sample, Sampler};
use crate::promtext;
use crate::report::{self, LimitedCheck, Servers, Summary};
use crate::scenarios::{Ctx, scenarios};
use anyhow::Context;
use goose::GooseAttack;
use goose::config::GooseConfiguration;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Extra options of a run beyond the plan.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    /// Judge memory growth after warm-up against this bound (the soak).
    pub growth: Option<GrowthBound>,
}

/// Runs `plan` and returns its summary (also written to `summary.json` in the
/// plan's output directory). An `Err` is a run that could not be made at all
/// (bad plan, unreachable `/metrics`, goose refusing its configuration); a run
/// that was made and failed a criterion returns `Ok` with `passed == false`.
pub async fn run(plan: Plan) -> anyhow::Result<Summary> {
    run_with(plan, Extras::default()).await
}

/// [`run`] with extra options.
pub async fn run_with(plan: Plan, extras: Extras) -> anyhow::Result<Summary> {
    plan.validate().map_err(anyhow::Error::msg)?;
    std::fs::create_dir_all(&plan.out_dir).with_context(|| format!("creating {}", plan.out_dir.display()))?;
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
    let before = promtext::scrape(&client, &plan.metrics_urls).await.map_err(anyhow::Error::msg)?;

    let html = plan.out_dir.join("report.html");
    let goose_json = plan.out_dir.join("goose.json");
    // Goose's own run time is only a backstop: the run ends when the budget is
    // spent and every flow has finished (the stopper below).
    let backstop = plan.run_time + plan.job_deadline + Duration::from_secs(30);
    let mut args: Vec<String> = vec![
        "--host".into(),
        plan.host.as_str().trim_end_matches('/').into(),
        "--users".into(),
        plan.users.to_string(),
        "--increase-rate".into(),
        format!("{}", plan.increase_rate),
        "--run-time".into(),
        format!("{}s", backstop.as_secs()),
        "--report-file".into(),
        html.display().to_string(),
        "--report-file".into(),
        goose_json.display().to_string(),
        "--no-reset-metrics".into(),
        // No controller: the run is bounded by the plan, and nothing else listens.
        "--no-telnet".into(),
        "--notes".into(),
        format!("patientgen-load {}", plan.label),
    ];
    if !plan.goose_console {
        args.extend(["--quiet".into(), "--no-print-metrics".into()]);
    }
    let config = GooseConfiguration::parse_args_default(&args).map_err(|e| anyhow::anyhow!("goose: {e}"))?;

    let ctx = Arc::new(Ctx::new(plan.clone()));
    let mut attack =
        GooseAttack::initialize_with_config(config).map_err(|e| anyhow::anyhow!("goose: {e}"))?;
    for s in scenarios(&ctx).map_err(|e| anyhow::anyhow!("goose: {e}"))? {
        attack = attack.register_scenario(s);
    }
    let sampler =
        (!plan.server_pids.is_empty()).then(|| Sampler::start(plan.server_pids.clone(), plan.sample_every));
    let drained = Arc::new(AtomicBool::new(false));
    let stopper = {
        let (ctx, drained) = (ctx.clone(), drained.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(20)).await;
                if ctx.stopping() && ctx.idle() {
                    drained.store(true, Ordering::SeqCst);
                    goose::trigger_killswitch("patientgen-load: budget spent and flows drained");
                    return;
                }
            }
        })
    };
    let started = Instant::now();
    let outcome = attack.execute().await;
    let elapsed = started.elapsed();
    ctx.request_stop();
    stopper.abort();
    let samples = sampler.map(Sampler::finish);
    let goose_metrics = outcome.map_err(|e| anyhow::anyhow!("goose: {e}"))?;
    let after = promtext::scrape(&client, &plan.metrics_urls).await;

    let snap = ctx.rec.snapshot();
    let elapsed_s = elapsed.as_secs_f64();
    let (by_request, all) = report::request_rows(&snap, elapsed_s);
    let requests: u64 = by_request.iter().map(|r| r.count).sum();
    let mut failures = Vec::new();
    for (kind, n) in &snap.errors {
        let example = snap.examples.get(kind).map_or("", String::as_str);
        failures.push(format!("{n} × {}: {example}", kind.as_str()));
    }
    let drained = drained.load(Ordering::SeqCst);
    if !drained {
        failures.push("the run was stopped before its flows finished (goose's backstop or a signal)".into());
    }
    if requests == 0 {
        failures.push("no request was made".into());
    }
    let metrics = match after {
        Ok(after) => {
            let a = promtext::compare(&before, &after, &ctx.rec.counts(), &plan.metrics_ignore);
            if !a.mismatches.is_empty() {
                failures.push(format!(
                    "/metrics disagrees with the tool on {} row(s) (servers {}, tool {})",
                    a.mismatches.len(),
                    a.server_total,
                    a.tool_total
                ));
            }
            Some(a)
        }
        Err(e) => {
            failures.push(format!("/metrics after the run: {e}"));
            None
        }
    };
    let limited = plan.limited_per_minute.filter(|_| snap.limited.allowed + snap.limited.limited > 0).map(
        |per_minute| {
            let t = snap.limited;
            let minutes = match (t.first_minute, t.last_minute) {
                (Some(a), Some(b)) => b.saturating_sub(a) + 1,
                _ => 0,
            };
            let max_allowed = per_minute * minutes;
            let ok = t.allowed <= max_allowed;
            if !ok {
                failures.push(format!(
                    "the limited key was let through {} times in {minutes} minute(s) at {per_minute}/min",
                    t.allowed
                ));
            }
            LimitedCheck { per_minute, minutes, allowed: t.allowed, limited: t.limited, max_allowed, ok }
        },
    );
    let servers = samples.as_ref().map(|s| {
        let processes = procstat::summarize(s);
        if procstat::SUPPORTED {
            for pid in &plan.server_pids {
                if !processes.iter().any(|p| p.pid == *pid && p.samples >= 2) {
                    failures.push(format!("server pid {pid} could not be sampled (not running?)"));
                }
            }
        }
        Servers { sampled: procstat::SUPPORTED, every_s: plan.sample_every.as_secs_f64(), processes }
    });
    let growth = match (&extras.growth, &samples) {
        (Some(bound), Some(s)) if procstat::SUPPORTED => {
            let g = procstat::growth(s, bound);
            for x in g.iter().filter(|x| !x.ok) {
                failures.push(format!("server pid {} memory: {}", x.pid, x.verdict));
            }
            Some(g)
        }
        (Some(_), _) => {
            failures.push("memory growth was to be judged but no server was sampled".into());
            None
        }
        _ => None,
    };
    if let Some(s) = &samples {
        write_samples(&plan.out_dir.join("samples.csv"), s)?;
    }
    let expected_429 = snap.limited.limited;
    let goose_requests =
        goose_metrics.requests.values().map(|r| (r.success_count + r.fail_count) as u64).sum();
    let summary = Summary {
        label: plan.label.clone(),
        host: plan.host.to_string(),
        users: plan.users,
        run_time_s: plan.run_time.as_secs_f64(),
        elapsed_s,
        requests,
        req_per_s: if elapsed_s > 0.0 { requests as f64 / elapsed_s } else { 0.0 },
        p50_ms: report::percentile_ms(&all, 0.50),
        p95_ms: report::percentile_ms(&all, 0.95),
        p99_ms: report::percentile_ms(&all, 0.99),
        by_request,
        errors: snap.errors.iter().map(|(k, v)| (k.as_str().to_string(), *v)).collect(),
        error_examples: snap.examples.iter().map(|(k, v)| (k.as_str().to_string(), v.clone())).collect(),
        expected_429,
        limited,
        checked: snap.checked,
        servers,
        growth,
        metrics,
        goose_requests,
        reports: vec![html.display().to_string(), goose_json.display().to_string()],
        drained,
        passed: failures.is_empty(),
        failures,
    };
    let path = plan.out_dir.join("summary.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&summary)?)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(summary)
}

fn write_samples(path: &std::path::Path, samples: &[Sample]) -> anyhow::Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(f, "t_s,pid,rss_mb,cpu_s")?;
    for s in samples {
        writeln!(f, "{:.3},{},{:.3},{:.2}", s.t, s.pid, s.rss_bytes as f64 / 1048576.0, s.cpu_seconds)?;
    }
    f.flush()?;
    Ok(())
}
