//! Fixed rate-limit windows aligned to UTC: the minute, the hour and the day
//! (midnight to midnight). Window arithmetic is done on Unix seconds, so month
//! and year ends are ordinary boundaries.

use chrono::{DateTime, Utc};

/// A rate-limit window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Window {
    /// The current UTC minute.
    Minute,
    /// The current UTC hour.
    Hour,
    /// The current UTC day.
    Day,
}

impl Window {
    /// All windows, shortest first.
    pub const ALL: [Window; 3] = [Window::Minute, Window::Hour, Window::Day];

    /// Length in seconds.
    pub fn seconds(self) -> i64 {
        match self {
            Window::Minute => 60,
            Window::Hour => 3600,
            Window::Day => 86_400,
        }
    }

    /// Which window of this kind `now` falls in (its number since the epoch).
    pub fn index(self, now: DateTime<Utc>) -> i64 {
        now.timestamp().div_euclid(self.seconds())
    }

    /// Whole seconds until the window ends (1 to its length).
    pub fn resets_in(self, now: DateTime<Utc>) -> i64 {
        self.seconds() - now.timestamp().rem_euclid(self.seconds())
    }

    /// The Unix time at which the window ends.
    pub fn ends_at(self, now: DateTime<Utc>) -> i64 {
        (self.index(now) + 1) * self.seconds()
    }

    /// Name used in headers, metrics and Redis keys.
    pub fn name(self) -> &'static str {
        match self {
            Window::Minute => "minute",
            Window::Hour => "hour",
            Window::Day => "day",
        }
    }

    /// The `X-Limit-Type` of a request limit over this window.
    pub fn limit_type(self) -> &'static str {
        match self {
            Window::Minute => "requests_per_minute",
            Window::Hour => "requests_per_hour",
            Window::Day => "requests_per_day",
        }
    }
}

/// Start of the UTC day containing `now`.
pub fn day_start(now: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(Window::Day.index(now) * 86_400, 0).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("time")
    }

    #[test]
    fn windows_end_on_utc_boundaries_including_month_and_year_ends() {
        let t = at("2026-01-31T23:59:58Z");
        assert_eq!(Window::Minute.resets_in(t), 2);
        assert_eq!(Window::Hour.resets_in(t), 2);
        assert_eq!(Window::Day.resets_in(t), 2);
        assert_eq!(Window::Day.ends_at(t), at("2026-02-01T00:00:00Z").timestamp());
        let leap = at("2028-02-29T12:00:00Z");
        assert_eq!(Window::Day.ends_at(leap), at("2028-03-01T00:00:00Z").timestamp());
        let new_year = at("2026-12-31T23:00:00Z");
        assert_eq!(Window::Day.resets_in(new_year), 3600);
        assert_eq!(Window::Day.index(at("2027-01-01T00:00:00Z")), Window::Day.index(new_year) + 1);
        assert_eq!(day_start(at("2026-03-31T17:45:10Z")), at("2026-03-31T00:00:00Z"));
    }

    #[test]
    fn a_window_boundary_resets_fully() {
        let t = at("2026-05-05T10:00:00Z");
        assert_eq!(Window::Minute.resets_in(t), 60);
        assert_eq!(Window::Hour.resets_in(t), 3600);
        assert_eq!(Window::Minute.index(t), Window::Minute.index(at("2026-05-05T09:59:59Z")) + 1);
    }
}
