//! Per-key rate limits and quotas: requests per minute, hour and day in fixed
//! UTC windows, and patients per day. Counts live in Redis when `REDIS_URL` is
//! set (one atomic Lua script per request, shared by every instance) and in
//! process otherwise — or while Redis is unreachable, when the service reports
//! itself `degraded` and goes back to Redis by itself once it answers again.
//!
//! A rejected request is not counted, so a client that keeps retrying does not
//! extend its own wait.
//!
//! A day window that does not exist yet (a new day, a restarted instance, a
//! restarted or flushed Redis, the first request after falling back to this
//! instance's counters) starts from what is *recorded* for the key today —
//! the database's usage counters plus what this instance has not written yet
//! ([`Recorded`]), read when the window is created — never from the key's
//! cached row, which may be hours old.

pub mod headers;
pub mod memory;
pub mod redis;
pub mod window;

use chrono::{DateTime, Utc};
use patientgen_storage::ApiKeyRecord;
pub use redis::DEFAULT_CALL_TIMEOUT as DEFAULT_REDIS_CALL_TIMEOUT;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
pub use window::Window;

/// What a key may use, as the limiter needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Requests per minute, hour and day (`None`: unlimited).
    pub requests: [Option<u64>; 3],
    /// Patients per day (`None`: unlimited).
    pub patients_per_day: Option<u64>,
}

/// A key's usage recorded today: what a new day window starts from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recorded {
    /// Requests counted today.
    pub requests: u64,
    /// Patients counted today.
    pub patients: u64,
}

impl Recorded {
    /// Daily counters that started at `since`: zero when that is an earlier
    /// day than `now`'s.
    pub fn today(requests: i64, patients: i64, since: DateTime<Utc>, now: DateTime<Utc>) -> Self {
        let today = Window::Day.index(since) == Window::Day.index(now);
        let count = |n: i64| if today { u64::try_from(n).unwrap_or(0) } else { 0 };
        Self { requests: count(requests), patients: count(patients) }
    }

    /// Today's counters of a key row.
    pub fn of_row(key: &ApiKeyRecord, now: DateTime<Utc>) -> Self {
        Self::today(key.daily_requests, key.daily_patients, key.last_reset_at, now)
    }

    /// Both counts plus `more`.
    pub fn plus(self, requests: i64, patients: i64) -> Self {
        let add = |a: u64, b: i64| a.saturating_add(u64::try_from(b).unwrap_or(0));
        Self { requests: add(self.requests, requests), patients: add(self.patients, patients) }
    }
}

/// Fetches [`Recorded`] at most once, and only when a window needs it.
struct Seed<F> {
    fetch: Option<F>,
    value: Option<Recorded>,
}

impl<F: FnOnce() -> Fut, Fut: Future<Output = Recorded>> Seed<F> {
    fn new(fetch: F) -> Self {
        Self { fetch: Some(fetch), value: None }
    }

    async fn get(&mut self) -> Recorded {
        if let Some(value) = self.value {
            return value;
        }
        let value = match self.fetch.take() {
            Some(fetch) => fetch().await,
            None => Recorded::default(),
        };
        self.value = Some(value);
        value
    }
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

    /// The policy of a key.
    pub fn for_key(key: &ApiKeyRecord) -> Self {
        Self { requests: Self::request_limits(key), patients_per_day: key.max_patients_per_day.map(limit) }
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
    /// Milliseconds after `started` of the last Redis call that succeeded.
    last_success: AtomicU64,
    started: std::time::Instant,
    /// Seeds being read, per key: a burst of first requests reads the
    /// database once, not once per request.
    seeding:
        std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<tokio::sync::OnceCell<Recorded>>>>,
}

impl Limiter {
    /// An in-process limiter, or a Redis one when `redis_url` is given (the
    /// connection is made lazily; an unreachable Redis means degraded mode).
    pub fn new(
        redis_url: Option<&str>,
        prefix: &str,
        redis_call_timeout: Duration,
        max_keys: usize,
    ) -> Result<Self, ::redis::RedisError> {
        let redis =
            redis_url.map(|url| redis::RedisLimiter::new(url, prefix, redis_call_timeout)).transpose()?;
        metrics::gauge!("rate_limiter_degraded").set(0.0);
        Ok(Self {
            memory: memory::MemoryLimiter::new(max_keys),
            redis,
            degraded: AtomicBool::new(false),
            last_success: AtomicU64::new(0),
            started: std::time::Instant::now(),
            seeding: Default::default(),
        })
    }

    /// Backend and degradation.
    pub fn status(&self) -> LimiterStatus {
        LimiterStatus {
            backend: if self.redis.is_some() { "redis" } else { "memory" },
            degraded: self.degraded.load(Ordering::Relaxed),
        }
    }

    fn redis_answered(&self) {
        let ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_success.store(ms, Ordering::Relaxed);
    }

    /// Whether a Redis call succeeded within `within`.
    fn answered_within(&self, within: Duration) -> bool {
        let last = Duration::from_millis(self.last_success.load(Ordering::Relaxed));
        self.started.elapsed().saturating_sub(last) < within
    }

    /// What a new window of `key_id` starts from, read once for all the
    /// requests asking at the same moment.
    async fn seed_of<F, Fut>(&self, key_id: &str, seed: &mut Seed<F>) -> Recorded
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Recorded>,
    {
        if let Some(value) = seed.value {
            return value;
        }
        let lock = || self.seeding.lock().unwrap_or_else(|p| p.into_inner());
        let cell = lock().entry(key_id.to_string()).or_default().clone();
        let value = *cell.get_or_init(|| seed.get()).await;
        seed.value = Some(value);
        // Later missing windows (a Redis restart) read again.
        let mut seeding = lock();
        if seeding.get(key_id).is_some_and(|c| std::sync::Arc::ptr_eq(c, &cell)) {
            seeding.remove(key_id);
        }
        value
    }

    fn redis_if_up(&self) -> Option<&redis::RedisLimiter> {
        self.redis.as_ref().filter(|_| !self.degraded.load(Ordering::Relaxed))
    }

    fn degrade(&self, error: &redis::LimiterError) {
        metrics::counter!("rate_limiter_redis_errors_total").increment(1);
        if !self.degraded.swap(true, Ordering::Relaxed) {
            // Counts this instance kept before are stale: Redis counted since.
            // Fresh windows start from what is recorded.
            self.memory.clear();
            metrics::gauge!("rate_limiter_degraded").set(1.0);
            tracing::warn!(error = %error, "Redis unreachable: rate limits fall back to this instance until it returns");
        }
    }

    /// Counts one request of `key` unless a window is exhausted. `recorded`
    /// is called (once) only when today's window does not exist yet.
    pub async fn check<F, Fut>(&self, key: &ApiKeyRecord, now: DateTime<Utc>, recorded: F) -> Decision
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Recorded>,
    {
        let policy = Policy::for_key(key);
        let mut seed = Seed::new(recorded);
        if let Some(redis) = self.redis_if_up() {
            let result = match redis.check(&key.id, &policy, None, now).await {
                Ok(None) => {
                    let requests = self.seed_of(&key.id, &mut seed).await.requests;
                    redis.check(&key.id, &policy, Some(requests), now).await
                }
                other => other,
            };
            match result {
                Ok(Some(decision)) => {
                    self.redis_answered();
                    return decision;
                }
                Ok(None) => tracing::error!("the Redis limiter asked for a seed it was given"),
                Err(e) => self.degrade(&e),
            }
        }
        match self.memory.check(&key.id, &policy, None, now) {
            Some(decision) => decision,
            None => {
                let requests = self.seed_of(&key.id, &mut seed).await.requests;
                self.memory
                    .check(&key.id, &policy, Some(requests), now)
                    .unwrap_or_else(|| Decision::new(false, &policy, [0; 3], now))
            }
        }
    }

    /// Counts `patients` against the key's daily patient quota unless they do
    /// not fit. `recorded` is called (once) only when today's count does not
    /// exist yet.
    pub async fn charge_patients<F, Fut>(
        &self,
        key: &ApiKeyRecord,
        patients: u64,
        now: DateTime<Utc>,
        recorded: F,
    ) -> Charge
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Recorded>,
    {
        let n = i64::try_from(patients).unwrap_or(i64::MAX);
        let policy = Policy::for_key(key);
        let mut seed = Seed::new(recorded);
        if let Some(redis) = self.redis_if_up() {
            let result = match redis.charge(&key.id, &policy, n, None, now).await {
                Ok(None) => {
                    let patients = self.seed_of(&key.id, &mut seed).await.patients;
                    redis.charge(&key.id, &policy, n, Some(patients), now).await
                }
                other => other,
            };
            match result {
                Ok(Some(charge)) => {
                    self.redis_answered();
                    return charge;
                }
                Ok(None) => tracing::error!("the Redis limiter asked for a seed it was given"),
                Err(e) => self.degrade(&e),
            }
        }
        match self.memory.charge(&key.id, &policy, n, None, now) {
            Some(charge) => charge,
            None => {
                let seed = self.seed_of(&key.id, &mut seed).await.patients;
                self.memory.charge(&key.id, &policy, n, Some(seed), now).unwrap_or(Charge {
                    allowed: false,
                    used: seed,
                    limit: policy.patients_per_day,
                    resets_in: Window::Day.resets_in(now),
                })
            }
        }
    }

    /// Gives back patients charged for work that did not happen (nothing when
    /// today's count is gone, e.g. Redis restarted in between).
    pub async fn refund_patients(&self, key: &ApiKeyRecord, patients: u64, now: DateTime<Utc>) {
        let n = -i64::try_from(patients).unwrap_or(i64::MAX);
        let policy = Policy::for_key(key);
        if let Some(redis) = self.redis_if_up() {
            match redis.charge(&key.id, &policy, n, None, now).await {
                Ok(_) => return,
                Err(e) => self.degrade(&e),
            }
        }
        let _ = self.memory.charge(&key.id, &policy, n, None, now);
    }

    /// Probes Redis every `every`, with or without traffic: two unanswered
    /// pings in a row switch this instance to its own counters (so `/health`
    /// says `degraded` within about `2 × every` plus the call bounds, with no
    /// request at all); an answer while degraded switches back. A probe is
    /// skipped while requests reach Redis (their success says enough), so a
    /// busy instance whose ping waits behind its own work does not fall back
    /// for nothing. Runs until the task is dropped.
    pub async fn watch_redis(&self, every: Duration) {
        let Some(redis) = &self.redis else { return };
        let mut failures = 0u32;
        loop {
            let degraded = self.degraded.load(Ordering::Relaxed);
            if degraded || !self.answered_within(every) {
                match redis.ping().await {
                    Ok(()) => {
                        failures = 0;
                        self.redis_answered();
                        if degraded {
                            self.degraded.store(false, Ordering::Relaxed);
                            metrics::gauge!("rate_limiter_degraded").set(0.0);
                            tracing::info!("Redis is reachable again: rate limits are shared again");
                        }
                    }
                    Err(e) if !degraded => {
                        failures += 1;
                        if failures >= 2 {
                            failures = 0;
                            self.degrade(&e);
                        }
                    }
                    Err(_) => {}
                }
            }
            tokio::time::sleep(every).await;
        }
    }
}
