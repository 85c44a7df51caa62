//! `patientgen-bench`: two loopback measurements of the service's hot paths,
//! small enough to leave the CPU to the server (one client thread by default).
//!
//! ```text
//! patientgen-bench rate URL [--header 'Name: value']… [--connections 32] [--seconds 10] [--threads 1]
//! patientgen-bench job URL_CREATE URL_POLL --key KEY [--body JSON] [--runs 5] [--poll-ms 2]
//! ```
//!
//! `rate` keeps `connections` keep-alive HTTP/1.1 connections busy with `GET URL`
//! for `seconds` and prints one JSON line: requests, req/s, responses by status,
//! p50/p99 latency. `job` creates a job (`POST {URL_CREATE}/api/v1/generation/`),
//! polls its status on `URL_POLL` every `poll-ms` until it has completed and
//! its download answers 200, and prints the milliseconds of each run and
//! their median. Only loopback URLs are accepted.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::Request;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

type Error = Box<dyn std::error::Error + Send + Sync>;

struct Target {
    host: String,
    path: String,
}

fn parse_url(url: &str) -> Result<Target, Error> {
    let rest = url.strip_prefix("http://").ok_or("only http:// URLs")?;
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let name = host.rsplit_once(':').map_or(host, |(h, _)| h);
    if !(name.starts_with("127.") || name == "localhost" || name == "[::1]") {
        return Err(format!("{url}: loopback only").into());
    }
    Ok(Target { host: host.to_string(), path: path.to_string() })
}

async fn connect<B>(host: &str) -> Result<SendRequest<B>, Error>
where
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Error>,
{
    let stream = tokio::net::TcpStream::connect(host).await?;
    stream.set_nodelay(true)?;
    let (send, conn) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(send)
}

fn headers_of(args: &[String]) -> Result<Vec<(String, String)>, Error> {
    let mut out = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--header" {
            let h = it.next().ok_or("--header needs a value")?;
            let (n, v) = h.split_once(':').ok_or("--header 'Name: value'")?;
            out.push((n.trim().to_string(), v.trim().to_string()));
        }
    }
    Ok(out)
}

fn opt<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> Result<T, Error> {
    match args.iter().position(|a| a == name) {
        Some(i) => args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("{name} needs a valid value").into()),
        None => Ok(default),
    }
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    f64::from(sorted[i]) / 1000.0
}

async fn rate(args: &[String]) -> Result<(), Error> {
    let url = args.first().ok_or("rate URL")?;
    let target = parse_url(url)?;
    let headers = headers_of(args)?;
    let connections: usize = opt(args, "--connections", 32)?;
    let seconds: f64 = opt(args, "--seconds", 10.0)?;
    let run = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let (host, path, headers) = (target.host.clone(), target.path.clone(), headers.clone());
        tasks.spawn(async move {
            let mut send = connect::<Empty<Bytes>>(&host).await?;
            let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
            let mut latencies: Vec<u32> = Vec::new();
            let mut bytes = 0u64;
            while start.elapsed() < run {
                let mut req = Request::get(&path).header("host", &host);
                for (n, v) in &headers {
                    req = req.header(n, v);
                }
                let t = Instant::now();
                send.ready().await?;
                let response = send.send_request(req.body(Empty::<Bytes>::new())?).await?;
                let status = response.status().as_u16();
                let body = response.into_body().collect().await?.to_bytes();
                latencies.push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX));
                bytes += body.len() as u64;
                *statuses.entry(status).or_default() += 1;
            }
            Ok::<_, Error>((statuses, latencies, bytes))
        });
    }
    let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
    let mut latencies = Vec::new();
    let mut bytes = 0;
    while let Some(done) = tasks.join_next().await {
        let (s, l, b) = done??;
        for (k, v) in s {
            *statuses.entry(k).or_default() += v;
        }
        latencies.extend(l);
        bytes += b;
    }
    let elapsed = start.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let requests = latencies.len();
    println!(
        "{}",
        serde_json::json!({
            "url": url, "connections": connections, "seconds": elapsed, "requests": requests,
            "req_per_s": (requests as f64 / elapsed).round(),
            "statuses": statuses.iter().map(|(k, v)| (k.to_string(), *v)).collect::<BTreeMap<_, _>>(),
            "mean_body_bytes": if requests > 0 { bytes / requests as u64 } else { 0 },
            "p50_ms": percentile(&latencies, 0.5), "p99_ms": percentile(&latencies, 0.99),
        })
    );
    Ok(())
}

async fn request(
    host: &str,
    method: &str,
    path: &str,
    key: &str,
    body: Option<&str>,
) -> Result<(u16, Bytes), Error> {
    let mut send = connect::<Full<Bytes>>(host).await?;
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", host)
        .header("x-api-key", key)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.unwrap_or("").to_string())))?;
    let response = send.send_request(req).await?;
    let status = response.status().as_u16();
    Ok((status, response.into_body().collect().await?.to_bytes()))
}

async fn job(args: &[String]) -> Result<(), Error> {
    let create = parse_url(args.first().ok_or("job URL_CREATE URL_POLL")?)?;
    let poll = parse_url(args.get(1).ok_or("job URL_CREATE URL_POLL")?)?;
    let key: String = opt(args, "--key", String::new())?;
    let body: String = opt(
        args,
        "--body",
        r#"{"configuration":{"total_patients":1000,"seed":1},"output_formats":["json"]}"#.to_string(),
    )?;
    let runs: usize = opt(args, "--runs", 5)?;
    let poll_every = Duration::from_millis(opt(args, "--poll-ms", 2)?);
    let mut times = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let (status, created) =
            request(&create.host, "POST", "/api/v1/generation/", &key, Some(&body)).await?;
        if status != 201 {
            return Err(format!("create: {status} {}", String::from_utf8_lossy(&created)).into());
        }
        let v: serde_json::Value = serde_json::from_slice(&created)?;
        let id = v["job_id"].as_str().ok_or("no job_id")?.to_string();
        let deadline = t + Duration::from_secs(120);
        loop {
            let (_, s) = request(&poll.host, "GET", &format!("/api/v1/jobs/{id}"), &key, None).await?;
            let v: serde_json::Value = serde_json::from_slice(&s)?;
            match v["status"].as_str() {
                Some("completed") => {
                    let (status, _) =
                        request(&poll.host, "GET", &format!("/api/v1/downloads/{id}"), &key, None).await?;
                    if status == 200 {
                        break;
                    }
                }
                Some("failed" | "cancelled") => return Err(format!("job {id}: {v}").into()),
                _ => {}
            }
            if Instant::now() > deadline {
                return Err(format!("job {id} not done in 120 s").into());
            }
            tokio::time::sleep(poll_every).await;
        }
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        // Let the server settle between runs.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or(0.0);
    println!(
        "{}",
        serde_json::json!({ "runs_ms": times.iter().map(|t| (t * 10.0).round() / 10.0).collect::<Vec<_>>(), "median_ms": (median * 10.0).round() / 10.0 })
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let threads: usize = opt(&args, "--threads", 1).unwrap_or(1);
    let runtime =
        match tokio::runtime::Builder::new_multi_thread().worker_threads(threads.max(1)).enable_all().build()
        {
            Ok(r) => r,
            Err(e) => {
                eprintln!("patientgen-bench: {e}");
                return ExitCode::from(2);
            }
        };
    let result = runtime.block_on(async {
        match args.first().map(String::as_str) {
            Some("rate") => rate(&args[1..]).await,
            Some("job") => job(&args[1..]).await,
            _ => Err("usage: patientgen-bench rate URL [--header 'N: v'] [--connections N] [--seconds S] [--threads N] | job URL_CREATE URL_POLL --key KEY [--body JSON] [--runs N] [--poll-ms MS]".into()),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("patientgen-bench: {e}");
            ExitCode::from(2)
        }
    }
}
