//! Admission control: the middleware every request passes, and the patient
//! quota check of the routes that generate. A request that carries
//! `X-API-Key` is authenticated (from the key cache), counted against its
//! key's windows (429 when one is used up) and its response — success or
//! error — gets the limit headers. Requests without a key go on untouched;
//! routes that need one answer 401 from the [`Caller`] extractor.

use crate::auth::{self, AuthVerdict, Caller};
use crate::error::ApiError;
use crate::limits::{Decision, Recorded, Window, headers};
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use patientgen_storage::ApiKeyRecord;

/// The middleware: authenticates and counts requests that carry a key.
pub async fn admit_request(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let value = request.headers().get("x-api-key").and_then(|v| v.to_str().ok()).map_or("", str::trim);
    if value.is_empty() {
        return next.run(request).await;
    }
    let now = state.clock.now();
    let key = match auth::authenticate(&state, value, now).await {
        Ok(key) => key,
        Err(e) => {
            crate::metrics::auth_outcome(e.status.as_u16());
            request.extensions_mut().insert(AuthVerdict(Err(e)));
            return next.run(request).await;
        }
    };
    crate::metrics::auth_outcome(200);
    crate::telemetry::record_key_id(&key.record.id);
    let decision = state.limiter.check(&key.record, now, || recorded_today(&state, &key.record, now)).await;
    let refused_by = decision.blocking().map_or("unknown", |w| w.window.limit_type());
    crate::metrics::rate_limit_decision(
        &key.record,
        decision.allowed,
        if decision.allowed { "requests" } else { refused_by },
    );
    if !decision.allowed {
        let mut limit_headers = HeaderMap::new();
        headers::apply(&mut limit_headers, &key.headers, &decision);
        return too_many_requests(&decision, limit_headers).into_response();
    }
    state.usage.record(&key.record.id, 1, 0, now);
    request.extensions_mut().insert(AuthVerdict(Ok(Caller { key: key.clone() })));
    let mut response = next.run(request).await;
    headers::apply(response.headers_mut(), &key.headers, &decision);
    response
}

/// What is recorded for a key today, where a new day window starts: the
/// database's counters as they are now (not the cached row, which may be
/// hours old) plus this instance's usage not written yet. Read only when a
/// window is created; if the database cannot be read, the cached row stands in.
pub async fn recorded_today(state: &AppState, key: &ApiKeyRecord, now: DateTime<Utc>) -> Recorded {
    let stored = match state.store.daily_usage(&key.id).await {
        Ok(Some(u)) => Recorded::today(u.requests, u.patients, u.since, now),
        Ok(None) => Recorded::default(),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read today's recorded usage; using the cached key's");
            Recorded::of_row(key, now)
        }
    };
    let (requests, patients) = state.usage.pending_today(&key.id, now);
    stored.plus(requests, patients)
}

/// A 429 naming the limit that was reached, how far it is used and when it
/// frees up again (`Retry-After`, `X-Limit-Type`, `X-Limit-Value`,
/// `X-Current-Usage`), after the given headers.
fn limit_reached(
    headers: HeaderMap,
    detail: String,
    limit_type: &'static str,
    limit: u64,
    used: u64,
    resets_in: i64,
) -> ApiError {
    metrics::counter!("rate_limited_requests_total", "limit" => limit_type).increment(1);
    let mut error = ApiError::new(StatusCode::TOO_MANY_REQUESTS, detail);
    *error.headers = headers;
    error
        .with_header(header::RETRY_AFTER, resets_in.max(1).to_string())
        .with_header(HeaderName::from_static("x-limit-type"), limit_type)
        .with_header(HeaderName::from_static("x-limit-value"), limit.to_string())
        .with_header(HeaderName::from_static("x-current-usage"), used.to_string())
}

fn too_many_requests(decision: &Decision, limit_headers: HeaderMap) -> ApiError {
    let Some(window) = decision.blocking() else {
        tracing::error!(?decision, "a rejected request has no exhausted window");
        return ApiError::internal();
    };
    let limit = window.limit.unwrap_or(0);
    let detail = match window.window {
        Window::Day => format!("Daily request limit exceeded ({limit})"),
        w => format!("Rate limit exceeded: {limit} requests per {}", w.name()),
    };
    limit_reached(limit_headers, detail, window.window.limit_type(), limit, window.used, window.resets_in)
}

/// Admits a request for `patients` patients: 400 when one request asks more
/// than the key allows, 429 when today's patient quota has no room. On success
/// the patients are counted; call [`PatientCharge::commit`] once the work is
/// accepted. Dropping it uncommitted (an error path) gives them back.
pub async fn admit_patients(
    state: &AppState,
    caller: &Caller,
    patients: u32,
) -> Result<PatientCharge, ApiError> {
    let max = caller.record().max_patients_per_request;
    if i64::from(patients) > i64::from(max) {
        return Err(ApiError::bad_request(format!("Requested {patients} patients exceeds limit of {max}"))
            .with_header(HeaderName::from_static("x-limit-type"), "patients_per_request")
            .with_header(HeaderName::from_static("x-limit-value"), max.to_string())
            .with_header(HeaderName::from_static("x-requested"), patients.to_string()));
    }
    let now = state.clock.now();
    let record = caller.record();
    let charge = state
        .limiter
        .charge_patients(record, u64::from(patients), now, || recorded_today(state, record, now))
        .await;
    crate::metrics::rate_limit_decision(record, charge.allowed, "patients_per_day");
    if !charge.allowed {
        let limit = charge.limit.unwrap_or(0);
        let detail =
            format!("Daily patient limit exceeded ({limit}): {} used, {patients} requested", charge.used);
        return Err(limit_reached(
            HeaderMap::new(),
            detail,
            "patients_per_day",
            limit,
            charge.used,
            charge.resets_in,
        )
        .with_header(HeaderName::from_static("x-requested"), patients.to_string()));
    }
    Ok(PatientCharge { state: state.clone(), caller: caller.clone(), patients, settled: false })
}

/// Patients charged to a key's daily quota, not yet settled.
pub struct PatientCharge {
    state: AppState,
    caller: Caller,
    patients: u32,
    settled: bool,
}

impl PatientCharge {
    /// The work was accepted: record the patients as used.
    pub fn commit(mut self) {
        self.settled = true;
        self.state.usage.record(self.caller.key_id(), 0, i64::from(self.patients), self.state.clock.now());
    }
}

impl Drop for PatientCharge {
    fn drop(&mut self) {
        if !self.settled {
            // Dropped on an error path: give the patients back in the background.
            let state = self.state.clone();
            let key = self.caller.key.clone();
            let patients = u64::from(self.patients);
            tokio::spawn(async move {
                let now = state.clock.now();
                state.limiter.refund_patients(&key.record, patients, now).await;
            });
        }
    }
}
