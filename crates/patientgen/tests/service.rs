//! The `patientgen` binary as a service: two instances on one PostgreSQL, a
//! killed instance's job finished by the next one with identical output,
//! graceful shutdown, migrations, and the key CLI against both databases.

use serde_json::{Value, json};
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ADMIN: &str = "service-test-admin-key";

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_patientgen"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

/// A `patientgen serve` process, killed when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(database_url: Option<&str>, data_dir: &Path, name: &str, extra: &[&str]) -> Server {
        let port = free_port();
        let log = std::fs::File::create(data_dir.join(format!("{name}.log"))).expect("log file");
        let mut cmd = Command::new(bin());
        cmd.args(["serve", "--bind", &format!("127.0.0.1:{port}"), "--instance-id", name]);
        if !extra.contains(&"--workers") {
            cmd.args(["--workers", "1"]);
        }
        cmd.arg("--data-dir")
            .arg(data_dir)
            .args(extra)
            .env("PATIENTGEN_ADMIN_KEY", ADMIN)
            .env_remove("API_KEY")
            .stdout(Stdio::null())
            .stderr(log);
        match database_url {
            Some(url) => cmd.env("DATABASE_URL", url),
            None => cmd.env_remove("DATABASE_URL"),
        };
        let child = cmd.spawn().expect("start patientgen serve");
        let server = Server { child, url: format!("http://127.0.0.1:{port}") };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if ureq_get(&format!("{}/health", server.url)).is_some() {
                return server;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("server {name} did not start; see {}", data_dir.join(format!("{name}.log")).display());
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn terminate(&mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("server did not stop on SIGTERM");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder().timeout(Duration::from_secs(60)).build().expect("client")
}

fn ureq_get(url: &str) -> Option<String> {
    client().get(url).send().ok().filter(|r| r.status().is_success()).and_then(|r| r.text().ok())
}

fn get(server: &Server, path: &str, key: &str) -> (u16, Value) {
    let r = client().get(format!("{}{path}", server.url)).header("X-API-Key", key).send().expect("request");
    let status = r.status().as_u16();
    (status, r.json().unwrap_or(Value::Null))
}

fn create_job(server: &Server, body: &Value) -> String {
    let r = client()
        .post(format!("{}/api/v1/generation/", server.url))
        .header("X-API-Key", ADMIN)
        .json(body)
        .send()
        .expect("request");
    assert_eq!(r.status().as_u16(), 201);
    r.json::<Value>().expect("json")["job_id"].as_str().expect("id").to_string()
}

fn wait_until(server: &Server, job: &str, limit: Duration, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let (_, v) = get(server, &format!("/api/v1/jobs/{job}"), ADMIN);
        if done(&v) {
            return v;
        }
        assert!(Instant::now() < deadline, "job {job} did not reach the expected state: {v}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn finished(v: &Value) -> bool {
    ["completed", "failed", "cancelled"].contains(&v["status"].as_str().unwrap_or(""))
}

fn postgres_url() -> String {
    tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(patientgen_storage::testing::fresh_postgres_url())
}

fn zip_entry(bytes: &[u8], name: &str) -> Vec<u8> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).expect("zip");
    let mut out = Vec::new();
    zip.by_name(name).expect("entry").read_to_end(&mut out).expect("read");
    out
}

#[test]
fn two_instances_on_one_postgres_behave_as_one_service() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = postgres_url();
    let a = Server::start(Some(&url), dir.path(), "alpha", &[]);
    let b = Server::start(Some(&url), dir.path(), "bravo", &[]);
    let jobs: Vec<String> = (0..4)
        .map(|i| {
            create_job(
                if i % 2 == 0 { &a } else { &b },
                &json!({ "configuration": { "total_patients": 3000, "seed": i } }),
            )
        })
        .collect();
    let mut owners = Vec::new();
    for job in &jobs {
        // Created on one instance, followed and downloaded through the other.
        let v = wait_until(&b, job, Duration::from_secs(120), finished);
        assert_eq!(v["status"], "completed", "{v}");
        assert_eq!(v["attempts"], 1, "run exactly once");
        let (_, same) = get(&a, &format!("/api/v1/jobs/{job}"), ADMIN);
        assert_eq!(same["summary"], v["summary"]);
        let zip = client()
            .get(format!("{}/api/v1/downloads/{job}", a.url))
            .header("X-API-Key", ADMIN)
            .send()
            .expect("download")
            .bytes()
            .expect("body");
        let patients: Vec<Value> = serde_json::from_slice(&zip_entry(&zip, "patients.json")).expect("json");
        assert_eq!(patients.len(), 3000);
        owners.push(v["summary"]["seed"].clone());
    }
    assert_eq!(owners.len(), 4);
    // Both instances see the same job list.
    assert_eq!(get(&a, "/api/v1/jobs/", ADMIN).1, get(&b, "/api/v1/jobs/", ADMIN).1);
    // Each job's completion is logged once, by the instance that ran it, with its phases' times.
    // (The line follows the database update the status reads: wait for it, within bounds.)
    let deadline = Instant::now() + Duration::from_secs(10);
    let completions = loop {
        let logs: String = ["alpha", "bravo"]
            .iter()
            .map(|n| std::fs::read_to_string(dir.path().join(format!("{n}.log"))).unwrap_or_default())
            .collect();
        let lines: Vec<String> =
            logs.lines().filter(|l| l.contains("job completed")).map(String::from).collect();
        if lines.len() >= jobs.len() || Instant::now() > deadline {
            break lines;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    for job in &jobs {
        let line = completions.iter().find(|l| l.contains(job.as_str()));
        let line = line.unwrap_or_else(|| panic!("no completion logged for {job}: {completions:?}"));
        for field in ["build_ms=", "store_ms=", "complete_ms="] {
            assert!(line.contains(field), "{field} missing: {line}");
        }
    }
    assert_eq!(completions.len(), jobs.len(), "{completions:?}");
}

#[test]
fn a_killed_instances_job_is_finished_by_the_next_with_the_same_result() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = postgres_url();
    let mut first = Server::start(Some(&url), dir.path(), "first", &["--job-lease", "2"]);
    let job = create_job(
        &first,
        &json!({ "configuration": { "total_patients": 150_000, "seed": 99 }, "output_formats": ["json"] }),
    );
    wait_until(&first, &job, Duration::from_secs(60), |v| {
        v["progress_details"]["patients_generated"].as_i64().unwrap_or(0) > 0
    });
    first.kill();
    let second = Server::start(Some(&url), dir.path(), "second", &["--job-lease", "2"]);
    let v = wait_until(&second, &job, Duration::from_secs(300), finished);
    assert_eq!(v["status"], "completed", "{v}");
    assert_eq!(v["attempts"], 2, "claimed again after the lease expired");
    // The result is exactly what the scenario and seed give.
    let zip = client()
        .get(format!("{}/api/v1/downloads/{job}", second.url))
        .header("X-API-Key", ADMIN)
        .send()
        .expect("download")
        .bytes()
        .expect("body");
    let manifest: Value = serde_json::from_slice(&zip_entry(&zip, "manifest.json")).expect("manifest");
    let scenario = dir.path().join("scenario.json");
    std::fs::write(&scenario, manifest["scenario"].to_string()).expect("write scenario");
    let out = dir.path().join("cli.json");
    let status = Command::new(bin())
        .args(["generate", "-q", "--json-envelope", "array", "-f", "json", "--scenario"])
        .arg(&scenario)
        .arg("-o")
        .arg(&out)
        .status()
        .expect("cli");
    assert!(status.success());
    assert!(
        std::fs::read(&out).expect("cli output") == zip_entry(&zip, "patients.json"),
        "re-run differs from a direct generation"
    );
}

#[test]
fn graceful_shutdown_requeues_running_jobs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = Server::start(None, dir.path(), "solo", &[]);
    let job = create_job(
        &server,
        &json!({ "configuration": { "total_patients": 1_000_000, "seed": 5 }, "output_formats": ["fhir"] }),
    );
    wait_until(&server, &job, Duration::from_secs(60), |v| v["status"] == "running");
    server.terminate();
    let idle = Server::start(None, dir.path(), "idle", &["--workers", "0"]);
    let (_, v) = get(&idle, &format!("/api/v1/jobs/{job}"), ADMIN);
    assert_eq!(v["status"], "pending", "{v}");
}

/// Polls `done` until it holds; fails if that takes a second or more.
fn within_a_second(done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(1), "the change did not reach the server within 1 s");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn keys(db: &[String], args: &[&str]) -> (bool, String, String) {
    let out = Command::new(bin())
        .arg("keys")
        .args(args)
        .args(db)
        .env_remove("DATABASE_URL")
        .output()
        .expect("run keys");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn key_cli_round_trip(db: Vec<String>, server: &Server) {
    let (ok, out, err) = keys(
        &db,
        &[
            "create",
            "--name",
            "Exercise Bravo",
            "--email",
            "ops@example.org",
            "--minute",
            "30",
            "--format",
            "json",
        ],
    );
    assert!(ok, "{err}");
    let created: Value = serde_json::from_str(&out).expect("json");
    let key = created["key"].as_str().expect("key").to_string();
    let id = created["id"].as_str().expect("id").to_string();
    assert!(key.starts_with("sk_live_"));
    assert_eq!(created["limits"]["requests_per_minute"], 30);
    assert_eq!(created["limits"]["requests_per_day"], "Unlimited");
    assert_eq!(get(server, "/api/v1/jobs/", &key).0, 200);

    let (_, out, _) = keys(&db, &["list", "--format", "json", "--search", "bravo"]);
    let list: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(list[0]["id"], id.as_str());
    assert!(!out.contains(&key), "list never shows the key");
    let (_, csv, _) = keys(&db, &["list", "--format", "csv"]);
    assert!(csv.starts_with(
        "ID,Key Prefix,Name,Email,Active,Demo,Created,Expires,Last Used,Total Requests,Daily Requests"
    ));
    let (_, table, _) = keys(&db, &["show", &id[..8]]);
    assert!(table.contains("Exercise Bravo") && table.contains("active"));
    let (_, json_show, _) = keys(&db, &["show", &key, "--format", "json"]);
    assert_eq!(serde_json::from_str::<Value>(&json_show).expect("json")["id"], id.as_str());

    // Changes reach the running server within a second.
    assert!(keys(&db, &["deactivate", &id]).0);
    within_a_second(|| {
        let (status, v) = get(server, "/api/v1/jobs/", &key);
        (status, v["detail"].as_str()) == (401, Some("API key is inactive"))
    });
    assert!(keys(&db, &["deactivate", &id]).1.contains("already inactive"));
    assert!(keys(&db, &["activate", &id]).0);
    within_a_second(|| get(server, "/api/v1/jobs/", &key).0 == 200);

    let (ok, out, _) = keys(&db, &["limits", &id, "--patients", "5"]);
    assert!(ok && out.contains("1000 → 5"), "{out}");
    within_a_second(|| {
        let r = client()
            .post(format!("{}/api/v1/generation/", server.url))
            .header("X-API-Key", &key)
            .json(&json!({"configuration": {"total_patients": 6}}))
            .send()
            .expect("r");
        r.status().as_u16() == 400 && r.headers()["x-patient-limit"] == "5"
    });
    let (ok, out, _) = keys(&db, &["extend", &id, "--days", "30"]);
    assert!(ok && out.contains("Never to"), "{out}");
    // The server writes usage about once a second.
    let deadline = Instant::now() + Duration::from_secs(5);
    let usage = loop {
        let (_, usage, _) = keys(&db, &["usage", &id, "--format", "json"]);
        let usage: Value = serde_json::from_str(&usage).expect("json");
        if usage["usage"]["total_requests"].as_i64().unwrap_or(0) >= 3 || Instant::now() > deadline {
            break usage;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(usage["key_id"], id.as_str());
    assert!(usage["usage"]["total_requests"].as_i64().unwrap_or(0) >= 3, "{usage}");
    assert_eq!(usage["limits"]["patients_per_request"], 5);
    let (_, stats, _) = keys(&db, &["stats", "--days", "7", "--format", "json"]);
    let stats: Value = serde_json::from_str(&stats).expect("json");
    assert_eq!(stats["period_days"], 7);
    assert!(stats["statistics"]["total_keys"].as_i64().unwrap_or(0) >= 2);

    // Rotation: the new key works at once, the old one until the grace period ends.
    let (ok, out, err) = keys(&db, &["rotate", &id, "--grace", "2s", "--format", "json"]);
    assert!(ok, "{err}");
    let rotated: Value = serde_json::from_str(&out).expect("json");
    let new_key = rotated["key"].as_str().expect("key").to_string();
    assert_eq!(rotated["limits"]["patients_per_request"], 5);
    assert_eq!(get(server, "/api/v1/jobs/", &new_key).0, 200);
    assert_eq!(get(server, "/api/v1/jobs/", &key).0, 200);
    std::thread::sleep(Duration::from_millis(2200));
    let (status, v) = get(server, "/api/v1/jobs/", &key);
    assert_eq!((status, v["detail"].as_str()), (401, Some("API key has expired")));
    assert_eq!(get(server, "/api/v1/jobs/", &new_key).0, 200);

    // Import an existing plaintext key (stored hashed).
    let legacy = "DEMO_legacy_key_from_upstream_0001";
    let out = Command::new(bin())
        .args(["keys", "import", "--name", "Imported", "--key-env", "LEGACY_KEY"])
        .args(&db)
        .env("LEGACY_KEY", legacy)
        .env_remove("DATABASE_URL")
        .output()
        .expect("import");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(get(server, "/api/v1/jobs/", legacy).0, 200);
    let (ok, _, err) = keys(&db, &["import", "--name", "Again", "--key", legacy]);
    assert!(!ok && err.contains("already exists"), "{err}");
    let (ok, _, err) = keys(
        &db,
        &[
            "import",
            "--name",
            "Broken",
            "--key",
            "sk_live_0000000000000000000000000000000000000000000_zzzzzz",
        ],
    );
    assert!(!ok && err.contains("checksum"), "{err}");

    let (_, out, _) = keys(&db, &["cleanup", "--dry-run"]);
    assert!(out.contains("Exercise Bravo") && out.contains("dry run"), "{out}");
    let (_, out, _) = keys(&db, &["cleanup"]);
    assert!(out.contains("1 expired key(s) deleted"), "{out}");
    let (ok, _, err) = keys(&db, &["show", &id]);
    assert!(!ok && err.contains("no API key matches"));
    let (_, out, _) = keys(&db, &["list", "--format", "json"]);
    let imported = serde_json::from_str::<Value>(&out)
        .expect("json")
        .as_array()
        .and_then(|l| l.iter().find(|k| k["name"] == "Imported").cloned())
        .expect("imported key");
    let (ok, _, err) = keys(&db, &["delete", imported["id"].as_str().unwrap_or_default()]);
    assert!(!ok && err.contains("--confirm"), "{err}");
    assert!(keys(&db, &["delete", "--confirm", imported["id"].as_str().unwrap_or_default()]).0);
    within_a_second(|| get(server, "/api/v1/jobs/", legacy).0 == 401);
    // Bad input.
    let (ok, _, err) = keys(&db, &["create", "--name", "x", "--scopes", "root"]);
    assert!(!ok && err.contains("unknown scope"));
    let (ok, _, err) = keys(&db, &["rotate", &id, "--grace", "soon"]);
    assert!(!ok && err.contains("duration"), "{err}");
}

#[test]
fn key_cli_on_the_embedded_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(None, dir.path(), "keys-sqlite", &[]);
    key_cli_round_trip(vec!["--data-dir".into(), dir.path().display().to_string()], &server);
}

#[test]
fn key_cli_on_postgres() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = postgres_url();
    let server = Server::start(Some(&url), dir.path(), "keys-pg", &[]);
    key_cli_round_trip(vec!["--database-url".into(), url], &server);
}

#[test]
fn migrate_runs_twice_on_both_databases() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = postgres_url();
    let (postgres, sqlite) = patientgen_storage::testing::known_migrations();
    for (db, migrations) in [
        (vec!["--data-dir".to_string(), dir.path().display().to_string()], sqlite),
        (vec!["--database-url".to_string(), url], postgres),
    ] {
        for _ in 0..2 {
            let out = Command::new(bin())
                .arg("migrate")
                .args(&db)
                .env_remove("DATABASE_URL")
                .output()
                .expect("migrate");
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            let report = String::from_utf8_lossy(&out.stdout);
            assert!(report.contains(&format!("({migrations} applied)")), "{report}");
        }
    }
    let out =
        Command::new(bin()).args(["migrate", "--database-url", "mysql://nope"]).output().expect("migrate");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("DATABASE_URL must start with"));
    // Nothing listens on the port: the error names where it tried and why, not only a pool timeout
    // (after the pool's 5 s of retries).
    let nowhere = format!("postgres://postgres@127.0.0.1:{}/patientgen", free_port());
    let out = Command::new(bin()).args(["migrate", "--database-url", &nowhere]).output().expect("migrate");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let target = nowhere.trim_start_matches("postgres://postgres@").trim_end_matches("/patientgen");
    assert!(
        err.contains(&format!("cannot connect to PostgreSQL at {target} (database patientgen)")),
        "{err}"
    );
    assert!(err.contains("refused"), "{err}");
}

/// A `redis-server` of the test's own, killed when dropped.
struct OwnRedis {
    child: Child,
    port: u16,
}

impl OwnRedis {
    fn start(port: u16) -> OwnRedis {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server must be installed for this test (apt-get install redis-server)");
        let redis = OwnRedis { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while redis.cli(&["PING"]) != "PONG" {
            assert!(Instant::now() < deadline, "redis-server did not start on port {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        redis
    }

    fn cli(&self, args: &[&str]) -> String {
        Command::new("redis-cli")
            .args(["-p", &self.port.to_string()])
            .args(args)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
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

fn text(server: &Server, path: &str) -> String {
    client().get(format!("{}{path}", server.url)).send().and_then(|r| r.text()).unwrap_or_default()
}

#[test]
fn a_redis_outage_degrades_to_in_process_limits_and_recovers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let mut redis = OwnRedis::start(port);
    let url = format!("redis://127.0.0.1:{port}");
    let server = Server::start(None, dir.path(), "redis-outage", &["--redis-url", &url]);
    let db = vec!["--data-dir".to_string(), dir.path().display().to_string()];
    let (ok, out, err) = keys(&db, &["create", "--name", "Outage", "--format", "json"]);
    assert!(ok, "{err}");
    let key = serde_json::from_str::<Value>(&out).expect("json")["key"].as_str().expect("key").to_string();

    assert_eq!(get(&server, "/api/v1/jobs/", &key).0, 200);
    let health: Value = serde_json::from_str(&text(&server, "/health")).expect("health");
    assert_eq!(
        (health["status"].as_str(), health["services"]["redis"].as_bool()),
        (Some("healthy"), Some(true))
    );
    assert!(!redis.cli(&["--scan", "--pattern", "patientgen:rl:*"]).is_empty(), "counts are kept in Redis");

    // Redis goes away: requests still succeed, limited by this instance.
    redis.stop();
    for _ in 0..5 {
        assert_eq!(get(&server, "/api/v1/jobs/", &key).0, 200);
    }
    let health: Value = serde_json::from_str(&text(&server, "/health")).expect("health");
    assert_eq!(
        (health["status"].as_str(), health["services"]["redis"].as_bool()),
        (Some("degraded"), Some(false))
    );
    let (_, full) = get(&server, "/api/v1/health", ADMIN);
    assert_eq!(full["checks"]["rate_limiter"]["status"], "degraded");
    assert!(text(&server, "/metrics").contains("rate_limiter_degraded 1"));
    let log = std::fs::read_to_string(dir.path().join("redis-outage.log")).expect("log");
    assert_eq!(log.matches("Redis unreachable").count(), 1, "the outage is logged once:\n{log}");

    // Redis returns: the instance goes back to it by itself.
    let redis = OwnRedis::start(port);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let health: Value = serde_json::from_str(&text(&server, "/health")).unwrap_or(Value::Null);
        if health["status"] == "healthy" {
            break;
        }
        assert!(Instant::now() < deadline, "did not return to Redis: {health}");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(text(&server, "/metrics").contains("rate_limiter_degraded 0"));
    assert!(redis.cli(&["--scan", "--pattern", "patientgen:rl:*"]).is_empty(), "a fresh Redis");
    assert_eq!(get(&server, "/api/v1/jobs/", &key).0, 200);
    assert!(!redis.cli(&["--scan", "--pattern", "patientgen:rl:*"]).is_empty(), "counts are in Redis again");
}

/// `api_requests_total` by (method, endpoint, status) and the other counters
/// of one instance's `/metrics`.
fn scrape(server: &Server) -> std::collections::BTreeMap<String, f64> {
    let text = ureq_get(&format!("{}/metrics", server.url)).expect("metrics");
    let mut out = std::collections::BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some((series, value)) = line.rsplit_once(' ') else { continue };
        let Ok(value) = value.parse::<f64>() else { continue };
        let name = series.split('{').next().unwrap_or("");
        if name == "api_requests_total" {
            let labels = series[name.len()..].trim_matches(|c| c == '{' || c == '}');
            let mut parts: Vec<String> =
                labels.split("\",").map(|p| p.trim_end_matches('"').replacen("=\"", "=", 1)).collect();
            parts.sort_unstable();
            *out.entry(format!("api_requests_total {}", parts.join(" "))).or_default() += value;
        } else if name == "patients_generated_total" {
            // Summed over formats, kept apart by source (job or stream).
            let source = series.split("source=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or("");
            *out.entry(format!("{name} source={source}")).or_default() += value;
        }
    }
    out
}

fn metrics_delta(
    before: &[std::collections::BTreeMap<String, f64>],
    after: &[std::collections::BTreeMap<String, f64>],
) -> std::collections::BTreeMap<String, u64> {
    let mut delta = std::collections::BTreeMap::new();
    for (b, a) in before.iter().zip(after) {
        for (k, v) in a {
            let d = (v - b.get(k).copied().unwrap_or(0.0)).round() as u64;
            if d > 0 {
                *delta.entry(k.clone()).or_default() += d;
            }
        }
    }
    delta
}

/// What one simulated user did: its requests by (method, endpoint, status), its
/// jobs (id, patients, seed) and the patients it streamed.
#[derive(Default)]
struct UserLog {
    requests: std::collections::BTreeMap<String, u64>,
    jobs: Vec<(String, u64)>,
    /// Patients its jobs wrote, once per output format (as the metric counts).
    job_patients_by_format: u64,
    streamed: u64,
}

impl UserLog {
    fn count(&mut self, method: &str, endpoint: &str, status: u16) {
        let key = format!("api_requests_total endpoint={endpoint} method={method} status={status}");
        *self.requests.entry(key).or_default() += 1;
    }
}

/// One user of the workflow: creates jobs in several formats on alternating
/// instances, streams patients, and follows each job to completion on the
/// other instance, counting every request it makes.
fn workflow_user(servers: &[Server], key: &str, user: u64) -> UserLog {
    let mut log = UserLog::default();
    let http = client();
    let formats = [vec!["json"], vec!["csv", "json"], vec!["fhir", "csv"]];
    for j in 0..3u64 {
        let s = &servers[((user + j) % 2) as usize];
        let patients = 40 + 30 * user + 7 * j;
        let seed = 1000 * user + j;
        let body = json!({
            "configuration": { "name": format!("Workflow {user}-{j}"), "total_patients": patients, "seed": seed },
            "output_formats": formats[j as usize],
        });
        let r = http
            .post(format!("{}/api/v1/generation/", s.url))
            .header("X-API-Key", key)
            .json(&body)
            .send()
            .expect("create");
        log.count("POST", "/api/v1/generation/", r.status().as_u16());
        assert_eq!(r.status().as_u16(), 201);
        let id = r.json::<Value>().expect("json")["job_id"].as_str().expect("id").to_string();
        log.jobs.push((id, patients));
        log.job_patients_by_format += patients * formats[j as usize].len() as u64;
        // Stream while the jobs run.
        let n = 25 + user * 10 + j;
        let r = http
            .post(format!("{}/api/v1/streaming/generate", s.url))
            .header("X-API-Key", key)
            .json(&json!({ "configuration": { "total_patients": n, "seed": seed } }))
            .send()
            .expect("stream");
        log.count("POST", "/api/v1/streaming/generate", r.status().as_u16());
        assert_eq!(r.status().as_u16(), 200);
        let lines = r.text().expect("stream body").lines().count() as u64;
        assert_eq!(lines, n, "one line per patient");
        log.streamed += n;
    }
    let jobs = log.jobs.clone();
    for (i, (id, _)) in jobs.iter().enumerate() {
        // Followed on the instance that did not create it.
        let s = &servers[((user + i as u64 + 1) % 2) as usize];
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let r = http
                .get(format!("{}/api/v1/jobs/{id}", s.url))
                .header("X-API-Key", key)
                .send()
                .expect("status");
            log.count("GET", "/api/v1/jobs/{job_id}", r.status().as_u16());
            let v: Value = r.json().expect("json");
            if v["status"] == "completed" {
                break;
            }
            assert!(!finished(&v), "job ended as {v}");
            assert!(Instant::now() < deadline, "job {id} not done in 60 s: {v}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let r =
        http.get(format!("{}/api/v1/jobs/", servers[0].url)).header("X-API-Key", key).send().expect("list");
    log.count("GET", "/api/v1/jobs/", r.status().as_u16());
    assert_eq!(r.json::<Value>().expect("list").as_array().map(Vec::len), Some(3), "a key sees its own jobs");
    log
}

/// Every file of a job's ZIP is byte-identical to what `patientgen generate`
/// writes for the scenario and seed of its manifest.
fn assert_zip_matches_cli(zip: &[u8], dir: &Path, job: &str) {
    let manifest: Value = serde_json::from_slice(&zip_entry(zip, "manifest.json")).expect("manifest");
    let scenario = dir.join(format!("{job}.scenario.json"));
    std::fs::write(&scenario, manifest["scenario"].to_string()).expect("write scenario");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.to_vec())).expect("zip");
    let names: Vec<String> = archive.file_names().map(|n| n.expect("entry name").into_owned()).collect();
    let mut compared = 0;
    for name in names.iter().filter(|n| *n != "manifest.json") {
        let format = match name.as_str() {
            "patients.json" => "json",
            "patients.csv" => "csv",
            "patients.fhir.ndjson" => "fhir",
            other => panic!("unexpected entry {other}"),
        };
        let out = dir.join(format!("{job}.{format}"));
        let status = Command::new(bin())
            .args(["generate", "-q", "--json-envelope", "array", "-f", format, "--scenario"])
            .arg(&scenario)
            .arg("-o")
            .arg(&out)
            .status()
            .expect("cli");
        assert!(status.success());
        let mut entry = Vec::new();
        archive.by_name(name).expect("entry").read_to_end(&mut entry).expect("read");
        assert!(
            std::fs::read(&out).expect("cli output") == entry,
            "job {job}: {name} differs from the CLI's"
        );
        compared += 1;
    }
    assert!(compared > 0);
}

#[test]
fn the_full_workflow_under_load_on_two_instances_with_postgres_and_redis() {
    let redis = std::env::var("PATIENTGEN_TEST_REDIS_URL").expect("PATIENTGEN_TEST_REDIS_URL");
    let dir = tempfile::tempdir().expect("tempdir");
    let url = postgres_url();
    let prefix = format!("workflow-{}", uuid::Uuid::new_v4().simple());
    let extra = ["--workers", "2", "--redis-url", &redis, "--redis-prefix", &prefix];
    let servers = [
        Server::start(Some(&url), dir.path(), "wf-alpha", &extra),
        Server::start(Some(&url), dir.path(), "wf-bravo", &extra),
    ];
    let db = vec!["--database-url".to_string(), url];
    let keys: Vec<String> = (0..8)
        .map(|i| {
            let (ok, out, err) = keys(
                &db,
                &[
                    "create",
                    "--name",
                    &format!("workflow {i}"),
                    "--format",
                    "json",
                    "--minute",
                    "100000",
                    "--hourly",
                    "100000",
                ],
            );
            assert!(ok, "{err}");
            serde_json::from_str::<Value>(&out).expect("json")["key"].as_str().expect("key").to_string()
        })
        .collect();
    let before: Vec<_> = servers.iter().map(scrape).collect();
    let logs: Vec<UserLog> = std::thread::scope(|scope| {
        let handles: Vec<_> = keys
            .iter()
            .enumerate()
            .map(|(i, key)| {
                let servers = &servers;
                scope.spawn(move || workflow_user(servers, key, i as u64))
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("user")).collect()
    });
    let mut expected: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
    let (mut job_patients, mut streamed) = (0, 0);
    for log in &logs {
        for (k, v) in &log.requests {
            *expected.entry(k.clone()).or_default() += v;
        }
        job_patients += log.job_patients_by_format;
        streamed += log.streamed;
    }
    expected.insert("patients_generated_total source=job".into(), job_patients);
    expected.insert("patients_generated_total source=stream".into(), streamed);
    let after: Vec<_> = servers.iter().map(scrape).collect();
    assert_eq!(metrics_delta(&before, &after), expected, "the instances' counters equal the clients' counts");
    // Every job's files, downloaded from either instance, are the CLI's.
    for (i, log) in logs.iter().enumerate() {
        for (id, _) in &log.jobs {
            let zip = client()
                .get(format!("{}/api/v1/downloads/{id}", servers[i % 2].url))
                .header("X-API-Key", &keys[i])
                .send()
                .expect("download")
                .bytes()
                .expect("body");
            assert_zip_matches_cli(&zip, dir.path(), id);
        }
    }
}
