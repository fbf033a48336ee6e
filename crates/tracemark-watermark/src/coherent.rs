//! Coherent host cancellation for informed detection: the clip's spectrum is projected on
//! the original's, cell by cell, after each frame's delay and phase have been matched.
//!
//! The log-magnitude comparison of `informed` saturates where additive noise reaches the
//! level of the host in a cell, and it weighs a cell by its class rather than by how loud
//! it is. The mark is a real gain on the original's spectrum, so with the original at hand
//! the matched filter for a cell is the projection `Re(conj(X) Y)` of the clip's spectrum
//! `Y` on the original's `X`: linear in the noise, whatever its level, and weighted by the
//! host's own power, as the mark is. Measured on 60 s of the call corpus (sync cells, one
//! seed): after white noise at 10 dB SNR, sync z 2.3 with the log-magnitude weights
//! against 13.4 with this projection; after Opus 12 kbit/s, whose coder keeps the
//! magnitudes better than the phases, 16.8 against 11.2. Detection uses both.
//!
//! The projection needs the clip's phase to match the original's to a small fraction of a
//! period at 3.4 kHz, which the envelope alignment (5 ms resolution) does not give. So each
//! frame's remaining delay is found from the cross-spectrum of the two frames (within
//! +-2 ms, to a fraction of a sample), together with a common phase (a polarity flip, an
//! all-pass filter). Neither depends on the mark: a real gain does not turn a phase.

use tracemark_dsp::Complex32;

use crate::layout::{BAND_BINS, BAND_LO};

/// Remaining delay searched either side, in samples at 8 kHz (2 ms: beyond the envelope
/// alignment's error, measured at most ~1 ms), on a grid of whole samples; the peak is
/// then refined half a sample either side and interpolated.
const SEARCH: i32 = 16;

/// Finds a frame's delay and phase relative to the original and projects the clip on it.
pub struct PhaseMatch {
    /// `e^{i 2 pi (BAND_LO + k) tau / n}` for every whole-sample delay `tau` (rows) and bin.
    rotations: Vec<Complex32>,
    frame_len: usize,
    cross: Vec<Complex32>,
}

impl PhaseMatch {
    /// For frames of `frame_len` samples.
    pub fn new(frame_len: usize) -> Self {
        let mut rotations = Vec::with_capacity((2 * SEARCH as usize + 1) * BAND_BINS);
        for tau in -SEARCH..=SEARCH {
            rotations.extend(Rotations::new(tau as f32, frame_len).take(BAND_BINS));
        }
        Self {
            rotations,
            frame_len,
            cross: vec![Complex32::default(); BAND_BINS],
        }
    }

    /// Writes `Re(conj(x_k) y_k e^{i(2 pi (BAND_LO + k) tau / n - phi)})` into `out`, for the
    /// delay `tau` and phase `phi` that best match `y` to `x` (band bins only).
    pub fn project(&mut self, x: &[Complex32], y: &[Complex32], out: &mut [f32]) {
        for ((c, a), b) in self.cross.iter_mut().zip(x).zip(y) {
            *c = a.conj() * b;
        }
        let (best, _) = self
            .rotations
            .chunks_exact(BAND_BINS)
            .enumerate()
            .map(|(j, row)| {
                let sum: Complex32 = row.iter().zip(&self.cross).map(|(r, c)| r * c).sum();
                (j, sum.norm_sqr())
            })
            .fold((0, f32::NEG_INFINITY), |a, b| if b.1 > a.1 { b } else { a });
        let whole = (best as i32 - SEARCH) as f32;
        // Half a sample either side, then a parabola through the three magnitudes.
        let at = |tau: f32| -> Complex32 {
            Rotations::new(tau, self.frame_len)
                .zip(&self.cross)
                .map(|(r, c)| r * c)
                .sum()
        };
        let (left, centre, right) = (at(whole - 0.5), at(whole), at(whole + 0.5));
        let (a, b, c) = (left.norm(), centre.norm(), right.norm());
        let den = a - 2.0 * b + c;
        let tau = if den < 0.0 {
            whole + 0.5 * (0.5 * (a - c) / den).clamp(-1.0, 1.0)
        } else {
            whole
        };
        let total = at(tau);
        let unphase = if total.norm() > 0.0 {
            total.conj() / total.norm()
        } else {
            Complex32::new(1.0, 0.0)
        };
        for ((o, c), r) in out
            .iter_mut()
            .zip(&self.cross)
            .zip(Rotations::new(tau, self.frame_len))
        {
            *o = (c * r * unphase).re;
        }
    }
}

/// `e^{i 2 pi (BAND_LO + k) tau / n}` for k = 0, 1, ..., by repeated multiplication (two
/// transcendental calls per frame instead of two per bin; the rounding error after the
/// band's 125 steps stays near 1e-5).
struct Rotations {
    next: Complex32,
    step: Complex32,
}

impl Rotations {
    fn new(tau: f32, frame_len: usize) -> Self {
        let unit = 2.0 * std::f64::consts::PI * f64::from(tau) / frame_len as f64;
        let polar = |angle: f64| Complex32::new(angle.cos() as f32, angle.sin() as f32);
        Self {
            next: polar(unit * BAND_LO as f64),
            step: polar(unit),
        }
    }
}

impl Iterator for Rotations {
    type Item = Complex32;

    fn next(&mut self) -> Option<Complex32> {
        let out = self.next;
        self.next *= self.step;
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracemark_dsp::Stft;

    fn tone_mix(len: usize, shift: f32) -> Vec<f32> {
        (0..len)
            .map(|i| {
                let t = i as f32 - shift;
                [440.0f32, 1210.0, 2330.0, 3100.0]
                    .iter()
                    .enumerate()
                    .map(|(j, f)| (2.0 * std::f32::consts::PI * f * t / 8_000.0 + j as f32).sin())
                    .sum()
            })
            .collect()
    }

    #[test]
    fn a_delayed_inverted_copy_projects_as_the_original_power() {
        let stft = Stft::new(320);
        let mut scratch = stft.scratch();
        let x_sig = tone_mix(2_000, 0.0);
        let x: Vec<Complex32> =
            stft.analyze(&x_sig, 800, &mut scratch)[BAND_LO..BAND_LO + BAND_BINS].to_vec();
        let mut matcher = PhaseMatch::new(320);
        let mut out = vec![0.0f32; BAND_BINS];
        for shift in [0.0f32, 0.37, -3.6, 11.25] {
            // Delayed by `shift` samples and inverted.
            let y_sig: Vec<f32> = tone_mix(2_000, shift).iter().map(|v| -v).collect();
            let y: Vec<Complex32> =
                stft.analyze(&y_sig, 800, &mut scratch)[BAND_LO..BAND_LO + BAND_BINS].to_vec();
            matcher.project(&x, &y, &mut out);
            let power: f32 = x.iter().map(|c| c.norm_sqr()).sum();
            let projected: f32 = out.iter().sum();
            assert!(
                (projected / power - 1.0).abs() < 0.05,
                "shift {shift}: {projected} of {power}"
            );
        }
    }

    #[test]
    fn silence_projects_to_zero() {
        let mut matcher = PhaseMatch::new(320);
        let zero = vec![Complex32::default(); BAND_BINS];
        let mut out = vec![1.0f32; BAND_BINS];
        matcher.project(&zero, &zero, &mut out);
        assert!(out.iter().all(|&v| v == 0.0));
    }
}
