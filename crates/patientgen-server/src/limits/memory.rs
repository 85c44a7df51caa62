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

    /// The count in window `index`, starting it at `seed` when the window is
    /// new; `None` when it is new and there is no seed.
    fn roll(&mut self, index: i64, seed: Option<u64>) -> Option<&mut u64> {
        if self.index != index {
            *self = Slot { index, count: seed? };
        }
        Some(&mut self.count)
    }

    /// Whether window `index` has no count yet.
    fn is_new(&self, index: i64) -> bool {
        self.index != index
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

    /// Counts one request unless a window is exhausted. A new day window
    /// starts at `day_seed` (today's recorded requests); `None` when it is new
    /// and no seed is given (nothing is counted then).
    pub fn check(
        &self,
        key_id: &str,
        policy: &Policy,
        day_seed: Option<u64>,
        now: DateTime<Utc>,
    ) -> Option<Decision> {
        self.with_counters(key_id, now, |c| {
            if day_seed.is_none() && c.requests[2].is_new(Window::Day.index(now)) {
                return None;
            }
            let mut counts = [0u64; 3];
            for (i, window) in Window::ALL.into_iter().enumerate() {
                let seed = if window == Window::Day { day_seed } else { Some(0) };
                counts[i] = *c.requests[i].roll(window.index(now), seed)?;
            }
            let allowed =
                policy.requests.iter().zip(counts).all(|(limit, used)| limit.is_none_or(|l| used < l));
            if allowed {
                for (slot, count) in c.requests.iter_mut().zip(counts.iter_mut()) {
                    slot.count += 1;
                    *count = slot.count;
                }
            }
            Some(Decision::new(allowed, policy, counts, now))
        })
    }

    /// Adds `patients` (negative: a refund) to today's patient count unless the
    /// quota would be exceeded. A new day starts at `seed` (today's recorded
    /// patients); `None` when it is new and no seed is given. A refund to a
    /// day that has no count gives back nothing.
    pub fn charge(
        &self,
        key_id: &str,
        policy: &Policy,
        patients: i64,
        seed: Option<u64>,
        now: DateTime<Utc>,
    ) -> Option<Charge> {
        let seed = if patients < 0 { seed.or(Some(0)) } else { seed };
        self.with_counters(key_id, now, |c| {
            let used = c.patients.roll(Window::Day.index(now), seed)?;
            let n = patients.unsigned_abs();
            let allowed =
                patients <= 0 || policy.patients_per_day.is_none_or(|l| used.saturating_add(n) <= l);
            if allowed {
                *used = if patients < 0 { used.saturating_sub(n) } else { used.saturating_add(n) };
            }
            Some(Charge {
                allowed,
                used: *used,
                limit: policy.patients_per_day,
                resets_in: Window::Day.resets_in(now),
            })
        })
    }

    /// Forgets every count (they are stale once another store counted).
    pub fn clear(&self) {
        self.keys.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clear();
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
        Policy { requests: [Some(minute), Some(1000), day], patients_per_day: Some(100) }
    }

    /// A check on a limiter whose new day windows start at 0.
    fn check(limiter: &MemoryLimiter, key: &str, p: &Policy, t: DateTime<Utc>) -> Decision {
        limiter.check(key, p, Some(0), t).expect("seeded")
    }

    fn charge(limiter: &MemoryLimiter, p: &Policy, n: i64, t: DateTime<Utc>) -> Charge {
        limiter.charge("k", p, n, Some(0), t).expect("seeded")
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("time")
    }

    #[test]
    fn a_window_allows_exactly_its_limit_and_rejections_do_not_count() {
        let limiter = MemoryLimiter::new(10);
        let p = policy(3, None);
        let t = at("2026-03-01T10:00:30Z");
        let results: Vec<bool> = (0..6).map(|_| check(&limiter, "k", &p, t).allowed).collect();
        assert_eq!(results, [true, true, true, false, false, false]);
        let rejected = check(&limiter, "k", &p, t);
        assert_eq!(rejected.windows[0].used, 3);
        assert_eq!(rejected.blocking().map(|w| (w.window, w.resets_in)), Some((Window::Minute, 30)));
        // The next minute starts afresh; the hour keeps counting.
        let next = check(&limiter, "k", &p, at("2026-03-01T10:01:00Z"));
        assert!(next.allowed);
        assert_eq!((next.windows[0].used, next.windows[1].used), (1, 4));
    }

    #[test]
    fn the_day_window_turns_at_utc_midnight_at_a_month_end() {
        let limiter = MemoryLimiter::new(10);
        let p = policy(100, Some(2));
        let eve = at("2026-04-30T23:59:59Z");
        assert!(check(&limiter, "k", &p, eve).allowed);
        assert!(check(&limiter, "k", &p, eve).allowed);
        let blocked = check(&limiter, "k", &p, eve);
        assert!(!blocked.allowed);
        assert_eq!(blocked.blocking().map(|w| (w.window, w.resets_in)), Some((Window::Day, 1)));
        let may = check(&limiter, "k", &p, at("2026-05-01T00:00:00Z"));
        assert!(may.allowed);
        assert_eq!(may.day().used, 1);
    }

    #[test]
    fn patients_fit_the_quota_or_are_refused_whole() {
        let limiter = MemoryLimiter::new(10);
        let p = policy(100, None);
        let t = at("2026-12-31T12:00:00Z");
        assert!(charge(&limiter, &p, 60, t).allowed);
        let refused = charge(&limiter, &p, 41, t);
        assert!(!refused.allowed);
        assert_eq!(refused.used, 60);
        assert!(charge(&limiter, &p, 40, t).allowed);
        assert_eq!(charge(&limiter, &p, -30, t).used, 70);
        assert_eq!(charge(&limiter, &p, 0, at("2027-01-01T00:00:00Z")).used, 0, "a new year, a new day");
    }

    #[test]
    fn a_new_day_window_waits_for_its_seed_and_starts_from_it() {
        let limiter = MemoryLimiter::new(10);
        let p = policy(100, Some(5));
        let t = at("2026-06-01T08:00:00Z");
        assert_eq!(limiter.check("k", &p, None, t), None, "no window without a seed");
        assert_eq!(limiter.charge("k", &p, 10, None, t), None);
        let first = limiter.check("k", &p, Some(4), t).expect("seeded");
        assert_eq!(first.day().used, 5);
        // The window exists now: no seed is needed, and a late one is ignored.
        assert!(!limiter.check("k", &p, None, t).expect("window").allowed);
        assert!(!limiter.check("k", &p, Some(0), t).expect("window").allowed);
        assert_eq!(limiter.charge("k", &p, 10, Some(95), t).map(|c| (c.allowed, c.used)), Some((false, 95)));
        // A refund needs no seed; forgetting starts over from a seed.
        assert_eq!(limiter.charge("other", &p, -3, None, t).map(|c| c.used), Some(0));
        limiter.clear();
        assert_eq!(limiter.check("k", &p, None, t), None);
    }

    #[test]
    fn memory_is_bounded() {
        let limiter = MemoryLimiter::new(3);
        let p = policy(10, None);
        let t = at("2026-06-01T08:00:00Z");
        for i in 0..50 {
            check(&limiter, &format!("key-{i}"), &p, t);
        }
        assert_eq!(limiter.len(), 3);
    }
}
