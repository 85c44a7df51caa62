//! An in-process server on a free loopback port, with the embedded database or
//! a fresh PostgreSQL schema, plus HTTP helpers.
#![allow(dead_code)]

use patientgen_server::clock::{Clock, SystemClock};
use patientgen_server::{AppState, ServerConfig};
use patientgen_storage::{KeyLimits, KeySettings, NewApiKey, Scopes};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

pub const ADMIN: &str = "test-admin-key-0001";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

pub struct TestServer {
    pub url: String,
    pub state: AppState,
    pub client: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

pub async fn start(db: Db, tweak: impl FnOnce(&mut ServerConfig)) -> TestServer {
    start_with_clock(db, Arc::new(SystemClock), tweak).await
}

/// The Redis of the tests (`PATIENTGEN_TEST_REDIS_URL`, set by `.ci/run` and
/// `scripts/test`).
pub fn redis_url() -> String {
    std::env::var("PATIENTGEN_TEST_REDIS_URL")
        .expect("PATIENTGEN_TEST_REDIS_URL must point at a Redis for these tests (scripts/test sets it)")
}

/// A Redis key prefix of its own for one test.
pub fn redis_prefix() -> String {
    format!("patientgen-test-{}", uuid::Uuid::new_v4().simple())
}

/// A server whose time comes from `clock`.
pub async fn start_with_clock(
    db: Db,
    clock: Arc<dyn Clock>,
    tweak: impl FnOnce(&mut ServerConfig),
) -> TestServer {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = ServerConfig {
        data_dir: dir.path().to_path_buf(),
        admin_key: Some(ADMIN.into()),
        poll_interval: Duration::from_millis(200),
        job_lease: Duration::from_secs(5),
        workers: 1,
        threads_per_job: 1,
        ..ServerConfig::default()
    };
    if db == Db::Postgres {
        config.database_url = Some(patientgen_storage::testing::fresh_postgres_url().await.into());
    }
    tweak(&mut config);
    let state = patientgen_server::build_state_with_clock(config, clock).await.expect("server state");
    serve_state(state, dir).await
}

/// Serves a built state on a free loopback port.
pub async fn serve_state(state: AppState, dir: tempfile::TempDir) -> TestServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn({
        let state = state.clone();
        async move {
            let _ = patientgen_server::serve_on(listener, state, async {
                let _ = stopped.await;
            })
            .await;
        }
    });
    let client =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    TestServer { url, state, client, stop: Some(stop), task: Some(task), _dir: dir }
}

impl TestServer {
    pub async fn stop(self) {
        self.stop_keeping_dir().await;
    }

    /// Stops the server gracefully and hands over its data directory.
    pub async fn stop_keeping_dir(mut self) -> tempfile::TempDir {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), t).await;
        }
        self._dir
    }

    pub fn get(&self, path: &str, key: Option<&str>) -> reqwest::RequestBuilder {
        let r = self.client.get(format!("{}{path}", self.url));
        match key {
            Some(k) => r.header("X-API-Key", k),
            None => r,
        }
    }

    pub fn post(&self, path: &str, key: Option<&str>, body: &Value) -> reqwest::RequestBuilder {
        let r = self.client.post(format!("{}{path}", self.url)).json(body);
        match key {
            Some(k) => r.header("X-API-Key", k),
            None => r,
        }
    }

    pub async fn json(&self, path: &str, key: &str) -> (u16, Value) {
        let r = self.get(path, Some(key)).send().await.expect("request");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Polls `GET path` with `key` until the response satisfies `done`, for at
    /// most `within`; returns the response and how long it took. Key changes
    /// made behind the server's back must show within the key refresh interval.
    pub async fn until(
        &self,
        path: &str,
        key: &str,
        within: Duration,
        done: impl Fn(&reqwest::Response) -> bool,
    ) -> (reqwest::Response, Duration) {
        let start = std::time::Instant::now();
        loop {
            let r = self.get(path, Some(key)).send().await.expect("request");
            if done(&r) {
                return (r, start.elapsed());
            }
            assert!(start.elapsed() < within, "{path} still answers {} after {within:?}", r.status());
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// [`until`](Self::until) the status is `status` and `X-Key-Status` (when
    /// given) is `key_status`.
    pub async fn until_status(
        &self,
        path: &str,
        key: &str,
        status: u16,
        key_status: Option<&str>,
    ) -> (reqwest::Response, Duration) {
        self.until(path, key, Duration::from_secs(1), |r| {
            r.status().as_u16() == status
                && key_status.is_none_or(|k| r.headers().get("x-key-status").is_some_and(|v| v == k))
        })
        .await
    }

    /// Creates a key with the given scopes and limits; returns the plaintext.
    pub async fn key(&self, scopes: &str, limits: KeyLimits) -> String {
        self.key_record(scopes, limits).await.0
    }

    /// Creates a key; returns the plaintext and the key's id.
    pub async fn key_record(&self, scopes: &str, limits: KeyLimits) -> (String, String) {
        let (key, plaintext) = NewApiKey::generate(KeySettings {
            name: format!("test {scopes}"),
            email: None,
            is_demo: false,
            scopes: Scopes::parse(scopes).expect("known scopes"),
            limits,
            expires_at: None,
            metadata: serde_json::json!({}),
        })
        .expect("key");
        self.state.store.insert_key(&key, self.state.clock.now()).await.expect("insert key");
        (plaintext, key.id)
    }

    /// The directory of the embedded database.
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// Starts a job; returns its id.
    pub async fn create_job(&self, key: &str, body: &Value) -> String {
        let r = self.post("/api/v1/generation/", Some(key), body).send().await.expect("request");
        assert_eq!(r.status().as_u16(), 201, "{}", r.text().await.unwrap_or_default());
        let v: Value = r.json().await.expect("json");
        v["job_id"].as_str().expect("job_id").to_string()
    }

    /// Polls a job until it ends (at most 120 s).
    pub async fn wait(&self, key: &str, job: &str) -> Value {
        for _ in 0..1200 {
            let (status, v) = self.json(&format!("/api/v1/jobs/{job}"), key).await;
            assert_eq!(status, 200, "{v}");
            if ["completed", "failed", "cancelled"].contains(&v["status"].as_str().unwrap_or("")) {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("job {job} did not finish in time");
    }
}

pub fn inline(patients: u32, seed: u64) -> Value {
    serde_json::json!({ "configuration": { "name": "Test scenario", "total_patients": patients, "seed": seed } })
}

/// An instant from its RFC 3339 text.
pub fn at(s: &str) -> chrono::DateTime<chrono::Utc> {
    s.parse().expect("time")
}

/// A response header that must be there, as text.
pub fn header<'a>(r: &'a reqwest::Response, name: &str) -> &'a str {
    r.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_else(|| panic!("no {name} header"))
}

/// Request limits per minute, hour and (optionally) day; the rest default.
pub fn limits(minute: i32, hour: i32, day: Option<i32>) -> KeyLimits {
    KeyLimits {
        max_requests_per_minute: minute,
        max_requests_per_hour: hour,
        max_requests_per_day: day,
        ..KeyLimits::default()
    }
}
