//! The OpenAPI document and the service agree (issue #7.7). Every documented
//! operation is sent a set of requests derived from the document — with real
//! and unknown ids, without a key, with a key lacking the scope, with a key
//! out of requests, each query parameter out of its documented range, wrong
//! type or NUL, bodies that are not JSON, not an object, too large, and each
//! documented body constraint broken — plus every method a path does not list.
//! Every answer must be documented for its operation (status, media type, the
//! envelope with a string `detail`), every documented constraint must be
//! enforced (422), and every documented status must be seen, except those
//! that need a fault (a dead database, a timeout, a crash).

mod common;

use common::{ADMIN, Db, TestServer, start};
use patientgen_server::ServerConfig;
use patientgen_storage::KeyLimits;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// This instance's patient ceiling (small, so range tests stay cheap).
const MAX_PATIENTS: u32 = 40;
/// Its body limit.
const BODY_LIMIT: usize = 16 << 10;
/// Documented statuses the test cannot provoke without a fault.
const NEED_A_FAULT: [&str; 5] = ["400", "408", "409", "500", "503"];

struct Operation {
    method: String,
    path: String,
    op: Value,
}

impl Operation {
    fn name(&self) -> String {
        format!("{} {}", self.method.to_uppercase(), self.path)
    }

    fn params(&self, place: &str) -> Vec<Value> {
        self.op["parameters"]
            .as_array()
            .map(|ps| ps.iter().filter(|p| p["in"] == place).cloned().collect())
            .unwrap_or_default()
    }

    fn body_schema(&self) -> Option<String> {
        let schema = &self.op["requestBody"]["content"]["application/json"]["schema"];
        schema["$ref"].as_str().map(|r| r.rsplit('/').next().unwrap_or("").to_string())
    }
}

/// A request to send: path parameter values, query pairs, body, key.
#[derive(Clone)]
struct Request {
    what: String,
    path_values: BTreeMap<String, String>,
    query: Vec<(String, String)>,
    body: Option<(String, String)>,
    key: Option<String>,
    method: Option<String>,
}

struct Walk<'a> {
    s: &'a TestServer,
    doc: Value,
    /// Statuses seen per operation.
    seen: BTreeMap<String, BTreeSet<String>>,
    failures: Vec<String>,
}

impl Walk<'_> {
    async fn send(&mut self, op: &Operation, req: &Request) -> Option<(u16, Value)> {
        let mut path = op.path.clone();
        for (name, value) in &req.path_values {
            path = path.replace(&format!("{{{name}}}"), value);
        }
        let query: Vec<String> = req.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let url = if query.is_empty() {
            format!("{}{path}", self.s.url)
        } else {
            format!("{}{path}?{}", self.s.url, query.join("&"))
        };
        let method = req.method.as_deref().unwrap_or(&op.method).to_uppercase();
        let mut builder = self.s.client.request(reqwest::Method::from_bytes(method.as_bytes()).ok()?, url);
        if let Some(key) = &req.key {
            builder = builder.header("X-API-Key", key);
        }
        if let Some((content_type, body)) = &req.body {
            builder = builder.header("content-type", content_type).body(body.clone());
        }
        let response = builder.send().await.expect("request");
        let status = response.status().as_u16();
        let content_type =
            response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let allow = response.headers().get("allow").is_some();
        let bytes = response.bytes().await.unwrap_or_default();
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let what = format!("{} [{}] -> {status}", op.name(), req.what);
        if req.method.is_some() {
            // A method the path does not list.
            if status != 405 || !allow || body["error"] != "Method Not Allowed" {
                self.failures.push(format!("{what}: expected 405 with Allow and the envelope, got {body}"));
            }
            return Some((status, body));
        }
        self.seen.entry(op.name()).or_default().insert(status.to_string());
        let Some(documented) = op.op["responses"].get(status.to_string()) else {
            self.failures.push(format!("{what}: status not documented ({body})"));
            return Some((status, body));
        };
        let base = content_type.split(';').next().unwrap_or("").trim().to_string();
        let media = documented["content"].as_object().cloned().unwrap_or_default();
        if !bytes.is_empty() && !media.is_empty() && !media.contains_key(&base) {
            self.failures.push(format!("{what}: content-type {content_type} not documented"));
        }
        if status >= 400 {
            let schema =
                media.get("application/json").and_then(|m| m["schema"]["$ref"].as_str()).unwrap_or("");
            let object_detail = schema.ends_with("/HealthErrorResponse");
            let envelope = body["error"].is_string()
                && body["timestamp"].is_string()
                && body["request_id"].is_string()
                && if object_detail { body["detail"].is_object() } else { body["detail"].is_string() };
            if base != "application/json" || !envelope {
                self.failures.push(format!("{what}: not the documented envelope: {content_type} {body}"));
            }
        }
        Some((status, body))
    }

    /// Sends and requires a 422 naming `field`.
    async fn expect_422(&mut self, op: &Operation, req: &Request, field: &str) {
        if let Some((status, body)) = self.send(op, req).await {
            let detail = body["detail"].as_str().unwrap_or("");
            if status != 422 || !detail.contains(field) {
                self.failures.push(format!(
                    "{} [{}]: documented constraint not enforced: expected 422 naming {field}, got {status} {body}",
                    op.name(),
                    req.what
                ));
            }
        }
    }

    /// Sends and requires the request not to be refused as invalid.
    async fn expect_accepted(&mut self, op: &Operation, req: &Request) {
        if let Some((status, body)) = self.send(op, req).await
            && (status == 422 || status >= 500)
        {
            self.failures.push(format!(
                "{} [{}]: a value the document allows was refused: {status} {body}",
                op.name(),
                req.what
            ));
        }
    }

    fn schema(&self, name: &str) -> Value {
        self.doc["components"]["schemas"][name].clone()
    }
}

/// A valid body for each request schema.
fn base_body(schema: &str, config_id: &str) -> Value {
    match schema {
        "GenerationRequest" => json!({ "configuration_id": config_id, "output_formats": ["json"] }),
        "ConfigurationTemplate" => json!({
            "name": "Walk", "front_configs": [], "facility_configs": [], "total_patients": 3,
            "injury_distribution": {"Disease": 1.0}, "seed": 4,
        }),
        _ => json!({ "total_patients": 3, "seed": 4 }),
    }
}

/// Bodies breaking each documented constraint of `schema`'s properties, with
/// the field the 422 must name.
fn broken_bodies(schema: &Value, base: &Value) -> Vec<(String, Value, String)> {
    let mut out = Vec::new();
    for (field, p) in schema["properties"].as_object().into_iter().flatten() {
        let mut set = |what: String, value: Value| {
            let mut body = base.clone();
            body[field.as_str()] = value;
            out.push((format!("{field} {what}"), body, field.clone()));
        };
        if let Some(min) = p["minimum"].as_i64() {
            set(format!("< minimum {min}"), json!(min - 1));
        }
        if let Some(max) = p["maximum"].as_i64() {
            set(format!("> maximum {max}"), json!(max + 1));
        }
        if let Some(n) = p["minLength"].as_u64() {
            set(format!("shorter than {n}"), json!("x".repeat(n as usize - 1)));
        }
        if let Some(n) = p["maxLength"].as_u64() {
            set(format!("longer than {n}"), json!("x".repeat(n as usize + 1)));
        }
        if p["minItems"].as_u64() == Some(1) {
            set("empty".into(), json!([]));
        }
        if p["enum"].is_array() {
            set("outside its enum".into(), json!("not-a-member"));
        }
        if p["items"]["enum"].is_array() {
            set("item outside its enum".into(), json!(["not-a-member"]));
        }
        let types: Vec<&str> = match &p["type"] {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if types.contains(&"integer") {
            set("of the wrong type".into(), json!("seven"));
        }
    }
    out
}

/// Walks every operation of `s`, whose real ids are a saved configuration,
/// a completed job and a pending one (for cancel).
async fn walk(s: &TestServer, config_id: &str, job_id: &str, pending_job: &str) -> Vec<String> {
    let (config_id, job_id) = (config_id.to_string(), job_id.to_string());
    let (_, doc) = s.json("/openapi.json", ADMIN).await;
    let mut operations: Vec<Operation> = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            operations.push(Operation { method: method.clone(), path: path.clone(), op: op.clone() });
        }
    }
    // Deletions last, so that the real ids live until then.
    operations.sort_by_key(|o| o.method == "delete");
    assert!(operations.len() >= 30, "only {} operations documented", operations.len());

    let real: BTreeMap<&str, String> = [
        ("job_id", job_id.clone()),
        ("config_id", config_id.clone()),
        ("configuration_id", config_id.clone()),
        ("preset_id", "nato_article_5".to_string()),
        ("patient_id", "0".to_string()),
    ]
    .into();
    let read_only = s.key("read", KeyLimits::default()).await;
    let generate_only = s.key("generate", KeyLimits::default()).await;

    let mut w = Walk { s, doc: doc.clone(), seen: BTreeMap::new(), failures: Vec::new() };
    for op in &operations {
        let path_params = op.params("path");
        let query_params = op.params("query");
        let secured = op.op["security"].as_array().is_some_and(|s| !s.is_empty());
        let schema_name = op.body_schema();
        let base = schema_name.as_deref().map(|n| base_body(n, &config_id));
        let ids = |real_ids: bool| -> BTreeMap<String, String> {
            path_params
                .iter()
                .map(|p| {
                    let name = p["name"].as_str().unwrap_or("").to_string();
                    let value = if real_ids && op.path.ends_with("/cancel") {
                        pending_job.to_string()
                    } else if real_ids {
                        real.get(name.as_str()).cloned().unwrap_or_else(|| "x".into())
                    } else {
                        uuid::Uuid::new_v4().to_string()
                    };
                    (name, value)
                })
                .collect()
        };
        let required_query: Vec<(String, String)> = query_params
            .iter()
            .filter(|p| p["required"] == true)
            .map(|p| {
                let name = p["name"].as_str().unwrap_or("").to_string();
                (name.clone(), real.get(name.as_str()).cloned().unwrap_or_else(|| "1".into()))
            })
            .collect();
        let json_body = |v: &Value| Some(("application/json".to_string(), v.to_string()));
        let ok = Request {
            what: "valid".into(),
            path_values: ids(true),
            query: {
                let mut q = required_query.clone();
                if query_params.iter().any(|p| p["name"] == "job_id") {
                    q.push(("job_id".into(), job_id.clone()));
                }
                q
            },
            body: base.as_ref().and_then(json_body),
            key: Some(ADMIN.into()),
            method: None,
        };
        w.expect_accepted(op, &ok).await;
        // Unknown ids, in the path, the query and the body.
        let unknown = uuid::Uuid::new_v4().to_string();
        let query = ok
            .query
            .iter()
            .map(|(k, v)| match k.as_str() {
                "job_id" | "configuration_id" => (k.clone(), unknown.clone()),
                _ => (k.clone(), v.clone()),
            })
            .collect();
        let body = base.as_ref().map(|b| {
            let mut b = b.clone();
            if b.get("configuration_id").is_some() {
                b["configuration_id"] = json!(unknown);
            }
            ("application/json".to_string(), b.to_string())
        });
        w.send(
            op,
            &Request { what: "unknown ids".into(), path_values: ids(false), query, body, ..ok.clone() },
        )
        .await;
        if secured {
            w.send(op, &Request { what: "no key".into(), key: None, ..ok.clone() }).await;
            w.send(op, &Request { what: "read-only key".into(), key: Some(read_only.clone()), ..ok.clone() })
                .await;
            w.send(
                op,
                &Request { what: "generate-only key".into(), key: Some(generate_only.clone()), ..ok.clone() },
            )
            .await;
        }
        // A key out of requests: its second request is refused.
        let once = s.key("admin", KeyLimits { max_requests_per_minute: 1, ..KeyLimits::default() }).await;
        let limited = Request { what: "key out of requests".into(), key: Some(once), ..ok.clone() };
        w.send(op, &limited).await;
        w.send(op, &limited).await;
        // Path parameters with NUL.
        for p in &path_params {
            let name = p["name"].as_str().unwrap_or("").to_string();
            let mut values = ok.path_values.clone();
            values.insert(name.clone(), "a%00b".into());
            let req = Request { what: format!("NUL in {name}"), path_values: values, ..ok.clone() };
            w.expect_422(op, &req, &format!("path -> {name}")).await;
        }
        // Query parameters: every documented bound, the wrong type, NUL.
        for p in &query_params {
            let name = p["name"].as_str().unwrap_or("").to_string();
            let with = |value: String, what: String| {
                let mut q: Vec<(String, String)> =
                    ok.query.iter().filter(|(k, _)| *k != name).cloned().collect();
                q.push((name.clone(), value));
                Request { what, query: q, ..ok.clone() }
            };
            let field = format!("query -> {name}");
            let schema = &p["schema"];
            if let Some(min) = schema["minimum"].as_i64() {
                w.expect_422(op, &with((min - 1).to_string(), format!("{name} below {min}")), &field).await;
                w.expect_accepted(op, &with(min.to_string(), format!("{name} = {min}"))).await;
            }
            if let Some(max) = schema["maximum"].as_i64() {
                w.expect_422(op, &with((max + 1).to_string(), format!("{name} above {max}")), &field).await;
                w.expect_accepted(op, &with(max.to_string(), format!("{name} = {max}"))).await;
            }
            let types = schema["type"].to_string();
            if types.contains("integer") {
                w.expect_422(op, &with("seven".into(), format!("{name} not an integer")), &field).await;
            }
            if let Some(members) = schema["enum"].as_array() {
                w.expect_422(op, &with("not-a-member".into(), format!("{name} outside its enum")), &field)
                    .await;
                for m in members.iter().filter_map(Value::as_str) {
                    w.send(op, &with(m.to_string(), format!("{name} = {m}"))).await;
                }
            }
            w.expect_422(op, &with("a%00b".into(), format!("NUL in {name}")), &field).await;
            if p["required"] == true {
                let q: Vec<(String, String)> = ok.query.iter().filter(|(k, _)| *k != name).cloned().collect();
                let req = Request { what: format!("{name} missing"), query: q, ..ok.clone() };
                w.expect_422(op, &req, &field).await;
            }
        }
        // Bodies.
        if let (Some(schema_name), Some(base)) = (&schema_name, &base) {
            let body = |content_type: &str, text: &str| Some((content_type.to_string(), text.to_string()));
            for (what, b) in [
                ("not JSON", body("application/json", "{\"configuration\": ")),
                ("trailing garbage", body("application/json", &format!("{base} xyz"))),
                ("empty", body("application/json", "")),
                ("an array", body("application/json", "[]")),
                ("NUL", body("application/json", r#"{"name":"\u0000"}"#)),
            ] {
                w.expect_422(op, &Request { what: what.into(), body: b, ..ok.clone() }, "").await;
            }
            let req = Request {
                what: "text/plain".into(),
                body: body("text/plain", &base.to_string()),
                ..ok.clone()
            };
            w.send(op, &req).await;
            let big = json!({ "name": "x".repeat(BODY_LIMIT + 1) }).to_string();
            w.send(
                op,
                &Request { what: "too large".into(), body: body("application/json", &big), ..ok.clone() },
            )
            .await;
            let schema = w.schema(schema_name);
            for (what, broken, field) in broken_bodies(&schema, base) {
                w.expect_422(op, &Request { what, body: json_body(&broken), ..ok.clone() }, &field).await;
            }
        }
    }
    // Methods a path does not list.
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let listed: Vec<&String> = item.as_object().expect("item").keys().collect();
        let op = Operation { method: "get".into(), path: path.clone(), op: json!({}) };
        let values: BTreeMap<String, String> = ["job_id", "config_id", "preset_id", "patient_id"]
            .iter()
            .map(|n| (n.to_string(), "x".into()))
            .collect();
        for method in ["get", "post", "put", "delete", "patch"] {
            if listed.iter().any(|m| *m == method) {
                continue;
            }
            let req = Request {
                what: format!("unlisted {method}"),
                path_values: values.clone(),
                query: Vec::new(),
                body: None,
                key: Some(ADMIN.into()),
                method: Some(method.into()),
            };
            w.send(&op, &req).await;
        }
    }
    // The other direction: every documented status was seen, unless it needs a fault.
    for op in &operations {
        let seen = w.seen.get(&op.name()).cloned().unwrap_or_default();
        for code in op.op["responses"].as_object().expect("responses").keys() {
            if !seen.contains(code) && !NEED_A_FAULT.contains(&code.as_str()) {
                w.failures.push(format!("{}: documents {code}, never seen (seen: {seen:?})", op.name()));
            }
        }
    }
    w.failures
}

#[tokio::test]
async fn every_answer_is_documented_and_every_documented_constraint_enforced() {
    let tweak = |c: &mut ServerConfig| {
        c.max_patients_per_job = MAX_PATIENTS;
        c.body_limit = BODY_LIMIT;
    };
    // A saved configuration and a completed job, made with a worker…
    let first = start(Db::Sqlite, tweak).await;
    let config = first
        .post("/api/v1/configurations/", Some(ADMIN), &base_body("ConfigurationTemplate", ""))
        .send()
        .await
        .expect("configuration");
    let config_id = config.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string();
    let job_id = first.create_job(ADMIN, &json!({ "configuration_id": config_id })).await;
    assert_eq!(first.wait(ADMIN, &job_id).await["status"], "completed");
    let dir = first.stop_keeping_dir().await;
    // …then the same database served without workers, so that a job stays pending.
    let mut config = ServerConfig {
        data_dir: dir.path().to_path_buf(),
        admin_key: Some(ADMIN.into()),
        workers: 0,
        ..ServerConfig::default()
    };
    tweak(&mut config);
    let state = patientgen_server::build_state(config).await.expect("state");
    let s = common::serve_state(state, dir).await;
    let pending = s.create_job(ADMIN, &json!({ "configuration_id": config_id })).await;
    let failures = walk(&s, &config_id, &job_id, &pending).await;
    s.stop().await;
    assert!(failures.is_empty(), "{} disagreements:\n{}", failures.len(), failures.join("\n"));
}
