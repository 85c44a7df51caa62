//! The HTTP API over real sockets: job lifecycle on both databases, tenancy,
//! authentication, error envelopes, cancel, limits, encryption, streaming,
//! OpenAPI, reference data, presets, visualisations, health and metrics.

mod common;

use common::{ADMIN, Db, inline, start};
use patientgen_storage::KeyLimits;
use serde_json::{Value, json};
use std::io::Read;
use std::time::{Duration, Instant};

async fn lifecycle(db: Db) {
    let s = start(db, |_| {}).await;
    let key = s.key("generate,read", KeyLimits::default()).await;
    let body = json!({ "configuration": { "name": "Baltic: day 1", "total_patients": 600, "seed": 11 }, "output_formats": ["json", "csv"] });
    let r = s.post("/api/v1/generation/", Some(&key), &body).send().await.expect("request");
    assert_eq!(r.status().as_u16(), 201);
    let created: Value = r.json().await.expect("json");
    assert_eq!(created["status"], "pending");
    let job = created["job_id"].as_str().expect("id").to_string();
    assert!(created["message"].as_str().is_some_and(|m| m.contains(&job)));

    let done = s.wait(&key, &job).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["progress"], 100);
    assert_eq!(done["summary"]["total_patients"], 600);
    // Arrival times for the web UI's charts: facility -> triage -> percentiles.
    let role1 = &done["summary"]["arrival_hours"]["Role1"]["all"];
    assert!(
        role1["count"].as_u64().is_some_and(|n| n > 0) && role1["p90"].as_f64() >= role1["p50"].as_f64(),
        "{role1}"
    );
    assert_eq!(done["output_files"], json!(["patients.json", "patients.csv"]));
    assert_eq!(done["attempts"], 1);
    assert!(done["config"].get("encryption_password").is_none());

    // ZIP download.
    let r = s.get(&format!("/api/v1/downloads/{job}"), Some(&key)).send().await.expect("download");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "application/zip");
    let disposition = r.headers()["content-disposition"].to_str().unwrap_or("").to_string();
    assert!(
        disposition.contains("attachment") && disposition.contains(&format!("Baltic day 1_{job}.zip")),
        "{disposition}"
    );
    let bytes = r.bytes().await.expect("body");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).expect("zip");
    let mut manifest = String::new();
    zip.by_name("manifest.json").expect("manifest").read_to_string(&mut manifest).expect("read");
    let manifest: Value = serde_json::from_str(&manifest).expect("manifest json");
    assert_eq!(manifest["seed"], 11);
    assert_eq!(manifest["counts"]["patients"], 600);
    let mut from_zip = String::new();
    zip.by_name("patients.json").expect("json entry").read_to_string(&mut from_zip).expect("read");

    // ?format=json is the same bare array.
    let r = s
        .get(&format!("/api/v1/downloads/{job}?format=json"), Some(&key))
        .send()
        .await
        .expect("json download");
    assert_eq!(r.headers()["content-type"], "application/json");
    let text = r.text().await.expect("text");
    assert_eq!(text, from_zip);
    let patients: Vec<Value> = serde_json::from_str(&text).expect("array");
    assert_eq!(patients.len(), 600);

    // Paged results are exactly slices of that file.
    let (status, page) = s.json(&format!("/api/v1/jobs/{job}/results?page=3&per_page=50"), &key).await;
    assert_eq!(status, 200);
    assert_eq!((page["total"].clone(), page["total_pages"].clone()), (json!(600), json!(12)));
    assert_eq!(page["patients"].as_array().map(Vec::as_slice), Some(&patients[100..150]));
    let (_, past) = s.json(&format!("/api/v1/jobs/{job}/results?page=99&per_page=50"), &key).await;
    assert_eq!(past["patients"], json!([]));
    let (status, bad) = s.json(&format!("/api/v1/jobs/{job}/results?per_page=501"), &key).await;
    assert_eq!(status, 422);
    assert!(bad["detail"].as_str().is_some_and(|d| d.contains("per_page")));

    // Visualisations of the job.
    let (_, dash) = s.json(&format!("/api/v1/visualizations/dashboard-data?job_id={job}"), &key).await;
    assert_eq!(dash["data"]["summary"]["total_patients"], 600);
    assert!(dash["data"]["patient_flow"]["links"].as_array().is_some_and(|l| !l.is_empty()));
    let (_, detail) = s.json(&format!("/api/v1/visualizations/patient-detail/42?job_id={job}"), &key).await;
    assert_eq!(detail["data"], patients[42]);
    let (_, sample) = s.json("/api/v1/visualizations/sample-patients?limit=3", &key).await;
    assert_eq!(sample["data"]["patients"].as_array().map(Vec::len), Some(3));
    assert_eq!(sample["data"]["patients"][0]["id"], 0);

    // The list, then deletion.
    let (_, list) = s.json("/api/v1/jobs/", &key).await;
    assert!(list.as_array().is_some_and(|l| l.iter().any(|j| j["job_id"] == job.as_str())));
    let r = s
        .client
        .delete(format!("{}/api/v1/jobs/{job}", s.url))
        .header("X-API-Key", &key)
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status().as_u16(), 200);
    let (status, _) = s.json(&format!("/api/v1/jobs/{job}"), &key).await;
    assert_eq!(status, 404);
    let r = s.get(&format!("/api/v1/downloads/{job}"), Some(&key)).send().await.expect("download");
    assert_eq!(r.status().as_u16(), 404);
    s.stop().await;
}

#[tokio::test]
async fn job_lifecycle_on_the_embedded_database() {
    lifecycle(Db::Sqlite).await;
}

#[tokio::test]
async fn job_lifecycle_on_postgres() {
    lifecycle(Db::Postgres).await;
}

#[tokio::test]
async fn keys_see_only_their_own_jobs_and_configurations() {
    let s = start(Db::Sqlite, |_| {}).await;
    let alice = s.key("generate,read", KeyLimits::default()).await;
    let bob = s.key("generate,read", KeyLimits::default()).await;
    let job = s.create_job(&alice, &inline(20, 1)).await;
    s.wait(&alice, &job).await;
    let config = json!({ "name": "Alice's", "front_configs": [], "facility_configs": [], "total_patients": 10, "injury_distribution": {"Disease": 1.0} });
    let r = s.post("/api/v1/configurations/", Some(&alice), &config).send().await.expect("create");
    assert_eq!(r.status().as_u16(), 201);
    let cid = r.json::<Value>().await.expect("json")["id"].as_str().unwrap_or_default().to_string();
    for path in [
        format!("/api/v1/jobs/{job}"),
        format!("/api/v1/jobs/{job}/results"),
        format!("/api/v1/downloads/{job}"),
        format!("/api/v1/configurations/{cid}"),
        format!("/api/v1/visualizations/dashboard-data?job_id={job}"),
    ] {
        let r = s.get(&path, Some(&bob)).send().await.expect("request");
        assert_eq!(r.status().as_u16(), 404, "bob must not see {path}");
        let r = s.get(&path, Some(&alice)).send().await.expect("request");
        assert_eq!(r.status().as_u16(), 200, "alice sees {path}");
    }
    let r =
        s.post(&format!("/api/v1/jobs/{job}/cancel"), Some(&bob), &json!({})).send().await.expect("cancel");
    assert_eq!(r.status().as_u16(), 404);
    let r = s
        .client
        .delete(format!("{}/api/v1/jobs/{job}", s.url))
        .header("X-API-Key", &bob)
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status().as_u16(), 404);
    let (_, bobs) = s.json("/api/v1/jobs/", &bob).await;
    assert_eq!(bobs, json!([]));
    let (_, configs) = s.json("/api/v1/configurations/", &bob).await;
    assert_eq!(configs, json!([]));
    // Bob generating from Alice's saved configuration: 404.
    let r = s
        .post("/api/v1/generation/", Some(&bob), &json!({ "configuration_id": cid }))
        .send()
        .await
        .expect("generate");
    assert_eq!(r.status().as_u16(), 404);
    // The admin sees everything.
    let (status, _) = s.json(&format!("/api/v1/jobs/{job}"), ADMIN).await;
    assert_eq!(status, 200);
    let (_, all) = s.json("/api/v1/jobs/", ADMIN).await;
    assert_eq!(all.as_array().map(Vec::len), Some(1));
    s.stop().await;
}

#[tokio::test]
async fn authentication_and_scopes() {
    let s = start(Db::Sqlite, |_| {}).await;
    let reader = s.key("read", KeyLimits::default()).await;
    let r = s.get("/api/v1/jobs/", None).send().await.expect("request");
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(r.headers()["www-authenticate"], "ApiKey");
    assert_eq!(r.headers()["x-key-status"], "missing");
    let v: Value = r.json().await.expect("json");
    assert_eq!((v["error"].as_str(), v["detail"].as_str()), (Some("Unauthorized"), Some("Missing API Key")));
    // A key in our format with a broken checksum, and an unknown key.
    for bad in ["sk_live_0000000000000000000000000000000000000000000_abcdef", "not-a-key-at-all"] {
        let r = s.get("/api/v1/jobs/", Some(bad)).send().await.expect("request");
        assert_eq!(r.status().as_u16(), 401);
        assert_eq!(r.json::<Value>().await.expect("json")["detail"], "Invalid or inactive API key");
    }
    // 401 comes before 422: a bad body without a key is an auth error.
    let r = s
        .client
        .post(format!("{}/api/v1/generation/", s.url))
        .header("content-type", "application/json")
        .body("{broken")
        .send()
        .await
        .expect("request");
    assert_eq!(r.status().as_u16(), 401);
    let r = s.post("/api/v1/generation/", None, &json!({})).send().await.expect("request");
    assert_eq!(r.status().as_u16(), 401);
    // Scopes.
    let r = s.post("/api/v1/generation/", Some(&reader), &inline(5, 1)).send().await.expect("request");
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(s.json("/api/v1/presets", &reader).await.0, 200);
    // Inactive and expired keys.
    let k = s.key("read", KeyLimits::default()).await;
    let record = s
        .state
        .store
        .find_key_by_hash(&patientgen_storage::keys::hash_key(&k))
        .await
        .expect("q")
        .expect("key");
    assert_eq!(s.json("/api/v1/jobs/", &k).await.0, 200, "the key is cached now");
    s.state.store.set_key_active(&record.id, false, chrono::Utc::now()).await.expect("deactivate");
    let (r, _) = s.until_status("/api/v1/jobs/", &k, 401, Some("inactive")).await;
    assert_eq!(r.json::<Value>().await.expect("json")["detail"], "API key is inactive");
    s.state.store.set_key_active(&record.id, true, chrono::Utc::now()).await.expect("activate");
    s.state
        .store
        .set_key_expiry(
            &record.id,
            Some(chrono::Utc::now() - chrono::Duration::seconds(1)),
            chrono::Utc::now(),
        )
        .await
        .expect("expire");
    let (r, _) = s.until_status("/api/v1/jobs/", &k, 401, Some("expired")).await;
    assert_eq!(r.json::<Value>().await.expect("json")["detail"], "API key has expired");
    // A future expiry works (upstream answered 503 for any key with an expiry).
    s.state
        .store
        .set_key_expiry(&record.id, Some(chrono::Utc::now() + chrono::Duration::days(1)), chrono::Utc::now())
        .await
        .expect("extend");
    s.until_status("/api/v1/jobs/", &k, 200, None).await;
    // Per-request patient limit with upstream's headers.
    let small =
        s.key("generate,read", KeyLimits { max_patients_per_request: 50, ..KeyLimits::default() }).await;
    let r = s.post("/api/v1/generation/", Some(&small), &inline(100, 1)).send().await.expect("request");
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(r.headers()["x-limit-type"], "patients_per_request");
    assert_eq!(r.headers()["x-limit-value"], "50");
    assert_eq!(r.headers()["x-requested"], "100");
    assert!(
        r.json::<Value>().await.expect("json")["detail"]
            .as_str()
            .is_some_and(|d| d.contains("exceeds limit of 50"))
    );
    s.stop().await;
}

#[tokio::test]
async fn every_error_is_an_envelope() {
    let s = start(Db::Sqlite, |c| c.body_limit = 4096).await;
    let check = |v: &Value, error: &str| {
        assert_eq!(v["error"], error, "{v}");
        assert!(v["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
        assert!(v["request_id"].as_str().is_some_and(|id| id.len() >= 32));
    };
    let r = s.get("/api/v1/nonexistent", Some(ADMIN)).send().await.expect("request");
    assert_eq!(r.status().as_u16(), 404);
    let id_header = r.headers()["x-request-id"].to_str().unwrap_or("").to_string();
    let v: Value = r.json().await.expect("json");
    check(&v, "Not Found");
    assert_eq!(v["request_id"], id_header.as_str());
    assert_eq!(
        s.client.post(format!("{}/api/generate", s.url)).send().await.expect("request").status().as_u16(),
        404
    );
    let r = s.client.put(format!("{}/health", s.url)).send().await.expect("request");
    assert_eq!(r.status().as_u16(), 405);
    check(&r.json().await.expect("json"), "Method Not Allowed");
    let big = json!({ "configuration": { "name": "x".repeat(10_000) } });
    let r = s.post("/api/v1/generation/", Some(ADMIN), &big).send().await.expect("request");
    assert_eq!(r.status().as_u16(), 413);
    check(&r.json().await.expect("json"), "Payload Too Large");
    let r = s
        .client
        .post(format!("{}/api/v1/generation/", s.url))
        .header("X-API-Key", ADMIN)
        .header("content-type", "application/json")
        .body("{\"configuration\": ")
        .send()
        .await
        .expect("request");
    assert_eq!(r.status().as_u16(), 422);
    let v: Value = r.json().await.expect("json");
    check(&v, "Validation Error");
    assert!(v["detail"].as_str().is_some_and(|d| d.starts_with("body: invalid JSON")), "{v}");
    for (body, field) in [
        (json!({ "configuration": {"total_patients": 10}, "total_patients": 0 }), "total_patients"),
        (
            json!({ "configuration": {"total_patients": 10}, "output_formats": ["bogus"] }),
            "Invalid output format: bogus",
        ),
        (json!({ "configuration": {"total_patients": 10}, "output_formats": [] }), "output_formats"),
        (
            json!({ "configuration": {"total_patients": 10}, "use_encryption": true, "encryption_password": "short" }),
            "at least 8 characters",
        ),
        (
            json!({ "configuration": {"total_patients": 10}, "priority": "urgent" }),
            "priority: Invalid priority: urgent",
        ),
        (
            json!({ "configuration": {"total_patients": 10, "warfare_types": {"laser": true}} }),
            "configuration -> warfare_types -> laser",
        ),
        (
            json!({ "configuration": {"front_configs": [{"name": "x"}]} }),
            "configuration -> front_configs -> 0 -> id: field required",
        ),
        (json!({}), "Either configuration_id or configuration must be provided"),
        (json!({ "configuration_id": "x", "configuration": {"total_patients": 1} }), "not both"),
        (json!({ "configuration": {"total_patients": 10}, "total_patients": "ten" }), "total_patients"),
    ] {
        let r = s.post("/api/v1/generation/", Some(ADMIN), &body).send().await.expect("request");
        assert_eq!(r.status().as_u16(), 422, "{body}");
        let v: Value = r.json().await.expect("json");
        assert!(v["detail"].as_str().is_some_and(|d| d.contains(field)), "{body} -> {v}");
    }
    // Upstream's trailing-slash redirects.
    let r = s.get("/api/v1/jobs", Some(ADMIN)).send().await.expect("request");
    assert_eq!(r.status().as_u16(), 307);
    assert_eq!(r.headers()["location"], "/api/v1/jobs/");
    let r = s.get("/api/v1/presets/?category=cbrn", None).send().await.expect("request");
    assert_eq!(r.status().as_u16(), 307);
    assert_eq!(r.headers()["location"], "/api/v1/presets?category=cbrn");
    let r = s.get("/", None).send().await.expect("request");
    assert_eq!(r.status().as_u16(), 307);
    assert!(r.headers()["location"].to_str().unwrap_or("").contains("/static/index.html"));
    s.stop().await;
}

#[tokio::test]
async fn cancel_stops_a_running_job_within_a_second() {
    let s = start(Db::Sqlite, |_| {}).await;
    let job = s.create_job(ADMIN, &inline(1_000_000, 3)).await;
    let started = Instant::now();
    loop {
        let (_, v) = s.json(&format!("/api/v1/jobs/{job}"), ADMIN).await;
        if v["status"] == "running" && v["progress_details"]["patients_generated"].as_i64().unwrap_or(0) > 0 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "job never started: {v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let t = Instant::now();
    let r =
        s.post(&format!("/api/v1/jobs/{job}/cancel"), Some(ADMIN), &json!({})).send().await.expect("cancel");
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["status"], "cancelled", "{v}");
    assert_eq!(v["error"], "Job cancelled by user");
    assert!(t.elapsed() < Duration::from_millis(1500), "cancel took {:?}", t.elapsed());
    // The generation really stopped: the counter does not move any more.
    let (_, a) = s.json(&format!("/api/v1/jobs/{job}"), ADMIN).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let (_, b) = s.json(&format!("/api/v1/jobs/{job}"), ADMIN).await;
    assert_eq!(a["progress"], b["progress"]);
    let r =
        s.post(&format!("/api/v1/jobs/{job}/cancel"), Some(ADMIN), &json!({})).send().await.expect("again");
    assert_eq!(r.status().as_u16(), 400);
    assert!(
        r.json::<Value>().await.expect("json")["detail"]
            .as_str()
            .is_some_and(|d| d.contains("Cannot cancel job"))
    );
    // A pending job is cancelled at once (no worker on this instance).
    let idle = start(Db::Sqlite, |c| c.workers = 0).await;
    let j = idle.create_job(ADMIN, &inline(10, 1)).await;
    let r =
        idle.post(&format!("/api/v1/jobs/{j}/cancel"), Some(ADMIN), &json!({})).send().await.expect("cancel");
    assert_eq!(r.json::<Value>().await.expect("json")["status"], "cancelled");
    idle.stop().await;
    s.stop().await;
}

#[tokio::test]
async fn per_job_limits_hold() {
    let s = start(Db::Sqlite, |c| c.max_patients_per_job = 5_000).await;
    let r = s.post("/api/v1/generation/", Some(ADMIN), &inline(5_001, 1)).send().await.expect("request");
    assert_eq!(r.status().as_u16(), 422);
    assert!(
        r.json::<Value>().await.expect("json")["detail"]
            .as_str()
            .is_some_and(|d| d.contains("total_patients") && d.contains("5000"))
    );
    assert_eq!(
        s.post("/api/v1/generation/", Some(ADMIN), &inline(5_000, 1))
            .send()
            .await
            .expect("r")
            .status()
            .as_u16(),
        201
    );
    s.stop().await;
    // A million FHIR bundles take far longer than the one-second limit.
    let s = start(Db::Sqlite, |c| c.max_job_runtime = Duration::from_secs(1)).await;
    let t = Instant::now();
    let job = s.create_job(ADMIN, &json!({ "configuration": { "total_patients": 1_000_000, "seed": 1 }, "output_formats": ["fhir"] })).await;
    let done = s.wait(ADMIN, &job).await;
    assert_eq!(done["status"], "failed", "{done}");
    assert!(done["error"].as_str().is_some_and(|e| e.contains("maximum run time of 1 s")), "{done}");
    assert!(t.elapsed() < Duration::from_secs(10), "stopped after {:?}", t.elapsed());
    s.stop().await;
}

#[tokio::test]
async fn encrypted_jobs_encrypt_and_never_serve_plaintext() {
    let s = start(Db::Sqlite, |_| {}).await;
    let body = json!({ "configuration": { "total_patients": 50, "seed": 2 }, "output_formats": ["json"], "use_encryption": true, "encryption_password": "exercise-2025" });
    let job = s.create_job(ADMIN, &body).await;
    let done = s.wait(ADMIN, &job).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["output_files"], json!(["patients.json.enc"]));
    assert!(!done["config"].to_string().contains("exercise-2025"));
    let row = s.state.store.get_job(&job, None).await.expect("q").expect("job");
    assert!(row.encryption_key.is_none(), "key material is dropped once the job is done");
    let bytes = s
        .get(&format!("/api/v1/downloads/{job}"), Some(ADMIN))
        .send()
        .await
        .expect("zip")
        .bytes()
        .await
        .expect("body");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).expect("zip");
    let mut sealed = Vec::new();
    zip.by_name("patients.json.enc").expect("entry").read_to_end(&mut sealed).expect("read");
    assert!(sealed.starts_with(b"PGENENC\0"));
    let mut plain = Vec::new();
    patientgen_crypto::decrypt_stream(sealed.as_slice(), &mut plain, b"exercise-2025").expect("decrypts");
    let patients: Vec<Value> = serde_json::from_slice(&plain).expect("json array");
    assert_eq!(patients.len(), 50);
    assert_eq!(s.json(&format!("/api/v1/jobs/{job}/results"), ADMIN).await.0, 404);
    assert_eq!(
        s.get(&format!("/api/v1/downloads/{job}?format=json"), Some(ADMIN))
            .send()
            .await
            .expect("r")
            .status()
            .as_u16(),
        400
    );
    s.stop().await;
}

#[tokio::test]
async fn streaming_sends_ndjson_or_upstreams_object() {
    let s = start(Db::Sqlite, |_| {}).await;
    let config = json!({ "total_patients": 300, "seed": 4 });
    let r = s.post("/api/v1/streaming/generate", Some(ADMIN), &config).send().await.expect("request");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "application/x-ndjson");
    assert_eq!(r.headers()["x-patient-count"], "300");
    let text = r.text().await.expect("body");
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).expect("line")).collect();
    assert_eq!(lines.len(), 300);
    let r = s
        .post("/api/v1/streaming/generate", Some(ADMIN), &json!({ "configuration": config }))
        .header("accept", "application/json")
        .send()
        .await
        .expect("request");
    assert_eq!(r.headers()["content-type"], "application/json");
    let v: Value = r.json().await.expect("object");
    assert_eq!(v["total_patients"], 300);
    assert_eq!(v["patients"].as_array().map(Vec::as_slice), Some(lines.as_slice()));
    // From a saved configuration, with upstream's checks.
    let saved = json!({ "name": "Saved", "front_configs": [], "facility_configs": [], "total_patients": 40, "injury_distribution": {"Disease": 1.0}, "seed": 9 });
    let id = s
        .post("/api/v1/configurations/", Some(ADMIN), &saved)
        .send()
        .await
        .expect("r")
        .json::<Value>()
        .await
        .expect("json")["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let text = s
        .get(&format!("/api/v1/streaming/generate?configuration_id={id}&count=25"), Some(ADMIN))
        .send()
        .await
        .expect("r")
        .text()
        .await
        .expect("t");
    assert_eq!(text.lines().count(), 25);
    let r = s
        .get(&format!("/api/v1/streaming/generate?configuration_id={id}&batch_size=0"), Some(ADMIN))
        .send()
        .await
        .expect("r");
    assert_eq!(r.status().as_u16(), 422);
    let r = s.get("/api/v1/streaming/generate?configuration_id=nope", Some(ADMIN)).send().await.expect("r");
    assert_eq!(r.status().as_u16(), 404);
    s.stop().await;
}

#[tokio::test]
async fn configurations_crud_and_validate() {
    let s = start(Db::Postgres, |_| {}).await;
    let key = s.key("generate,read", KeyLimits::default()).await;
    let body = json!({
        "name": "Baltic", "description": "three fronts",
        "front_configs": [{"id": "n", "name": "North", "casualty_rate": 1.0, "nationality_distribution": [{"nationality_code": "EST", "percentage": 100}]}],
        "facility_configs": [{"id": "Role2", "name": "Role 2", "kia_rate": 0.06, "rtd_rate": 0.35, "front_id": "n"}],
        "total_patients": 200, "injury_distribution": {"Battle Injury": 0.5, "Disease": 0.5}, "tempo": "surge", "seed": 77,
    });
    let r = s.post("/api/v1/configurations/", Some(&key), &body).send().await.expect("create");
    assert_eq!(r.status().as_u16(), 201);
    let created: Value = r.json().await.expect("json");
    let id = created["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(created["version"], 1);
    assert_eq!(created["tempo"], "surge");
    let (status, got) = s.json(&format!("/api/v1/configurations/{id}"), &key).await;
    assert_eq!((status, got["name"].as_str()), (200, Some("Baltic")));
    let mut changed = body.clone();
    changed["name"] = json!("Baltic v2");
    changed["version"] = json!(2);
    let r = s
        .client
        .put(format!("{}/api/v1/configurations/{id}", s.url))
        .header("X-API-Key", &key)
        .json(&changed)
        .send()
        .await
        .expect("put");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.json::<Value>().await.expect("json")["version"], 2);
    // Generating from it uses everything it says.
    let job = s.create_job(&key, &json!({ "configuration_id": id, "total_patients": 60 })).await;
    let done = s.wait(&key, &job).await;
    assert_eq!(done["summary"]["total_patients"], 60);
    assert_eq!(done["summary"]["nationalities"], json!({"EST": 60}));
    assert_eq!(done["summary"]["injury_types"]["Disease"], 30);
    // Validation.
    let r = s.post("/api/v1/configurations/validate/", Some(&key), &body).send().await.expect("validate");
    assert_eq!(r.json::<Value>().await.expect("json"), json!({"valid": true, "errors": []}));
    let mut bad = body.clone();
    bad["front_configs"] = json!([]);
    bad["injury_distribution"] = json!({"Disease": 70, "Battle Injury": 60});
    let v: Value = s
        .post("/api/v1/configurations/validate/", Some(&key), &bad)
        .send()
        .await
        .expect("r")
        .json()
        .await
        .expect("json");
    assert_eq!(v["valid"], false);
    assert!(v["errors"].to_string().contains("At least one front configuration is required"), "{v}");
    let mut no_total = body.clone();
    no_total.as_object_mut().map(|o| o.remove("total_patients"));
    let r = s.post("/api/v1/configurations/validate/", Some(&key), &no_total).send().await.expect("r");
    assert_eq!(r.status().as_u16(), 422);
    assert!(
        r.json::<Value>().await.expect("json")["detail"]
            .as_str()
            .is_some_and(|d| d.contains("total_patients"))
    );
    let mut orphan = body.clone();
    orphan["parent_config_id"] = json!("missing");
    let r = s.post("/api/v1/configurations/", Some(&key), &orphan).send().await.expect("r");
    assert_eq!(r.status().as_u16(), 422);
    let r = s
        .client
        .delete(format!("{}/api/v1/configurations/{id}", s.url))
        .header("X-API-Key", &key)
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status().as_u16(), 204);
    assert_eq!(s.json(&format!("/api/v1/configurations/{id}"), &key).await.0, 404);
    s.stop().await;
}

#[tokio::test]
async fn openapi_documents_every_route_and_docs_work_offline() {
    let s = start(Db::Sqlite, |_| {}).await;
    let (status, doc) = s.json("/openapi.json", ADMIN).await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")));
    assert_eq!(doc["info"]["title"], "Military Medical Exercise Patient Generator");
    let paths = doc["paths"].as_object().expect("paths");
    for p in [
        "/api/v1/generation/",
        "/api/v1/jobs/",
        "/api/v1/jobs/{job_id}",
        "/api/v1/jobs/{job_id}/results",
        "/api/v1/jobs/{job_id}/cancel",
        "/api/v1/downloads/{job_id}",
        "/api/v1/configurations/",
        "/api/v1/configurations/{config_id}",
        "/api/v1/configurations/validate/",
        "/api/v1/configurations/reference/nationalities/",
        "/api/v1/presets",
        "/api/v1/presets/{preset_id}",
        "/api/v1/presets/categories/list",
        "/api/v1/streaming/generate",
        "/api/v1/visualizations/dashboard-data",
        "/api/v1/health",
        "/metrics",
    ] {
        assert!(paths.contains_key(p), "{p} undocumented");
    }
    for (path, item) in paths {
        if path.starts_with("/api/") {
            assert!(path.starts_with("/api/v1/"), "{path}");
        }
        for (method, op) in item.as_object().expect("item") {
            if !["get", "post", "put", "delete"].contains(&method.as_str()) {
                continue;
            }
            let responses = op["responses"].as_object().expect("responses");
            let success: Vec<&String> =
                responses.keys().filter(|c| ["200", "201", "204"].contains(&c.as_str())).collect();
            assert_eq!(success.len(), 1, "{method} {path} declares no success response");
            for (code, resp) in responses {
                if code == "204" {
                    continue;
                }
                let content = resp["content"]
                    .as_object()
                    .unwrap_or_else(|| panic!("{method} {path} {code}: no content"));
                for (media, entry) in content {
                    assert!(entry.get("schema").is_some(), "{method} {path} {code} {media}: no schema");
                }
            }
        }
    }
    let r = s.get("/docs/", None).send().await.expect("docs");
    assert_eq!(r.status().as_u16(), 200);
    let html = r.text().await.expect("html");
    assert!(html.contains("swagger-ui") && !html.contains("https://"), "docs must not load remote assets");
    let r = s.get("/docs/swagger-ui-bundle.js", None).send().await.expect("bundle");
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.bytes().await.expect("js").len() > 100_000);
    s.stop().await;
}

#[tokio::test]
async fn reference_presets_health_and_metrics() {
    let s = start(Db::Sqlite, |c| c.demo_key = true).await;
    let (_, nations) = s.json("/api/v1/configurations/reference/nationalities/", "").await;
    let nations = nations.as_array().expect("array");
    assert_eq!(nations.len(), 32);
    assert!(nations.iter().all(|n| n["code"].as_str().is_some_and(|c| c.len() == 3)));
    assert!(nations.iter().any(|n| n["code"] == "USA" && n["name"] == "United States"));
    let (_, types) = s.json("/api/v1/configurations/reference/condition-types/", "").await;
    assert_eq!(types, json!(["DISEASE", "NON_BATTLE", "BATTLE_TRAUMA"]));
    let (_, facilities) = s.json("/api/v1/configurations/reference/facility-types/", "").await;
    assert_eq!(facilities[1], json!({"id": "R1", "name": "Role 1"}));
    let (_, presets) = s.json("/api/v1/presets", ADMIN).await;
    assert_eq!(presets["total_count"], 9);
    let (_, filtered) = s.json("/api/v1/presets?category=cbrn", ADMIN).await;
    assert_eq!(filtered["presets"][0]["id"], "cbrn_incident");
    let (_, preset) = s.json("/api/v1/presets/maritime_operation", ADMIN).await;
    assert_eq!(preset["generation_config"]["preset_id"], "maritime_operation");
    assert_eq!(preset["generation_config"]["front_configs"][0]["id"], "front_0");
    assert_eq!(s.json("/api/v1/presets/nope", ADMIN).await.0, 404);
    let (_, cats) = s.json("/api/v1/presets/categories/list", ADMIN).await;
    assert_eq!(cats["total_categories"], 8);
    // A preset's generation_config runs as a job with the demo key's limits.
    let demo = patientgen_server::config::DEMO_KEY;
    let mut config = preset["generation_config"].clone();
    config["total_patients"] = json!(40);
    let job = s.create_job(demo, &json!({ "configuration": config })).await;
    assert_eq!(s.wait(demo, &job).await["status"], "completed");
    let r = s.post("/api/v1/generation/", Some(demo), &inline(51, 1)).send().await.expect("r");
    assert_eq!(r.status().as_u16(), 400);
    // The front-end route never leaks a secret.
    let (_, front) = s.json("/api/v1/config/frontend", "").await;
    assert_eq!(front["apiKey"], demo);
    // Health.
    assert_eq!(s.json("/health", "").await.1["status"], "healthy");
    assert_eq!(s.json("/api/v1/health/live", "").await.1["status"], "alive");
    assert_eq!(s.json("/api/v1/health/ready", "").await.1["status"], "ready");
    let (status, full) = s.json("/api/v1/health", "").await;
    assert_eq!((status, full["checks"]["database"]["status"].as_str()), (200, Some("healthy")));
    // Metrics: route templates, never raw ids.
    let _ = s.get("/api/v1/jobs/00000000-0000-0000-0000-000000000000", Some(ADMIN)).send().await;
    let _ = s.get("/api/v1/no/such/route/123", Some(ADMIN)).send().await;
    let text = s.get("/metrics", None).send().await.expect("metrics").text().await.expect("text");
    assert!(text.contains("api_requests_total"), "{text}");
    assert!(text.contains("endpoint=\"/api/v1/jobs/{job_id}\""));
    assert!(text.contains("endpoint=\"unmatched\""));
    assert!(!text.contains("00000000-0000"));
    assert!(text.contains("patientgen_build_info"));
    assert!(text.contains("job_queue_size"));
    s.stop().await;
}

#[tokio::test]
async fn the_web_page_is_served() {
    let s = start(Db::Sqlite, |_| {}).await;
    let r = s.get("/static/index.html", None).send().await.expect("page");
    assert_eq!(r.status().as_u16(), 200);
    let html = r.text().await.expect("html");
    for needle in [
        "<title>Military Medical Exercise Patient Generator</title>",
        "id=\"generateBtn\"",
        "id=\"statusBox\"",
        "js/app.js",
    ] {
        assert!(html.contains(needle), "{needle}");
    }
    assert_eq!(s.get("/static/js/app.js", None).send().await.expect("js").status().as_u16(), 200);
    assert_eq!(s.get("/static/nope.js", None).send().await.expect("js").status().as_u16(), 404);
    s.stop().await;
}
