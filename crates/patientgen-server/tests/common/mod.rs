//! An in-process server on a free loopback port, with the embedded database or
//! a fresh PostgreSQL schema, plus HTTP helpers.
#![allow(dead_code)]

use patientgen_server::auth::{KeyKind, display_prefix, generate_key, hash_key};
use patientgen_server::{AppState, ServerConfig};
use patientgen_storage::{KeyLimits, NewApiKey};
use serde_json::Value;
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
        config.database_url = Some(patientgen_storage::testing::fresh_postgres_url().await);
    }
    tweak(&mut config);
    let state = patientgen_server::build_state(config).await.expect("server state");
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
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), t).await;
        }
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

    /// Creates a key with the given scopes and limits; returns the plaintext.
    pub async fn key(&self, scopes: &str, limits: KeyLimits) -> String {
        let plaintext = generate_key(KeyKind::Live).expect("key");
        let key = NewApiKey {
            id: uuid::Uuid::new_v4().to_string(),
            key_hash: hash_key(&plaintext),
            key_prefix: display_prefix(&plaintext),
            name: format!("test {scopes}"),
            email: None,
            is_demo: false,
            scopes: scopes.into(),
            limits,
            expires_at: None,
            metadata: serde_json::json!({}),
        };
        self.state.store.insert_key(&key, chrono::Utc::now()).await.expect("insert key");
        plaintext
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
