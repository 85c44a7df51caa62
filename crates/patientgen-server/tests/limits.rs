//! Per-key limits over real HTTP: the headers of every authenticated response,
//! each window and quota running out and resetting at UTC boundaries (a clock
//! standing at chosen instants, month and year ends included), exact counts
//! under concurrency on one instance and on two sharing Redis, revocation
//! reaching every instance within a second, no database query for a known key,
//! and usage written in batches and at shutdown.

mod common;

use chrono::Utc;
use common::{Db, TestServer, at, header, inline, limits, redis_prefix, redis_url, start_with_clock};
use patientgen_server::clock::{Clock, ManualClock};
use patientgen_storage::{KeyLimits, PoolSettings, Store};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// Counting tests wait for Redis as long as it takes: on a loaded machine a
/// call can pass the 500 ms default, and the fallback to per-instance counts
/// (tested in `resilience.rs`) is not what these tests are about.
const PATIENT_REDIS: Duration = Duration::from_secs(10);

/// Where the counts live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Memory,
    Redis,
}

async fn server(db: Db, backend: Backend, clock: &Arc<ManualClock>) -> TestServer {
    let clock: Arc<dyn patientgen_server::clock::Clock> = clock.clone();
    start_with_clock(db, clock, |c| {
        c.workers = 0;
        if backend == Backend::Redis {
            c.redis_url = Some(redis_url().into());
            c.redis_prefix = redis_prefix();
            c.redis_call_timeout = PATIENT_REDIS;
        }
    })
    .await
}

#[tokio::test]
async fn every_authenticated_response_carries_the_limit_headers() {
    let clock = Arc::new(ManualClock::new(at("2026-03-10T12:00:15Z")));
    let s = start_with_clock(Db::Sqlite, clock.clone(), |c| c.demo_key = true).await;
    let key =
        s.key("generate,read", KeyLimits { max_patients_per_request: 10, ..limits(5, 100, Some(50)) }).await;

    let r = s.get("/api/v1/jobs/", Some(&key)).send().await.expect("request");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(header(&r, "x-ratelimit-limit"), "5");
    assert_eq!(header(&r, "x-ratelimit-remaining"), "4");
    assert_eq!(header(&r, "x-ratelimit-reset"), at("2026-03-10T12:01:00Z").timestamp().to_string());
    assert_eq!(
        header(&r, "ratelimit-policy"),
        r#""minute";q=5;w=60, "hour";q=100;w=3600, "day";q=50;w=86400"#
    );
    assert_eq!(header(&r, "ratelimit"), r#""minute";r=4;t=45, "hour";r=99;t=3585, "day";r=49;t=43185"#);
    assert_eq!(header(&r, "x-api-key-type"), "live");
    assert_eq!(header(&r, "x-patient-limit"), "10");
    assert_eq!(header(&r, "x-daily-limit"), "50");
    assert_eq!(header(&r, "x-daily-usage"), "1");

    // Error responses of authenticated requests carry them too.
    let r = s.get("/api/v1/jobs/no-such-job", Some(&key)).send().await.expect("request");
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(header(&r, "x-daily-usage"), "2");
    assert_eq!(header(&r, "x-ratelimit-remaining"), "3");
    let r = s.post("/api/v1/generation/", Some(&key), &inline(11, 1)).send().await.expect("request");
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!((header(&r, "x-limit-type"), header(&r, "x-requested")), ("patients_per_request", "11"));
    assert_eq!(header(&r, "x-daily-usage"), "3");

    // A public route with a key is an authenticated request (upstream's demo
    // key script looks for these headers on /api/v1/health); a bad key there
    // changes nothing.
    let r = s.get("/api/v1/health", Some(&key)).send().await.expect("request");
    assert_eq!((r.status().as_u16(), header(&r, "x-daily-usage")), (200, "4"));
    let r = s.get("/api/v1/health", Some("not-a-key")).send().await.expect("request");
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers().get("x-ratelimit-limit").is_none());

    // The demo key has upstream's demo limits.
    let demo = patientgen_server::config::DEMO_KEY;
    let r = s.get("/api/v1/health", Some(demo)).send().await.expect("request");
    assert_eq!(header(&r, "x-api-key-type"), "demo");
    assert_eq!(header(&r, "x-patient-limit"), "50");
    assert_eq!(header(&r, "x-daily-limit"), "100");
    assert_eq!(
        header(&r, "ratelimit-policy"),
        r#""minute";q=10;w=60, "hour";q=50;w=3600, "day";q=100;w=86400"#
    );
    let r = s.post("/api/v1/generation/", Some(demo), &inline(51, 1)).send().await.expect("request");
    assert_eq!(r.status().as_u16(), 400);

    // An unlimited day reads "unlimited".
    let open = s.key("read", limits(60, 1000, None)).await;
    let r = s.get("/api/v1/presets", Some(&open)).send().await.expect("request");
    assert_eq!(header(&r, "x-daily-limit"), "unlimited");
    assert_eq!(header(&r, "ratelimit-policy"), r#""minute";q=60;w=60, "hour";q=1000;w=3600"#);
    s.stop().await;
}

async fn expect_429(s: &TestServer, key: &str, limit_type: &str, retry_after: i64, detail: &str) {
    let r = s.get("/api/v1/jobs/", Some(key)).send().await.expect("request");
    assert_eq!(r.status().as_u16(), 429, "expected {limit_type} to be used up");
    assert_eq!(header(&r, "retry-after"), retry_after.to_string());
    assert_eq!(header(&r, "x-limit-type"), limit_type);
    assert_eq!(header(&r, "x-ratelimit-remaining"), "0");
    assert!(r.headers().contains_key("ratelimit-policy"));
    let v: Value = r.json().await.expect("json");
    assert_eq!((v["error"].as_str(), v["detail"].as_str()), (Some("Too Many Requests"), Some(detail)));
}

async fn ok(s: &TestServer, key: &str, times: usize) -> reqwest::Response {
    let mut last = None;
    for _ in 0..times {
        let r = s.get("/api/v1/jobs/", Some(key)).send().await.expect("request");
        assert_eq!(r.status().as_u16(), 200, "{:?}", r.headers());
        last = Some(r);
    }
    last.expect("at least one request")
}

async fn windows_run_out_and_reset(backend: Backend) {
    let clock = Arc::new(ManualClock::new(at("2026-01-31T22:58:30Z")));
    let s = server(Db::Sqlite, backend, &clock).await;
    let key = s.key("read", limits(3, 5, Some(7))).await;

    ok(&s, &key, 3).await;
    expect_429(&s, &key, "requests_per_minute", 30, "Rate limit exceeded: 3 requests per minute").await;
    expect_429(&s, &key, "requests_per_minute", 30, "Rate limit exceeded: 3 requests per minute").await;
    // Refused requests did not count: the next minute has its full 3, the hour its last 2.
    clock.set(at("2026-01-31T22:59:00Z"));
    ok(&s, &key, 2).await;
    expect_429(&s, &key, "requests_per_hour", 60, "Rate limit exceeded: 5 requests per hour").await;
    // A new hour; the day has 2 left; the last second of January.
    clock.set(at("2026-01-31T23:59:59Z"));
    let r = ok(&s, &key, 2).await;
    assert_eq!(header(&r, "x-daily-usage"), "7");
    expect_429(&s, &key, "requests_per_day", 1, "Daily request limit exceeded (7)").await;
    // Midnight at the month end: a new day.
    clock.set(at("2026-02-01T00:00:00Z"));
    let r = ok(&s, &key, 1).await;
    assert_eq!(header(&r, "x-daily-usage"), "1");

    // The year end likewise.
    let yearly = s.key("read", limits(10, 10, Some(1))).await;
    clock.set(at("2026-12-31T23:59:58Z"));
    ok(&s, &yearly, 1).await;
    expect_429(&s, &yearly, "requests_per_day", 2, "Daily request limit exceeded (1)").await;
    clock.set(at("2027-01-01T00:00:00Z"));
    ok(&s, &yearly, 1).await;

    let metrics =
        s.client.get(format!("{}/metrics", s.url)).send().await.expect("m").text().await.expect("t");
    assert!(metrics.contains("rate_limited_requests_total{limit=\"requests_per_day\"}"), "{metrics}");
    s.stop().await;
}

#[tokio::test]
async fn windows_run_out_and_reset_in_process() {
    windows_run_out_and_reset(Backend::Memory).await;
}

#[tokio::test]
async fn windows_run_out_and_reset_in_redis() {
    windows_run_out_and_reset(Backend::Redis).await;
}

async fn patients_per_day_quota(backend: Backend) {
    let clock = Arc::new(ManualClock::new(at("2026-02-28T20:00:00Z")));
    let s = server(Db::Sqlite, backend, &clock).await;
    let key = s
        .key(
            "generate,read",
            KeyLimits {
                max_patients_per_request: 20,
                max_patients_per_day: Some(25),
                ..KeyLimits::default()
            },
        )
        .await;
    let created = s.post("/api/v1/generation/", Some(&key), &inline(10, 1)).send().await.expect("r");
    assert_eq!(created.status().as_u16(), 201);
    // Streaming counts its patients as well.
    let streamed = s
        .post("/api/v1/streaming/generate", Some(&key), &json!({"total_patients": 10, "seed": 2}))
        .send()
        .await
        .expect("r");
    assert_eq!(streamed.status().as_u16(), 200);
    assert_eq!(streamed.text().await.expect("body").lines().count(), 10);
    let r = s.post("/api/v1/generation/", Some(&key), &inline(10, 3)).send().await.expect("r");
    assert_eq!(r.status().as_u16(), 429);
    assert_eq!(header(&r, "x-limit-type"), "patients_per_day");
    assert_eq!(header(&r, "x-limit-value"), "25");
    assert_eq!(header(&r, "x-current-usage"), "20");
    assert_eq!(header(&r, "x-requested"), "10");
    assert_eq!(header(&r, "retry-after"), (4 * 3600).to_string());
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["detail"], "Daily patient limit exceeded (25): 20 used, 10 requested");
    // A request refused before admission costs no patients; what fits still goes.
    let bad = s
        .post(
            "/api/v1/generation/",
            Some(&key),
            &json!({"configuration": {"total_patients": 5}, "output_formats": ["pdf"]}),
        )
        .send()
        .await
        .expect("r");
    assert_eq!(bad.status().as_u16(), 422);
    assert_eq!(
        s.post("/api/v1/generation/", Some(&key), &inline(5, 4)).send().await.expect("r").status().as_u16(),
        201
    );
    let full = s.post("/api/v1/generation/", Some(&key), &inline(1, 5)).send().await.expect("r");
    assert_eq!((full.status().as_u16(), header(&full, "x-current-usage")), (429, "25"));
    // 2026 is not a leap year: the next day is 1 March.
    clock.set(at("2026-03-01T00:00:00Z"));
    assert_eq!(
        s.post("/api/v1/generation/", Some(&key), &inline(20, 6)).send().await.expect("r").status().as_u16(),
        201
    );
    s.stop().await;
}

#[tokio::test]
async fn patients_per_day_quota_in_process() {
    patients_per_day_quota(Backend::Memory).await;
}

#[tokio::test]
async fn patients_per_day_quota_in_redis() {
    patients_per_day_quota(Backend::Redis).await;
}

/// Fires `total` requests at once, spread over `servers`; returns how many
/// succeeded and how many were refused with 429.
async fn burst(servers: &[&TestServer], key: &str, total: usize) -> (usize, usize) {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..total {
        let s = servers[i % servers.len()];
        let request = s.get("/api/v1/jobs/", Some(key));
        tasks.spawn(async move { request.send().await.expect("request").status().as_u16() });
    }
    let (mut ok, mut refused) = (0, 0);
    while let Some(status) = tasks.join_next().await {
        match status.expect("task") {
            200 => ok += 1,
            429 => refused += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    (ok, refused)
}

#[tokio::test]
async fn exact_counts_under_concurrency_on_one_instance() {
    for backend in [Backend::Memory, Backend::Redis] {
        let clock = Arc::new(ManualClock::new(at("2026-06-15T09:30:20Z")));
        let s = server(Db::Sqlite, backend, &clock).await;
        let key = s.key("read", limits(25, 1000, None)).await;
        assert_eq!(burst(&[&s], &key, 200).await, (25, 175), "{backend:?}");
        s.stop().await;
    }
}

#[tokio::test]
async fn exact_counts_across_two_instances_sharing_redis() {
    let clock = Arc::new(ManualClock::new(at("2026-06-15T09:30:20Z")));
    let prefix = redis_prefix();
    let a = start_with_clock(Db::Postgres, clock.clone(), |c| {
        c.workers = 0;
        c.redis_url = Some(redis_url().into());
        c.redis_prefix = prefix.clone();
        c.redis_call_timeout = PATIENT_REDIS;
    })
    .await;
    let database = a.state.config.database_url.clone();
    let b = start_with_clock(Db::Postgres, clock.clone(), |c| {
        c.workers = 0;
        c.database_url = database;
        c.redis_url = Some(redis_url().into());
        c.redis_prefix = prefix.clone();
        c.redis_call_timeout = PATIENT_REDIS;
    })
    .await;
    let key = a.key("read", limits(1000, 1000, Some(40))).await;
    assert_eq!(burst(&[&a, &b], &key, 300).await, (40, 260));
    // Both instances report the same, shared daily count.
    let r = a.get("/api/v1/health", Some(&key)).send().await.expect("r");
    assert_eq!((r.status().as_u16(), header(&r, "x-daily-usage")), (429, "40"));
    let r = b.get("/api/v1/health", Some(&key)).send().await.expect("r");
    assert_eq!((r.status().as_u16(), header(&r, "x-daily-usage")), (429, "40"));
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn revocation_reaches_every_instance_within_a_second() {
    let a = common::start(Db::Postgres, |c| c.workers = 0).await;
    let database = a.state.config.database_url.clone();
    let b = common::start(Db::Postgres, |c| {
        c.workers = 0;
        c.database_url = database.clone();
    })
    .await;
    // The key CLI is another process with its own connection.
    let cli =
        Store::connect(database.as_ref().map(|u| u.expose_secret()), a.data_dir(), &PoolSettings::default())
            .await
            .expect("connect");
    let (key, id) = a.key_record("read", KeyLimits::default()).await;
    for s in [&a, &b] {
        assert_eq!(s.json("/api/v1/jobs/", &key).await.0, 200, "cached on both");
    }
    let now = Utc::now;
    cli.set_key_active(&id, false, now()).await.expect("deactivate");
    for s in [&a, &b] {
        let (_, took) = s.until_status("/api/v1/jobs/", &key, 401, Some("inactive")).await;
        assert!(took < Duration::from_secs(1), "{took:?}");
    }
    cli.set_key_active(&id, true, now()).await.expect("activate");
    for s in [&a, &b] {
        s.until_status("/api/v1/jobs/", &key, 200, None).await;
    }
    cli.set_key_expiry(&id, Some(now() - chrono::Duration::seconds(1)), now()).await.expect("expire");
    for s in [&a, &b] {
        s.until_status("/api/v1/jobs/", &key, 401, Some("expired")).await;
    }
    cli.delete_key(&id).await.expect("delete");
    for s in [&a, &b] {
        s.until_status("/api/v1/jobs/", &key, 401, Some("invalid")).await;
    }
    cli.close().await;
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_known_key_needs_no_database_query() {
    let s = common::start(Db::Sqlite, |c| c.workers = 0).await;
    let key = s.key("read", KeyLimits::default()).await;
    assert_eq!(s.json("/api/v1/presets", &key).await.0, 200);
    // Take the database away: the known key still authenticates and is
    // counted; an unknown one cannot be checked.
    s.state.store.close().await;
    let r = s.get("/api/v1/presets", Some(&key)).send().await.expect("request");
    assert_eq!((r.status().as_u16(), header(&r, "x-daily-usage")), (200, "2"));
    let stranger =
        patientgen_storage::keys::generate_key(patientgen_storage::keys::KeyKind::Live).expect("key");
    let r = s.get("/api/v1/presets", Some(&stranger)).send().await.expect("request");
    assert_eq!(r.status().as_u16(), 503);
    // A route that needs the database says it is unavailable, not "not found".
    let r =
        s.get("/api/v1/visualizations/dashboard-data?job_id=j1", Some(&key)).send().await.expect("request");
    assert_eq!(r.status().as_u16(), 503);
    s.stop().await;
}

#[tokio::test]
async fn usage_is_written_in_batches_and_at_shutdown() {
    let clock = Arc::new(ManualClock::new(at("2026-07-04T10:00:00Z")));
    let s = start_with_clock(Db::Sqlite, clock.clone(), |c| {
        c.workers = 0;
        c.usage_flush_interval = Duration::from_secs(3600);
    })
    .await;
    let (key, id) = s.key_record("generate,read", KeyLimits::default()).await;
    for _ in 0..5 {
        assert_eq!(s.json("/api/v1/jobs/", &key).await.0, 200);
    }
    clock.set(at("2026-07-04T10:05:00Z"));
    assert_eq!(
        s.post("/api/v1/generation/", Some(&key), &inline(7, 1)).send().await.expect("r").status().as_u16(),
        201
    );
    // Nothing was written on the way.
    let record = s.state.store.get_key(&id).await.expect("query").expect("key");
    assert_eq!((record.total_requests, record.last_used_at), (0, None));
    assert_eq!(s.state.usage.waiting(), 1);
    let dir = s.stop_keeping_dir().await;
    let store = Store::connect(None, dir.path(), &PoolSettings::default()).await.expect("reopen");
    let record = store.get_key(&id).await.expect("query").expect("key");
    assert_eq!((record.total_requests, record.daily_requests, record.total_patients_generated), (6, 6, 7));
    assert_eq!(record.last_used_at, Some(at("2026-07-04T10:05:00Z")));
    store.close().await;
}

/// Counts already written to the database today carry over into fresh window
/// state (a restarted instance, a restarted Redis): a daily limit survives.
async fn todays_recorded_usage_counts(backend: Backend) {
    let clock = Arc::new(ManualClock::new(at("2026-10-31T15:00:00Z")));
    let s = server(Db::Sqlite, backend, &clock).await;
    let (key, id) = s.key_record("generate,read", limits(100, 100, Some(5))).await;
    let now = clock.now();
    s.state
        .store
        .add_key_usage(&id, 4, 0, now, patientgen_server::limits::window::day_start(now))
        .await
        .expect("usage");
    let r = s.get("/api/v1/jobs/", Some(&key)).send().await.expect("request");
    assert_eq!((r.status().as_u16(), header(&r, "x-daily-usage")), (200, "5"));
    expect_429(&s, &key, "requests_per_day", 9 * 3600, "Daily request limit exceeded (5)").await;
    // Yesterday's counts do not.
    clock.set(at("2026-11-01T00:00:01Z"));
    let r = s.get("/api/v1/jobs/", Some(&key)).send().await.expect("request");
    assert_eq!((r.status().as_u16(), header(&r, "x-daily-usage")), (200, "1"));
    s.stop().await;
}

#[tokio::test]
async fn todays_recorded_usage_counts_in_process() {
    todays_recorded_usage_counts(Backend::Memory).await;
}

#[tokio::test]
async fn todays_recorded_usage_counts_in_redis() {
    todays_recorded_usage_counts(Backend::Redis).await;
}
