//! A reproducible generator for trial choices (offsets, leakers, attacks).

use rand::RngExt;

/// Trial choices drawn from `tracemark_attacks::rng` (xoshiro256++ seeded through
/// SplitMix64, stream "tracemark-tracebench/trials"): enough for picking trial parameters,
/// not for anything secret.
pub struct Rng(tracemark_attacks::rng::Rng);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Self(tracemark_attacks::rng::stream(
            seed,
            "tracemark-tracebench/trials",
        ))
    }

    /// Uniform in `0..n`; 0 when `n` is 0.
    pub fn below(&mut self, n: usize) -> usize {
        self.0.random_range(0..n.max(1))
    }

    /// Uniform in `[lo, hi)` (53 random bits).
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.0.random::<f64>()
    }

    /// `k` distinct values of `0..n`.
    pub fn distinct(&mut self, k: usize, n: usize) -> Vec<usize> {
        let mut out = Vec::with_capacity(k);
        while out.len() < k.min(n) {
            let v = self.below(n);
            if !out.contains(&v) {
                out.push(v);
            }
        }
        out
    }
}
