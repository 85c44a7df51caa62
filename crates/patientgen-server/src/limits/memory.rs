//! The in-process limiter: fixed-window counters per key behind one mutex (a
//! request holds it for a few hundred nanoseconds). Memory is bounded: past
//! `max_keys` keys, entries whose day has ended are dropped, then the oldest.

use super::{Charge, Decision, Policy, Window};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

/// A counter for one window.
#[derive(Debug, Clone, Copy)]
struct Slot {
    index: i64,
    count: u64,
}

impl Slot {
    const EMPTY: Slot = Slot { index: i64::MIN, count: 0 };

    /// The count in window `index`, starting it at `seed` when the window is new.
    fn roll(&mut self, index: i64, seed: u64) -> &mut u64 {
        if self.index != index {
            *self = Slot { index, count: seed };
        }
        &mut self.count
    }
}

#[derive(Debug, Clone, Copy)]
struct Counters {
    requests: [Slot; 3],
    patients: Slot,
    last_day: i64,
}

/// In-process fixed-window counters.
pub struct MemoryLimiter {
    keys: Mutex<HashMap<String, Counters>>,
    max_keys: usize,
}

impl MemoryLimiter {
    /// Counters for at most `max_keys` keys.
    pub fn new(max_keys: usize) -> Self {
        Self { keys: Mutex::new(HashMap::new()), max_keys: max_keys.max(1) }
    }

    fn with_counters<T>(&self, key_id: &str, now: DateTime<Utc>, f: impl FnOnce(&mut Counters) -> T) -> T {
        let mut keys = self.keys.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let today = Window::Day.index(now);
        if let Some(counters) = keys.get_mut(key_id) {
            counters.last_day = today;
            return f(counters);
        }
        if keys.len() >= self.max_keys {
            keys.retain(|_, c| c.last_day >= today);
            if keys.len() >= self.max_keys
                && let Some(oldest) =
                    keys.iter().min_by_key(|(_, c)| c.requests[0].index).map(|(k, _)| k.clone())
            {
                keys.remove(&oldest);
            }
        }
        let counters = keys.entry(key_id.to_string()).or_insert(Counters {
            requests: [Slot::EMPTY; 3],
            patients: Slot::EMPTY,
            last_day: today,
        });
        counters.last_day = today;
        f(counters)
    }

    /// Counts one request unless a window is exhausted.
    pub fn check(&self, key_id: &str, policy: &Policy, now: DateTime<Utc>) -> Decision {
        self.with_counters(key_id, now, |c| {
            let mut counts = [0u64; 3];
            for (i, window) in Window::ALL.into_iter().enumerate() {
                let seed = if window == Window::Day { policy.seed_day_requests } else { 0 };
                counts[i] = *c.requests[i].roll(window.index(now), seed);
            }
            let allowed =
                policy.requests.iter().zip(counts).all(|(limit, used)| limit.is_none_or(|l| used < l));
            if allowed {
                for (slot, count) in c.requests.iter_mut().zip(counts.iter_mut()) {
                    slot.count += 1;
                    *count = slot.count;
                }
            }
            Decision::new(allowed, policy, counts, now)
        })
    }

    /// Adds `patients` (negative: a refund) to today's patient count unless the
    /// quota would be exceeded.
    pub fn charge(&self, key_id: &str, policy: &Policy, patients: i64, now: DateTime<Utc>) -> Charge {
        self.with_counters(key_id, now, |c| {
            let used = c.patients.roll(Window::Day.index(now), policy.seed_day_patients);
            let n = patients.unsigned_abs();
            let allowed =
                patients <= 0 || policy.patients_per_day.is_none_or(|l| used.saturating_add(n) <= l);
            if allowed {
                *used = if patients < 0 { used.saturating_sub(n) } else { used.saturating_add(n) };
            }
            Charge {
                allowed,
                used: *used,
                limit: policy.patients_per_day,
                resets_in: Window::Day.resets_in(now),
            }
        })
    }

    /// Keys with counters.
    pub fn len(&self) -> usize {
        self.keys.lock().map_or(0, |k| k.len())
    }

    /// Whether no key has counters.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(minute: u64, day: Option<u64>) -> Policy {
        Policy {
            requests: [Some(minute), Some(1000), day],
            patients_per_day: Some(100),
            seed_day_requests: 0,
            seed_day_patients: 0,
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("time")
    }

    #[test]
    fn a_window_allows_exactly_its_limit_and_rejections_do_not_count() {
        let limiter = MemoryLimiter::new(10);
        let p = policy(3, None);
        let t = at("2026-03-01T10:00:30Z");
        let results: Vec<bool> = (0..6).map(|_| limiter.check("k", &p, t).allowed).collect();
        assert_eq!(results, [true, true, true, false, false, false]);
        let rejected = limiter.check("k", &p, t);
        assert_eq!(rejected.windows[0].used, 3);
        assert_eq!(rejected.blocking().map(|w| (w.window, w.resets_in)), Some((Window::Minute, 30)));
        // The next minute starts afresh; the hour keeps counting.
        let next = limiter.check("k", &p, at("2026-03-01T10:01:00Z"));
        assert!(next.allowed);
        assert_eq!((next.windows[0].used, next.windows[1].used), (1, 4));
    }

    #[test]
    fn the_day_window_turns_at_utc_midnight_at_a_month_end() {
        let limiter = MemoryLimiter::new(10);
        let p = policy(100, Some(2));
        let eve = at("2026-04-30T23:59:59Z");
        assert!(limiter.check("k", &p, eve).allowed);
        assert!(limiter.check("k", &p, eve).allowed);
        let blocked = limiter.check("k", &p, eve);
        assert!(!blocked.allowed);
        assert_eq!(blocked.blocking().map(|w| (w.window, w.resets_in)), Some((Window::Day, 1)));
        let may = limiter.check("k", &p, at("2026-05-01T00:00:00Z"));
        assert!(may.allowed);
        assert_eq!(may.day().used, 1);
    }

    #[test]
    fn patients_fit_the_quota_or_are_refused_whole() {
        let limiter = MemoryLimiter::new(10);
        let p = policy(100, None);
        let t = at("2026-12-31T12:00:00Z");
        assert!(limiter.charge("k", &p, 60, t).allowed);
        let refused = limiter.charge("k", &p, 41, t);
        assert!(!refused.allowed);
        assert_eq!(refused.used, 60);
        assert!(limiter.charge("k", &p, 40, t).allowed);
        assert_eq!(limiter.charge("k", &p, -30, t).used, 70);
        assert_eq!(limiter.charge("k", &p, 0, at("2027-01-01T00:00:00Z")).used, 0, "a new year, a new day");
    }

    #[test]
    fn seeds_carry_todays_database_counts_into_new_counters() {
        let limiter = MemoryLimiter::new(10);
        let mut p = policy(100, Some(5));
        p.seed_day_requests = 4;
        let t = at("2026-06-01T08:00:00Z");
        let first = limiter.check("k", &p, t);
        assert_eq!(first.day().used, 5);
        assert!(!limiter.check("k", &p, t).allowed);
    }

    #[test]
    fn memory_is_bounded() {
        let limiter = MemoryLimiter::new(3);
        let p = policy(10, None);
        let t = at("2026-06-01T08:00:00Z");
        for i in 0..50 {
            limiter.check(&format!("key-{i}"), &p, t);
        }
        assert_eq!(limiter.len(), 3);
    }
}
