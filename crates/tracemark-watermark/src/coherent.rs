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
/// alignment's error, measured at most ~1 ms).
const SEARCH: f32 = 16.0;
/// Step of the delay search, in samples; the peak is then interpolated.
const STEP: f32 = 0.5;

/// Finds a frame's delay and phase relative to the original and projects the clip on it.
pub struct PhaseMatch {
    /// `e^{i 2 pi (BAND_LO + k) tau / n}` for every searched delay `tau` (rows) and bin.
    rotations: Vec<Complex32>,
    taus: Vec<f32>,
    frame_len: usize,
    cross: Vec<Complex32>,
}

impl PhaseMatch {
    /// For frames of `frame_len` samples.
    pub fn new(frame_len: usize) -> Self {
        let steps = (SEARCH / STEP) as i32;
        let taus: Vec<f32> = (-steps..=steps).map(|i| i as f32 * STEP).collect();
        let rotations = taus
            .iter()
            .flat_map(|&tau| {
                (0..BAND_BINS).map(move |k| rotation((BAND_LO + k) as f32, tau, frame_len))
            })
            .collect();
        Self {
            rotations,
            taus,
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
        let score = |row: usize| -> Complex32 {
            self.rotations[row * BAND_BINS..(row + 1) * BAND_BINS]
                .iter()
                .zip(&self.cross)
                .map(|(r, c)| r * c)
                .sum()
        };
        let magnitudes: Vec<f32> = (0..self.taus.len()).map(|j| score(j).norm()).collect();
        let best = magnitudes
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map_or(0, |(j, _)| j);
        // Parabolic interpolation of the magnitude peak.
        let mut tau = self.taus[best];
        if best > 0 && best + 1 < magnitudes.len() {
            let (a, b, c) = (magnitudes[best - 1], magnitudes[best], magnitudes[best + 1]);
            let den = a - 2.0 * b + c;
            if den < 0.0 {
                tau += STEP * (0.5 * (a - c) / den).clamp(-0.5, 0.5);
            }
        }
        let total: Complex32 = self
            .cross
            .iter()
            .enumerate()
            .map(|(k, c)| c * rotation((BAND_LO + k) as f32, tau, self.frame_len))
            .sum();
        let unphase = if total.norm() > 0.0 {
            total.conj() / total.norm()
        } else {
            Complex32::new(1.0, 0.0)
        };
        for (k, (o, c)) in out.iter_mut().zip(&self.cross).enumerate() {
            *o = (c * rotation((BAND_LO + k) as f32, tau, self.frame_len) * unphase).re;
        }
    }
}

fn rotation(bin: f32, tau: f32, frame_len: usize) -> Complex32 {
    Complex32::from_polar(
        1.0,
        2.0 * std::f32::consts::PI * bin * tau / frame_len as f32,
    )
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
