//! Civil-time arithmetic and RFC 3339 formatting without allocation.
//!
//! Every time in a generated patient is a whole number of seconds since the Unix
//! epoch, in UTC; formatting is done by hand because it runs several times per
//! patient on the hot path.

use serde::{Serialize, Serializer};
use std::fmt;

/// Seconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct UtcSeconds(pub i64);

/// A calendar date, as days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct CivilDate(pub i64);

impl UtcSeconds {
    /// The calendar date of this instant.
    pub fn date(self) -> CivilDate {
        CivilDate(self.0.div_euclid(86_400))
    }

    /// Adds whole seconds.
    pub fn plus(self, seconds: i64) -> Self {
        Self(self.0 + seconds)
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` as ASCII bytes.
    pub fn rfc3339(self) -> [u8; 20] {
        let (y, m, d) = civil_from_days(self.0.div_euclid(86_400));
        let secs = self.0.rem_euclid(86_400);
        let mut out = *b"0000-00-00T00:00:00Z";
        write_year(&mut out[0..4], y);
        write2(&mut out[5..7], m);
        write2(&mut out[8..10], d);
        write2(&mut out[11..13], (secs / 3600) as u32);
        write2(&mut out[14..16], ((secs / 60) % 60) as u32);
        write2(&mut out[17..19], (secs % 60) as u32);
        out
    }
}

impl CivilDate {
    /// The date for a proleptic Gregorian year, month (1–12) and day (1–31).
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Self {
        Self(days_from_civil(i64::from(year), month, day))
    }

    /// Year, month, day.
    pub fn ymd(self) -> (i64, u32, u32) {
        civil_from_days(self.0)
    }

    /// Midnight UTC at the start of this date.
    pub fn midnight(self) -> UtcSeconds {
        UtcSeconds(self.0 * 86_400)
    }

    /// `YYYY-MM-DD` as ASCII bytes.
    pub fn iso(self) -> [u8; 10] {
        let (y, m, d) = civil_from_days(self.0);
        let mut out = *b"0000-00-00";
        write_year(&mut out[0..4], y);
        write2(&mut out[5..7], m);
        write2(&mut out[8..10], d);
        out
    }

    /// Whole years from `self` (a birth date) to `on`.
    pub fn years_until(self, on: CivilDate) -> u32 {
        let (by, bm, bd) = self.ymd();
        let (y, m, d) = on.ymd();
        let mut years = y - by;
        if (m, d) < (bm, bd) {
            years -= 1;
        }
        years.max(0) as u32
    }
}

fn write2(out: &mut [u8], v: u32) {
    out[0] = b'0' + (v / 10 % 10) as u8;
    out[1] = b'0' + (v % 10) as u8;
}

fn write_year(out: &mut [u8], y: i64) {
    let y = y.clamp(0, 9999) as u32;
    out[0] = b'0' + (y / 1000) as u8;
    out[1] = b'0' + (y / 100 % 10) as u8;
    out[2] = b'0' + (y / 10 % 10) as u8;
    out[3] = b'0' + (y % 10) as u8;
}

/// Days since 1970-01-01 for a Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Gregorian date for days since 1970-01-01 (H. Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

impl fmt::Display for UtcSeconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = self.rfc3339();
        f.write_str(std::str::from_utf8(&bytes).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Display for CivilDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = self.iso();
        f.write_str(std::str::from_utf8(&bytes).map_err(|_| fmt::Error)?)
    }
}

impl Serialize for UtcSeconds {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let bytes = self.rfc3339();
        s.serialize_str(std::str::from_utf8(&bytes).map_err(serde::ser::Error::custom)?)
    }
}

impl Serialize for CivilDate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let bytes = self.iso();
        s.serialize_str(std::str::from_utf8(&bytes).map_err(serde::ser::Error::custom)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_chrono() {
        use chrono::{DateTime, Utc};
        for secs in [0i64, 951_782_400, 1_748_736_000, 1_709_164_799, 4_102_444_800, 86_399] {
            let ours = UtcSeconds(secs).to_string();
            let theirs =
                DateTime::<Utc>::from_timestamp(secs, 0).map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
            assert_eq!(Some(ours), theirs);
        }
    }

    #[test]
    fn dates_round_trip() {
        for z in -1000..100_000 {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(CivilDate::from_ymd(2025, 6, 1).to_string(), "2025-06-01");
        let birth = CivilDate::from_ymd(2000, 6, 2);
        assert_eq!(birth.years_until(CivilDate::from_ymd(2025, 6, 1)), 24);
        assert_eq!(birth.years_until(CivilDate::from_ymd(2025, 6, 2)), 25);
    }
}
