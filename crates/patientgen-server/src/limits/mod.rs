//! Per-key rate limits and quotas: requests per minute, hour and day in fixed
//! UTC windows, and patients per day. Counts live in Redis when `REDIS_URL` is
//! set (one atomic Lua script per request, shared by every instance) and in
//! process otherwise — or while Redis is unreachable, when the service reports
//! itself `degraded` and goes back to Redis by itself once it answers again.
//!
//! A rejected request is not counted, so a client that keeps retrying does not
//! extend its own wait.

pub mod headers;
pub mod memory;
pub mod redis;
pub mod window;

use chrono::{DateTime, Utc};
use patientgen_storage::ApiKeyRecord;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
pub use window::Window;

/// What a key may use, as the limiter needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Requests per minute, hour and day (`None`: unlimited).
    pub requests: [Option<u64>; 3],
    /// Patients per day (`None`: unlimited).
    pub patients_per_day: Option<u64>,
    /// Today's requests already recorded in the database (used when no window
    /// state exists yet, e.g. after a restart).
    pub seed_day_requests: u64,
    /// Today's patients already recorded in the database.
    pub seed_day_patients: u64,
}

fn limit(value: i32) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

impl Policy {
    /// A key's request limits per minute, hour and day.
    pub fn request_limits(key: &ApiKeyRecord) -> [Option<u64>; 3] {
        [
            Some(limit(key.max_requests_per_minute)),
            Some(limit(key.max_requests_per_hour)),
            key.max_requests_per_day.map(limit),
        ]
    }

    /// The policy of a key at `now`.
    pub fn for_key(key: &ApiKeyRecord, now: DateTime<Utc>) -> Self {
        let today = Window::Day.index(key.last_reset_at) == Window::Day.index(now);
        let seed = |n: i64| if today { u64::try_from(n).unwrap_or(0) } else { 0 };
        Self {
            requests: Self::request_limits(key),
            patients_per_day: key.max_patients_per_day.map(limit),
            seed_day_requests: seed(key.daily_requests),
            seed_day_patients: seed(key.daily_patients),
        }
    }
}

/// One window's state after a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowUsage {
    /// Minute, hour or day.
    pub window: Window,
    /// Its limit (`None`: unlimited, counted anyway).
    pub limit: Option<u64>,
    /// Requests counted in it, this one included when it was allowed.
    pub used: u64,
    /// Seconds until it resets.
    pub resets_in: i64,
    /// Unix time at which it resets.
    pub ends_at: i64,
}

impl WindowUsage {
    /// Requests left (`None`: unlimited).
    pub fn remaining(&self) -> Option<u64> {
        self.limit.map(|l| l.saturating_sub(self.used))
    }

    /// Whether no request is left in it.
    pub fn exhausted(&self) -> bool {
        self.limit.is_some_and(|l| self.used >= l)
    }
}

/// The outcome of counting one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request may go on.
    pub allowed: bool,
    /// Minute, hour and day.
    pub windows: [WindowUsage; 3],
}

impl Decision {
    fn new(allowed: bool, policy: &Policy, counts: [u64; 3], now: DateTime<Utc>) -> Self {
        let windows = std::array::from_fn(|i| {
            let window = Window::ALL[i];
            WindowUsage {
                window,
                limit: policy.requests[i],
                used: counts[i],
                resets_in: window.resets_in(now),
                ends_at: window.ends_at(now),
            }
        });
        Self { allowed, windows }
    }

    /// The window that runs out first (least remaining; the shorter on a tie).
    pub fn binding(&self) -> Option<&WindowUsage> {
        self.windows.iter().filter(|w| w.limit.is_some()).min_by_key(|w| w.remaining())
    }

    /// For a rejected request: the exhausted window that frees up last.
    pub fn blocking(&self) -> Option<&WindowUsage> {
        self.windows.iter().filter(|w| w.exhausted()).max_by_key(|w| w.resets_in)
    }

    /// Requests counted today.
    pub fn day(&self) -> &WindowUsage {
        &self.windows[2]
    }
}

/// The outcome of charging patients to the daily patient quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Charge {
    /// Whether the patients fit in the quota (they are then counted).
    pub allowed: bool,
    /// Patients counted today (after this charge when allowed).
    pub used: u64,
    /// The key's patients per day (`None`: unlimited).
    pub limit: Option<u64>,
    /// Seconds until the quota resets (next UTC midnight).
    pub resets_in: i64,
}

/// Which store holds the counts right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimiterStatus {
    /// `"memory"` or `"redis"`.
    pub backend: &'static str,
    /// Redis is configured but unreachable: counts are per instance meanwhile.
    pub degraded: bool,
}

/// The limiter of an instance.
pub struct Limiter {
    memory: memory::MemoryLimiter,
    redis: Option<redis::RedisLimiter>,
    degraded: AtomicBool,
}

impl Limiter {
    /// An in-process limiter, or a Redis one when `redis_url` is given (the
    /// connection is made lazily; an unreachable Redis means degraded mode).
    pub fn new(redis_url: Option<&str>, prefix: &str, max_keys: usize) -> Result<Self, ::redis::RedisError> {
        let redis = redis_url.map(|url| redis::RedisLimiter::new(url, prefix)).transpose()?;
        metrics::gauge!("rate_limiter_degraded").set(0.0);
        Ok(Self { memory: memory::MemoryLimiter::new(max_keys), redis, degraded: AtomicBool::new(false) })
    }

    /// Backend and degradation.
    pub fn status(&self) -> LimiterStatus {
        LimiterStatus {
            backend: if self.redis.is_some() { "redis" } else { "memory" },
            degraded: self.degraded.load(Ordering::Relaxed),
        }
    }

    fn redis_if_up(&self) -> Option<&redis::RedisLimiter> {
        self.redis.as_ref().filter(|_| !self.degraded.load(Ordering::Relaxed))
    }

    fn degrade(&self, error: &redis::LimiterError) {
        metrics::counter!("rate_limiter_redis_errors_total").increment(1);
        if !self.degraded.swap(true, Ordering::Relaxed) {
            metrics::gauge!("rate_limiter_degraded").set(1.0);
            tracing::warn!(error = %error, "Redis unreachable: rate limits fall back to this instance until it returns");
        }
    }

    /// Counts one request of `key` unless a window is exhausted.
    pub async fn check(&self, key: &ApiKeyRecord, now: DateTime<Utc>) -> Decision {
        let policy = Policy::for_key(key, now);
        if let Some(redis) = self.redis_if_up() {
            match redis.check(&key.id, &policy, now).await {
                Ok(decision) => return decision,
                Err(e) => self.degrade(&e),
            }
        }
        self.memory.check(&key.id, &policy, now)
    }

    /// Counts `patients` against the key's daily patient quota unless they do
    /// not fit.
    pub async fn charge_patients(&self, key: &ApiKeyRecord, patients: u64, now: DateTime<Utc>) -> Charge {
        self.add_patients(key, i64::try_from(patients).unwrap_or(i64::MAX), now).await
    }

    /// Gives back patients charged for work that did not happen.
    pub async fn refund_patients(&self, key: &ApiKeyRecord, patients: u64, now: DateTime<Utc>) {
        self.add_patients(key, -i64::try_from(patients).unwrap_or(i64::MAX), now).await;
    }

    async fn add_patients(&self, key: &ApiKeyRecord, n: i64, now: DateTime<Utc>) -> Charge {
        let policy = Policy::for_key(key, now);
        if let Some(redis) = self.redis_if_up() {
            match redis.charge(&key.id, &policy, n, now).await {
                Ok(charge) => return charge,
                Err(e) => self.degrade(&e),
            }
        }
        self.memory.charge(&key.id, &policy, n, now)
    }

    /// While degraded, asks Redis every `every` whether it is back, and returns
    /// to it when it is. Runs until the task is dropped.
    pub async fn watch_redis(&self, every: Duration) {
        let Some(redis) = &self.redis else { return };
        // An unreachable Redis at start is found here, not by the first request.
        if let Err(e) = redis.ping().await {
            self.degrade(&e);
        }
        loop {
            tokio::time::sleep(every).await;
            if self.degraded.load(Ordering::Relaxed) && redis.ping().await.is_ok() {
                self.degraded.store(false, Ordering::Relaxed);
                metrics::gauge!("rate_limiter_degraded").set(0.0);
                tracing::info!("Redis is reachable again: rate limits are shared again");
            }
        }
    }
}
