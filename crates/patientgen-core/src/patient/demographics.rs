//! Demographics: name, sex, rank, age, date of birth, service number, unit,
//! religion, blood group, height and weight, drawn from the nation's tables.

use super::record::Demographics;
use super::service_number::birth_date_in_class;
use crate::data::{Catalog, Nation};
use crate::model::Gender;
use crate::rng::Rng;
use crate::time::{CivilDate, days_from_civil};
use crate::timeline::PatientSlot;

/// Draws the demographics of the soldier of a plan slot in a dataset with `seed`.
pub fn draw<'a>(rng: &mut Rng, catalog: &'a Catalog, seed: u64, slot: &PatientSlot) -> Demographics<'a> {
    let nation_id = slot.nation;
    let injury_date = slot.injury_time.date();
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
    // The service number's place in the nation's space; a format that shows the
    // date of birth also fixes the birth day's residue (see `service_number`).
    let format = &nation.service_format;
    let number_slot = format.slot(seed, nation_id.0, u64::from(slot.nation_ordinal));
    let birthdate = match number_slot.date_class {
        Some(class) => {
            let (earliest, latest) = birth_window(injury_date, age);
            birth_date_in_class(earliest, latest, class)
        }
        None => birth_date(rng, injury_date, age),
    };

    let religion = nation.religions[nation.religion_table.sample(rng)].as_deref();
    let (blood_type, rh_positive) = nation.blood_groups[nation.blood_table.sample(rng)];
    let (height, weight) = body(rng, catalog, nation, female);

    let service_number = format.render(number_slot, birthdate, family_name, female);
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

/// Height (whole cm) and weight (kg, one decimal) of a soldier.
///
/// Height is normal with the nation's mean and SD; the body-mass index is
/// log-normal, independent of height, fitted to the nation's weight mean and
/// SD (see `Nation::bmi`), and weight is BMI × height². Both are redrawn until
/// they fall inside the demography's limits (height, weight, BMI 17–40) rather
/// than clamped, so the limits do not pile patients up at the edges.
pub fn body(rng: &mut Rng, catalog: &Catalog, nation: &Nation, female: bool) -> (u32, f64) {
    let demography = &catalog.demography;
    let sex = usize::from(female);
    let (h_mean, h_sd) = nation.height[sex];
    let (mu, sigma) = nation.bmi[sex];
    let [hlo, hhi] = demography.height_limits;
    let [wlo, whi] = demography.weight_limits;
    let [blo, bhi] = demography.bmi_limits;
    let mut height = h_mean.round().clamp(hlo, hhi);
    for _ in 0..32 {
        let h = (h_mean + h_sd * rng.normal(0.0, 1.0)).round();
        if (hlo..=hhi).contains(&h) {
            height = h;
            break;
        }
    }
    let m2 = (height / 100.0) * (height / 100.0);
    // Whatever the draws, the recorded (rounded) weight keeps BMI and weight in range.
    let lo = ((blo * m2).max(wlo) * 10.0).ceil() / 10.0;
    let hi = ((bhi * m2).min(whi) * 10.0).floor() / 10.0;
    let mut weight = (mu.exp() * m2 * 10.0).round() / 10.0;
    for _ in 0..32 {
        let w = ((mu + sigma * rng.normal(0.0, 1.0)).exp() * m2 * 10.0).round() / 10.0;
        if (lo..=hi).contains(&w) {
            weight = w;
            break;
        }
    }
    (height as u32, weight.clamp(lo, hi.max(lo)))
}

/// A birth date such that the person is exactly `age` on `on`.
fn birth_date(rng: &mut Rng, on: CivilDate, age: u32) -> CivilDate {
    let (earliest, latest) = birth_window(on, age);
    let span = (latest - earliest).max(0) as u32;
    CivilDate(earliest + i64::from(rng.int_in(0, span)))
}

/// First and last day (day numbers) of birth of a person exactly `age` on `on`:
/// 365 or 366 days.
fn birth_window(on: CivilDate, age: u32) -> (i64, i64) {
    let (y, m, d) = on.ymd();
    let anniversary = |years: i64| {
        // 29 February falls back to 28 February in common years.
        let year = y - years;
        let day = if m == 2 && d == 29 && !is_leap(year) { 28 } else { d };
        days_from_civil(year, m, day)
    };
    (anniversary(i64::from(age) + 1) + 1, anniversary(i64::from(age)))
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::nations::Checksum;
    use crate::data::{NationId, catalog};
    use crate::model::{InjuryType, WarfareType};
    use crate::patient::service_number::{DNI_LETTERS, luhn_valid};
    use crate::rng::Domain;
    use crate::timeline::EventKind;
    use std::collections::HashSet;

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

    /// A plan slot for the `ordinal`-th soldier of `nation`, injured on `date`.
    pub(crate) fn slot(nation: NationId, ordinal: u32, date: CivilDate) -> PatientSlot {
        PatientSlot {
            index: ordinal,
            day: 1,
            injury_time: date.midnight().plus(i64::from(ordinal % 86_400)),
            warfare: WarfareType::Conventional,
            kind: EventKind::Background,
            event_second: 0,
            event_tag: 0,
            injury_type: InjuryType::Disease,
            front: 0,
            nation,
            nation_ordinal: ordinal,
        }
    }

    #[test]
    fn service_numbers_follow_each_nation_and_never_repeat() {
        let cat = catalog();
        for (i, nation) in cat.nations.all().iter().enumerate() {
            let id = NationId(i as u16);
            let mut seen = HashSet::new();
            for k in 0..20_000u32 {
                // Injury days vary, so ages and birth windows vary too.
                let date = CivilDate::from_ymd(2025, 1, 1 + k % 28);
                let mut rng = Rng::stream(3, Domain::Patient, u64::from(k));
                let d = draw(&mut rng, cat, 3, &slot(id, k, date));
                let s = &d.service_number;
                assert!(!s.is_empty() && !s.contains('{'), "{}: {s}", nation.code);
                assert!(s.chars().all(|c| !c.is_control()), "{}: {s}", nation.code);
                assert_eq!(d.birthdate.years_until(date), d.age, "{}", nation.code);
                match nation.service_number_checksum {
                    Checksum::Luhn => assert!(luhn_valid(s), "{}: {s}", nation.code),
                    Checksum::Dni => {
                        let digits: String = s.chars().filter(char::is_ascii_digit).collect();
                        let n: u64 = digits.parse().unwrap_or(0);
                        let letter = s.chars().rev().find(char::is_ascii_uppercase);
                        assert_eq!(letter, Some(char::from(DNI_LETTERS[(n % 23) as usize])));
                    }
                    Checksum::None => {}
                }
                if nation.service_format.is_dated() {
                    let (y, m, dd) = d.birthdate.ymd();
                    let (yy, mm, ddd) = (format!("{:02}", y % 100), format!("{m:02}"), format!("{dd:02}"));
                    assert!(s.contains(&yy) && s.contains(&mm) && s.contains(&ddd), "{}: {s}", nation.code);
                }
                assert!(seen.insert(s.clone()), "{}: {s} repeats at ordinal {k}", nation.code);
            }
        }
    }

    #[test]
    fn every_nation_holds_a_million_service_numbers_but_sweden() {
        for nation in catalog().nations.all() {
            let capacity = nation.service_format.capacity();
            if nation.code == "SWE" {
                // The personnummer: 2 free digits, 5 sex digits, 365 birth days per age year.
                assert_eq!(capacity, 182_500);
            } else {
                assert!(capacity >= 1_000_000, "{}: {capacity}", nation.code);
            }
        }
    }

    #[test]
    fn bodies_follow_the_nation_figures_within_bmi_limits() {
        let cat = catalog();
        for (i, nation) in cat.nations.all().iter().enumerate() {
            for female in [false, true] {
                let mut rng = Rng::stream(5, Domain::Patient, i as u64 * 2 + u64::from(female));
                let n = 20_000.0;
                let (mut sh, mut sw, mut shh, mut sww, mut shw) = (0.0, 0.0, 0.0, 0.0, 0.0);
                for _ in 0..20_000 {
                    let (h, w) = body(&mut rng, cat, nation, female);
                    let h = f64::from(h);
                    let bmi = w / (h / 100.0 * h / 100.0);
                    assert!((17.0..=40.0).contains(&bmi), "{} {h} cm {w} kg: BMI {bmi}", nation.code);
                    assert!((42.0..=150.0).contains(&w) && (145.0..=210.0).contains(&h));
                    (sh, sw, shh, sww, shw) = (sh + h, sw + w, shh + h * h, sww + w * w, shw + h * w);
                }
                let (mh, mw) = (sh / n, sw / n);
                let (vh, vw) = (shh / n - mh * mh, sww / n - mw * mw);
                let r = (shw / n - mh * mw) / (vh * vw).sqrt();
                let (want_h, _) = nation.height[usize::from(female)];
                let (want_w, want_sd) = nation.weight[usize::from(female)];
                let code = &nation.code;
                assert!((mh - want_h).abs() < 0.5, "{code} height {mh} vs {want_h}");
                // Truncation at BMI 40 trims the heaviest few: the mean may drop a little.
                assert!((mw - want_w).abs() < 1.5, "{code} weight {mw} vs {want_w}");
                assert!(
                    (vw.sqrt() - want_sd).abs() < 0.15 * want_sd,
                    "{code} weight SD {} vs {want_sd}",
                    vw.sqrt()
                );
                assert!((0.3..=0.65).contains(&r), "{code} female {female}: height-weight r = {r}");
            }
        }
    }

    #[test]
    fn female_soldiers_get_female_surname_forms() {
        let cat = catalog();
        let pol = cat.nations.find("POL").unwrap_or(NationId(0));
        let mut rng = Rng::stream(4, Domain::Patient, 0);
        let mut checked = 0;
        for k in 0..5000 {
            let d = draw(&mut rng, cat, 4, &slot(pol, k, CivilDate::from_ymd(2025, 6, 1)));
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
