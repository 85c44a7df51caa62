//! `/metrics` is accurate and bounded: a known workload (requests per route
//! and status, jobs, patients, requests refused by a limit) moves every counter
//! by exactly what it did; 1,000 distinct unknown paths add no route label;
//! every metric has `# HELP`.
//!
//! The metrics recorder is process-global, so the tests of this file take a
//! lock and compare a scrape after their workload with one before it.

mod common;

use common::*;
use patientgen_server::clock::ManualClock;
use patientgen_storage::{KeyLimits, KeySettings, NewApiKey, Scopes};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// One sample: metric name and its labels, sorted.
type Series = (String, BTreeMap<String, String>);

/// The samples of a Prometheus text exposition.
fn parse(text: &str) -> BTreeMap<Series, f64> {
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("bad sample line: {line}"));
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("bad value in: {line}"));
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => {
                (name, rest.strip_suffix('}').unwrap_or_else(|| panic!("bad labels: {line}")))
            }
            None => (series, ""),
        };
        let mut map = BTreeMap::new();
        // Label values here never contain `,` or `"` escapes.
        for pair in labels.split(',').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or_else(|| panic!("bad label in: {line}"));
            map.insert(k.to_string(), v.trim_matches('"').to_string());
        }
        out.insert((name.to_string(), map), value);
    }
    out
}

async fn scrape(s: &TestServer) -> String {
    let r = s.client.get(format!("{}/metrics", s.url)).send().await.expect("metrics");
    assert_eq!(r.status().as_u16(), 200);
    r.text().await.expect("metrics text")
}

fn series(name: &str, labels: &[(&str, &str)]) -> Series {
    (name.to_string(), labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
}

/// The series of `families` that changed between two scrapes, with their change.
fn deltas(
    before: &BTreeMap<Series, f64>,
    after: &BTreeMap<Series, f64>,
    families: &[&str],
) -> BTreeMap<Series, f64> {
    after
        .iter()
        .filter(|((name, _), _)| families.contains(&name.as_str()))
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0.0)))
        .filter(|(_, d)| *d != 0.0)
        .collect()
}

async fn status(r: reqwest::RequestBuilder) -> u16 {
    r.send().await.expect("request").status().as_u16()
}

async fn demo_key(s: &TestServer, limits: KeyLimits) -> String {
    let (key, plaintext) = NewApiKey::generate(KeySettings {
        name: "metrics demo".into(),
        email: None,
        is_demo: true,
        scopes: Scopes::parse("generate,read").expect("scopes"),
        limits,
        expires_at: None,
        metadata: json!({}),
    })
    .expect("key");
    s.state.store.insert_key(&key, s.state.clock.now()).await.expect("insert key");
    plaintext
}

fn limits(per_minute: i32, patients_per_day: Option<i32>) -> KeyLimits {
    KeyLimits {
        max_patients_per_request: 1000,
        max_requests_per_minute: per_minute,
        max_requests_per_hour: 1000,
        max_requests_per_day: None,
        max_patients_per_day: patients_per_day,
    }
}

#[tokio::test]
async fn counters_match_a_known_workload_exactly() {
    let _serial = SERIAL.lock().await;
    // A clock that stands still: no minute boundary splits the limited requests.
    let clock = Arc::new(ManualClock::new("2026-03-04T10:20:30Z".parse().expect("time")));
    let s = start_with_clock(Db::Sqlite, clock, |_| {}).await;
    let live = s.key("read", limits(2, None)).await;
    let demo = demo_key(&s, limits(100, Some(50))).await;
    let before = parse(&scrape(&s).await);

    // N requests per route and status.
    for _ in 0..3 {
        assert_eq!(status(s.get("/api/v1/health/live", None)).await, 200);
    }
    for path in ["/no/such/route", "/api/v1/nothing-here"] {
        assert_eq!(status(s.get(path, None)).await, 404);
    }
    for _ in 0..4 {
        assert_eq!(status(s.get("/api/v1/presets", None)).await, 401);
    }
    assert_eq!(status(s.get("/api/v1/presets", Some("sk_live_wrong"))).await, 401);
    // L = 2 refused by a limit: the live key's minute (2 allowed, the third refused) ...
    for expected in [200, 200, 429] {
        assert_eq!(status(s.get("/api/v1/presets", Some(&live))).await, expected);
    }
    // ... and the demo key's daily patients (30 fit in 50, 30 more do not).
    let job_a = s
        .create_job(
            &demo,
            &json!({"configuration": {"total_patients": 30, "seed": 1}, "output_formats": ["json"]}),
        )
        .await;
    let refused = s.post(
        "/api/v1/generation/",
        Some(&demo),
        &json!({"configuration": {"total_patients": 30, "seed": 2}}),
    );
    assert_eq!(status(refused).await, 429);
    // K = 2 jobs, P = 30 + 20 job patients (the second in two formats) and 15 streamed.
    let job_b = s
        .create_job(
            ADMIN,
            &json!({"configuration": {"total_patients": 20, "seed": 3}, "output_formats": ["json", "csv"]}),
        )
        .await;
    let stream = s.post("/api/v1/streaming/generate", Some(ADMIN), &json!({"total_patients": 15, "seed": 4}));
    let stream = stream.send().await.expect("stream");
    assert_eq!(stream.status().as_u16(), 200);
    assert!(!stream.text().await.expect("stream body").is_empty(), "the stream sent nothing");

    // Wait for both jobs through /metrics, which is not counted itself.
    let completed =
        series("job_status_changes_total", &[("from_status", "running"), ("to_status", "completed")]);
    let mut after = BTreeMap::new();
    for _ in 0..600 {
        after = parse(&scrape(&s).await);
        let done =
            after.get(&completed).copied().unwrap_or(0.0) - before.get(&completed).copied().unwrap_or(0.0);
        if done >= 2.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = (job_a, job_b);

    let families = [
        "api_requests_total",
        "auth_requests_total",
        "rate_limit_decisions_total",
        "rate_limited_requests_total",
        "job_status_changes_total",
        "patients_generated_total",
    ];
    let req = |method: &str, endpoint: &str, code: &str| {
        series("api_requests_total", &[("method", method), ("endpoint", endpoint), ("status", code)])
    };
    let decision = |outcome: &str, key_type: &str, limit: &str| {
        series(
            "rate_limit_decisions_total",
            &[("outcome", outcome), ("key_type", key_type), ("limit", limit)],
        )
    };
    let expected: BTreeMap<Series, f64> = [
        (req("GET", "/api/v1/health/live", "200"), 3.0),
        (req("GET", "unmatched", "404"), 2.0),
        (req("GET", "/api/v1/presets", "401"), 5.0),
        (req("GET", "/api/v1/presets", "200"), 2.0),
        (req("GET", "/api/v1/presets", "429"), 1.0),
        (req("POST", "/api/v1/generation/", "201"), 2.0),
        (req("POST", "/api/v1/generation/", "429"), 1.0),
        (req("POST", "/api/v1/streaming/generate", "200"), 1.0),
        // live 3 + demo 2 + admin 2 accepted; 4 without a key and 1 wrong key rejected.
        (series("auth_requests_total", &[("outcome", "accepted")]), 7.0),
        (series("auth_requests_total", &[("outcome", "rejected")]), 5.0),
        (decision("allowed", "live", "requests"), 2.0),
        (decision("limited", "live", "requests_per_minute"), 1.0),
        (decision("allowed", "demo", "requests"), 2.0),
        (decision("allowed", "demo", "patients_per_day"), 1.0),
        (decision("limited", "demo", "patients_per_day"), 1.0),
        (decision("allowed", "admin", "requests"), 2.0),
        (decision("allowed", "admin", "patients_per_day"), 2.0),
        (series("rate_limited_requests_total", &[("limit", "requests_per_minute")]), 1.0),
        (series("rate_limited_requests_total", &[("limit", "patients_per_day")]), 1.0),
        (series("job_status_changes_total", &[("from_status", "none"), ("to_status", "pending")]), 2.0),
        (series("job_status_changes_total", &[("from_status", "pending"), ("to_status", "running")]), 2.0),
        (completed.clone(), 2.0),
        (series("patients_generated_total", &[("format", "json"), ("source", "job")]), 50.0),
        (series("patients_generated_total", &[("format", "csv"), ("source", "job")]), 20.0),
        (series("patients_generated_total", &[("format", "ndjson"), ("source", "stream")]), 15.0),
    ]
    .into_iter()
    .collect();
    let got = deltas(&before, &after, &families);
    assert_eq!(got, expected, "counter changes after the workload");

    // Two jobs ran: two more job durations, and a worker pool of one, idle again.
    let count = |m: &BTreeMap<Series, f64>| {
        m.get(&series("job_execution_seconds_count", &[("job_type", "generation")])).copied().unwrap_or(0.0)
    };
    assert_eq!(count(&after) - count(&before), 2.0);
    assert_eq!(after.get(&series("worker_pool_busy", &[])), Some(&0.0));
    assert!(after.get(&series("worker_pool_size", &[])).is_some_and(|v| *v >= 1.0));
    assert_eq!(after.get(&series("job_queue_oldest_pending_age_seconds", &[])), Some(&0.0));
    let acquired = |m: &BTreeMap<Series, f64>| {
        m.get(&series("db_pool_acquire_seconds_count", &[])).copied().unwrap_or(0.0)
    };
    assert!(acquired(&after) > acquired(&before), "no database pool acquisition was measured");
    s.stop().await;
}

#[tokio::test]
async fn a_thousand_unknown_paths_add_no_route_label() {
    let _serial = SERIAL.lock().await;
    let s = start(Db::Sqlite, |_| {}).await;
    let endpoints = |text: &str| -> BTreeSet<String> {
        parse(text)
            .into_keys()
            .filter(|(name, _)| name == "api_requests_total")
            .filter_map(|(_, labels)| labels.get("endpoint").cloned())
            .collect()
    };
    let methods = |text: &str| -> BTreeSet<String> {
        parse(text)
            .into_keys()
            .filter(|(name, _)| name == "api_requests_total")
            .filter_map(|(_, labels)| labels.get("method").cloned())
            .collect()
    };
    // Known once, so that only new labels are counted below.
    assert_eq!(status(s.get("/warm-up", None)).await, 404);
    let custom = reqwest::Method::from_bytes(b"PROBE0").expect("method");
    let _ = s.client.request(custom, format!("{}/warm-up", s.url)).send().await.expect("request");
    let before = scrape(&s).await;
    for i in 0..1000 {
        let path = match i % 4 {
            0 => format!("/unknown/{i}"),
            1 => format!("/api/v1/no-such-thing-{i}"),
            2 => format!("/api/v1/jobs/{i}/no/such/{i}"),
            _ => format!("/static-{i}.css"),
        };
        let code = status(s.get(&path, None)).await;
        assert!([404, 307].contains(&code), "{path}: {code}");
    }
    for i in 1..50 {
        let custom = reqwest::Method::from_bytes(format!("PROBE{i}").as_bytes()).expect("method");
        let _ = s.client.request(custom, format!("{}/unknown/{i}", s.url)).send().await.expect("request");
    }
    let after = scrape(&s).await;
    assert_eq!(endpoints(&after), endpoints(&before), "new route labels");
    assert_eq!(methods(&after), methods(&before), "new method labels");
    assert!(endpoints(&after).contains("unmatched"));
    assert!(methods(&after).contains("other"));
    let series_count = |t: &str| parse(t).len();
    assert!(series_count(&after) <= series_count(&before) + 5, "the exposition grew with unknown paths");
    s.stop().await;
}

#[tokio::test]
async fn every_metric_has_help_text() {
    let _serial = SERIAL.lock().await;
    let s = start(Db::Sqlite, |_| {}).await;
    assert_eq!(status(s.get("/api/v1/health/live", None)).await, 200);
    let text = scrape(&s).await;
    let mut typed = BTreeSet::new();
    let mut helped = BTreeSet::new();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        match (words.next(), words.next(), words.next()) {
            (Some("#"), Some("TYPE"), Some(name)) => {
                typed.insert(name.to_string());
            }
            (Some("#"), Some("HELP"), Some(name)) => {
                assert!(words.next().is_some(), "empty HELP for {name}");
                helped.insert(name.to_string());
            }
            _ => {}
        }
    }
    let missing: Vec<_> = typed.difference(&helped).collect();
    assert!(missing.is_empty(), "metrics without # HELP: {missing:?}\n{text}");
    // Every family with samples has a TYPE (and so a HELP) line.
    for (name, _) in parse(&text).keys() {
        let base = ["_bucket", "_sum", "_count"].iter().find_map(|s| name.strip_suffix(s)).unwrap_or(name);
        assert!(typed.contains(base) || typed.contains(name.as_str()), "{name} has no # TYPE line");
    }
    for name in
        ["process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds", "worker_pool_size"]
    {
        assert!(helped.contains(name), "{name} is not exported with # HELP");
    }
    // The metrics reference of docs/OPERATIONS.md names every exported metric.
    let ops = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/OPERATIONS.md"))
        .expect("docs/OPERATIONS.md");
    let undocumented: Vec<_> = typed.iter().filter(|n| !ops.contains(&format!("`{n}`"))).collect();
    assert!(undocumented.is_empty(), "not in docs/OPERATIONS.md's metrics reference: {undocumented:?}");
    s.stop().await;
}
