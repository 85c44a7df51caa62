//! Exact integer allocation: largest remainder and draws without replacement.
//!
//! Requested shares are met exactly: a total is split with the largest-remainder
//! method, and individual patients or events then draw from an [`Urn`] holding
//! exactly those counts, so the counts come out right whatever the draw order.

use crate::rng::Rng;

/// Splits `total` into integers proportional to `weights` (largest remainder, also
/// called Hamilton's method). Ties go to the lower index; zero weights get zero.
/// Every weight must be finite and non-negative; if all are zero, `total` is spread
/// evenly.
pub fn largest_remainder(total: u64, weights: &[f64]) -> Vec<u64> {
    if weights.is_empty() {
        return Vec::new();
    }
    let sum: f64 = weights.iter().map(|w| w.max(0.0)).sum();
    let weights: Vec<f64> = if sum > 0.0 {
        weights.iter().map(|w| w.max(0.0) / sum).collect()
    } else {
        vec![1.0 / weights.len() as f64; weights.len()]
    };
    let mut counts = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    let mut assigned = 0u64;
    for (i, w) in weights.iter().enumerate() {
        let exact = total as f64 * w;
        let floor = exact.floor();
        counts.push(floor as u64);
        assigned += floor as u64;
        remainders.push((exact - floor, i));
    }
    // Float error can make the floors overshoot by one in pathological cases.
    while assigned > total {
        if let Some(i) = (0..counts.len()).rev().find(|i| counts[*i] > 0) {
            counts[i] -= 1;
            assigned -= 1;
        }
    }
    remainders.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut left = total - assigned;
    for (_, i) in remainders.iter().cycle() {
        if left == 0 {
            break;
        }
        if weights[*i] > 0.0 {
            counts[*i] += 1;
            left -= 1;
        }
    }
    counts
}

/// An urn of labelled balls drawn without replacement: every label comes out
/// exactly as many times as it was put in.
#[derive(Debug, Clone)]
pub struct Urn {
    remaining: Vec<u64>,
    total: u64,
}

impl Urn {
    /// An urn holding `counts[i]` balls of label `i`.
    pub fn new(counts: Vec<u64>) -> Self {
        let total = counts.iter().sum();
        Self { remaining: counts, total }
    }

    /// Balls left in the urn.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Balls of one label left.
    pub fn remaining(&self, label: usize) -> u64 {
        self.remaining[label]
    }

    /// Draws one ball. `bias` (one factor per label) tilts the draw towards some
    /// labels while the urn still holds them; the counts stay exact.
    /// Returns `None` when the urn is empty.
    pub fn draw(&mut self, rng: &mut Rng, bias: Option<&[f64]>) -> Option<usize> {
        self.draw_up_to(rng, bias, 1).map(|(label, _)| label)
    }

    /// Draws a label and takes up to `wanted` balls of it (fewer if that label runs
    /// out). Returns the label and how many were taken.
    pub fn draw_up_to(&mut self, rng: &mut Rng, bias: Option<&[f64]>, wanted: u64) -> Option<(usize, u64)> {
        if self.total == 0 || wanted == 0 {
            return None;
        }
        let weight = |i: usize, r: u64| -> f64 {
            let b = bias.and_then(|b| b.get(i)).copied().unwrap_or(1.0);
            r as f64 * b.max(0.0)
        };
        let biased_total: f64 = self.remaining.iter().enumerate().map(|(i, r)| weight(i, *r)).sum();
        let label = if biased_total > 0.0 {
            let mut target = rng.unit() * biased_total;
            let mut chosen = None;
            for (i, r) in self.remaining.iter().enumerate() {
                let w = weight(i, *r);
                if w > 0.0 {
                    chosen = Some(i);
                    if target < w {
                        break;
                    }
                    target -= w;
                }
            }
            chosen
        } else {
            // The bias excludes every label still in the urn: draw unbiased.
            let mut target = rng.unit() * self.total as f64;
            let mut chosen = None;
            for (i, r) in self.remaining.iter().enumerate() {
                if *r > 0 {
                    chosen = Some(i);
                    if target < *r as f64 {
                        break;
                    }
                    target -= *r as f64;
                }
            }
            chosen
        }?;
        let taken = wanted.min(self.remaining[label]);
        self.remaining[label] -= taken;
        self.total -= taken;
        Some((label, taken))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Domain;

    #[test]
    fn largest_remainder_is_exact_and_proportional() {
        assert_eq!(largest_remainder(10, &[0.6, 0.3, 0.1]), vec![6, 3, 1]);
        assert_eq!(largest_remainder(7, &[1.0, 1.0, 1.0]), vec![3, 2, 2]);
        assert_eq!(largest_remainder(5, &[0.0, 1.0]), vec![0, 5]);
        assert_eq!(largest_remainder(3, &[0.0, 0.0, 0.0]), vec![1, 1, 1]);
        for total in [0u64, 1, 2, 99, 1000, 123_457] {
            let w = [0.45, 0.35, 0.2, 0.0, 1e-9];
            let c = largest_remainder(total, &w);
            assert_eq!(c.iter().sum::<u64>(), total);
            assert_eq!(c[3], 0);
            for (ci, wi) in c.iter().zip(w) {
                assert!((*ci as f64 - total as f64 * wi).abs() < 1.0 + 1e-6);
            }
        }
    }

    #[test]
    fn urn_gives_exact_counts_even_with_bias() {
        let mut rng = Rng::stream(9, Domain::Plan, 0);
        let mut urn = Urn::new(vec![50, 30, 20]);
        let mut seen = [0u64; 3];
        let bias = [0.0, 5.0, 1.0];
        while let Some(label) = urn.draw(&mut rng, Some(&bias)) {
            seen[label] += 1;
        }
        assert_eq!(seen, [50, 30, 20]);
        assert_eq!(urn.total(), 0);
    }

    #[test]
    fn urn_takes_groups() {
        let mut rng = Rng::stream(9, Domain::Plan, 1);
        let mut urn = Urn::new(vec![3, 4]);
        let mut seen = [0u64; 2];
        while let Some((label, n)) = urn.draw_up_to(&mut rng, None, 3) {
            assert!(n <= 3);
            seen[label] += n;
        }
        assert_eq!(seen, [3, 4]);
    }
}
