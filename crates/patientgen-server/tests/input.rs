//! Input handling (issue #7): NUL characters in every id and string, trailing
//! garbage after a JSON body, upstream's laxer inputs (alpha-2 nation codes,
//! facilities without a recognisable role).

mod common;

use common::{ADMIN, Db, start};
use serde_json::{Value, json};

const NUL: &str = "String should not contain the NUL character";

fn envelope_naming(status: u16, v: &Value, field: &str, what: &str) {
    assert_eq!(status, 422, "{what}: {v}");
    assert_eq!(v["error"], "Validation Error", "{what}: {v}");
    let detail = v["detail"].as_str().unwrap_or_default();
    assert!(detail.contains(field) && detail.contains(NUL), "{what}: detail {detail:?} should name {field}");
}

/// Every path and query parameter of every documented operation, and a body
/// string of every operation that takes one, with a NUL in it: 422 naming the
/// field, never a 500 (PostgreSQL refuses NUL in text and jsonb).
async fn nul_everywhere(db: Db) {
    let s = start(db, |_| {}).await;
    // The two requests of the issue (500 on PostgreSQL before), with a full template.
    let r = s.get("/api/v1/jobs/a%00b", Some(ADMIN)).send().await.expect("request");
    let status = r.status().as_u16();
    envelope_naming(status, &r.json().await.expect("json"), "path -> job_id", "GET job");
    let template = json!({
        "name": "Baltic\u{0}", "front_configs": [], "facility_configs": [], "total_patients": 5,
        "injury_distribution": {"Disease": 1.0},
    });
    let r = s.post("/api/v1/configurations/", Some(ADMIN), &template).send().await.expect("request");
    let status = r.status().as_u16();
    envelope_naming(status, &r.json().await.expect("json"), "name", "POST configuration");
    // Nothing of it was stored.
    let (_, list) = s.json("/api/v1/configurations/", ADMIN).await;
    assert_eq!(list.as_array().map(Vec::len), Some(0), "{list}");

    let (_, doc) = s.json("/openapi.json", ADMIN).await;
    let mut kinds = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let params: Vec<(&str, &str)> = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .map(|p| (p["name"].as_str().unwrap_or(""), p["in"].as_str().unwrap_or("")))
                        .collect()
                })
                .unwrap_or_default();
            let url = |nul_in: Option<&str>| {
                let mut url = path.clone();
                let mut query = Vec::new();
                for (name, place) in &params {
                    let value = if nul_in == Some(name) { "a%00b" } else { "x" };
                    match *place {
                        "path" => url = url.replace(&format!("{{{name}}}"), value),
                        "query" if nul_in == Some(name) => query.push(format!("{name}={value}")),
                        _ => {}
                    }
                }
                if !query.is_empty() {
                    url = format!("{url}?{}", query.join("&"));
                }
                format!("{}{url}", s.url)
            };
            for (name, place) in &params {
                if !["path", "query"].contains(place) {
                    continue;
                }
                let r = s
                    .client
                    .request(method.clone(), url(Some(name)))
                    .header("X-API-Key", ADMIN)
                    .send()
                    .await
                    .expect("request");
                let status = r.status().as_u16();
                let v: Value = r.json().await.unwrap_or(Value::Null);
                envelope_naming(status, &v, &format!("{place} -> {name}"), &format!("{method} {path}"));
                kinds += 1;
            }
            if op.get("requestBody").is_some() {
                for (body, field) in [
                    (r#"{"name":"Test\u0000"}"#, "name"),
                    (r#"{"configuration_id":"a\u0000b"}"#, "configuration_id"),
                    (
                        r#"{"configuration":{"front_configs":[{"id":"\u0000"}]}}"#,
                        "configuration -> front_configs -> 0 -> id",
                    ),
                ] {
                    let r = s
                        .client
                        .request(method.clone(), url(None))
                        .header("X-API-Key", ADMIN)
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .await
                        .expect("request");
                    let status = r.status().as_u16();
                    let v: Value = r.json().await.unwrap_or(Value::Null);
                    envelope_naming(status, &v, field, &format!("{method} {path} {body}"));
                    kinds += 1;
                }
            }
        }
    }
    assert!(kinds >= 16, "only {kinds} request kinds tried");

    s.stop().await;
}

#[tokio::test]
async fn nul_characters_are_refused_on_postgres() {
    nul_everywhere(Db::Postgres).await;
}

#[tokio::test]
async fn nul_characters_are_refused_on_the_embedded_database() {
    nul_everywhere(Db::Sqlite).await;
}

/// Issue #7.6: `{…} xyz` is not JSON.
#[tokio::test]
async fn trailing_garbage_after_a_json_body_is_refused() {
    let s = start(Db::Sqlite, |_| {}).await;
    for path in ["/api/v1/generation/", "/api/v1/streaming/generate", "/api/v1/configurations/validate/"] {
        let r = s
            .client
            .post(format!("{}{path}", s.url))
            .header("X-API-Key", ADMIN)
            .header("content-type", "application/json")
            .body(r#"{"configuration":{"total_patients":5}} xyz"#)
            .send()
            .await
            .expect("request");
        assert_eq!(r.status().as_u16(), 422, "{path}");
        let v: Value = r.json().await.expect("json");
        assert_eq!(v["error"], "Validation Error");
        assert!(
            v["detail"].as_str().is_some_and(|d| d.starts_with("body: invalid JSON (trailing characters")),
            "{path}: {v}"
        );
    }
    let (_, jobs) = s.json("/api/v1/jobs/", ADMIN).await;
    assert_eq!(jobs.as_array().map(Vec::len), Some(0), "no job was created: {jobs}");
    s.stop().await;
}

/// Issue #7.9: upstream's own tests send alpha-2 nation codes (`US`, `GB`) and
/// a facility without a role; upstream answers 201, and so do we — with a
/// warning naming the ignored facility.
#[tokio::test]
async fn upstreams_laxer_inputs_are_accepted() {
    let s = start(Db::Sqlite, |_| {}).await;
    let template = json!({
        "name": "Upstream test configuration",
        "description": "as upstream's tests send it",
        "total_patients": 20,
        "front_configs": [{
            "id": "test_front", "name": "Test Front", "casualty_rate": 1.0,
            "nationality_distribution": [
                {"nationality_code": "US", "percentage": 60.0},
                {"nationality_code": "GB", "percentage": 40.0},
            ],
        }],
        "facility_configs": [{"id": "test_facility", "name": "Test Facility", "kia_rate": 0.1, "rtd_rate": 0.3}],
        "injury_distribution": {"Battle Injury": 50.0, "Non-Battle Injury": 30.0, "Disease": 20.0},
    });
    let r = s.post("/api/v1/configurations/", Some(ADMIN), &template).send().await.expect("create");
    assert_eq!(r.status().as_u16(), 201);
    let created: Value = r.json().await.expect("json");
    let warnings = created["warnings"].as_array().expect("warnings");
    assert_eq!(warnings.len(), 1, "{created}");
    assert!(
        warnings[0]
            .as_str()
            .is_some_and(|w| w.starts_with("facility_configs -> 0: ignored") && w.contains("test_facility"))
    );
    assert_eq!(created["facility_configs"][0]["id"], "test_facility", "kept as sent");
    // Read back, it has no warnings (they belong to the write).
    let id = created["id"].as_str().expect("id");
    let (_, got) = s.json(&format!("/api/v1/configurations/{id}"), ADMIN).await;
    assert!(got.get("warnings").is_none(), "{got}");

    let r =
        s.post("/api/v1/configurations/validate/", Some(ADMIN), &template).send().await.expect("validate");
    let v: Value = r.json().await.expect("json");
    assert_eq!((v["valid"].as_bool(), v["warnings"].as_array().map(Vec::len)), (Some(true), Some(1)), "{v}");

    let mut configuration = template.clone();
    configuration["seed"] = json!(5);
    let r = s
        .post("/api/v1/generation/", Some(ADMIN), &json!({ "configuration": configuration }))
        .send()
        .await
        .expect("generate");
    assert_eq!(r.status().as_u16(), 201);
    let created: Value = r.json().await.expect("json");
    assert_eq!(created["warnings"].as_array().map(Vec::len), Some(1), "{created}");
    let job = created["job_id"].as_str().expect("job_id").to_string();
    let done = s.wait(ADMIN, &job).await;
    assert_eq!(done["status"], "completed", "{done}");
    let nations = done["summary"]["nationalities"].as_object().expect("nationalities").clone();
    let mut codes: Vec<&String> = nations.keys().collect();
    codes.sort();
    assert_eq!(codes, ["GBR", "USA"], "patients carry alpha-3 codes: {nations:?}");
    // A job from the saved template works too.
    let r = s
        .post("/api/v1/generation/", Some(ADMIN), &json!({ "configuration_id": id }))
        .send()
        .await
        .expect("saved");
    assert_eq!(r.status().as_u16(), 201);

    // Still refused: codes that are no ISO 3166-1 code of a nation we have.
    let mut bad = template.clone();
    bad["front_configs"][0]["nationality_distribution"][0]["nationality_code"] = json!("UK");
    let r = s.post("/api/v1/configurations/", Some(ADMIN), &bad).send().await.expect("create");
    assert_eq!(r.status().as_u16(), 422);
    let v: Value = r.json().await.expect("json");
    assert!(v["detail"].as_str().is_some_and(|d| d.contains("nationality_code: unknown nation 'UK'")), "{v}");
    s.stop().await;
}
