//! deploy/prometheus and deploy/grafana: promtool checks and unit tests, and a
//! live Prometheus scraping two patientgen instances under a small workload,
//! through which every dashboard panel and every rule is evaluated.

use crate::common::*;
use promql_parser::parser::{self, Expr, LabelModifier};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn promtool() -> PathBuf {
    tool("promtool", "prometheus")
}

fn prometheus_dir() -> PathBuf {
    root().join("deploy/prometheus")
}

/// The rule files, relative to deploy/prometheus.
fn rule_files() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(prometheus_dir().join("rules"))
        .expect("deploy/prometheus/rules")
        .map(|e| format!("rules/{}", e.expect("entry").file_name().to_string_lossy()))
        .filter(|f| f.ends_with(".yml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no rule files in deploy/prometheus/rules");
    files
}

/// One recording or alerting rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    pub alert: bool,
    pub expr: String,
    pub annotations: Value,
}

pub fn rules() -> Vec<Rule> {
    let mut out = Vec::new();
    for file in rule_files() {
        let doc = yaml(&format!("deploy/prometheus/{file}"));
        for group in doc["groups"].as_array().unwrap_or_else(|| panic!("{file}: no groups")) {
            for rule in group["rules"].as_array().unwrap_or_else(|| panic!("{file}: a group without rules")) {
                let (name, alert) = match (rule["record"].as_str(), rule["alert"].as_str()) {
                    (Some(r), None) => (r, false),
                    (None, Some(a)) => (a, true),
                    _ => panic!("{file}: a rule that is neither a recording nor an alert: {rule}"),
                };
                out.push(Rule {
                    name: name.to_string(),
                    alert,
                    expr: rule["expr"]
                        .as_str()
                        .unwrap_or_else(|| panic!("{file}: {name} without expr"))
                        .to_string(),
                    annotations: rule["annotations"].clone(),
                });
            }
        }
    }
    out
}

/// One query of a dashboard panel.
#[derive(Debug, Clone)]
pub struct PanelQuery {
    pub dashboard: String,
    pub panel: String,
    pub ref_id: String,
    pub expr: String,
}

pub fn dashboard_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("deploy/grafana/dashboards"))
        .expect("deploy/grafana/dashboards")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no dashboards in deploy/grafana/dashboards");
    files
}

pub fn dashboard(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("dashboard");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// Every panel of a dashboard, rows' nested panels included.
pub fn panels(dash: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    for p in dash["panels"].as_array().expect("panels") {
        out.push(p.clone());
        if let Some(nested) = p["panels"].as_array() {
            out.extend(nested.iter().cloned());
        }
    }
    out
}

pub fn panel_queries() -> Vec<PanelQuery> {
    let mut out = Vec::new();
    for file in dashboard_files() {
        let dash = dashboard(&file);
        let title = dash["title"].as_str().unwrap_or("?").to_string();
        for panel in panels(&dash).iter().filter(|p| p["type"] != "row") {
            let targets = panel["targets"].as_array().filter(|t| !t.is_empty());
            let targets =
                targets.unwrap_or_else(|| panic!("{title}: panel {} has no queries", panel["title"]));
            for t in targets {
                out.push(PanelQuery {
                    dashboard: title.clone(),
                    panel: panel["title"].as_str().unwrap_or("?").to_string(),
                    ref_id: t["refId"].as_str().unwrap_or("?").to_string(),
                    expr: t["expr"]
                        .as_str()
                        .unwrap_or_else(|| panic!("{title}: a query without expr"))
                        .to_string(),
                });
            }
        }
    }
    out
}

/// Grafana's built-in interval variables as Grafana would expand them for a
/// one-hour view; any other `$variable` is an error (the dashboards define none).
pub fn expand_grafana_variables(expr: &str) -> String {
    let out = expr.replace("$__rate_interval", "1m").replace("$__interval", "15s").replace("$__range", "1h");
    assert!(!out.contains('$'), "unknown Grafana variable in {expr}");
    out
}

/// What a PromQL expression selects and which labels its result must carry.
#[derive(Debug, Default)]
struct Selectors {
    /// metric name -> label names used in its matchers.
    metrics: BTreeMap<String, BTreeSet<String>>,
}

fn walk(expr: &Expr, out: &mut Selectors) {
    match expr {
        Expr::Aggregate(a) => {
            walk(&a.expr, out);
            if let Some(p) = &a.param {
                walk(p, out);
            }
        }
        Expr::Unary(u) => walk(&u.expr, out),
        Expr::Binary(b) => {
            walk(&b.lhs, out);
            walk(&b.rhs, out);
        }
        Expr::Paren(p) => walk(&p.expr, out),
        Expr::Subquery(s) => walk(&s.expr, out),
        Expr::VectorSelector(vs) => selector(vs, out),
        Expr::MatrixSelector(ms) => selector(&ms.vs, out),
        Expr::Call(c) => c.args.args.iter().for_each(|a| walk(a, out)),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
    }
}

fn selector(vs: &promql_parser::parser::VectorSelector, out: &mut Selectors) {
    let name = vs.name.clone().unwrap_or_else(|| {
        let m = vs.matchers.matchers.iter().find(|m| m.name == "__name__");
        m.map(|m| m.value.clone()).unwrap_or_default()
    });
    let labels = out.metrics.entry(name).or_default();
    for m in vs.matchers.matchers.iter().chain(vs.matchers.or_matchers.iter().flatten()) {
        if m.name != "__name__" {
            labels.insert(m.name.clone());
        }
    }
}

/// Labels every series of the result must have (from `by (...)` groupings),
/// `le` aside, which `histogram_quantile` consumes.
fn output_labels(expr: &Expr) -> BTreeSet<String> {
    match expr {
        Expr::Aggregate(a) => match &a.modifier {
            Some(LabelModifier::Include(l)) => l.labels.iter().filter(|l| *l != "le").cloned().collect(),
            _ => BTreeSet::new(),
        },
        Expr::Binary(b) => {
            let mut l = output_labels(&b.lhs);
            l.extend(output_labels(&b.rhs));
            l
        }
        Expr::Paren(p) => output_labels(&p.expr),
        Expr::Unary(u) => output_labels(&u.expr),
        Expr::Call(c) => c.args.args.iter().flat_map(|a| output_labels(a)).collect(),
        _ => BTreeSet::new(),
    }
}

#[test]
fn promtool_accepts_the_scrape_config_and_the_rules() {
    let dir = prometheus_dir();
    let out = run_ok(
        Command::new(promtool()).current_dir(&dir).args(["check", "config", "prometheus.yml"]),
        Duration::from_secs(60),
    );
    assert!(out.contains("SUCCESS"), "{out}");
    let files = rule_files();
    let out = run_ok(
        Command::new(promtool()).current_dir(&dir).args(["check", "rules"]).args(&files),
        Duration::from_secs(60),
    );
    assert_eq!(out.matches("SUCCESS").count(), files.len(), "{out}");
    // The compose topology's target files are well-formed file_sd lists.
    for entry in std::fs::read_dir(dir.join("targets")).expect("targets") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("targets file");
        let groups: Value = serde_yaml_ng::from_str(&text).expect("targets YAML");
        let groups = groups.as_array().unwrap_or_else(|| panic!("{}: not a list", path.display()));
        assert!(
            groups.iter().all(|g| g["targets"].as_array().is_some_and(|t| !t.is_empty())),
            "{}",
            path.display()
        );
    }
}

#[test]
fn promtool_unit_tests_of_every_alert_pass() {
    let test = "tests/patientgen-alerts.test.yml";
    let out = run_ok(
        Command::new(promtool()).current_dir(prometheus_dir()).args(["test", "rules", test]),
        Duration::from_secs(120),
    );
    assert!(out.contains("SUCCESS"), "{out}");
    // Every alert has a case where it fires and one where it must not.
    let doc = yaml(&format!("deploy/prometheus/{test}"));
    let mut fires = BTreeSet::new();
    let mut quiet = BTreeSet::new();
    for case in doc["tests"].as_array().expect("tests") {
        for a in case["alert_rule_test"].as_array().into_iter().flatten() {
            let name = a["alertname"].as_str().expect("alertname").to_string();
            if a["exp_alerts"].as_array().is_some_and(|e| !e.is_empty()) {
                fires.insert(name);
            } else {
                quiet.insert(name);
            }
        }
    }
    for rule in rules().iter().filter(|r| r.alert) {
        assert!(fires.contains(&rule.name), "{test} has no case in which {} fires", rule.name);
        assert!(quiet.contains(&rule.name), "{test} has no case in which {} stays quiet", rule.name);
    }
}

#[test]
fn every_alert_has_a_runbook_in_operations_md() {
    let ops = read("docs/OPERATIONS.md");
    for rule in rules().iter().filter(|r| r.alert) {
        assert!(
            ops.lines().any(|l| l.trim() == format!("### {}", rule.name)),
            "docs/OPERATIONS.md has no `### {}` runbook section",
            rule.name
        );
        let anchor = format!("docs/OPERATIONS.md#{}", rule.name.to_lowercase());
        assert_eq!(
            rule.annotations["runbook"].as_str(),
            Some(anchor.as_str()),
            "{}: runbook annotation",
            rule.name
        );
        assert!(rule.annotations["summary"].is_string(), "{}: no summary", rule.name);
    }
}

/// A Prometheus with deploy/prometheus's configuration and rules, scraping the
/// given targets every second.
struct Prometheus {
    proc: Proc,
    url: String,
}

impl Prometheus {
    fn start(dir: &Path, targets: &[&str]) -> Prometheus {
        let bin = tool("prometheus", "prometheus");
        let home = dir.join("prometheus");
        std::fs::create_dir_all(home.join("rules")).expect("rules dir");
        std::fs::create_dir_all(home.join("targets")).expect("targets dir");
        // deploy/prometheus/prometheus.yml as it is, but every second instead of every 15.
        let mut config = yaml("deploy/prometheus/prometheus.yml");
        config["global"]["scrape_interval"] = json!("1s");
        config["global"]["scrape_timeout"] = json!("1s");
        config["global"]["evaluation_interval"] = json!("1s");
        std::fs::write(home.join("prometheus.yml"), serde_yaml_ng::to_string(&config).expect("yaml"))
            .expect("write");
        for file in rule_files() {
            std::fs::copy(prometheus_dir().join(&file), home.join(&file)).expect("copy rules");
        }
        let targets = json!([{ "targets": targets, "labels": { "environment": "test" } }]);
        std::fs::write(
            home.join("targets/patientgen.yml"),
            serde_yaml_ng::to_string(&targets).expect("yaml"),
        )
        .expect("targets");
        let port = free_port();
        let mut cmd = Command::new(bin);
        cmd.arg(format!("--config.file={}", home.join("prometheus.yml").display()))
            .arg(format!("--storage.tsdb.path={}", home.join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"));
        let mut proc = Proc::spawn(cmd, "prometheus", dir.join("prometheus.log"));
        let url = format!("http://127.0.0.1:{port}");
        wait_for(Duration::from_secs(60), "Prometheus to be ready", || {
            proc.assert_running();
            client().get(format!("{url}/-/ready")).send().ok().filter(|r| r.status().is_success()).map(|_| ())
        });
        Prometheus { proc, url }
    }

    /// `/api/v1/query`: Ok(result array) or Err(Prometheus's error).
    fn query(&self, q: &str) -> Result<Vec<Value>, String> {
        let url = reqwest::Url::parse_with_params(&format!("{}/api/v1/query", self.url), [("query", q)])
            .map_err(|e| format!("bad URL: {e}"))?;
        let r = client().get(url).send().map_err(|e| format!("request failed: {e}"))?;
        let v: Value = r.json().map_err(|e| format!("not JSON: {e}"))?;
        if v["status"] != "success" {
            return Err(format!("{}: {}", v["errorType"], v["error"]));
        }
        Ok(v["data"]["result"].as_array().cloned().unwrap_or_default())
    }

    fn scalar(&self, q: &str) -> Option<f64> {
        let r = self.query(q).ok()?;
        r.first()?["value"][1].as_str()?.parse().ok()
    }
}

fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or_default()
}

fn create_key(database_url: &str, args: &[&str]) -> String {
    let out = run_ok(
        Command::new(bin())
            .args(["keys", "create", "--format", "json", "--database-url", database_url])
            .args(args)
            .env_remove("DATABASE_URL"),
        Duration::from_secs(60),
    );
    let v: Value = serde_json::from_str(&out).expect("keys create JSON");
    v["key"].as_str().expect("key").to_string()
}

fn status_of(req: reqwest::blocking::RequestBuilder) -> u16 {
    req.send().expect("request").status().as_u16()
}

/// A small workload touching every metric the server has: routes with 2xx, 4xx
/// (401, 404, 400/422, 429 for a live and a demo key), a stream, and jobs.
fn workload(server: &Server, live_limited: &str, demo: &str) {
    let c = client();
    let u = &server.url;
    for path in ["/health", "/api/v1/health/live", "/api/v1/health/ready", "/api/v1/health", "/openapi.json"]
    {
        assert_eq!(status_of(c.get(format!("{u}{path}"))), 200, "{path}");
    }
    assert_eq!(status_of(c.get(format!("{u}/no/such/route"))), 404);
    assert_eq!(status_of(c.get(format!("{u}/api/v1/presets"))), 401);
    assert_eq!(status_of(c.get(format!("{u}/api/v1/presets")).header("X-API-Key", "sk_live_wrong")), 401);
    assert_eq!(status_of(c.get(format!("{u}/api/v1/presets")).header("X-API-Key", ADMIN)), 200);
    // Key changes reach the server within its key refresh period.
    for key in [live_limited, demo] {
        wait_for(Duration::from_secs(10), "the new key to be known", || {
            let s = status_of(c.get(format!("{u}/api/v1/presets")).header("X-API-Key", key));
            (s != 401).then_some(())
        });
    }
    // 8 requests per key: even if a minute boundary splits them 4 + 4, both keys (3 and 2 a
    // minute) see at least one 429.
    for key in [live_limited, demo] {
        let limited = (0..8)
            .filter(|_| status_of(c.get(format!("{u}/api/v1/presets")).header("X-API-Key", key)) == 429)
            .count();
        assert!(limited >= 1, "a key's minute limit refused none of 8 requests");
    }
    let bad = c
        .post(format!("{u}/api/v1/generation/"))
        .header("X-API-Key", ADMIN)
        .json(&json!({"configuration": {"total_patients": -5}}));
    assert!([400, 422].contains(&status_of(bad)));
    let stream = c
        .post(format!("{u}/api/v1/streaming/generate"))
        .header("X-API-Key", ADMIN)
        .json(&json!({"total_patients": 20, "seed": 3}))
        .send()
        .expect("stream");
    assert_eq!(stream.status().as_u16(), 200);
    assert!(!stream.text().expect("stream body").is_empty());
    let mut jobs = Vec::new();
    for seed in [1, 2] {
        let r = c
            .post(format!("{u}/api/v1/generation/"))
            .header("X-API-Key", ADMIN)
            .json(&json!({"configuration": {"total_patients": 30, "seed": seed}, "output_formats": ["json", "csv"]}))
            .send()
            .expect("job");
        assert_eq!(r.status().as_u16(), 201);
        jobs.push(r.json::<Value>().expect("job json")["job_id"].as_str().expect("job_id").to_string());
    }
    for job in jobs {
        wait_for(Duration::from_secs(60), &format!("job {job} to complete"), || {
            let v: Value = c
                .get(format!("{u}/api/v1/jobs/{job}"))
                .header("X-API-Key", ADMIN)
                .send()
                .ok()?
                .json()
                .ok()?;
            assert_ne!(v["status"], "failed", "job failed: {v}");
            (v["status"] == "completed").then_some(())
        });
    }
}

/// Metric names in a Prometheus text exposition (histogram series included).
fn exposition_names(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split(['{', ' ']).next().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn every_panel_and_rule_evaluates_on_a_live_prometheus() {
    tool("prometheus", "prometheus");
    let dir = tempfile::tempdir().expect("tempdir");
    let database_url = tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(patientgen_storage::testing::fresh_postgres_url());
    let redis_url = std::env::var("PATIENTGEN_TEST_REDIS_URL").unwrap_or_else(|_| {
        panic!("PATIENTGEN_TEST_REDIS_URL is not set: run the tests with scripts/test (it starts PostgreSQL and Redis)")
    });
    let prefix = format!("deploy-test-{}", uuid::Uuid::new_v4().simple());
    // Instance a shares limits through Redis; instance b's Redis is unreachable,
    // so it runs degraded (the limiter-degraded alert must see it, and only it).
    let a = Server::start(
        dir.path(),
        "instance-a",
        &[("DATABASE_URL", &database_url), ("REDIS_URL", &redis_url), ("PATIENTGEN_REDIS_PREFIX", &prefix)],
        &["--demo-key"],
    );
    let dead_redis = format!("redis://127.0.0.1:{}", free_port());
    let b = Server::start(
        dir.path(),
        "instance-b",
        &[("DATABASE_URL", &database_url), ("REDIS_URL", &dead_redis), ("PATIENTGEN_REDIS_PREFIX", &prefix)],
        &["--demo-key"],
    );
    let prom = Prometheus::start(dir.path(), &[&a.addr, &b.addr]);
    wait_for(Duration::from_secs(30), "both instances to be scraped", || {
        (prom.scalar("sum(up{job=\"patientgen\"})") == Some(2.0)).then_some(())
    });

    let live = create_key(&database_url, &["--name", "deploy-live", "--minute", "3"]);
    let demo = create_key(&database_url, &["--name", "deploy-demo", "--demo", "--minute", "2"]);
    workload(&a, &live, &demo);
    workload(&b, &live, &demo);
    // Two scrapes after the workload, so that rates over it exist.
    let end = unix_now();
    wait_for(Duration::from_secs(30), "two scrapes after the workload", || {
        let t = prom.scalar("min(timestamp(up{job=\"patientgen\"}))")?;
        (t > end + 2.2).then_some(())
    });

    // What the server exports (after the workload) and which labels each metric has.
    let mut failures_docs = Vec::new();
    let mut exported = BTreeSet::new();
    for s in [&a, &b] {
        let text = client().get(format!("{}/metrics", s.url)).send().expect("metrics").text().expect("text");
        exported.extend(exposition_names(&text));
    }
    // Every exported metric is documented in the metrics reference.
    let ops = read("docs/OPERATIONS.md");
    for name in &exported {
        let base = ["_bucket", "_sum", "_count"].iter().find_map(|s| name.strip_suffix(s)).unwrap_or(name);
        if !ops.contains(&format!("`{base}`")) && !ops.contains(&format!("`{name}`")) {
            failures_docs
                .push(format!("metric `{name}` is exported but not documented in docs/OPERATIONS.md"));
        }
    }
    let series = |name: &str| -> Vec<Value> {
        prom.query(&format!("{{__name__=\"{name}\", job=\"patientgen\"}}")).unwrap_or_default()
    };
    let all_rules = rules();
    let recorded: BTreeSet<String> = all_rules.iter().filter(|r| !r.alert).map(|r| r.name.clone()).collect();

    let mut failures = failures_docs;
    // Names and label matchers of an expression refer to what exists.
    let check_names = |what: &str, expr: &str, failures: &mut Vec<String>| -> Option<Expr> {
        let ast = match parser::parse(expr) {
            Ok(ast) => ast,
            Err(e) => {
                failures.push(format!("{what}: does not parse: {e}"));
                return None;
            }
        };
        let mut sel = Selectors::default();
        walk(&ast, &mut sel);
        for (name, labels) in &sel.metrics {
            if name == "up" || recorded.contains(name) {
                continue;
            }
            if !exported.contains(name) {
                failures
                    .push(format!("{what}: metric `{name}` is not exported by patientgen (GET /metrics)"));
                continue;
            }
            let mut known: BTreeSet<String> = ["job", "instance", "environment"].map(String::from).into();
            for s in series(name) {
                known.extend(s["metric"].as_object().into_iter().flatten().map(|(k, _)| k.clone()));
            }
            for l in labels.difference(&known) {
                failures.push(format!("{what}: metric `{name}` has no label `{l}`"));
            }
        }
        Some(ast)
    };
    // A query must parse in Prometheus, and when `must_return` return series
    // carrying every label it groups by.
    let evaluate = |what: &str,
                    expr: &str,
                    ast: Option<&Expr>,
                    must_return: bool,
                    failures: &mut Vec<String>| {
        match prom.query(expr) {
            Err(e) => failures.push(format!("{what}: Prometheus refuses it: {e}")),
            Ok(result) if must_return && result.is_empty() => {
                failures.push(format!("{what}: returns no data"))
            }
            Ok(result) => {
                let wanted = ast.map(output_labels).unwrap_or_default();
                for s in result.iter().filter(|_| must_return) {
                    for l in &wanted {
                        if s["metric"][l].as_str().is_none_or(str::is_empty) {
                            failures.push(format!(
                                "{what}: series {} lacks the label `{l}` it is grouped by",
                                s["metric"]
                            ));
                            break;
                        }
                    }
                }
            }
        }
    };

    let queries = panel_queries();
    for q in &queries {
        let what = format!("dashboard '{}' panel '{}' query {}", q.dashboard, q.panel, q.ref_id);
        let expr = expand_grafana_variables(&q.expr);
        let ast = check_names(&what, &expr, &mut failures);
        evaluate(&what, &expr, ast.as_ref(), true, &mut failures);
    }

    // Every rule is loaded and evaluated without error by Prometheus.
    let loaded = wait_for(Duration::from_secs(30), "every rule to be evaluated", || {
        let v = get_json(&format!("{}/api/v1/rules", prom.url));
        let rules: Vec<Value> = v["data"]["groups"]
            .as_array()?
            .iter()
            .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
            .collect();
        rules.iter().all(|r| r["health"] != "unknown").then_some(rules)
    });
    for rule in &all_rules {
        let kind = if rule.alert { "alert" } else { "recording rule" };
        let what = format!("{kind} {}", rule.name);
        match loaded.iter().find(|r| r["name"] == rule.name.as_str()) {
            None => failures.push(format!("{what}: not loaded by Prometheus")),
            Some(r) if r["health"] != "ok" => {
                failures.push(format!("{what}: health {} ({})", r["health"], r["lastError"]))
            }
            Some(_) => {}
        }
        let ast = check_names(&what, &rule.expr, &mut failures);
        // Recording rules feed the dashboard and must have data; alerts need only evaluate.
        evaluate(&what, &rule.expr, ast.as_ref(), !rule.alert, &mut failures);
    }

    // The limiter-degraded alert sees instance b, and only b.
    let pending =
        wait_for(Duration::from_secs(30), "PatientgenRateLimiterDegraded to be pending for b", || {
            let v = get_json(&format!("{}/api/v1/alerts", prom.url));
            let alerts: Vec<Value> = v["data"]["alerts"].as_array()?.clone();
            let ours: Vec<Value> = alerts
                .into_iter()
                .filter(|a| a["labels"]["alertname"] == "PatientgenRateLimiterDegraded")
                .collect();
            ours.iter().any(|a| a["labels"]["instance"] == b.addr.as_str()).then_some(ours)
        });
    let healthy = a.addr.as_str();
    assert!(
        pending.iter().all(|alert| alert["labels"]["instance"] != healthy),
        "PatientgenRateLimiterDegraded for the healthy instance: {pending:?}"
    );
    assert!(prom.query("ALERTS{alertname=\"PatientgenInstanceDown\"}").expect("alerts").is_empty());

    drop(prom.proc);
    assert!(
        failures.is_empty(),
        "{} problems in {} panel queries and {} rules:\n  {}",
        failures.len(),
        queries.len(),
        all_rules.len(),
        failures.join("\n  ")
    );
}
