//! The sync z-score at every block phase at once.
//!
//! Blind detection does not know where in the repeating block the clip starts, so it
//! scores the sync pattern at each of the block's [`BLOCK_PAIRS`] phases:
//! `z(p) = T(p) / sqrt(E(p))` with `T(p) = sum_q sum_k s_k[q + p] v_k[q]` and
//! `E(p) = sum_q sum_k m_k[q + p] v_k[q]^2`, where `s_k` is bin `k`'s keyed sync sign (0
//! off the sync cells), `m_k` its sync mask and `v_k` the folded pair values. Both are
//! circular cross-correlations along the block, so one DFT of each bin's column turns all
//! 200 phases into one product and one inverse DFT (the correlation theorem; Oppenheim &
//! Schafer, *Discrete-Time Signal Processing*, 3rd ed., sec. 8.6.7): about 250 transforms
//! of 200 points instead of 200 x 25,000 cell visits. The statistic is exactly
//! [`Folded::sync_z`]'s, so the false-alarm bound is unchanged.

use std::sync::Arc;

use realfft::num_complex::Complex64;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

use crate::evidence::Folded;
use crate::layout::{BAND_BINS, BLOCK_PAIRS, Layout, Role};

/// Spectrum length of a real DFT over the block.
const SPECTRUM: usize = BLOCK_PAIRS / 2 + 1;

/// A key's sync pattern, transformed once, for scoring folded values at every phase.
pub(crate) struct SyncSearch {
    forward: Arc<dyn RealToComplex<f64>>,
    inverse: Arc<dyn ComplexToReal<f64>>,
    /// Per marked bin, the DFT over the block of its sync signs: `BAND_BINS x SPECTRUM`.
    signs: Vec<Complex64>,
    /// Per marked bin, the DFT of its sync mask.
    mask: Vec<Complex64>,
}

impl SyncSearch {
    pub(crate) fn new(layout: &Layout) -> Self {
        let mut planner = RealFftPlanner::<f64>::new();
        let forward = planner.plan_fft_forward(BLOCK_PAIRS);
        let inverse = planner.plan_fft_inverse(BLOCK_PAIRS);
        let mut signs = Vec::with_capacity(BAND_BINS * SPECTRUM);
        let mut mask = Vec::with_capacity(BAND_BINS * SPECTRUM);
        let mut column = vec![0.0f64; BLOCK_PAIRS];
        let mut spectrum = forward.make_output_vec();
        for k in 0..BAND_BINS {
            for (want_sign, out) in [(true, &mut signs), (false, &mut mask)] {
                for (q, c) in column.iter_mut().enumerate() {
                    let cell = layout.cell(q, k);
                    *c = match (cell.role, want_sign) {
                        (Role::Sync, true) => f64::from(cell.sign),
                        (Role::Sync, false) => 1.0,
                        _ => 0.0,
                    };
                }
                // The buffers come from this plan, so the lengths always match.
                let _ = forward.process(&mut column, &mut spectrum);
                out.extend_from_slice(&spectrum);
            }
        }
        Self {
            forward,
            inverse,
            signs,
            mask,
        }
    }

    /// `z(p)` for every phase `p` in `0..BLOCK_PAIRS` (0 where no sync cell has energy).
    pub(crate) fn z_all(&self, folded: &Folded) -> Vec<f64> {
        let values = folded.values();
        let mut acc_t = vec![Complex64::default(); SPECTRUM];
        let mut acc_e = vec![Complex64::default(); SPECTRUM];
        let mut column = vec![0.0f64; BLOCK_PAIRS];
        let mut squares = vec![0.0f64; BLOCK_PAIRS];
        let mut spec_v = self.forward.make_output_vec();
        let mut spec_w = self.forward.make_output_vec();
        for k in 0..BAND_BINS {
            for q in 0..BLOCK_PAIRS {
                let v = f64::from(values[q * BAND_BINS + k]);
                column[q] = v;
                squares[q] = v * v;
            }
            let _ = self.forward.process(&mut column, &mut spec_v);
            let _ = self.forward.process(&mut squares, &mut spec_w);
            let s = &self.signs[k * SPECTRUM..(k + 1) * SPECTRUM];
            let m = &self.mask[k * SPECTRUM..(k + 1) * SPECTRUM];
            for i in 0..SPECTRUM {
                acc_t[i] += s[i] * spec_v[i].conj();
                acc_e[i] += m[i] * spec_w[i].conj();
            }
        }
        let t = self.inverse_real(&mut acc_t);
        let e = self.inverse_real(&mut acc_e);
        t.iter()
            .zip(&e)
            .map(|(&t, &e)| {
                // E is a sum of squares; a tiny negative is rounding.
                if e > 1e-12 * (1.0 + t.abs()) {
                    t / e.sqrt()
                } else {
                    0.0
                }
            })
            .collect()
    }

    /// The best phase and its z.
    pub(crate) fn best(&self, folded: &Folded) -> (f64, usize) {
        self.z_all(folded)
            .into_iter()
            .enumerate()
            .map(|(p, z)| (z, p))
            .fold((f64::NEG_INFINITY, 0), |a, b| if b.0 > a.0 { b } else { a })
    }

    fn inverse_real(&self, spectrum: &mut [Complex64]) -> Vec<f64> {
        // The spectrum of a real correlation has real DC and Nyquist terms; clear their
        // rounding so the inverse transform accepts them.
        spectrum[0].im = 0.0;
        spectrum[SPECTRUM - 1].im = 0.0;
        let mut out = vec![0.0f64; BLOCK_PAIRS];
        let _ = self.inverse.process(spectrum, &mut out);
        let n = BLOCK_PAIRS as f64;
        for v in &mut out {
            *v /= n;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::WatermarkKey;

    #[test]
    fn every_phase_scores_exactly_what_the_direct_sum_scores() {
        let layout = Layout::new(&WatermarkKey::from_bytes([3; 32]), 300);
        let search = SyncSearch::new(&layout);
        let mut s = 7u32;
        let pairs: Vec<f32> = (0..BLOCK_PAIRS * BAND_BINS * 2 + 17 * BAND_BINS)
            .map(|_| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (s >> 8) as f32 / 16_777_216.0 - 0.5
            })
            .collect();
        let folded = Folded::new(&pairs);
        let all = search.z_all(&folded);
        assert_eq!(all.len(), BLOCK_PAIRS);
        for (p, &z) in all.iter().enumerate() {
            let direct = folded.sync_z(&layout, p);
            assert!(
                (z - direct).abs() < 1e-9 * (1.0 + direct.abs()),
                "{p}: {z} vs {direct}"
            );
        }
        let (z, p) = search.best(&folded);
        assert_eq!(z, all[p]);
    }

    #[test]
    fn silence_scores_zero_at_every_phase() {
        let layout = Layout::new(&WatermarkKey::from_bytes([3; 32]), 300);
        let folded = Folded::new(&vec![0.0; BLOCK_PAIRS * BAND_BINS]);
        assert!(
            SyncSearch::new(&layout)
                .z_all(&folded)
                .iter()
                .all(|&z| z == 0.0)
        );
    }
}
