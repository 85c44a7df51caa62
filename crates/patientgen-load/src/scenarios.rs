//! The scenarios, modelled on how the product is used. Each goose user runs one
//! scenario in a loop; one iteration is a *flow* (several requests) followed by
//! think time. Every request is named by its route template, so the tool's
//! counts line up with the servers' `api_requests_total`.
//!
//! Flows start only while the run is inside its time and request budget; once
//! the budget is spent the run drains (flows in progress finish) and stops.

use crate::check::{self, FORMATS, JobRequest};
use crate::keys::KeyRole;
use crate::plan::Plan;
use crate::record::{ErrorKind, Recorder, utc_minute};
use goose::goose::{GooseMethod, GooseRequest, GooseResponse, GooseUser, TransactionError};
use goose::metrics::GooseRequestMetric;
use goose::prelude::{Scenario, Transaction, TransactionFunction, TransactionResult};
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Shared by every user of a run.
#[derive(Debug)]
pub struct Ctx {
    /// The plan.
    pub plan: Plan,
    /// What happened.
    pub rec: Recorder,
    started: Instant,
    stop: AtomicBool,
    in_flight: AtomicUsize,
    sent: AtomicU64,
    flows: AtomicU64,
}

/// A flow in progress (counted until dropped).
pub struct Flow<'a> {
    ctx: &'a Ctx,
}

impl Drop for Flow<'_> {
    fn drop(&mut self) {
        self.ctx.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Ctx {
    /// A context for `plan`, its clock starting now.
    pub fn new(plan: Plan) -> Ctx {
        Ctx {
            plan,
            rec: Recorder::default(),
            started: Instant::now(),
            stop: AtomicBool::new(false),
            in_flight: AtomicUsize::new(0),
            sent: AtomicU64::new(0),
            flows: AtomicU64::new(0),
        }
    }

    /// Whether new flows may no longer start (time or request budget spent).
    pub fn stopping(&self) -> bool {
        if self.stop.load(Ordering::SeqCst) {
            return true;
        }
        if self.started.elapsed() >= self.plan.run_time
            || self.sent.load(Ordering::SeqCst) >= self.plan.max_requests
        {
            self.stop.store(true, Ordering::SeqCst);
            return true;
        }
        false
    }

    /// Stops new flows now.
    pub fn request_stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Whether no flow is in progress.
    pub fn idle(&self) -> bool {
        self.in_flight.load(Ordering::SeqCst) == 0
    }

    /// Requests sent so far.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::SeqCst)
    }

    /// Time since the run started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Starts a flow, or `None` once the budget is spent. The flow is counted
    /// before the budget is looked at, so a stopper that sees the budget spent
    /// and no flow in progress knows none will start.
    fn begin(&self) -> Option<Flow<'_>> {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        let flow = Flow { ctx: self };
        if self.stopping() { None } else { Some(flow) }
    }

    fn rng(&self) -> SmallRng {
        let n = self.flows.fetch_add(1, Ordering::Relaxed);
        SmallRng::seed_from_u64(self.plan.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ n)
    }
}

/// An answered request.
struct Reply {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
    metric: GooseRequestMetric,
}

impl Reply {
    fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

fn nonempty_array(r: &Reply) -> bool {
    matches!(r.json(), Some(Value::Array(a)) if !a.is_empty())
}

fn method_name(m: &GooseMethod) -> &'static str {
    match m {
        GooseMethod::Delete => "DELETE",
        GooseMethod::Get => "GET",
        GooseMethod::Head => "HEAD",
        GooseMethod::Patch => "PATCH",
        GooseMethod::Post => "POST",
        GooseMethod::Put => "PUT",
        GooseMethod::Custom => "CUSTOM",
    }
}

fn snippet(body: &[u8]) -> String {
    String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned()
}

/// One request: sent through goose (so it is in goose's metrics and reports),
/// timed until its body is read, recorded, and failed unless its status is in
/// `expect`.
#[allow(clippy::too_many_arguments)]
async fn call(
    user: &mut GooseUser,
    ctx: &Ctx,
    method: GooseMethod,
    path: &str,
    template: &'static str,
    key: Option<&str>,
    body: Option<&Value>,
    expect: &[u16],
) -> Result<Reply, Box<TransactionError>> {
    ctx.sent.fetch_add(1, Ordering::SeqCst);
    let m = method_name(&method);
    let mut builder = user.get_request_builder(&method, path)?;
    if let Some(k) = key {
        builder = builder.header("X-API-Key", k);
    }
    if let Some(b) = body {
        builder = builder.json(b);
    }
    let request =
        GooseRequest::builder().method(method).path(path).name(template).set_request_builder(builder).build();
    let t0 = Instant::now();
    let GooseResponse { request: mut metric, response } = user.request(request).await?;
    let response = match response {
        Ok(r) => r,
        Err(e) => {
            ctx.rec.unanswered(m, template, t0.elapsed());
            ctx.rec.error(ErrorKind::Transport, format!("{m} {path}: {e}"));
            return user
                .set_failure(ErrorKind::Transport.as_str(), &mut metric, None, None)
                .and_then(|()| failed());
        }
    };
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await;
    ctx.rec.answered(m, template, status, t0.elapsed());
    let body = match body {
        Ok(b) => b.to_vec(),
        Err(e) => {
            ctx.rec.error(ErrorKind::Transport, format!("{m} {path}: body: {e}"));
            return user
                .set_failure(ErrorKind::Transport.as_str(), &mut metric, None, None)
                .and_then(|()| failed());
        }
    };
    if !expect.contains(&status) {
        let kind = match status {
            500..=599 => ErrorKind::Server5xx,
            429 => ErrorKind::Unexpected429,
            _ => ErrorKind::UnexpectedStatus,
        };
        ctx.rec.error(kind, format!("{m} {path} → {status} (expected {expect:?}): {}", snippet(&body)));
        return user
            .set_failure(kind.as_str(), &mut metric, Some(&headers), Some(&snippet(&body)))
            .and_then(|()| failed());
    }
    if !metric.success {
        user.set_success(&mut metric)?;
    }
    Ok(Reply { status, headers, body, metric })
}

/// `set_failure` always returns `Err`; this only gives the other arm a type.
fn failed<T>() -> Result<T, Box<TransactionError>> {
    Err(Box::new(TransactionError::Custom("request failed".into())))
}

/// Fails a request whose answer did not pass a check.
fn fail(
    user: &mut GooseUser,
    ctx: &Ctx,
    reply: &mut Reply,
    kind: ErrorKind,
    message: String,
) -> TransactionResult {
    ctx.rec.error(kind, message);
    user.set_failure(kind.as_str(), &mut reply.metric, Some(&reply.headers), None)
}

/// Waits a little when no flow may start (the stopper ends the run).
async fn idle() -> TransactionResult {
    tokio::time::sleep(Duration::from_millis(50)).await;
    Ok(())
}

const NATIONALITIES: &str = "/api/v1/configurations/reference/nationalities/";
const CONDITION_TYPES: &str = "/api/v1/configurations/reference/condition-types/";
const FACILITY_TYPES: &str = "/api/v1/configurations/reference/facility-types/";
const STATIC_FRONTS: &str = "/api/v1/configurations/reference/static-fronts/";
const PRESETS: &str = "/api/v1/presets";
const PRESET: &str = "/api/v1/presets/{preset_id}";
const CATEGORIES: &str = "/api/v1/presets/categories/list";
const FRONTEND: &str = "/api/v1/config/frontend";
const CONFIGURATIONS: &str = "/api/v1/configurations/";
const CONFIGURATION: &str = "/api/v1/configurations/{config_id}";
const VALIDATE: &str = "/api/v1/configurations/validate/";
const GENERATION: &str = "/api/v1/generation/";
const JOBS: &str = "/api/v1/jobs/";
const JOB: &str = "/api/v1/jobs/{job_id}";
const DOWNLOAD: &str = "/api/v1/downloads/{job_id}";
const STREAM: &str = "/api/v1/streaming/generate";
const LIVE: &str = "/api/v1/health/live";
const READY: &str = "/api/v1/health/ready";
const HEALTH: &str = "/api/v1/health";

/// Reference data and presets, as the web page loads them.
pub async fn reference(user: &mut GooseUser, ctx: &Ctx) -> TransactionResult {
    let Some(_flow) = ctx.begin() else { return idle().await };
    let key = ctx.plan.keys.pick(KeyRole::Browse, user.weighted_users_index);
    for path in [NATIONALITIES, CONDITION_TYPES, FACILITY_TYPES, STATIC_FRONTS] {
        let mut r = call(user, ctx, GooseMethod::Get, path, path, key, None, &[200]).await?;
        if !nonempty_array(&r) {
            return fail(user, ctx, &mut r, ErrorKind::BadBody, format!("{path}: not a non-empty array"));
        }
    }
    let mut r = call(user, ctx, GooseMethod::Get, PRESETS, PRESETS, key, None, &[200]).await?;
    let ids: Vec<String> = r
        .json()
        .and_then(|v| {
            v["presets"]
                .as_array()
                .map(|a| a.iter().filter_map(|p| p["id"].as_str().map(String::from)).collect())
        })
        .unwrap_or_default();
    if ids.is_empty() {
        return fail(user, ctx, &mut r, ErrorKind::BadBody, format!("{PRESETS}: no presets"));
    }
    let id = &ids[ctx.rng().random_range(0..ids.len())];
    let mut r =
        call(user, ctx, GooseMethod::Get, &format!("/api/v1/presets/{id}"), PRESET, key, None, &[200])
            .await?;
    if !r.json().is_some_and(|v| v["generation_config"].is_object()) {
        return fail(user, ctx, &mut r, ErrorKind::BadBody, format!("preset {id}: no generation_config"));
    }
    call(user, ctx, GooseMethod::Get, CATEGORIES, CATEGORIES, key, None, &[200]).await?;
    call(user, ctx, GooseMethod::Get, FRONTEND, FRONTEND, key, None, &[200]).await?;
    Ok(())
}

fn template(name: &str, patients: u32) -> Value {
    json!({
        "name": name,
        "description": "load test",
        "front_configs": [{"id": "n", "name": "North", "casualty_rate": 1.0,
            "nationality_distribution": [{"nationality_code": "EST", "percentage": 60}, {"nationality_code": "POL", "percentage": 40}]}],
        "facility_configs": [{"id": "Role2", "name": "Role 2", "kia_rate": 0.06, "rtd_rate": 0.35, "front_id": "n"}],
        "total_patients": patients,
        "injury_distribution": {"Battle Injury": 0.5, "Disease": 0.3, "Non-Battle Injury": 0.2},
    })
}

/// Configurations: validate, create, read, update, list, delete, and the 404
/// after the delete.
pub async fn configurations(user: &mut GooseUser, ctx: &Ctx) -> TransactionResult {
    let Some(_flow) = ctx.begin() else { return idle().await };
    let key = ctx.plan.keys.pick(KeyRole::Browse, user.weighted_users_index);
    let mut rng = ctx.rng();
    let name = format!("load-{}", rng.random::<u32>());
    let body = template(&name, rng.random_range(10..=500));
    let mut r = call(user, ctx, GooseMethod::Post, VALIDATE, VALIDATE, key, Some(&body), &[200]).await?;
    if r.json().map(|v| v["valid"].clone()) != Some(Value::Bool(true)) {
        let text = snippet(&r.body);
        return fail(user, ctx, &mut r, ErrorKind::BadBody, format!("validate: not valid: {text}"));
    }
    let mut r =
        call(user, ctx, GooseMethod::Post, CONFIGURATIONS, CONFIGURATIONS, key, Some(&body), &[201]).await?;
    let Some(id) = r.json().and_then(|v| v["id"].as_str().map(String::from)) else {
        return fail(user, ctx, &mut r, ErrorKind::BadBody, "create configuration: no id".into());
    };
    let path = format!("/api/v1/configurations/{id}");
    let mut r = call(user, ctx, GooseMethod::Get, &path, CONFIGURATION, key, None, &[200]).await?;
    if r.json().map(|v| v["name"].clone()) != Some(Value::String(name.clone())) {
        return fail(user, ctx, &mut r, ErrorKind::BadBody, format!("{path}: name differs"));
    }
    let mut changed = body.clone();
    changed["version"] = json!(2);
    let mut r = call(user, ctx, GooseMethod::Put, &path, CONFIGURATION, key, Some(&changed), &[200]).await?;
    if r.json().map(|v| v["version"].clone()) != Some(json!(2)) {
        return fail(user, ctx, &mut r, ErrorKind::BadBody, format!("{path}: version not updated"));
    }
    let mut r = call(user, ctx, GooseMethod::Get, CONFIGURATIONS, CONFIGURATIONS, key, None, &[200]).await?;
    if !nonempty_array(&r) {
        return fail(user, ctx, &mut r, ErrorKind::BadBody, "configuration list is empty".into());
    }
    call(user, ctx, GooseMethod::Delete, &path, CONFIGURATION, key, None, &[204]).await?;
    call(user, ctx, GooseMethod::Get, &path, CONFIGURATION, key, None, &[404]).await?;
    ctx.rec.configuration_ok();
    Ok(())
}

/// A small job: create, poll until completed, download the ZIP (checked) and
/// the JSON (checked, when asked for), delete.
pub async fn job(user: &mut GooseUser, ctx: &Ctx) -> TransactionResult {
    let Some(_flow) = ctx.begin() else { return idle().await };
    let key = ctx.plan.keys.pick(KeyRole::Jobs, user.weighted_users_index);
    let mut rng = ctx.rng();
    let mask: usize = rng.random_range(1..(1 << FORMATS.len()));
    let req = JobRequest {
        patients: rng.random_range(ctx.plan.job_patients.clone()),
        formats: FORMATS.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, f)| f.0).collect(),
        seed: u64::from(rng.random::<u32>()),
    };
    let mut r =
        call(user, ctx, GooseMethod::Post, GENERATION, GENERATION, key, Some(&req.body()), &[201]).await?;
    let Some(id) = r.json().and_then(|v| v["job_id"].as_str().map(String::from)) else {
        return fail(user, ctx, &mut r, ErrorKind::BadBody, "create job: no job_id".into());
    };
    let path = format!("/api/v1/jobs/{id}");
    let deadline = Instant::now() + ctx.plan.job_deadline;
    let mut wait = Duration::from_millis(5);
    loop {
        let mut r = call(user, ctx, GooseMethod::Get, &path, JOB, key, None, &[200]).await?;
        let status = r.json().unwrap_or(Value::Null);
        match status["status"].as_str() {
            Some("completed") => {
                if let Err(e) = check::job_status(&status, &req) {
                    return fail(user, ctx, &mut r, ErrorKind::JobMismatch, format!("job {id}: {e}"));
                }
                break;
            }
            Some("failed" | "cancelled") => {
                let text = snippet(&r.body);
                return fail(user, ctx, &mut r, ErrorKind::JobFailed, format!("job {id}: {text}"));
            }
            Some("pending" | "running") => {}
            _ => {
                let text = snippet(&r.body);
                return fail(user, ctx, &mut r, ErrorKind::BadBody, format!("job {id}: {text}"));
            }
        }
        if Instant::now() >= deadline {
            return fail(
                user,
                ctx,
                &mut r,
                ErrorKind::JobTimeout,
                format!("job {id} not completed after {:?}", ctx.plan.job_deadline),
            );
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(Duration::from_millis(50));
    }
    let download = format!("/api/v1/downloads/{id}");
    let mut r = call(user, ctx, GooseMethod::Get, &download, DOWNLOAD, key, None, &[200]).await?;
    if let Err(e) = check::job_zip(&r.body, &req) {
        return fail(user, ctx, &mut r, ErrorKind::JobMismatch, format!("job {id} ZIP: {e}"));
    }
    if req.formats.contains(&"json") {
        let mut r = call(
            user,
            ctx,
            GooseMethod::Get,
            &format!("{download}?format=json"),
            DOWNLOAD,
            key,
            None,
            &[200],
        )
        .await?;
        if let Err(e) = check::file("json", &r.body, &req) {
            return fail(user, ctx, &mut r, ErrorKind::JobMismatch, format!("job {id} JSON: {e}"));
        }
    }
    if rng.random_bool(0.25) {
        let mut r = call(user, ctx, GooseMethod::Get, JOBS, JOBS, key, None, &[200]).await?;
        if !r.json().is_some_and(|v| v.is_array()) {
            return fail(user, ctx, &mut r, ErrorKind::BadBody, "job list is not an array".into());
        }
    }
    call(user, ctx, GooseMethod::Delete, &path, JOB, key, None, &[200]).await?;
    ctx.rec.job_ok(req.patients);
    Ok(())
}

/// Streaming: NDJSON with one line per patient, ids `0..n`.
pub async fn stream(user: &mut GooseUser, ctx: &Ctx) -> TransactionResult {
    let Some(_flow) = ctx.begin() else { return idle().await };
    let key = ctx.plan.keys.pick(KeyRole::Jobs, user.weighted_users_index);
    let mut rng = ctx.rng();
    let n: u32 = rng.random_range(ctx.plan.stream_patients.clone());
    let body = json!({ "configuration": { "total_patients": n, "seed": rng.random::<u32>() } });
    let mut r = call(user, ctx, GooseMethod::Post, STREAM, STREAM, key, Some(&body), &[200]).await?;
    let header =
        r.headers.get("x-patient-count").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u32>().ok());
    if header != Some(n) {
        return fail(
            user,
            ctx,
            &mut r,
            ErrorKind::StreamMismatch,
            format!("X-Patient-Count {header:?}, asked {n}"),
        );
    }
    if let Err(e) = check::ndjson_patients(&r.body, u64::from(n)) {
        return fail(user, ctx, &mut r, ErrorKind::StreamMismatch, format!("stream of {n}: {e}"));
    }
    ctx.rec.stream_ok(n);
    Ok(())
}

/// Health probes, without a key (as a monitor or load balancer sends them).
/// Endpoints left out of the `/metrics` comparison (a load balancer's own
/// health check) are not requested: their counts could not be checked.
pub async fn health(user: &mut GooseUser, ctx: &Ctx) -> TransactionResult {
    let Some(_flow) = ctx.begin() else { return idle().await };
    for path in [LIVE, READY, HEALTH] {
        if ctx.plan.metrics_ignore.iter().any(|i| i == path) {
            continue;
        }
        call(user, ctx, GooseMethod::Get, path, path, None, None, &[200]).await?;
    }
    Ok(())
}

/// The limited key: cheap reads until the minute's limit is used up; a 429
/// is expected and must carry `Retry-After` and `X-Limit-Type`.
pub async fn limited(user: &mut GooseUser, ctx: &Ctx) -> TransactionResult {
    let Some(_flow) = ctx.begin() else { return idle().await };
    let key = ctx.plan.keys.pick(KeyRole::Limited, user.weighted_users_index);
    let sent = utc_minute();
    let mut r = call(user, ctx, GooseMethod::Get, CATEGORIES, CATEGORIES, key, None, &[200, 429]).await?;
    ctx.rec.limited(r.status == 429, sent, utc_minute());
    if r.status == 429 && (r.headers.get("retry-after").is_none() || r.headers.get("x-limit-type").is_none())
    {
        return fail(
            user,
            ctx,
            &mut r,
            ErrorKind::LimitHeaders,
            "429 without Retry-After or X-Limit-Type".into(),
        );
    }
    Ok(())
}

type FlowFn = for<'r> fn(
    &'r mut GooseUser,
    &'r Ctx,
) -> std::pin::Pin<Box<dyn Future<Output = TransactionResult> + Send + 'r>>;

fn transaction(ctx: &Arc<Ctx>, name: &str, flow: FlowFn) -> Transaction {
    let ctx = ctx.clone();
    let f: TransactionFunction = Arc::new(move |user| {
        let ctx = ctx.clone();
        Box::pin(async move { flow(user, &ctx).await })
    });
    Transaction::new(f).set_name(name)
}

/// The scenarios of a plan, with their weights (scenarios of weight 0, and the
/// limited one without a limited key, are left out).
pub fn scenarios(ctx: &Arc<Ctx>) -> Result<Vec<Scenario>, goose::GooseError> {
    let w = ctx.plan.weights;
    let has_limited = !ctx.plan.keys.of(KeyRole::Limited).is_empty();
    let list: [(&str, usize, FlowFn); 6] = [
        ("reference", w.reference, |u, c| Box::pin(reference(u, c))),
        ("configurations", w.configurations, |u, c| Box::pin(configurations(u, c))),
        ("jobs", w.jobs, |u, c| Box::pin(job(u, c))),
        ("streaming", w.streaming, |u, c| Box::pin(stream(u, c))),
        ("health", w.health, |u, c| Box::pin(health(u, c))),
        ("limited", if has_limited { w.limited } else { 0 }, |u, c| Box::pin(limited(u, c))),
    ];
    let (lo, hi) = (*ctx.plan.think.start(), *ctx.plan.think.end());
    let mut out = Vec::new();
    for (name, weight, flow) in list {
        if weight == 0 {
            continue;
        }
        let mut s =
            Scenario::new(name).set_weight(weight)?.register_transaction(transaction(ctx, name, flow));
        if !hi.is_zero() {
            s = s.set_wait_time(lo, hi)?;
        }
        out.push(s);
    }
    Ok(out)
}
