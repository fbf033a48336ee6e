//! Simulated detector outputs for tests and benchmarks.
//!
//! The model of the brief: `z_i = mu * (2 x_i - 1) + N(0, 1)` for one copy,
//! `mu * mean_j(2 x_ji - 1) + N(0, 1)` for copies averaged sample by sample, and pure
//! `N(0, 1)` where no mark is present. Noise is drawn from the keyed stream `noise`
//! of a caller-provided seed, so every run is reproducible.

use sha2::{Digest, Sha256};

use crate::code::Codeword;
use crate::prf::{DOMAIN, KeyedStream};

/// A reproducible source of standard normal noise.
#[derive(Clone)]
pub struct Noise {
    stream: KeyedStream,
    spare: Option<f64>,
}

impl Noise {
    /// Noise from `seed`.
    pub fn new(seed: &[u8; 32]) -> Self {
        Self {
            stream: KeyedStream::new(b"noise", seed),
            spare: None,
        }
    }

    /// One `N(0, 1)` draw (Box and Muller, Ann. Math. Statist. 29, 1958).
    pub fn standard_normal(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        let u1 = 1.0 - self.stream.next_unit(); // in (0, 1]
        let u2 = self.stream.next_unit();
        let r = (-2.0 * u1.ln()).sqrt();
        let (s, c) = (std::f64::consts::TAU * u2).sin_cos();
        self.spare = Some(r * s);
        r * c
    }

    /// `len` draws of `N(0, 1)`: the detector's output where nothing is marked.
    pub fn unmarked(&mut self, len: usize) -> Vec<f32> {
        (0..len).map(|_| self.standard_normal() as f32).collect()
    }
}

/// A named 32-byte seed for simulations: `SHA-256(domain || "sim-seed" || name || n)`.
pub fn seed(name: &str, n: u64) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update(b"\0sim-seed\0");
    h.update(name.as_bytes());
    h.update([0]);
    h.update(n.to_le_bytes());
    h.finalize().into()
}

/// Copies averaged sample by sample (one copy is a single leaker), observed with
/// symbol amplitude `mu`.
pub fn averaged(copies: &[&Codeword], mu: f64, noise: &mut Noise) -> Vec<f32> {
    let len = copies.first().map_or(0, |c| c.len());
    let n = copies.len().max(1) as f64;
    (0..len)
        .map(|i| {
            let sum: f64 = copies
                .iter()
                .map(|c| if c.symbol(i) == Some(true) { 1.0 } else { -1.0 })
                .sum();
            (mu * sum / n + noise.standard_normal()) as f32
        })
        .collect()
}

/// Copies interleaved in segments of `segment` slots (segment `k` from copy
/// `k mod copies`), observed with symbol amplitude `mu`.
pub fn interleaved(copies: &[&Codeword], segment: usize, mu: f64, noise: &mut Noise) -> Vec<f32> {
    let len = copies.first().map_or(0, |c| c.len());
    let segment = segment.max(1);
    (0..len)
        .map(|i| {
            let copy = copies[(i / segment) % copies.len()];
            let sign = if copy.symbol(i) == Some(true) {
                1.0
            } else {
                -1.0
            };
            (mu * sign + noise.standard_normal()) as f32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_is_standard_normal() {
        let mut n = Noise::new(&seed("t", 0));
        let x: Vec<f64> = (0..20_000).map(|_| n.standard_normal()).collect();
        let mean = x.iter().sum::<f64>() / 2e4;
        let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 2e4;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "{mean} {var}"
        );
    }

    #[test]
    fn interleaving_takes_each_segment_from_one_copy() {
        let a = Codeword::from_symbols(&[true; 6]).expect("short");
        let b = Codeword::from_symbols(&[false; 6]).expect("short");
        let mut n = Noise::new(&seed("t", 1));
        let y = interleaved(&[&a, &b], 2, 100.0, &mut n);
        let signs: Vec<bool> = y.iter().map(|&v| v > 0.0).collect();
        assert_eq!(signs, [true, true, false, false, true, true]);
    }
}
