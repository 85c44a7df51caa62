//! The summary of a run: per request type counts, rates and percentiles,
//! errors by kind, expected 429s, checks, server RSS/CPU, the `/metrics`
//! agreement and the verdict; as JSON and as console tables.

use crate::procstat::{Growth, ProcessSummary};
use crate::promtext::Agreement;
use crate::record::{Checked, Snapshot};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One request type.
#[derive(Debug, Clone, Serialize)]
pub struct RequestRow {
    /// Method.
    pub method: String,
    /// Endpoint template.
    pub endpoint: String,
    /// Requests (answered or not).
    pub count: u64,
    /// Answers by status.
    pub statuses: BTreeMap<u16, u64>,
    /// Requests without an answer.
    pub transport_errors: u64,
    /// Requests per second over the run.
    pub req_per_s: f64,
    /// Median full request time, ms.
    pub p50_ms: f64,
    /// 95th percentile, ms.
    pub p95_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// Slowest, ms.
    pub max_ms: f64,
}

/// The limited key against its limit.
#[derive(Debug, Clone, Serialize)]
pub struct LimitedCheck {
    /// The key's requests per minute.
    pub per_minute: u64,
    /// UTC minutes the key's requests touched.
    pub minutes: u64,
    /// Requests let through.
    pub allowed: u64,
    /// Requests answered 429.
    pub limited: u64,
    /// The most that may be let through: `per_minute × minutes`.
    pub max_allowed: u64,
    /// Within the limit.
    pub ok: bool,
}

/// Server processes.
#[derive(Debug, Clone, Serialize)]
pub struct Servers {
    /// Whether this platform could sample them.
    pub sampled: bool,
    /// Sampling interval, seconds.
    pub every_s: f64,
    /// Per process.
    pub processes: Vec<ProcessSummary>,
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Name of the run.
    pub label: String,
    /// Target.
    pub host: String,
    /// Users.
    pub users: usize,
    /// Planned run time, seconds (flows start until then).
    pub run_time_s: f64,
    /// From the first user starting to the last flow finishing, seconds.
    pub elapsed_s: f64,
    /// Requests sent.
    pub requests: u64,
    /// Requests per second.
    pub req_per_s: f64,
    /// Median over every request, ms.
    pub p50_ms: f64,
    /// 95th percentile over every request, ms.
    pub p95_ms: f64,
    /// 99th percentile over every request, ms.
    pub p99_ms: f64,
    /// By request type.
    pub by_request: Vec<RequestRow>,
    /// Errors by kind (each fails the run).
    pub errors: BTreeMap<String, u64>,
    /// The first message of each error kind.
    pub error_examples: BTreeMap<String, String>,
    /// 429s the limited key got (expected, not errors).
    pub expected_429: u64,
    /// The limited key against its limit, when the limit was given.
    pub limited: Option<LimitedCheck>,
    /// Checked outcomes.
    pub checked: Checked,
    /// Server RSS and CPU.
    pub servers: Option<Servers>,
    /// Memory growth after warm-up (soak), when a bound was given.
    pub growth: Option<Vec<Growth>>,
    /// The servers' `api_requests_total` deltas against the tool's counts.
    pub metrics: Option<Agreement>,
    /// Requests in goose's own metrics.
    pub goose_requests: u64,
    /// Goose's reports.
    pub reports: Vec<String>,
    /// Whether the run ended by draining its flows (not by goose's backstop).
    pub drained: bool,
    /// Every failed criterion.
    pub failures: Vec<String>,
    /// No failure.
    pub passed: bool,
}

/// Nearest-rank percentile of sorted microseconds, in ms.
pub fn percentile_ms(sorted: &[u32], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    f64::from(sorted[rank.clamp(1, sorted.len()) - 1]) / 1000.0
}

/// Rows and totals from a recorder snapshot.
pub fn request_rows(snap: &Snapshot, elapsed_s: f64) -> (Vec<RequestRow>, Vec<u32>) {
    let mut all = Vec::new();
    let mut rows = Vec::new();
    for ((method, endpoint), r) in &snap.requests {
        let mut t = r.micros.clone();
        t.sort_unstable();
        let count = r.statuses.values().sum::<u64>() + r.transport_errors;
        rows.push(RequestRow {
            method: method.clone(),
            endpoint: endpoint.clone(),
            count,
            statuses: r.statuses.clone(),
            transport_errors: r.transport_errors,
            req_per_s: if elapsed_s > 0.0 { count as f64 / elapsed_s } else { 0.0 },
            p50_ms: percentile_ms(&t, 0.50),
            p95_ms: percentile_ms(&t, 0.95),
            p99_ms: percentile_ms(&t, 0.99),
            max_ms: t.last().map_or(0.0, |m| f64::from(*m) / 1000.0),
        });
        all.extend_from_slice(&r.micros);
    }
    all.sort_unstable();
    (rows, all)
}

impl Summary {
    /// Console tables.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "\n== patientgen-load: {} — {} users, {:.1} s, {} requests, {:.0} req/s, p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms ==",
            self.label,
            self.users,
            self.elapsed_s,
            self.requests,
            self.req_per_s,
            self.p50_ms,
            self.p95_ms,
            self.p99_ms
        );
        let _ = writeln!(
            s,
            "{:<7} {:<50} {:>8} {:>8} {:>9} {:>9} {:>9} {:>9}  statuses",
            "method", "endpoint", "count", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms"
        );
        for r in &self.by_request {
            let statuses: Vec<String> = r.statuses.iter().map(|(k, v)| format!("{k}:{v}")).collect();
            let _ = writeln!(
                s,
                "{:<7} {:<50} {:>8} {:>8.1} {:>9.2} {:>9.2} {:>9.2} {:>9.2}  {}{}",
                r.method,
                r.endpoint,
                r.count,
                r.req_per_s,
                r.p50_ms,
                r.p95_ms,
                r.p99_ms,
                r.max_ms,
                statuses.join(" "),
                if r.transport_errors > 0 {
                    format!(" transport:{}", r.transport_errors)
                } else {
                    String::new()
                }
            );
        }
        let c = &self.checked;
        let _ = writeln!(
            s,
            "checked: {} jobs ({} patients), {} streams ({} patients), {} configuration round trips",
            c.jobs, c.job_patients, c.streams, c.stream_patients, c.configurations
        );
        let _ = writeln!(s, "expected 429s (limited key): {}", self.expected_429);
        if let Some(l) = &self.limited {
            let _ = writeln!(
                s,
                "limited key: {} allowed, {} limited over {} UTC minute(s) at {}/min (at most {}): {}",
                l.allowed,
                l.limited,
                l.minutes,
                l.per_minute,
                l.max_allowed,
                if l.ok { "enforced" } else { "EXCEEDED" }
            );
        }
        if self.errors.is_empty() {
            let _ = writeln!(s, "errors: none");
        } else {
            for (k, v) in &self.errors {
                let example = self.error_examples.get(k).map_or("", String::as_str);
                let _ = writeln!(s, "errors: {k}: {v} (first: {example})");
            }
        }
        match &self.servers {
            None => {
                let _ = writeln!(s, "servers: not sampled (no --server-pid given)");
            }
            Some(sv) if !sv.sampled => {
                let _ = writeln!(s, "servers: not sampled (reading /proc needs Linux)");
            }
            Some(sv) => {
                for p in &sv.processes {
                    let _ = writeln!(
                        s,
                        "server pid {}: RSS {:.1} → peak {:.1} → {:.1} MB; CPU {:.1} s, mean {:.0} %, peak {:.0} % of a core ({} samples every {} s)",
                        p.pid,
                        p.rss_first_mb,
                        p.rss_peak_mb,
                        p.rss_last_mb,
                        p.cpu_seconds,
                        p.cpu_mean_pct,
                        p.cpu_peak_pct,
                        p.samples,
                        sv.every_s
                    );
                }
            }
        }
        if let Some(g) = &self.growth {
            for x in g {
                let _ = writeln!(s, "soak pid {}: {} samples after warm-up: {}", x.pid, x.samples, x.verdict);
            }
        }
        match &self.metrics {
            Some(a) => {
                let _ = writeln!(
                    s,
                    "/metrics: {} rows, servers counted {}, tool counted {}: {}",
                    a.rows,
                    a.server_total,
                    a.tool_total,
                    if a.mismatches.is_empty() {
                        "agree".to_string()
                    } else {
                        format!("{} mismatches", a.mismatches.len())
                    }
                );
                for m in &a.mismatches {
                    let _ = writeln!(
                        s,
                        "  {} {} {}: server {} tool {}",
                        m.method, m.endpoint, m.status, m.server, m.tool
                    );
                }
            }
            None => {
                let _ = writeln!(s, "/metrics: not compared");
            }
        }
        for r in &self.reports {
            let _ = writeln!(s, "report: {r}");
        }
        if self.passed {
            let _ = writeln!(s, "PASSED");
        } else {
            let _ = writeln!(s, "FAILED:");
            for f in &self.failures {
                let _ = writeln!(s, "  - {f}");
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let t: Vec<u32> = (1..=100).map(|i| i * 1000).collect();
        assert_eq!(percentile_ms(&t, 0.50), 50.0);
        assert_eq!(percentile_ms(&t, 0.95), 95.0);
        assert_eq!(percentile_ms(&t, 0.99), 99.0);
        assert_eq!(percentile_ms(&[7000], 0.99), 7.0);
        assert_eq!(percentile_ms(&[], 0.5), 0.0);
    }
}
