//! The servers' `api_requests_total` counters, scraped from `/metrics` before
//! and after a run, and their agreement with the tool's own counts.

use serde::Serialize;
use std::collections::BTreeMap;
use url::Url;

/// (method, endpoint template, status) → requests.
pub type Counts = BTreeMap<(String, String, u16), u64>;

/// Reads `api_requests_total` out of a Prometheus text exposition.
///
/// Parsed here rather than with a crate: label values hold route templates
/// such as `/api/v1/jobs/{job_id}`, and the `prometheus-parse` crate (0.2.5)
/// cuts a label set at the first `}` (found by the unit test below).
pub fn parse_requests(text: &str) -> Result<Counts, String> {
    let mut out = Counts::new();
    for (n, line) in text.lines().enumerate() {
        let Some(rest) = line.strip_prefix("api_requests_total") else { continue };
        let rest = rest.trim_start();
        let Some(rest) = rest.strip_prefix('{') else { continue };
        let (labels, value) = parse_labels(rest).map_err(|e| format!("line {}: {e}", n + 1))?;
        let value: f64 = value
            .split_whitespace()
            .next()
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("line {}: no value", n + 1))?;
        let get = |k: &str| labels.iter().find(|(name, _)| name == k).map(|(_, v)| v.clone());
        let (Some(method), Some(endpoint), Some(status)) = (get("method"), get("endpoint"), get("status"))
        else {
            continue;
        };
        let status: u16 = status.parse().map_err(|_| format!("line {}: status label '{status}'", n + 1))?;
        *out.entry((method, endpoint, status)).or_default() += value as u64;
    }
    Ok(out)
}

/// Label name and value pairs.
type Labels = Vec<(String, String)>;

/// Parses `name="value",…}` (the text after `{`); returns the labels and the
/// text after the closing brace. Values may hold `\\`, `\"` and `\n`.
fn parse_labels(s: &str) -> Result<(Labels, &str), String> {
    let mut labels = Vec::new();
    let mut rest = s;
    loop {
        rest = rest.trim_start_matches([' ', ',']);
        if let Some(after) = rest.strip_prefix('}') {
            return Ok((labels, after));
        }
        let eq = rest.find('=').ok_or("label without '='")?;
        let name = rest[..eq].trim().to_string();
        let mut chars = rest[eq + 1..].char_indices();
        if chars.next().map(|c| c.1) != Some('"') {
            return Err(format!("label {name}: value not quoted"));
        }
        let mut value = String::new();
        let mut end = None;
        let mut escaped = false;
        for (i, c) in chars {
            match (escaped, c) {
                (true, 'n') => {
                    value.push('\n');
                    escaped = false;
                }
                (true, c) => {
                    value.push(c);
                    escaped = false;
                }
                (false, '\\') => escaped = true,
                (false, '"') => {
                    end = Some(eq + 1 + i + 1);
                    break;
                }
                (false, c) => value.push(c),
            }
        }
        let end = end.ok_or_else(|| format!("label {name}: unterminated value"))?;
        labels.push((name, value));
        rest = &rest[end..];
    }
}

/// Scrapes and sums `api_requests_total` over every server.
pub async fn scrape(client: &reqwest::Client, servers: &[Url]) -> Result<Counts, String> {
    let mut total = Counts::new();
    for base in servers {
        let url = base.join("/metrics").map_err(|e| e.to_string())?;
        let r = client.get(url.clone()).send().await.map_err(|e| format!("{url}: {e}"))?;
        if !r.status().is_success() {
            return Err(format!("{url}: HTTP {}", r.status()));
        }
        let text = r.text().await.map_err(|e| format!("{url}: {e}"))?;
        for (k, v) in parse_requests(&text).map_err(|e| format!("{url}: {e}"))? {
            *total.entry(k).or_default() += v;
        }
    }
    Ok(total)
}

/// One row where server and tool disagree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    /// Method.
    pub method: String,
    /// Endpoint template.
    pub endpoint: String,
    /// Status.
    pub status: u16,
    /// The servers' delta.
    pub server: u64,
    /// The tool's count.
    pub tool: u64,
}

/// The outcome of the comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Agreement {
    /// Rows compared.
    pub rows: usize,
    /// Requests the servers counted in the run (ignored endpoints left out).
    pub server_total: u64,
    /// Requests the tool counted.
    pub tool_total: u64,
    /// Rows that differ.
    pub mismatches: Vec<Mismatch>,
}

/// Compares `after − before` on the servers with the tool's counts, leaving
/// out endpoints in `ignore`.
pub fn compare(before: &Counts, after: &Counts, tool: &Counts, ignore: &[String]) -> Agreement {
    let mut keys: Vec<&(String, String, u16)> = after.keys().chain(tool.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut agreement = Agreement { rows: 0, server_total: 0, tool_total: 0, mismatches: Vec::new() };
    for k in keys {
        if ignore.contains(&k.1) {
            continue;
        }
        let server = after.get(k).copied().unwrap_or(0).saturating_sub(before.get(k).copied().unwrap_or(0));
        let tool = tool.get(k).copied().unwrap_or(0);
        if server == 0 && tool == 0 {
            continue;
        }
        agreement.rows += 1;
        agreement.server_total += server;
        agreement.tool_total += tool;
        if server != tool {
            agreement.mismatches.push(Mismatch {
                method: k.0.clone(),
                endpoint: k.1.clone(),
                status: k.2,
                server,
                tool,
            });
        }
    }
    agreement
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# TYPE api_requests_total counter
api_requests_total{method="GET",endpoint="/api/v1/jobs/{job_id}",status="200"} 12
api_requests_total{method="POST",endpoint="/api/v1/generation/",status="201"} 3
api_requests_total{method="GET",endpoint="/health",status="200"} 40
# TYPE auth_requests_total counter
auth_requests_total{outcome="accepted"} 15
"#;

    fn k(m: &str, e: &str, s: u16) -> (String, String, u16) {
        (m.into(), e.into(), s)
    }

    #[test]
    fn parses_only_request_counters() {
        let c = parse_requests(TEXT).expect("parse");
        assert_eq!(c.len(), 3);
        assert_eq!(c[&k("GET", "/api/v1/jobs/{job_id}", 200)], 12);
        assert_eq!(c[&k("GET", "/health", 200)], 40);
    }

    #[test]
    fn label_values_may_hold_braces_commas_and_escapes() {
        let text = "api_requests_total{endpoint=\"/a/{x},{y}\",method=\"GET\",status=\"200\",note=\"q\\\"}\\\\\"} 5 1700000000\n";
        let c = parse_requests(text).expect("parse");
        assert_eq!(c[&k("GET", "/a/{x},{y}", 200)], 5);
        assert!(parse_requests("api_requests_total{method=\"GET} 1\n").is_err());
        assert!(parse_requests("api_requests_total_other{method=\"GET\"} 1\n").expect("skip").is_empty());
    }

    #[test]
    fn deltas_are_compared_and_ignored_endpoints_skipped() {
        let before = parse_requests(TEXT).expect("parse");
        let mut after = before.clone();
        *after.get_mut(&k("GET", "/api/v1/jobs/{job_id}", 200)).expect("row") += 5;
        *after.get_mut(&k("GET", "/health", 200)).expect("row") += 9;
        after.insert(k("GET", "/api/v1/presets", 429), 2);
        let mut tool = Counts::new();
        tool.insert(k("GET", "/api/v1/jobs/{job_id}", 200), 5);
        tool.insert(k("GET", "/api/v1/presets", 429), 2);
        let a = compare(&before, &after, &tool, &["/health".to_string()]);
        assert_eq!(a.mismatches, vec![]);
        assert_eq!((a.rows, a.server_total, a.tool_total), (2, 7, 7));
        let a = compare(&before, &after, &tool, &[]);
        assert_eq!(a.mismatches.len(), 1);
        assert_eq!((a.mismatches[0].server, a.mismatches[0].tool), (9, 0));
        tool.insert(k("GET", "/api/v1/presets", 200), 1);
        assert_eq!(compare(&before, &after, &tool, &["/health".to_string()]).mismatches.len(), 1);
    }
}
