//! The headers every authenticated response carries: the de facto
//! `X-RateLimit-*` trio (for the window that runs out first; reset as a Unix
//! time), the IETF httpapi `RateLimit-Policy` and `RateLimit` fields (every
//! limited window; reset in seconds), and upstream's key headers. The parts
//! that depend only on the key are rendered once per cached key.

use super::{Decision, Policy, Window};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use patientgen_storage::ApiKeyRecord;
use std::fmt::Write;

const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");
const X_RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
const X_RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
const X_RATELIMIT_RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");
const X_API_KEY_TYPE: HeaderName = HeaderName::from_static("x-api-key-type");
const X_PATIENT_LIMIT: HeaderName = HeaderName::from_static("x-patient-limit");
const X_DAILY_LIMIT: HeaderName = HeaderName::from_static("x-daily-limit");
const X_DAILY_USAGE: HeaderName = HeaderName::from_static("x-daily-usage");

fn value(text: String) -> HeaderValue {
    HeaderValue::try_from(text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn number(n: impl itoa::Integer) -> HeaderValue {
    let mut buffer = itoa::Buffer::new();
    HeaderValue::from_str(buffer.format(n)).unwrap_or_else(|_| HeaderValue::from_static("0"))
}

/// The headers of a key that only change when its settings do.
#[derive(Debug, Clone)]
pub struct KeyHeaders {
    policy: HeaderValue,
    key_type: HeaderValue,
    patient_limit: HeaderValue,
    daily_limit: HeaderValue,
}

impl KeyHeaders {
    /// Renders them for `key`.
    pub fn for_key(key: &ApiKeyRecord) -> Self {
        let mut text = String::new();
        for (window, limit) in Window::ALL.iter().zip(Policy::request_limits(key)) {
            if let Some(limit) = limit {
                if !text.is_empty() {
                    text.push_str(", ");
                }
                let _ = write!(text, "\"{}\";q={limit};w={}", window.name(), window.seconds());
            }
        }
        Self {
            policy: value(text),
            key_type: HeaderValue::from_static(if key.is_demo { "demo" } else { "live" }),
            patient_limit: number(key.max_patients_per_request),
            daily_limit: key.max_requests_per_day.map_or(HeaderValue::from_static("unlimited"), number),
        }
    }
}

/// `RateLimit`, e.g. `"minute";r=59;t=30, "hour";r=999;t=1830`.
pub fn ratelimit_field(decision: &Decision) -> String {
    let mut out = String::with_capacity(96);
    for w in decision.windows.iter().filter(|w| w.limit.is_some()) {
        if !out.is_empty() {
            out.push_str(", ");
        }
        let _ = write!(out, "\"{}\";r={};t={}", w.window.name(), w.remaining().unwrap_or(0), w.resets_in);
    }
    out
}

/// Adds the limit headers of a key after `decision`.
pub fn apply(headers: &mut HeaderMap, key: &KeyHeaders, decision: &Decision) {
    if let Some(binding) = decision.binding() {
        headers.insert(X_RATELIMIT_LIMIT, number(binding.limit.unwrap_or(0)));
        headers.insert(X_RATELIMIT_REMAINING, number(binding.remaining().unwrap_or(0)));
        headers.insert(X_RATELIMIT_RESET, number(binding.ends_at));
    }
    headers.insert(RATELIMIT_POLICY, key.policy.clone());
    headers.insert(RATELIMIT, value(ratelimit_field(decision)));
    headers.insert(X_API_KEY_TYPE, key.key_type.clone());
    headers.insert(X_PATIENT_LIMIT, key.patient_limit.clone());
    headers.insert(X_DAILY_LIMIT, key.daily_limit.clone());
    headers.insert(X_DAILY_USAGE, number(decision.day().used));
}
