//! The headers every authenticated response carries: the de facto
//! `X-RateLimit-*` trio (for the window that runs out first; reset as a Unix
//! time), the IETF httpapi `RateLimit-Policy` and `RateLimit` fields (every
//! window; reset in seconds), and upstream's key headers.

use super::Decision;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use patientgen_storage::ApiKeyRecord;
use std::fmt::Write;

fn put(headers: &mut HeaderMap, name: &'static str, value: String) {
    if let Ok(v) = HeaderValue::try_from(value) {
        headers.insert(HeaderName::from_static(name), v);
    }
}

/// `RateLimit-Policy`, e.g. `"minute";q=60;w=60, "hour";q=1000;w=3600`.
pub fn policy_field(decision: &Decision) -> String {
    let mut out = String::new();
    for w in decision.windows.iter().filter(|w| w.limit.is_some()) {
        if !out.is_empty() {
            out.push_str(", ");
        }
        let _ = write!(out, "\"{}\";q={};w={}", w.window.name(), w.limit.unwrap_or(0), w.window.seconds());
    }
    out
}

/// `RateLimit`, e.g. `"minute";r=59;t=30, "hour";r=999;t=1830`.
pub fn ratelimit_field(decision: &Decision) -> String {
    let mut out = String::new();
    for w in decision.windows.iter().filter(|w| w.limit.is_some()) {
        if !out.is_empty() {
            out.push_str(", ");
        }
        let _ = write!(out, "\"{}\";r={};t={}", w.window.name(), w.remaining().unwrap_or(0), w.resets_in);
    }
    out
}

/// Adds the limit headers of `key` after `decision`.
pub fn apply(headers: &mut HeaderMap, key: &ApiKeyRecord, decision: &Decision) {
    if let Some(binding) = decision.binding() {
        put(headers, "x-ratelimit-limit", binding.limit.unwrap_or(0).to_string());
        put(headers, "x-ratelimit-remaining", binding.remaining().unwrap_or(0).to_string());
        put(headers, "x-ratelimit-reset", binding.ends_at.to_string());
    }
    put(headers, "ratelimit-policy", policy_field(decision));
    put(headers, "ratelimit", ratelimit_field(decision));
    put(headers, "x-api-key-type", if key.is_demo { "demo" } else { "live" }.to_string());
    put(headers, "x-patient-limit", key.max_patients_per_request.to_string());
    put(
        headers,
        "x-daily-limit",
        key.max_requests_per_day.map_or_else(|| "unlimited".to_string(), |d| d.to_string()),
    );
    put(headers, "x-daily-usage", decision.day().used.to_string());
}
