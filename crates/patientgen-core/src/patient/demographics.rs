//! Demographics: name, sex, rank, age, date of birth, service number, unit,
//! religion, blood group, height and weight, drawn from the nation's tables.

use super::record::Demographics;
use crate::data::nations::Checksum;
use crate::data::{Catalog, Nation, NationId};
use crate::model::Gender;
use crate::rng::Rng;
use crate::time::{CivilDate, days_from_civil};

/// Draws the demographics of one soldier of `nation` injured on `injury_date`.
pub fn draw<'a>(
    rng: &mut Rng,
    catalog: &'a Catalog,
    nation_id: NationId,
    injury_date: CivilDate,
) -> Demographics<'a> {
    let nation = catalog.nations.get(nation_id);
    let demography = &catalog.demography;
    let female = rng.chance(demography.female_share[usize::from(nation_id.0)]);
    let gender = if female { Gender::Female } else { Gender::Male };
    let given_name = if female { rng.pick(&nation.female_names) } else { rng.pick(&nation.male_names) };
    let family = rng.pick(&nation.family_names);
    let family_name = match (&family.f, female) {
        (Some(f), true) => f.as_str(),
        _ => family.m.as_str(),
    };

    let band = &demography.ranks[demography.rank_table.sample(rng)];
    let (rank, rank_code) = nation
        .rank_title(&band.code)
        .map_or(("", band.code.as_str()), |r| (r.title.as_str(), band.code.as_str()));
    let age = rng.int_in(band.age[0], band.age[1]);
    let birthdate = birth_date(rng, injury_date, age);

    let religion = nation.religions[nation.religion_table.sample(rng)].as_deref();
    let (blood_type, rh_positive) = nation.blood_groups[nation.blood_table.sample(rng)];
    let sex = usize::from(female);
    let (h_mean, h_sd) = nation.height[sex];
    let (w_mean, w_sd) = nation.weight[sex];
    let zh = rng.normal(0.0, 1.0);
    let zw = 0.5 * zh + 0.866 * rng.normal(0.0, 1.0);
    let [hlo, hhi] = demography.height_limits;
    let [wlo, whi] = demography.weight_limits;
    let height = (h_mean + h_sd * zh).clamp(hlo, hhi).round() as u32;
    let weight = ((w_mean + w_sd * zw).clamp(wlo, whi) * 10.0).round() / 10.0;

    let service_number = service_number(rng, nation, birthdate, family_name, female);
    let unit = rng.pick(&nation.units).as_str();
    Demographics {
        family_name,
        given_name,
        gender,
        birthdate,
        age,
        nationality: &nation.code,
        religion,
        weight,
        height,
        blood_type,
        rh_factor: if rh_positive { "positive" } else { "negative" },
        rank,
        rank_code,
        service_number,
        unit,
    }
}

/// A birth date such that the person is exactly `age` on `on`.
fn birth_date(rng: &mut Rng, on: CivilDate, age: u32) -> CivilDate {
    let (y, m, d) = on.ymd();
    let anniversary = |years: i64| {
        // 29 February falls back to 28 February in common years.
        let year = y - years;
        let day = if m == 2 && d == 29 && !is_leap(year) { 28 } else { d };
        days_from_civil(year, m, day)
    };
    let latest = anniversary(i64::from(age));
    let earliest = anniversary(i64::from(age) + 1) + 1;
    let span = (latest - earliest).max(0) as u32;
    CivilDate(earliest + i64::from(rng.int_in(0, span)))
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Expands the nation's service-number pattern (see `data/nations` schema).
pub fn service_number(
    rng: &mut Rng,
    nation: &Nation,
    birth: CivilDate,
    family: &str,
    female: bool,
) -> String {
    let pattern = nation.service_number_pattern.as_bytes();
    let (y, m, d) = birth.ymd();
    let mut out = String::with_capacity(pattern.len() + 4);
    let mut i = 0;
    while i < pattern.len() {
        let c = pattern[i];
        if c == b'{'
            && let Some(end) = pattern[i..].iter().position(|b| *b == b'}')
        {
            let token = &nation.service_number_pattern[i + 1..i + end];
            match token {
                "YYYY" => out.push_str(&format!("{y:04}")),
                "YY" => out.push_str(&format!("{:02}", y.rem_euclid(100))),
                "MM" => out.push_str(&format!("{m:02}")),
                "DD" => out.push_str(&format!("{d:02}")),
                "SI" => out.push(surname_initial(family)),
                // Finnish personal-code century sign: '-' for 1900-1999, 'A' for 2000-2099.
                "CENTURY_SIGN" => out.push(if y >= 2000 { 'A' } else { '-' }),
                "SEX" => {
                    let digit = rng.int_in(0, 4) * 2 + u32::from(!female);
                    out.push(char::from(b'0' + digit as u8));
                }
                other => {
                    out.push('{');
                    out.push_str(other);
                    out.push('}');
                }
            }
            i += end + 1;
            continue;
        }
        match c {
            b'#' => out.push(char::from(b'0' + rng.int_in(0, 9) as u8)),
            b'@' => out.push(char::from(b'A' + rng.int_in(0, 25) as u8)),
            _ => {
                // Copy one UTF-8 character.
                let len = utf8_len(c);
                out.push_str(&nation.service_number_pattern[i..i + len]);
                i += len;
                continue;
            }
        }
        i += 1;
    }
    match nation.service_number_checksum {
        Checksum::None => out,
        Checksum::Luhn => replace_last_digit(out, luhn_digit),
        Checksum::Dni => {
            let digits: String = out.chars().filter(char::is_ascii_digit).collect();
            let number: u64 = digits.parse().unwrap_or(0);
            const LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";
            let letter = char::from(LETTERS[(number % 23) as usize]);
            match out.rfind(|c: char| c.is_ascii_uppercase()) {
                Some(pos) => {
                    out.replace_range(pos..pos + 1, &letter.to_string());
                    out
                }
                None => {
                    out.push(letter);
                    out
                }
            }
        }
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0x00..=0x7F => 1,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}

/// First letter of a family name, transliterated to ASCII and upper-cased.
fn surname_initial(family: &str) -> char {
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
    use crate::data::catalog;
    use crate::rng::Domain;

    #[test]
    fn birth_date_gives_exact_age() {
        let mut rng = Rng::stream(1, Domain::Patient, 0);
        let on = CivilDate::from_ymd(2025, 6, 1);
        for age in 18..60 {
            for _ in 0..20 {
                let b = birth_date(&mut rng, on, age);
                assert_eq!(b.years_until(on), age);
            }
        }
        let leap = CivilDate::from_ymd(2024, 2, 29);
        assert_eq!(birth_date(&mut rng, leap, 21).years_until(leap), 21);
    }

    #[test]
    fn luhn_matches_known_values() {
        assert_eq!(luhn_digit(&[7, 9, 9, 2, 7, 3, 9, 8, 7, 1]), 3);
        assert!(luhn_valid("79927398713"));
        assert!(!luhn_valid("79927398710"));
    }

    #[test]
    fn service_numbers_follow_each_nation() {
        let cat = catalog();
        let mut rng = Rng::stream(3, Domain::Patient, 0);
        let birth = CivilDate::from_ymd(1999, 4, 7);
        for nation in cat.nations.all() {
            for _ in 0..20 {
                let s = service_number(&mut rng, nation, birth, "Šimek", false);
                assert!(!s.is_empty() && !s.contains('{'), "{}: {s}", nation.code);
                assert!(s.chars().all(|c| !c.is_control()), "{}: {s}", nation.code);
                match nation.service_number_checksum {
                    Checksum::Luhn => assert!(luhn_valid(&s), "{}: {s}", nation.code),
                    Checksum::Dni => {
                        let digits: String = s.chars().filter(char::is_ascii_digit).collect();
                        let n: u64 = digits.parse().unwrap_or(0);
                        let letter = s.chars().rev().find(char::is_ascii_uppercase);
                        assert_eq!(letter, Some(char::from(b"TRWAGMYFPDXBNJZSQVHLCKE"[(n % 23) as usize])));
                    }
                    Checksum::None => {}
                }
            }
        }
        assert_eq!(surname_initial("Šimek"), 'S');
        assert_eq!(surname_initial("Иванов"), 'I');
        assert_eq!(surname_initial("Παπαδόπουλος"), 'P');
    }

    #[test]
    fn female_soldiers_get_female_surname_forms() {
        let cat = catalog();
        let pol = cat.nations.find("POL").unwrap_or(NationId(0));
        let mut rng = Rng::stream(4, Domain::Patient, 0);
        let mut checked = 0;
        for _ in 0..5000 {
            let d = draw(&mut rng, cat, pol, CivilDate::from_ymd(2025, 6, 1));
            if d.gender == Gender::Female && d.family_name.ends_with("ski") {
                panic!("female with male form: {}", d.family_name);
            }
            if d.gender == Gender::Female {
                checked += 1;
            }
            assert!((18..=58).contains(&d.age));
            assert!(!d.rank.is_empty());
        }
        assert!(checked > 100);
    }
}
