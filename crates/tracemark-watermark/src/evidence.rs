//! Turning pair values into evidence: the presence test with its proven false-alarm bound,
//! payload decoding, and per-slot symbol estimates.
//!
//! A pair value is the difference of a cell's log magnitude between the two frames of a
//! pair (after cancelling the host with the original, in informed mode). Under the null
//! hypothesis (no mark of this key), the keyed signs are independent fair coin flips
//! whatever the audio is, so the sync correlation `T = sum s_i v_i` is a weighted
//! Rademacher sum and Hoeffding's inequality bounds its tail for any audio:
//! `P(T >= t) <= exp(-t^2 / (2 sum v_i^2))` (Hoeffding, JASA 58(301), 1963, Thm. 2).
//! The bound needs no model of the audio, which is what makes it defensible.

use crate::layout::{BAND_BINS, BLOCK_PAIRS, Layout, Role, SLOT_PAIRS};
use crate::payload::{LIST, Payload, PayloadCoder};

/// Pair values summed modulo the block: `BLOCK_PAIRS x BAND_BINS`, row `q` holding every
/// pair whose index within the clip is `q` modulo the block.
#[derive(Clone)]
pub struct Folded {
    values: Vec<f32>,
}

impl Folded {
    /// Folds `pairs` (row-major `n x BAND_BINS`).
    pub fn new(pairs: &[f32]) -> Self {
        let mut values = vec![0.0f32; BLOCK_PAIRS * BAND_BINS];
        for (p, row) in pairs.chunks_exact(BAND_BINS).enumerate() {
            let q = p % BLOCK_PAIRS;
            for (acc, v) in values[q * BAND_BINS..(q + 1) * BAND_BINS]
                .iter_mut()
                .zip(row)
            {
                *acc += v;
            }
        }
        Self { values }
    }

    /// The folded values, row-major `BLOCK_PAIRS x BAND_BINS`.
    pub(crate) fn values(&self) -> &[f32] {
        &self.values
    }

    /// Sync z-score when clip pair 0 sits at block position `phase`: `T / sqrt(sum v^2)`.
    pub fn sync_z(&self, layout: &Layout, phase: usize) -> f64 {
        let mut t = 0.0f64;
        let mut energy = 0.0f64;
        for q in 0..BLOCK_PAIRS {
            let row = &self.values[q * BAND_BINS..(q + 1) * BAND_BINS];
            for (k, &v) in row.iter().enumerate() {
                let cell = layout.cell(q + phase, k);
                if cell.role == Role::Sync {
                    t += f64::from(cell.sign * v);
                    energy += f64::from(v * v);
                }
            }
        }
        if energy > 0.0 { t / energy.sqrt() } else { 0.0 }
    }

    /// Decodes the payload at `phase`, first reading symbol cells as payload cells (a
    /// payload-only mark), then without them (a mark carrying a caller's codeword).
    pub fn decode(&self, layout: &Layout, coder: &PayloadCoder, phase: usize) -> Option<Payload> {
        let mut data = vec![0.0f32; coder.coded_len()];
        let mut symbol = vec![0.0f32; coder.coded_len()];
        for q in 0..BLOCK_PAIRS {
            let row = &self.values[q * BAND_BINS..(q + 1) * BAND_BINS];
            for (k, &v) in row.iter().enumerate() {
                let cell = layout.cell(q + phase, k);
                match cell.role {
                    Role::Data(b) => data[b as usize] += cell.sign * v,
                    Role::Symbol(b) => symbol[b as usize] += cell.sign * v,
                    Role::Sync => {}
                }
            }
        }
        let both: Vec<f32> = data.iter().zip(&symbol).map(|(a, b)| a + b).collect();
        coder.decode(&both).or_else(|| coder.decode(&data))
    }
}

/// Hoeffding's one-sided bound `exp(-z^2 / 2)` for a sync z-score (1 for z <= 0). Beyond
/// z = 37.6 the bound underflows a double; it is then reported as the smallest normal
/// double (about 2.2e-308), which is larger than the bound and so still a valid one: a
/// report should never say a false alarm is impossible.
pub fn hoeffding_p(z: f64) -> f64 {
    if z <= 0.0 {
        1.0
    } else {
        (-0.5 * z * z).exp().max(f64::MIN_POSITIVE)
    }
}

/// Readings of the soft values each call of [`Folded::decode`] checks against the CRC.
const READINGS_PER_DECODE: f64 = 2.0;
/// Probability that one checked candidate of a payload decoded from audio without this
/// key's mark passes the keyed CRC: the CRC's 24-bit mask is drawn from the key
/// independently of the layout, signs and weights the decoder uses, so whatever bits the
/// decoder returns, the check passes with probability exactly 2^-24. Each reading checks
/// up to [`LIST`] candidates.
const CRC_FALSE_PASS: f64 = LIST as f64 / 16_777_216.0;

/// The false-alarm probability of a detection that combines the presence test (`presence`,
/// already corrected for what was searched) with whether a payload passed its CRC in one
/// of `decodes` calls of [`Folded::decode`].
///
/// The test rejects "no mark of this key" when `presence <= a / 2`, or when the CRC passed
/// and `presence * q <= a / 2`, where `q` bounds the chance that any reading passes. Given
/// everything but the mask, a reading passes with probability 2^-24 whatever the presence
/// statistic is, so the second branch fires with probability at most `a / 2`, and the
/// whole test at most `a`. A payload that checks lowers the bound by `2 / q` (2^17 for two
/// decodes of 16 candidates on 2 readings each); without one the bound doubles.
pub fn combined_p(presence: f64, decodes: usize, crc_passed: bool) -> f64 {
    let p = if crc_passed {
        presence * CRC_FALSE_PASS * READINGS_PER_DECODE * decodes as f64
    } else {
        presence
    };
    (2.0 * p).min(1.0)
}

/// The soft estimate of one codeword symbol.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SymbolSoft {
    /// Slot index from the start of the original.
    pub slot: usize,
    /// Normalised correlation `sum s_i v_i / sqrt(sum v_i^2)`: positive for a 1, negative
    /// for a 0; about N(0, 1) where no symbol is present.
    pub z: f32,
    /// Number of cells that contributed (0: the slot was not observed).
    pub cells: u32,
}

/// Per-slot estimates from pair values whose first row is absolute pair `first_pair`.
pub fn symbol_estimates(
    layout: &Layout,
    pairs: &[f32],
    first_pair: usize,
    slots: usize,
) -> Vec<SymbolSoft> {
    let mut acc = vec![(0.0f64, 0.0f64, 0u32); slots];
    for (i, row) in pairs.chunks_exact(BAND_BINS).enumerate() {
        let p = first_pair + i;
        let slot = p / SLOT_PAIRS;
        if slot >= slots {
            break;
        }
        for (k, &v) in row.iter().enumerate() {
            let cell = layout.cell(p, k);
            if matches!(cell.role, Role::Symbol(_)) && v != 0.0 {
                let a = &mut acc[slot];
                a.0 += f64::from(cell.sign * v);
                a.1 += f64::from(v * v);
                a.2 += 1;
            }
        }
    }
    acc.iter()
        .enumerate()
        .map(|(slot, &(t, e, n))| SymbolSoft {
            slot,
            z: if e > 0.0 { (t / e.sqrt()) as f32 } else { 0.0 },
            cells: n,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checked_payload_tightens_the_bound_and_its_absence_doubles_it() {
        assert_eq!(combined_p(1e-3, 1, false), 2e-3);
        // One decode: 2 readings x 16 candidates x 2^-24, doubled: 2^-18.
        assert!((combined_p(1e-3, 1, true) - 1e-3 / 262_144.0).abs() < 1e-20);
        assert!((combined_p(1e-3, 2, true) - 1e-3 / 131_072.0).abs() < 1e-20);
        assert_eq!(combined_p(0.7, 1, false), 1.0);
    }

    #[test]
    fn hoeffding_bound_never_reports_zero() {
        assert_eq!(hoeffding_p(-1.0), 1.0);
        assert!((hoeffding_p(2.0) - (-2.0f64).exp()).abs() < 1e-15);
        let huge = hoeffding_p(100.0);
        assert!(huge > 0.0 && huge <= 1e-300);
    }
}
