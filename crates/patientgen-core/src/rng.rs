//! Deterministic random streams.
//!
//! Every random decision is drawn from a ChaCha8 stream whose key is derived from the
//! scenario seed and a [`Domain`], and whose stream number is an index (patient id, day…).
//! Patient `i` therefore gets the same values whatever thread generates it.

use rand::{Rng as _, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What a random stream is used for; each domain has its own key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Domain {
    /// The casualty plan (days, hours, events, cohort draws).
    Plan = 1,
    /// Everything about one patient.
    Patient = 2,
    /// Identifiers that writers derive (e.g. FHIR resource UUIDs).
    Identifiers = 3,
}

/// A seeded random stream with the helpers the generator needs.
#[derive(Debug, Clone)]
pub struct Rng(ChaCha8Rng);

impl Rng {
    /// The stream `index` of `domain` under `seed`.
    pub fn stream(seed: u64, domain: Domain, index: u64) -> Self {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        key[8] = domain as u8;
        key[9..24].copy_from_slice(b"patientgen-v1\0\0");
        // Mix the seed so that seeds differing in one bit give unrelated keys.
        let mixed = splitmix64(seed ^ ((domain as u64) << 56));
        key[24..].copy_from_slice(&mixed.to_le_bytes());
        let mut rng = ChaCha8Rng::from_seed(key);
        rng.set_stream(index);
        Self(rng)
    }

    /// A uniform `u64`.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// A uniform float in `[0, 1)`.
    #[inline]
    pub fn unit(&mut self) -> f64 {
        // 53 random bits, the standard construction.
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform float in `[lo, hi)`.
    #[inline]
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// A uniform integer in `lo..=hi` (`lo <= hi`).
    #[inline]
    pub fn int_in(&mut self, lo: u32, hi: u32) -> u32 {
        debug_assert!(lo <= hi);
        let span = u64::from(hi - lo) + 1;
        // Lemire's multiply-shift; the bias is below 2^-32 for spans this small.
        lo + ((u64::from(self.0.next_u32()) * span) >> 32) as u32
    }

    /// A uniform index below `len` (`len > 0`).
    #[inline]
    pub fn index(&mut self, len: usize) -> usize {
        debug_assert!(len > 0);
        ((u64::from(self.0.next_u32()) * len as u64) >> 32) as usize
    }

    /// `true` with probability `p` (clamped to `[0, 1]`).
    #[inline]
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// A normally distributed value (Box–Muller, one value per call).
    pub fn normal(&mut self, mean: f64, sd: f64) -> f64 {
        let u1 = 1.0 - self.unit(); // (0, 1]
        let u2 = self.unit();
        mean + sd * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// An index drawn with probability proportional to `weights`.
    /// Falls back to a uniform choice when every weight is zero.
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        if total <= 0.0 {
            return self.index(weights.len());
        }
        let mut target = self.unit() * total;
        for (i, w) in weights.iter().enumerate() {
            if target < *w {
                return i;
            }
            target -= w;
        }
        // Rounding left us past the end: return the last positive weight.
        weights.iter().rposition(|w| *w > 0.0).unwrap_or(0)
    }

    /// A reference to a uniformly chosen element of a non-empty slice.
    #[inline]
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.index(items.len())]
    }
}

/// SplitMix64 finaliser: a bijective 64-bit mixer.
pub fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A pre-computed cumulative table for repeated weighted draws.
#[derive(Debug, Clone, Default)]
pub struct WeightedTable {
    cumulative: Vec<f64>,
}

impl WeightedTable {
    /// Builds the table; zero and negative weights are never drawn.
    pub fn new(weights: impl IntoIterator<Item = f64>) -> Self {
        let mut acc = 0.0;
        let cumulative = weights
            .into_iter()
            .map(|w| {
                acc += w.max(0.0);
                acc
            })
            .collect();
        Self { cumulative }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.cumulative.len()
    }

    /// Whether the table has no entries.
    pub fn is_empty(&self) -> bool {
        self.cumulative.is_empty()
    }

    /// Draws an index (uniform if every weight was zero).
    #[inline]
    pub fn sample(&self, rng: &mut Rng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        if total <= 0.0 {
            return rng.index(self.cumulative.len().max(1));
        }
        let target = rng.unit() * total;
        let i = self.cumulative.partition_point(|c| *c <= target);
        i.min(self.cumulative.len() - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let a: Vec<u64> = (0..8).map(|_| Rng::stream(7, Domain::Patient, 3).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        let b = Rng::stream(7, Domain::Patient, 4).next_u64();
        let c = Rng::stream(8, Domain::Patient, 3).next_u64();
        let d = Rng::stream(7, Domain::Plan, 3).next_u64();
        assert_ne!(a[0], b);
        assert_ne!(a[0], c);
        assert_ne!(a[0], d);
    }

    #[test]
    fn ranges_are_respected() {
        let mut rng = Rng::stream(1, Domain::Plan, 0);
        for _ in 0..10_000 {
            let v = rng.int_in(3, 8);
            assert!((3..=8).contains(&v));
            let u = rng.uniform(2.0, 5.0);
            assert!((2.0..5.0).contains(&u));
        }
    }

    #[test]
    fn weighted_draws_follow_weights() {
        let mut rng = Rng::stream(2, Domain::Plan, 0);
        let table = WeightedTable::new([1.0, 0.0, 3.0]);
        let mut counts = [0u32; 3];
        for _ in 0..40_000 {
            counts[table.sample(&mut rng)] += 1;
            counts[rng.weighted(&[1.0, 0.0, 3.0])] += 1;
        }
        assert_eq!(counts[1], 0);
        let share = f64::from(counts[2]) / 80_000.0;
        assert!((share - 0.75).abs() < 0.01, "share {share}");
    }
}
