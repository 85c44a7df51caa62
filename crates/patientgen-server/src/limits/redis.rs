//! The Redis limiter: the same fixed windows as the in-process one, kept in
//! Redis so every instance shares them. Each request is one `EVALSHA` of a Lua
//! script that counts it in its three windows and takes the counts back if a
//! limit is passed — atomically, so N instances under any concurrency admit
//! exactly the limit. Keys carry the API key id in a hash tag
//! (`{…}`), so one key's counters stay on one Redis Cluster slot.

use super::{Charge, Decision, Policy, Window};
use chrono::{DateTime, Utc};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::time::Duration;

/// Extra lifetime of a counter past its window, so a slow clock never reads
/// an expired count inside the window.
const TTL_SLACK: i64 = 5;

/// Longest a Redis call may take before the instance falls back, unless the
/// configuration says otherwise ([`crate::ServerConfig::redis_call_timeout`]).
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_millis(500);

/// Counts a request: KEYS its minute, hour and day counters; ARGV three
/// limits (-1: none), three lifetimes, and what today's window starts from
/// when it does not exist yet (-1: not given — the script then counts nothing
/// and answers -1, and the caller reads what is recorded and asks again).
/// Increments first and takes the increments back when a limit is passed:
/// inside one script that is atomic, and an allowed request costs four
/// commands. Returns allowed (1/0, or -1) and the three counts.
const CHECK_SCRIPT: &str = r"
if redis.call('EXISTS', KEYS[3]) == 0 then
  local seed = tonumber(ARGV[7])
  if seed < 0 then
    return {-1, 0, 0, 0}
  end
  redis.call('SET', KEYS[3], seed, 'EX', ARGV[6], 'NX')
end
local counts = {}
for i = 1, 3 do
  counts[i] = redis.call('INCR', KEYS[i])
  if counts[i] == 1 then
    redis.call('EXPIRE', KEYS[i], ARGV[3 + i])
  end
end
for i = 1, 3 do
  local limit = tonumber(ARGV[i])
  if limit >= 0 and counts[i] > limit then
    for j = 1, 3 do
      counts[j] = redis.call('DECR', KEYS[j])
    end
    return {0, counts[1], counts[2], counts[3]}
  end
end
return {1, counts[1], counts[2], counts[3]}
";

/// Charges patients: KEYS today's patient counter; ARGV patients (negative: a
/// refund), quota (-1: none), lifetime, and what today's count starts from
/// when it does not exist yet (-1: not given — a charge then answers -1 and
/// the caller asks again with what is recorded; a refund gives back nothing).
const CHARGE_SCRIPT: &str = r"
local n = tonumber(ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 0 then
  local seed = tonumber(ARGV[4])
  if n < 0 then
    return {1, 0}
  end
  if seed < 0 then
    return {-1, 0}
  end
  redis.call('SET', KEYS[1], seed, 'EX', ARGV[3], 'NX')
end
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local limit = tonumber(ARGV[2])
if n > 0 and limit >= 0 and used + n > limit then
  return {0, used}
end
if n < 0 and used + n < 0 then
  n = -used
end
used = redis.call('INCRBY', KEYS[1], n)
if redis.call('TTL', KEYS[1]) < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[3])
end
return {1, used}
";

/// A failed Redis call.
#[derive(Debug, thiserror::Error)]
pub enum LimiterError {
    /// Redis answered with an error or the connection failed.
    #[error("Redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// Redis did not answer in time.
    #[error("Redis did not answer within {0:?}")]
    Timeout(Duration),
}

/// Rate-limit counters in Redis.
pub struct RedisLimiter {
    connection: ConnectionManager,
    prefix: String,
    call_timeout: Duration,
    check: redis::Script,
    charge: redis::Script,
}

fn as_arg(limit: Option<u64>) -> i64 {
    limit.map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX))
}

impl RedisLimiter {
    /// A limiter on `url` (connected lazily, reconnecting by itself); counter
    /// names start with `prefix`; a call slower than `call_timeout` counts as
    /// Redis being down.
    pub fn new(url: &str, prefix: &str, call_timeout: Duration) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(call_timeout))
            .set_response_timeout(Some(call_timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(200));
        let connection = ConnectionManager::new_lazy_with_config(client, config)?;
        Ok(Self {
            connection,
            prefix: prefix.to_string(),
            call_timeout,
            check: redis::Script::new(CHECK_SCRIPT),
            charge: redis::Script::new(CHARGE_SCRIPT),
        })
    }

    fn counter(&self, key_id: &str, what: &str, index: i64) -> String {
        format!("{}:rl:{{{key_id}}}:{what}:{index}", self.prefix)
    }

    async fn bounded<T>(&self, fut: impl Future<Output = redis::RedisResult<T>>) -> Result<T, LimiterError> {
        match tokio::time::timeout(self.call_timeout, fut).await {
            Ok(result) => Ok(result?),
            Err(_) => Err(LimiterError::Timeout(self.call_timeout)),
        }
    }

    /// Counts one request unless a window is exhausted. `Ok(None)`: today's
    /// window does not exist and no `day_seed` was given; nothing was counted.
    pub async fn check(
        &self,
        key_id: &str,
        policy: &Policy,
        day_seed: Option<u64>,
        now: DateTime<Utc>,
    ) -> Result<Option<Decision>, LimiterError> {
        let mut invocation = self.check.prepare_invoke();
        for window in Window::ALL {
            invocation.key(self.counter(key_id, window.name(), window.index(now)));
        }
        for limit in policy.requests {
            invocation.arg(as_arg(limit));
        }
        for window in Window::ALL {
            invocation.arg(window.resets_in(now) + TTL_SLACK);
        }
        invocation.arg(as_arg(day_seed));
        let mut connection = self.connection.clone();
        let (allowed, minute, hour, day): (i64, u64, u64, u64) =
            self.bounded(invocation.invoke_async(&mut connection)).await?;
        Ok((allowed >= 0).then(|| Decision::new(allowed == 1, policy, [minute, hour, day], now)))
    }

    /// Adds `patients` (negative: a refund) to today's count unless the quota
    /// would be exceeded. `Ok(None)`: today's count does not exist and no
    /// `seed` was given; nothing was charged.
    pub async fn charge(
        &self,
        key_id: &str,
        policy: &Policy,
        patients: i64,
        seed: Option<u64>,
        now: DateTime<Utc>,
    ) -> Result<Option<Charge>, LimiterError> {
        let day = Window::Day;
        let mut invocation = self.charge.prepare_invoke();
        invocation
            .key(self.counter(key_id, "patients", day.index(now)))
            .arg(patients)
            .arg(as_arg(policy.patients_per_day))
            .arg(day.resets_in(now) + TTL_SLACK)
            .arg(as_arg(seed));
        let mut connection = self.connection.clone();
        let (allowed, used): (i64, i64) = self.bounded(invocation.invoke_async(&mut connection)).await?;
        Ok((allowed >= 0).then(|| Charge {
            allowed: allowed == 1,
            used: u64::try_from(used).unwrap_or(0),
            limit: policy.patients_per_day,
            resets_in: day.resets_in(now),
        }))
    }

    /// Whether Redis answers.
    pub async fn ping(&self) -> Result<(), LimiterError> {
        let mut connection = self.connection.clone();
        let _: String = self.bounded(redis::cmd("PING").query_async(&mut connection)).await?;
        Ok(())
    }
}
