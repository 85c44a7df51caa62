//! Single timed requests for `scripts/perf-guard`: a job from creation until
//! its ZIP is downloaded, and one NDJSON stream read to the end. Both check
//! what they time (the job completed, the stream has one line per patient).

use crate::check;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use url::Url;

fn client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder().timeout(Duration::from_secs(600)).build().map_err(|e| e.to_string())
}

async fn send(rb: reqwest::RequestBuilder, what: &str, expect: u16) -> Result<reqwest::Response, String> {
    let r = rb.send().await.map_err(|e| format!("{what}: {e}"))?;
    if r.status().as_u16() != expect {
        let status = r.status();
        let body = r.text().await.unwrap_or_default();
        return Err(format!("{what}: HTTP {status}: {}", &body[..body.len().min(300)]));
    }
    Ok(r)
}

/// Creates a job of `patients` (JSON output, seed 1), polls its status every
/// `poll`, downloads the ZIP; returns the time from the create request to the
/// last byte of the ZIP. The job is deleted afterwards (not timed).
pub async fn job(
    host: &Url,
    key: &str,
    patients: u32,
    poll: Duration,
    deadline: Duration,
) -> Result<Duration, String> {
    crate::loopback::check(host)?;
    let c = client()?;
    let url = |p: &str| host.join(p).map_err(|e| e.to_string());
    let req = check::JobRequest { patients, formats: vec!["json"], seed: 1 };
    let t0 = Instant::now();
    let r = send(
        c.post(url("/api/v1/generation/")?).header("X-API-Key", key).json(&req.body()),
        "create job",
        201,
    )
    .await?;
    let id = r.json::<Value>().await.map_err(|e| e.to_string())?["job_id"]
        .as_str()
        .map(String::from)
        .ok_or("no job_id")?;
    loop {
        let r = send(c.get(url(&format!("/api/v1/jobs/{id}"))?).header("X-API-Key", key), "job status", 200)
            .await?;
        let v: Value = r.json().await.map_err(|e| e.to_string())?;
        match v["status"].as_str() {
            Some("completed") => break,
            Some("pending" | "running") => {}
            other => return Err(format!("job {id} ended {other:?}: {}", v["error"])),
        }
        if t0.elapsed() > deadline {
            return Err(format!("job {id} not completed after {deadline:?}"));
        }
        tokio::time::sleep(poll).await;
    }
    let r = send(c.get(url(&format!("/api/v1/downloads/{id}"))?).header("X-API-Key", key), "download", 200)
        .await?;
    let zip = r.bytes().await.map_err(|e| format!("download: {e}"))?;
    let took = t0.elapsed();
    check::job_zip(&zip, &req).map_err(|e| format!("job {id}: {e}"))?;
    send(c.delete(url(&format!("/api/v1/jobs/{id}"))?).header("X-API-Key", key), "delete job", 200).await?;
    Ok(took)
}

/// Streams `patients` as NDJSON (seed 1) and reads it to the end; returns the
/// time and the bytes. Fails unless there is one line per patient.
pub async fn stream(host: &Url, key: &str, patients: u32) -> Result<(Duration, u64), String> {
    crate::loopback::check(host)?;
    let c = client()?;
    let body = json!({ "configuration": { "total_patients": patients, "seed": 1 } });
    let url = host.join("/api/v1/streaming/generate").map_err(|e| e.to_string())?;
    let t0 = Instant::now();
    let mut r = send(c.post(url).header("X-API-Key", key).json(&body), "stream", 200).await?;
    let (mut bytes, mut lines) = (0u64, 0u64);
    while let Some(chunk) = r.chunk().await.map_err(|e| format!("stream: {e}"))? {
        bytes += chunk.len() as u64;
        lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
    }
    let took = t0.elapsed();
    if lines != u64::from(patients) {
        return Err(format!("stream: {lines} lines for {patients} patients"));
    }
    Ok((took, bytes))
}
