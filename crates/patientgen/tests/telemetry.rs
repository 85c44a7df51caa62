//! `patientgen serve` exports its spans over OTLP/HTTP when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set: a small OTLP receiver started here
//! (axum on 127.0.0.1:0, `POST /v1/traces`) decodes what it is sent.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use serde_json::{Value, json};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ADMIN: &str = "telemetry-test-admin-key";

/// What the receiver was sent: content type and body of each request.
type Received = Arc<Mutex<Vec<(String, Bytes)>>>;

/// Starts the receiver on its own thread and runtime; returns its base URL.
fn start_receiver(received: Received) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind receiver");
    let addr = listener.local_addr().expect("receiver address");
    listener.set_nonblocking(true).expect("nonblocking");
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(async move {
            async fn traces(
                State(received): State<Received>,
                headers: HeaderMap,
                body: Bytes,
            ) -> &'static str {
                let ct = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                received.lock().expect("lock").push((ct, body));
                // An empty ExportTraceServiceResponse.
                ""
            }
            let app = Router::new().route("/v1/traces", post(traces)).with_state(received);
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            let _ = axum::serve(listener, app).await;
        });
    });
    format!("http://{addr}")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder().timeout(Duration::from_secs(30)).build().expect("client")
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn string(v: &Option<AnyValue>) -> Option<String> {
    match v.as_ref()?.value.as_ref()? {
        any_value::Value::StringValue(s) => Some(s.clone()),
        any_value::Value::IntValue(i) => Some(i.to_string()),
        any_value::Value::DoubleValue(d) => Some(d.to_string()),
        _ => None,
    }
}

fn attr(attributes: &[KeyValue], key: &str) -> Option<String> {
    attributes.iter().find(|a| a.key == key).and_then(|a| string(&a.value))
}

#[test]
fn spans_are_exported_over_otlp_http_when_an_endpoint_is_set() {
    let received: Received = Arc::default();
    let endpoint = start_receiver(received.clone());
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let log = std::fs::File::create(dir.path().join("serve.log")).expect("log");
    let child = Command::new(PathBuf::from(env!("CARGO_BIN_EXE_patientgen")))
        .args(["serve", "--bind", &format!("127.0.0.1:{port}"), "--workers", "1", "--data-dir"])
        .arg(dir.path())
        .env("PATIENTGEN_ADMIN_KEY", ADMIN)
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)
        .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .env_remove("DATABASE_URL")
        .env_remove("API_KEY")
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start patientgen serve");
    let mut server = Server(child);
    let c = client();
    let deadline = Instant::now() + Duration::from_secs(60);
    while c.get(format!("{url}/health")).send().is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        assert!(server.0.try_wait().expect("wait").is_none(), "the server exited");
        std::thread::sleep(Duration::from_millis(100));
    }

    // A keyed request, an unknown path and a job.
    let r = c.get(format!("{url}/api/v1/presets")).header("X-API-Key", ADMIN).send().expect("presets");
    assert_eq!(r.status().as_u16(), 200);
    let request_id = r.headers()["x-request-id"].to_str().expect("request id").to_string();
    assert_eq!(c.get(format!("{url}/no/such/path")).send().expect("404").status().as_u16(), 404);
    let body = json!({"configuration": {"total_patients": 5, "seed": 1}, "output_formats": ["json"]});
    let r = c
        .post(format!("{url}/api/v1/generation/"))
        .header("X-API-Key", ADMIN)
        .json(&body)
        .send()
        .expect("job");
    assert_eq!(r.status().as_u16(), 201);
    let job = r.json::<Value>().expect("job json")["job_id"].as_str().expect("job_id").to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let v: Value = c
            .get(format!("{url}/api/v1/jobs/{job}"))
            .header("X-API-Key", ADMIN)
            .send()
            .expect("job")
            .json()
            .expect("json");
        if v["status"] == "completed" {
            break;
        }
        assert_ne!(v["status"], "failed", "{v}");
        assert!(Instant::now() < deadline, "job did not complete: {v}");
        std::thread::sleep(Duration::from_millis(100));
    }

    // A graceful stop sends the spans still buffered.
    let _ = Command::new("kill").arg("-TERM").arg(server.0.id().to_string()).status();
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.0.try_wait().expect("wait").is_none() {
        assert!(Instant::now() < deadline, "the server did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }

    let received = received.lock().expect("lock").clone();
    assert!(!received.is_empty(), "the receiver got no export");
    let mut spans: Vec<Span> = Vec::new();
    for (content_type, body) in &received {
        assert_eq!(content_type, "application/x-protobuf");
        assert!(!body.windows(ADMIN.len()).any(|w| w == ADMIN.as_bytes()), "the API key was exported");
        let request = ExportTraceServiceRequest::decode(body.as_ref()).expect("an OTLP protobuf body");
        for rs in request.resource_spans {
            let resource = rs.resource.expect("resource");
            assert_eq!(attr(&resource.attributes, "service.name").as_deref(), Some("patientgen"));
            spans.extend(rs.scope_spans.into_iter().flat_map(|s| s.spans));
        }
    }
    let named = |name: &str| spans.iter().filter(|s| s.name == name).collect::<Vec<_>>();
    let presets = named("GET /api/v1/presets");
    let presets = presets
        .iter()
        .find(|s| attr(&s.attributes, "request_id").as_deref() == Some(&request_id))
        .unwrap_or_else(|| {
            panic!(
                "no span for request {request_id}; names: {:?}",
                spans.iter().map(|s| &s.name).collect::<Vec<_>>()
            )
        });
    assert_eq!(attr(&presets.attributes, "route").as_deref(), Some("/api/v1/presets"));
    assert_eq!(attr(&presets.attributes, "method").as_deref(), Some("GET"));
    assert_eq!(attr(&presets.attributes, "status").as_deref(), Some("200"));
    assert!(attr(&presets.attributes, "latency_ms").is_some(), "no latency");
    let key_id = attr(&presets.attributes, "key_id").expect("key_id");
    assert!(!key_id.is_empty() && key_id != ADMIN);
    let unknown = named("GET unmatched");
    assert!(
        unknown.iter().any(|s| attr(&s.attributes, "status").as_deref() == Some("404")),
        "no span for the 404"
    );
    // The job and its phases, in one trace.
    let jobs: Vec<_> =
        named("job").into_iter().filter(|s| attr(&s.attributes, "job_id").as_deref() == Some(&job)).collect();
    assert_eq!(jobs.len(), 1, "one job span for {job}");
    for phase in ["job.run", "job.store", "job.finish"] {
        let child = named(phase);
        assert!(
            child.iter().any(|s| s.trace_id == jobs[0].trace_id && s.parent_span_id == jobs[0].span_id),
            "no {phase} span under the job span"
        );
    }
    let finish =
        named("job.finish").into_iter().find(|s| s.trace_id == jobs[0].trace_id).expect("job.finish");
    assert_eq!(attr(&finish.attributes, "status").as_deref(), Some("completed"));
}
