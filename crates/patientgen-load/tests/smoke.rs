//! The load smoke of the normal test suite (so the tool cannot rot): ten users
//! for a few seconds against an in-process server on the embedded database,
//! every scenario on, and every success criterion of a load run asserted.

use patientgen_load::keys::RoleKey;
use patientgen_load::{Keys, Plan};
use patientgen_server::{ServerConfig, build_state, serve_on};
use patientgen_storage::{KeyLimits, KeySettings, NewApiKey, Scope, Scopes};
use std::time::Duration;

const LIMITED_PER_MINUTE: i32 = 5;

fn limits(per_minute: i32, patients: i32) -> KeyLimits {
    KeyLimits {
        max_patients_per_request: patients,
        max_requests_per_minute: per_minute,
        max_requests_per_hour: if per_minute > 1000 { per_minute } else { 10_000 },
        max_requests_per_day: None,
        max_patients_per_day: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_users_pass_every_criterion_of_a_load_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = ServerConfig {
        bind: "127.0.0.1:0".parse().expect("addr"),
        database_url: None,
        data_dir: dir.path().to_path_buf(),
        workers: 2,
        threads_per_job: 1,
        ..ServerConfig::default()
    };
    let state = build_state(config).await.expect("server state");
    // Keys with different limits, as `scripts/load` creates them with the CLI.
    let mut pairs = Vec::new();
    let mut jobs_key = String::new();
    for (role, name, l) in [
        ("jobs", "load jobs A", limits(1_000_000_000, 100_000)),
        ("jobs", "load jobs B", limits(1_000_000_000, 1_000)),
        ("browse", "load browse", limits(1_000_000_000, 1_000)),
        ("limited", "load limited", limits(LIMITED_PER_MINUTE, 1_000)),
    ] {
        let settings = KeySettings {
            name: name.to_string(),
            email: None,
            is_demo: false,
            scopes: Scopes::new([Scope::Generate, Scope::Read]),
            limits: l,
            expires_at: None,
            metadata: serde_json::json!({}),
        };
        let (row, key) = NewApiKey::generate(settings).expect("key");
        state.store.insert_key(&row, state.clock.now()).await.expect("insert key");
        pairs.push(format!("{role}={key}").parse::<RoleKey>().expect("pair"));
        if name == "load jobs A" {
            jobs_key = key;
        }
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve_on(listener, state, async {
        let _ = stopped.await;
    }));

    let mut plan = Plan::new(url.parse().expect("url"), Keys::from_pairs(&pairs).expect("keys"));
    plan.users = 10;
    plan.increase_rate = 10.0;
    plan.run_time = Duration::from_secs(8);
    plan.job_patients = 5..=40;
    plan.stream_patients = 20..=80;
    plan.job_deadline = Duration::from_secs(60);
    plan.limited_per_minute = Some(LIMITED_PER_MINUTE as u64);
    plan.server_pids = vec![std::process::id()];
    plan.sample_every = Duration::from_millis(500);
    plan.out_dir = dir.path().join("load");
    plan.label = "smoke".into();
    // As behind a load balancer whose health checks use this endpoint: left out
    // of the comparison, and so not requested by the tool.
    plan.metrics_ignore = vec!["/api/v1/health/ready".into()];
    let summary = patientgen_load::run(plan).await.expect("the run was made");
    println!("{}", summary.render());

    assert!(summary.passed, "failures: {:?}", summary.failures);
    assert!(summary.errors.is_empty(), "{:?}", summary.error_examples);
    assert!(summary.drained, "the run stops by itself once its flows drain");
    assert!(summary.elapsed_s < 8.0 + 60.0, "bounded in time: {} s", summary.elapsed_s);
    // Every scenario ran and was checked.
    let c = summary.checked;
    assert!(c.jobs > 0 && c.streams > 0 && c.configurations > 0, "{c:?}");
    for endpoint in ["/api/v1/presets/{preset_id}", "/api/v1/health/live", "/api/v1/downloads/{job_id}"] {
        assert!(
            summary.by_request.iter().any(|r| r.endpoint == endpoint && r.count > 0),
            "{endpoint} not requested"
        );
    }
    assert!(!summary.by_request.iter().any(|r| r.endpoint == "/api/v1/health/ready"));
    // The limited key was driven into 429, the 429s were expected, the limit held.
    assert!(summary.expected_429 > 0, "the limited key never got a 429");
    let limited = summary.limited.as_ref().expect("limited key checked");
    assert!(limited.ok && limited.allowed <= limited.max_allowed, "{limited:?}");
    // The server's own counters agree with the tool's, row by row.
    let metrics = summary.metrics.as_ref().expect("compared");
    assert!(metrics.mismatches.is_empty(), "{:?}", metrics.mismatches);
    assert_eq!(metrics.tool_total, summary.requests);
    assert_eq!(metrics.server_total, summary.requests);
    // Server RSS and CPU were sampled during the run.
    let servers = summary.servers.as_ref().expect("sampled");
    if servers.sampled {
        let p = &servers.processes[0];
        assert!(p.samples >= 2 && p.rss_peak_mb > 0.0 && p.cpu_seconds > 0.0, "{p:?}");
    }
    // The JSON summary and goose's HTML report were written.
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("load/summary.json")).expect("summary.json"))
            .expect("JSON");
    assert_eq!(json["passed"], true);
    let html = std::fs::read_to_string(dir.path().join("load/report.html")).expect("report.html");
    assert!(html.contains("/api/v1/jobs/{job_id}"), "the HTML report names requests by template");

    // The perf-guard probes time what they check.
    let host: url::Url = url.parse().expect("url");
    let took =
        patientgen_load::probe::job(&host, &jobs_key, 300, Duration::from_millis(5), Duration::from_secs(60))
            .await
            .expect("job probe");
    assert!(took > Duration::ZERO);
    let (_, bytes) = patientgen_load::probe::stream(&host, &jobs_key, 500).await.expect("stream probe");
    assert!(bytes > 500);

    // A run that meets a wrong answer fails, says why, and still agrees with
    // the server on what was sent.
    let bad = Keys::from_pairs(&["jobs=sk_live_not_a_key".parse::<RoleKey>().expect("pair")]).expect("keys");
    let mut plan = Plan::new(url.parse().expect("url"), bad);
    plan.users = 1;
    plan.run_time = Duration::from_secs(1);
    plan.weights = patientgen_load::Weights {
        jobs: 1,
        reference: 0,
        configurations: 0,
        streaming: 0,
        health: 0,
        limited: 0,
    };
    plan.out_dir = dir.path().join("bad");
    let summary = patientgen_load::run(plan).await.expect("the run was made");
    assert!(!summary.passed);
    assert!(summary.errors.get("unexpected_status").is_some_and(|n| *n > 0), "{:?}", summary.errors);
    assert!(summary.by_request.iter().any(|r| r.statuses.contains_key(&401)));
    assert!(summary.metrics.as_ref().is_some_and(|m| m.mismatches.is_empty()));

    let _ = stop.send(());
    server.await.expect("join").expect("server stopped cleanly");
}
