//! Hour-of-day weights for each warfare pattern. Random patterns (surges,
//! sporadic attacks, strikes, releases) draw their hours from the plan stream.

use crate::data::warfare::Pattern;
use crate::rng::Rng;

const NIGHT: [u32; 8] = [0, 1, 2, 3, 4, 5, 22, 23];

/// Weights for the 24 hours of one day of one warfare type.
pub fn hourly_weights(pattern: &Pattern, baseline: &[f64; 24], rng: &mut Rng) -> [f64; 24] {
    let mut w = [0.0; 24];
    match pattern {
        Pattern::SustainedCombat { peak_hours, peak_intensity, base_intensity, night_reduction } => {
            for (h, slot) in w.iter_mut().enumerate() {
                let h32 = h as u32;
                *slot = if peak_hours.contains(&h32) {
                    peak_intensity * baseline[h]
                } else if NIGHT.contains(&h32) {
                    let deep = if h == 0 { 0.5 } else { 0.7 };
                    base_intensity * night_reduction * baseline[h] * deep
                } else {
                    base_intensity * baseline[h]
                };
            }
        }
        Pattern::Surge {
            surges_per_day,
            surge_duration_hours,
            surge_intensity,
            between_surge_intensity,
            preferred_hours,
        } => {
            let mut candidates = preferred_hours.clone();
            let mut surge_hours = Vec::new();
            for _ in 0..*surges_per_day {
                if candidates.is_empty() {
                    break;
                }
                let start = candidates[rng.index(candidates.len())];
                candidates.retain(|h| (i64::from(*h) - i64::from(start)).abs() > 2);
                for k in 0..(*surge_duration_hours).max(1) {
                    surge_hours.push((start + k) % 24);
                }
            }
            for (h, slot) in w.iter_mut().enumerate() {
                *slot = if surge_hours.contains(&(h as u32)) {
                    surge_intensity * rng.uniform(0.8, 1.2)
                } else {
                    between_surge_intensity * rng.uniform(0.5, 1.5)
                };
            }
        }
        Pattern::PhasedAssault { assault_phases, baseline_intensity } => {
            for (h, slot) in w.iter_mut().enumerate() {
                let h32 = h as u32;
                let intensity = assault_phases
                    .iter()
                    .find(|p| (p.start_hour..p.start_hour + p.duration).contains(&h32))
                    .map_or(*baseline_intensity, |p| p.intensity);
                *slot = intensity * baseline[h];
            }
        }
        Pattern::Sporadic { events_per_day_range, dawn_dusk_preference, night_activity_level } => {
            let mut pick = [0.0; 24];
            for (h, slot) in pick.iter_mut().enumerate() {
                let factor = match h {
                    5..=7 | 17..=19 => *dawn_dusk_preference,
                    0..=4 | 20..=23 => *night_activity_level,
                    _ => 1.0,
                };
                *slot = baseline[h] * factor;
            }
            let k = rng.int_in(events_per_day_range[0], events_per_day_range[1].max(events_per_day_range[0]));
            for _ in 0..k {
                w[rng.weighted(&pick)] += 1.0;
            }
        }
        Pattern::PrecisionStrike { strikes_per_day_range, time_randomization } => {
            let k =
                rng.int_in(strikes_per_day_range[0], strikes_per_day_range[1].max(strikes_per_day_range[0]));
            for _ in 0..k {
                let h = if rng.chance(*time_randomization) { rng.int_in(0, 23) } else { rng.int_in(6, 17) };
                w[h as usize] += 1.0;
            }
        }
        Pattern::WaveAssault { wave_times, wave_intensity, between_wave_intensity } => {
            for (h, slot) in w.iter_mut().enumerate() {
                *slot =
                    if wave_times.contains(&(h as u32)) { *wave_intensity } else { *between_wave_intensity };
            }
        }
        Pattern::ContaminationSpread { release_hours, immediate_share, delayed } => {
            let release =
                if release_hours.is_empty() { 6 } else { release_hours[rng.index(release_hours.len())] };
            for k in 0..3 {
                let h = ((release + k) as usize).min(23);
                w[h] += immediate_share / 3.0;
            }
            for (after, share) in delayed {
                w[((release + after) as usize).min(23)] += share;
            }
        }
        Pattern::LowIntensity { incident_hours, incident_intensity, quiet_intensity } => {
            for (h, slot) in w.iter_mut().enumerate() {
                let f =
                    if incident_hours.contains(&(h as u32)) { *incident_intensity } else { *quiet_intensity };
                *slot = f * baseline[h];
            }
        }
        Pattern::SpecialEvent => w = *baseline,
    }
    if w.iter().all(|v| *v <= 0.0) {
        w = *baseline;
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::catalog;
    use crate::model::WarfareType;
    use crate::rng::Domain;

    #[test]
    fn every_pattern_gives_usable_weights() {
        let cat = catalog();
        let mut rng = Rng::stream(5, Domain::Plan, 0);
        for w in WarfareType::ALL {
            for _ in 0..50 {
                let weights =
                    hourly_weights(&cat.warfare.profile(*w).pattern, &cat.warfare.hourly_baseline, &mut rng);
                assert!(weights.iter().all(|v| v.is_finite() && *v >= 0.0), "{w}");
                assert!(weights.iter().sum::<f64>() > 0.0, "{w}");
            }
        }
    }

    #[test]
    fn conventional_matches_upstream_shape() {
        let cat = catalog();
        let mut rng = Rng::stream(5, Domain::Plan, 0);
        let w = hourly_weights(
            &cat.warfare.profile(WarfareType::Conventional).pattern,
            &cat.warfare.hourly_baseline,
            &mut rng,
        );
        let sum: f64 = w.iter().sum();
        // upstream's shares: 13.25 % at 07:00 and 0.08 % at 00:00
        assert!((w[7] / sum - 0.1325).abs() < 0.002, "{}", w[7] / sum);
        assert!((w[0] / sum - 0.0008).abs() < 0.0005);
    }

    #[test]
    fn naval_peaks_in_wave_hours_and_cbrn_after_release() {
        let cat = catalog();
        let mut rng = Rng::stream(6, Domain::Plan, 0);
        let w = hourly_weights(
            &cat.warfare.profile(WarfareType::Naval).pattern,
            &cat.warfare.hourly_baseline,
            &mut rng,
        );
        assert!(w[5] > 5.0 * w[2]);
        let c = hourly_weights(
            &cat.warfare.profile(WarfareType::Cbrn).pattern,
            &cat.warfare.hourly_baseline,
            &mut rng,
        );
        let first = c.iter().position(|v| *v > 0.0).unwrap_or(24);
        assert!((2..=11).contains(&first));
        assert!(c.iter().filter(|v| **v > 0.0).count() >= 4);
    }
}
