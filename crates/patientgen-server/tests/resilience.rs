//! What must hold when parts of the system fail: daily quotas after Redis
//! loses its data (#7.1), cancelling a job whose instance died (#7.2), health
//! that notices Redis without traffic (#7.4) and health bodies during an
//! outage (#7.5).

mod common;

use common::{Db, TestServer, at, header, limits, redis_prefix, redis_url, start_with_clock};
use patientgen_server::clock::{Clock, ManualClock};
use patientgen_storage::KeyLimits;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

async fn ok(s: &TestServer, key: &str, times: usize) {
    for _ in 0..times {
        let r = s.get("/api/v1/jobs/", Some(key)).send().await.expect("request");
        assert_eq!(r.status().as_u16(), 200, "{:?}", r.headers());
    }
}

async fn expect_429(s: &TestServer, key: &str, limit_type: &str, retry_after: i64, detail: &str) {
    let r = s.get("/api/v1/jobs/", Some(key)).send().await.expect("request");
    assert_eq!(r.status().as_u16(), 429, "expected {limit_type} to be used up");
    assert_eq!(header(&r, "retry-after"), retry_after.to_string());
    assert_eq!(header(&r, "x-limit-type"), limit_type);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["detail"].as_str(), Some(detail));
}

/// Deletes every Redis key under a test's own `prefix`: what a restart of a
/// Redis without persistence (or a FLUSHALL) does to that test's counters.
async fn forget_redis_counters(prefix: &str) {
    let client = redis::Client::open(redis_url()).expect("redis url");
    let mut connection = client.get_multiplexed_async_connection().await.expect("connect to redis");
    let keys: Vec<String> =
        redis::cmd("KEYS").arg(format!("{prefix}:*")).query_async(&mut connection).await.expect("KEYS");
    assert!(!keys.is_empty(), "the counters were in Redis");
    let _: () = redis::cmd("DEL").arg(&keys).query_async(&mut connection).await.expect("DEL");
}

async fn stream(s: &TestServer, key: &str, patients: u32) -> u16 {
    let r = s
        .post("/api/v1/streaming/generate", Some(key), &json!({"total_patients": patients, "seed": 7}))
        .send()
        .await
        .expect("request");
    let status = r.status().as_u16();
    let _ = r.bytes().await;
    status
}

/// Issue #7.1: two instances share PostgreSQL and a Redis that loses its
/// data. Both already hold the key in their caches (with today's counters at
/// zero); what was used is written to the database; then Redis forgets. The
/// daily patient quota and the daily request limit still hold, because fresh
/// windows start from what is recorded, not from the cached row.
#[tokio::test]
async fn daily_quotas_survive_a_redis_restart() {
    let clock = Arc::new(ManualClock::new(at("2026-05-12T10:00:00Z")));
    let prefix = redis_prefix();
    let config = |database: Option<secrecy::SecretString>| {
        let prefix = prefix.clone();
        move |c: &mut patientgen_server::ServerConfig| {
            c.workers = 0;
            c.redis_url = Some(redis_url().into());
            c.redis_prefix = prefix;
            c.usage_flush_interval = Duration::from_secs(3600);
            if database.is_some() {
                c.database_url = database;
            }
        }
    };
    let a = start_with_clock(Db::Postgres, clock.clone(), config(None)).await;
    let b = start_with_clock(Db::Postgres, clock.clone(), config(a.state.config.database_url.clone())).await;
    let patients = a
        .key(
            "generate,read",
            KeyLimits {
                max_patients_per_request: 1000,
                max_patients_per_day: Some(1000),
                ..KeyLimits::default()
            },
        )
        .await;
    let requests = a.key("read", limits(100, 100, Some(10))).await;
    // Both instances take in the new keys' revision now (as their watchers
    // would within 250 ms), so the rows cached next stay cached: with today's
    // counters at zero, as a long-cached key's row would be.
    for s in [&a, &b] {
        let revision = s.state.store.key_revision().await.expect("revision");
        s.state.keys.observe_revision(revision);
        assert_eq!(s.json("/api/v1/jobs/", &patients).await.0, 200, "the key is cached");
    }
    assert_eq!(b.json("/api/v1/jobs/", &requests).await.0, 200);
    ok(&a, &requests, 7).await;

    assert_eq!(stream(&a, &patients, 600).await, 200);
    a.state.usage.flush(&a.state.store).await.expect("usage written");
    b.state.usage.flush(&b.state.store).await.expect("usage written");
    forget_redis_counters(&prefix).await;

    let r = b
        .post("/api/v1/streaming/generate", Some(&patients), &json!({"total_patients": 600, "seed": 8}))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status().as_u16(), 429, "1,200 patients of 1,000 would have been served");
    assert_eq!((header(&r, "x-limit-type"), header(&r, "x-current-usage")), ("patients_per_day", "600"));
    assert_eq!(stream(&a, &patients, 600).await, 429);
    assert_eq!(stream(&a, &patients, 400).await, 200, "what is left of the quota is still there");

    ok(&b, &requests, 2).await;
    expect_429(&b, &requests, "requests_per_day", 14 * 3600, "Daily request limit exceeded (10)").await;
    expect_429(&a, &requests, "requests_per_day", 14 * 3600, "Daily request limit exceeded (10)").await;
    a.stop().await;
    b.stop().await;
    forget_redis_counters(&prefix).await;
}

fn inline(patients: u32, seed: u64) -> Value {
    json!({ "configuration": { "name": "Test scenario", "total_patients": patients, "seed": seed } })
}

/// Issue #7.2: the instance running a job dies (simulated: a worker that
/// claimed the job with a 2 s lease and never renews it). A cancel after the
/// lease ran out finishes the job at once; a cancel made while the lease still
/// ran is finished by the reaper once it runs out — on both databases.
#[tokio::test]
async fn a_job_whose_instance_died_can_be_cancelled() {
    for db in [Db::Postgres, Db::Sqlite] {
        let clock = Arc::new(ManualClock::new(at("2026-04-02T09:00:00Z")));
        let s = start_with_clock(db, clock.clone(), |c| c.workers = 0).await;
        let key = s.key("generate,read", KeyLimits::default()).await;
        let lease = chrono::Duration::seconds(2);
        let claim_by_dead_instance = |job: String| {
            let store = s.state.store.clone();
            let now = clock.now();
            async move {
                let claimed = store.claim_job("dead-instance", now + lease, now).await.expect("claim");
                assert_eq!(claimed.map(|c| c.job.job_id), Some(job));
            }
        };
        let cancel = |job: &str| s.post(&format!("/api/v1/jobs/{job}/cancel"), Some(&key), &json!({})).send();

        // Cancelled after its lease ran out.
        let job = s.create_job(&key, &inline(10, 1)).await;
        claim_by_dead_instance(job.clone()).await;
        clock.advance(chrono::Duration::seconds(3));
        let r = cancel(&job).await.expect("request");
        assert_eq!(r.status().as_u16(), 200);
        let v: Value = r.json().await.expect("json");
        assert_eq!(v["status"], "cancelled", "{db:?}: {v}");
        assert_eq!(s.json(&format!("/api/v1/jobs/{job}"), &key).await.1["status"], "cancelled");

        // Cancelled while its lease still ran; then the lease runs out.
        let job = s.create_job(&key, &inline(10, 2)).await;
        claim_by_dead_instance(job.clone()).await;
        let r = cancel(&job).await.expect("request");
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(r.json::<Value>().await.expect("json")["status"], "running", "its worker would stop it");
        clock.advance(chrono::Duration::seconds(3));
        // The reaper runs every poll interval (200 ms here).
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let (_, v) = s.json(&format!("/api/v1/jobs/{job}"), &key).await;
            if v["status"] == "cancelled" {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{db:?}: still {v}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Nothing claims it again.
        let now = clock.now();
        let claim = s.state.store.claim_job("live-instance", now + lease, now).await.expect("claim");
        assert!(claim.is_none());
        s.stop().await;
    }
}

/// A `redis-server` of the test's own on a free loopback port, killed when
/// dropped (the shared Redis is never stopped).
struct OwnRedis {
    child: std::process::Child,
    port: u16,
}

impl OwnRedis {
    fn start(port: u16) -> OwnRedis {
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server must be installed for this test");
        let redis = OwnRedis { child, port };
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "redis-server did not start on port {port}");
            std::thread::sleep(Duration::from_millis(20));
        }
        redis
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("port")
}

/// Polls `/health` (no key: the limiter is never touched) until its status is
/// `want`; returns how long that took.
async fn health_becomes(s: &TestServer, want: &str) -> Duration {
    let start = std::time::Instant::now();
    loop {
        let r = s.get("/health", None).send().await.expect("request");
        let v: Value = r.json().await.expect("json");
        if v["status"] == want {
            return start.elapsed();
        }
        assert!(start.elapsed() < Duration::from_secs(10), "/health still says {v}, not {want}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Issue #7.4: with no traffic at all, `/health` notices Redis going away
/// and coming back within a few seconds (a background probe).
#[tokio::test]
async fn health_follows_redis_without_traffic() {
    let port = free_port();
    let mut redis = OwnRedis::start(port);
    let url = redis.url();
    let s = common::start(Db::Sqlite, |c| {
        c.workers = 0;
        c.redis_url = Some(url.into());
    })
    .await;
    health_becomes(&s, "healthy").await;
    redis.stop();
    let took = health_becomes(&s, "degraded").await;
    eprintln!("/health said degraded {took:?} after Redis stopped");
    assert!(took < Duration::from_secs(3), "{took:?}");
    let v: Value = s.get("/api/v1/health", None).send().await.expect("r").json().await.expect("json");
    assert_eq!(v["checks"]["rate_limiter"]["status"], "degraded");
    let _redis = OwnRedis::start(port);
    let took = health_becomes(&s, "healthy").await;
    eprintln!("/health said healthy {took:?} after Redis started again");
    assert!(took < Duration::from_secs(3), "{took:?}");
    s.stop().await;
}

/// Issue #7.5: while the database is unreachable the health routes answer
/// 503 with the body they document, not the error envelope.
#[tokio::test]
async fn health_bodies_keep_their_shape_during_an_outage() {
    let s = common::start(Db::Sqlite, |c| c.workers = 0).await;
    s.state.store.close().await;
    let get = |path: &'static str| {
        let request = s.get(path, None);
        async move {
            let r = request.send().await.expect("request");
            let status = r.status().as_u16();
            let v: Value = r.json().await.expect("a JSON body");
            assert!(v.get("request_id").is_none() && v.get("detail").is_none(), "{path}: enveloped: {v}");
            (status, v)
        }
    };
    let (status, v) = get("/api/v1/health").await;
    assert_eq!((status, v["status"].as_str()), (503, Some("unhealthy")), "{v}");
    assert_eq!(v["checks"]["database"]["status"], "unhealthy");
    assert!(v["timestamp"].is_string());
    for path in ["/ready", "/api/v1/health/ready"] {
        let (status, v) = get(path).await;
        assert_eq!((status, v["status"].as_str()), (503, Some("not_ready")), "{path}: {v}");
        assert!(v["error"].is_string(), "{path}: {v}");
    }
    let (status, v) = get("/health").await;
    assert_eq!((status, v["status"].as_str()), (503, Some("unhealthy")), "{v}");
    assert_eq!(v["services"]["database"], false);
    s.stop().await;
}
