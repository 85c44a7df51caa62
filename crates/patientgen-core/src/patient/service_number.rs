//! Service numbers in each nation's format, unique within a dataset.
//!
//! Generation is parallel and deterministic (patient *i* depends only on the
//! seed and plan slot *i*), so uniqueness cannot come from a shared "already
//! used" set. It is derived instead: the plan numbers the patients of each
//! nation 0, 1, 2, … ([`PatientSlot::nation_ordinal`]), and a keyed bijection
//! (a Feistel network with cycle walking) maps that ordinal onto the nation's
//! number space. Distinct ordinals give distinct numbers, and the numbers look
//! random because the key comes from the seed.
//!
//! The number space of a format is the product of its free positions (`#` 10,
//! `@` 26, `{SEX}` 5, `{FI_CONTROL}` 31; a check character is not free). When
//! the format contains the date of birth (`{DD}`, `{MM}`, `{YY}`), the space is
//! multiplied by 365: the permuted value also chooses the birth date's residue
//! modulo 365 days, so two patients sharing the free digits were born on
//! different days. Past a nation's capacity numbers may repeat; every nation
//! holds at least 1,000,000 except Sweden, whose real personnummer layout
//! allows 182,500 (see `docs/NATION_DATA.md`).
//!
//! [`PatientSlot::nation_ordinal`]: crate::timeline::PatientSlot::nation_ordinal

use crate::data::nations::Checksum;
use crate::rng::splitmix64;
use crate::time::CivilDate;

/// Days in the birth-date residue class that dated formats add to their space.
pub const DATE_CLASSES: u64 = 365;

/// Finnish henkilötunnus control characters (mod-31 alphabet).
const FI_CONTROL: &[u8; 31] = b"0123456789ABCDEFHJKLMNPRSTUVWXY";

/// Spanish DNI letters by number mod 23.
pub const DNI_LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(String),
    /// A free digit (or the check digit when it is the last one under Luhn).
    Digit,
    /// A free letter (or the DNI letter when it is the last one under DNI).
    Letter,
    /// A free Finnish control character.
    FiControl,
    /// A free sex digit: odd for men, even for women.
    Sex,
    Year4,
    Year2,
    Month,
    Day,
    SurnameInitial,
    CenturySign,
}

/// A compiled service-number format.
#[derive(Debug, Clone)]
pub struct ServiceFormat {
    tokens: Vec<Token>,
    /// Token index of the check character, if any.
    check: Option<usize>,
    checksum: Checksum,
    /// Product of the radices of the free positions.
    serial_space: u64,
    /// Whether the number contains the date of birth.
    dated: bool,
}

impl ServiceFormat {
    /// Compiles a pattern (language in `docs/NATION_DATA.md`).
    pub fn parse(pattern: &str, checksum: Checksum) -> Result<Self, String> {
        let mut tokens = Vec::new();
        let mut rest = pattern;
        while let Some(c) = rest.chars().next() {
            if c == '{' {
                let end = rest.find('}').ok_or_else(|| format!("unclosed token in {pattern}"))?;
                tokens.push(match &rest[1..end] {
                    "YYYY" => Token::Year4,
                    "YY" => Token::Year2,
                    "MM" => Token::Month,
                    "DD" => Token::Day,
                    "SI" => Token::SurnameInitial,
                    "CENTURY_SIGN" => Token::CenturySign,
                    "SEX" => Token::Sex,
                    "FI_CONTROL" => Token::FiControl,
                    other => return Err(format!("unknown token {{{other}}} in {pattern}")),
                });
                rest = &rest[end + 1..];
                continue;
            }
            tokens.push(match c {
                '#' => Token::Digit,
                '@' => Token::Letter,
                _ => Token::Literal(c.to_string()),
            });
            rest = &rest[c.len_utf8()..];
        }
        let check = match checksum {
            Checksum::None => None,
            Checksum::Luhn => {
                Some(tokens.iter().rposition(|t| *t == Token::Digit).ok_or("luhn needs a final '#'")?)
            }
            Checksum::Dni => {
                Some(tokens.iter().rposition(|t| *t == Token::Letter).ok_or("dni needs a final '@'")?)
            }
        };
        let mut serial_space = 1u64;
        for (i, t) in tokens.iter().enumerate() {
            let radix = match t {
                _ if Some(i) == check => continue,
                Token::Digit => 10,
                Token::Letter => 26,
                Token::Sex => 5,
                Token::FiControl => FI_CONTROL.len() as u64,
                _ => continue,
            };
            serial_space = serial_space
                .checked_mul(radix)
                .ok_or_else(|| format!("{pattern}: too many free positions"))?;
        }
        if serial_space > 1 << 56 {
            return Err(format!("{pattern}: too many free positions"));
        }
        let dated = tokens.iter().any(|t| matches!(t, Token::Day))
            && tokens.iter().any(|t| matches!(t, Token::Month))
            && tokens.iter().any(|t| matches!(t, Token::Year2 | Token::Year4));
        Ok(Self { tokens, check, checksum, serial_space, dated })
    }

    /// Whether the number shows the full date of birth.
    pub fn is_dated(&self) -> bool {
        self.dated
    }

    /// How many distinct numbers the format guarantees within one dataset.
    pub fn capacity(&self) -> u64 {
        if self.dated { self.serial_space.saturating_mul(DATE_CLASSES) } else { self.serial_space }
    }

    /// The slot of a nation's `ordinal`-th patient in a dataset with `seed`:
    /// distinct ordinals below [`Self::capacity`] give distinct slots.
    pub fn slot(&self, seed: u64, nation: u16, ordinal: u64) -> Slot {
        let capacity = self.capacity().max(1);
        let round = ordinal / capacity;
        let key = splitmix64(seed ^ splitmix64(0x5e71_ce00_0000_0000 ^ (u64::from(nation) << 32) ^ round));
        let x = permute(ordinal % capacity, capacity, key);
        if self.dated {
            Slot { serial: x % self.serial_space, date_class: Some(x / self.serial_space) }
        } else {
            Slot { serial: x, date_class: None }
        }
    }

    /// Writes the number of `slot` for a person born on `birth`.
    pub fn render(&self, slot: Slot, birth: CivilDate, family_name: &str, female: bool) -> String {
        let (y, m, d) = birth.ymd();
        let mut out = String::with_capacity(self.tokens.len() + 4);
        // Free positions take the serial's mixed-radix digits, most significant first.
        let mut place = self.serial_space;
        let mut next = |radix: u64| {
            place /= radix;
            (slot.serial / place.max(1) % radix) as u8
        };
        let two = |out: &mut String, v: i64| {
            out.push(char::from(b'0' + (v / 10 % 10) as u8));
            out.push(char::from(b'0' + (v % 10) as u8));
        };
        for (i, t) in self.tokens.iter().enumerate() {
            let is_check = Some(i) == self.check;
            match t {
                Token::Literal(s) => out.push_str(s),
                Token::Digit if is_check => out.push('0'),
                Token::Letter if is_check => out.push('A'),
                Token::Digit => out.push(char::from(b'0' + next(10))),
                Token::Letter => out.push(char::from(b'A' + next(26))),
                Token::FiControl => out.push(char::from(FI_CONTROL[usize::from(next(31))])),
                Token::Sex => out.push(char::from(b'0' + next(5) * 2 + u8::from(!female))),
                Token::Year4 => {
                    two(&mut out, y.rem_euclid(10_000) / 100);
                    two(&mut out, y.rem_euclid(100));
                }
                Token::Year2 => two(&mut out, y.rem_euclid(100)),
                Token::Month => two(&mut out, i64::from(m)),
                Token::Day => two(&mut out, i64::from(d)),
                Token::SurnameInitial => out.push(surname_initial(family_name)),
                // Finnish personal-code century sign: '-' for 1900-1999, 'A' for 2000-2099.
                Token::CenturySign => out.push(if y >= 2000 { 'A' } else { '-' }),
            }
        }
        match self.checksum {
            Checksum::None => out,
            Checksum::Luhn => replace_last_digit(out, luhn_digit),
            Checksum::Dni => {
                let number = out
                    .bytes()
                    .filter(u8::is_ascii_digit)
                    .fold(0u64, |n, c| n.wrapping_mul(10).wrapping_add(u64::from(c - b'0')));
                let letter = char::from(DNI_LETTERS[(number % 23) as usize]);
                if let Some(pos) = out.rfind(|c: char| c.is_ascii_uppercase()) {
                    out.replace_range(pos..pos + 1, letter.encode_utf8(&mut [0; 4]));
                }
                out
            }
        }
    }
}

/// Where a patient's number lies in the nation's space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// Value of the free positions.
    pub serial: u64,
    /// Residue of the birth date's day number modulo [`DATE_CLASSES`] (dated formats).
    pub date_class: Option<u64>,
}

/// A birth date in `[earliest, latest]` (at least 365 days apart) whose day
/// number is congruent to `class` modulo [`DATE_CLASSES`].
pub fn birth_date_in_class(earliest: i64, latest: i64, class: u64) -> CivilDate {
    let offset = (class as i64 - earliest).rem_euclid(DATE_CLASSES as i64);
    CivilDate((earliest + offset).min(latest.max(earliest)))
}

/// A keyed permutation of `0..n`: a balanced Feistel network over the smallest
/// even number of bits that holds `n`, cycle-walked back into range. Cycle
/// walking keeps it a bijection; the domain is under 4n, so it takes fewer
/// than four passes on average.
pub fn permute(x: u64, n: u64, key: u64) -> u64 {
    debug_assert!(x < n);
    if n <= 1 {
        return 0;
    }
    let bits = (64 - (n - 1).leading_zeros()).max(2).div_ceil(2);
    let mask = (1u64 << bits) - 1;
    let mut v = x;
    loop {
        let (mut l, mut r) = (v >> bits, v & mask);
        for round in 0..6u64 {
            let f = splitmix64(r ^ key.rotate_left(round as u32 * 11) ^ (round << 56)) & mask;
            (l, r) = (r, l ^ f);
        }
        v = (l << bits) | r;
        if v < n {
            return v;
        }
    }
}

/// First letter of a family name, transliterated to ASCII and upper-cased.
pub fn surname_initial(family: &str) -> char {
    deunicode::deunicode(family)
        .chars()
        .find(char::is_ascii_alphabetic)
        .map_or('X', |c| c.to_ascii_uppercase())
}

/// Luhn check digit over the digits that precede it.
pub fn luhn_digit(digits: &[u32]) -> u32 {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                *d
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

fn replace_last_digit(mut s: String, check: fn(&[u32]) -> u32) -> String {
    let Some(pos) = s.rfind(|c: char| c.is_ascii_digit()) else {
        return s;
    };
    let digits: Vec<u32> = s[..pos].chars().filter_map(|c| c.to_digit(10)).collect();
    let d = check(&digits);
    s.replace_range(pos..pos + 1, &d.to_string());
    s
}

/// Whether a number passes the Luhn check.
pub fn luhn_valid(s: &str) -> bool {
    let digits: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
    match digits.split_last() {
        Some((last, rest)) => luhn_digit(rest) == *last,
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::days_from_civil;
    use std::collections::HashSet;

    #[test]
    fn permutation_is_a_bijection_for_any_size() {
        for n in [1u64, 2, 3, 10, 100, 365, 1000, 4097, 26 * 26 * 10] {
            for key in [0u64, 1, 0xdead_beef] {
                let out: HashSet<u64> = (0..n).map(|x| permute(x, n, key)).collect();
                assert_eq!(out.len() as u64, n, "n {n} key {key}");
                assert!(out.iter().all(|v| *v < n));
            }
        }
        // Different keys give different orders.
        let a: Vec<u64> = (0..50).map(|x| permute(x, 1000, 1)).collect();
        let b: Vec<u64> = (0..50).map(|x| permute(x, 1000, 2)).collect();
        assert_ne!(a, b);
    }

    #[test]
    fn a_full_space_of_numbers_is_all_distinct() {
        // Undated: a two-digit space holds exactly 100 numbers.
        let f = ServiceFormat::parse("X##", Checksum::None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(f.capacity(), 100);
        let birth = CivilDate::from_ymd(1990, 1, 1);
        let all: HashSet<String> =
            (0..100).map(|k| f.render(f.slot(7, 3, k), birth, "Smith", false)).collect();
        assert_eq!(all.len(), 100);
        // Dated: one free digit and the birth date give 3,650 numbers, whatever
        // the ages and injury days of the patients.
        let f = ServiceFormat::parse("{DD}{MM}{YY}-#", Checksum::None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(f.capacity(), 3650);
        let mut seen = HashSet::new();
        for k in 0..3650u64 {
            let slot = f.slot(9, 1, k);
            // An arbitrary one-year window ending on some day of 2000-2004.
            let latest = days_from_civil(2000, 1, 1) + (k * 7919 % 1500) as i64;
            let earliest = latest - 364 - (k % 2) as i64;
            let birth = birth_date_in_class(earliest, latest, slot.date_class.unwrap_or(0));
            assert!((earliest..=latest).contains(&birth.0));
            assert!(seen.insert(f.render(slot, birth, "Smith", k % 3 == 0)), "duplicate at {k}");
        }
    }

    #[test]
    fn check_characters_are_not_free_positions() {
        let swe =
            ServiceFormat::parse("{YY}{MM}{DD}-##{SEX}#", Checksum::Luhn).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(swe.capacity(), 100 * 5 * 365);
        let esp = ServiceFormat::parse("########@", Checksum::Dni).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(esp.capacity(), 100_000_000);
        let birth = CivilDate::from_ymd(1999, 4, 7);
        for k in 0..200 {
            let s = swe.render(swe.slot(1, 0, k), birth, "Berg", k % 2 == 0);
            assert!(luhn_valid(&s), "{s}");
            let sex_digit = s.as_bytes()[9] - b'0';
            assert_eq!(sex_digit.is_multiple_of(2), k.is_multiple_of(2), "{s}");
            let e = esp.render(esp.slot(1, 0, k), birth, "García", false);
            let n: u64 = e[..8].parse().unwrap_or(0);
            assert_eq!(e.as_bytes()[8], DNI_LETTERS[(n % 23) as usize], "{e}");
        }
        assert!(ServiceFormat::parse("{XX}#", Checksum::None).is_err());
        assert!(ServiceFormat::parse("@@", Checksum::Luhn).is_err());
    }

    #[test]
    fn luhn_matches_known_values() {
        assert_eq!(luhn_digit(&[7, 9, 9, 2, 7, 3, 9, 8, 7, 1]), 3);
        assert!(luhn_valid("79927398713"));
        assert!(!luhn_valid("79927398710"));
        assert_eq!(surname_initial("Šimek"), 'S');
        assert_eq!(surname_initial("Иванов"), 'I');
        assert_eq!(surname_initial("Παπαδόπουλος"), 'P');
    }
}
