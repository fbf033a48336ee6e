//! Short-time Fourier analysis and overlap-add synthesis with a square-root periodic
//! Hann window at 50 % overlap, which reconstructs perfectly (the squared window's
//! shifted copies sum to one; Allen & Rabiner, Proc. IEEE 65(11), 1977).

use std::sync::Arc;

use realfft::num_complex::Complex32;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

/// A planned STFT of a fixed, even frame length with hop = length / 2.
#[derive(Clone)]
pub struct Stft {
    len: usize,
    window: Vec<f32>,
    forward: Arc<dyn RealToComplex<f32>>,
    inverse: Arc<dyn ComplexToReal<f32>>,
}

impl std::fmt::Debug for Stft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stft").field("len", &self.len).finish()
    }
}

/// Reusable buffers for one thread's STFT work.
#[derive(Debug, Clone)]
pub struct StftScratch {
    time: Vec<f32>,
    spectrum: Vec<Complex32>,
    fft: Vec<Complex32>,
}

impl Stft {
    /// Plans an STFT of `len` samples per frame. `len` is rounded up to an even number
    /// (at least 4).
    pub fn new(len: usize) -> Self {
        let len = (len.max(4) + 1) & !1;
        let mut planner = RealFftPlanner::<f32>::new();
        let window = (0..len)
            .map(|i| (std::f32::consts::PI * i as f32 / len as f32).sin())
            .collect();
        Self {
            len,
            window,
            forward: planner.plan_fft_forward(len),
            inverse: planner.plan_fft_inverse(len),
        }
    }

    /// Frame length in samples.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: a frame holds at least four samples.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The analysis window (a periodic sine window, the square root of a periodic Hann).
    pub fn window(&self) -> &[f32] {
        &self.window
    }

    /// Hop between frames in samples (half the frame).
    pub fn hop(&self) -> usize {
        self.len / 2
    }

    /// Number of spectrum bins (`len / 2 + 1`).
    pub fn bins(&self) -> usize {
        self.len / 2 + 1
    }

    /// Fresh scratch buffers sized for this plan.
    pub fn scratch(&self) -> StftScratch {
        StftScratch {
            time: vec![0.0; self.len],
            spectrum: self.forward.make_output_vec(),
            fft: vec![
                Complex32::default();
                self.forward
                    .get_scratch_len()
                    .max(self.inverse.get_scratch_len())
            ],
        }
    }

    /// Analyses the windowed frame of `signal` that starts at sample `start` (which may lie
    /// before 0 or run past the end: missing samples count as zero) and returns its
    /// spectrum, valid until the next call with the same scratch.
    pub fn analyze<'s>(
        &self,
        signal: &[f32],
        start: isize,
        scratch: &'s mut StftScratch,
    ) -> &'s mut [Complex32] {
        for (i, (t, w)) in scratch.time.iter_mut().zip(&self.window).enumerate() {
            let idx = start + i as isize;
            *t = if idx >= 0 && (idx as usize) < signal.len() {
                signal[idx as usize] * w
            } else {
                0.0
            };
        }
        // The buffers come from this plan, so the lengths always match.
        let _ = self.forward.process_with_scratch(
            &mut scratch.time,
            &mut scratch.spectrum,
            &mut scratch.fft,
        );
        &mut scratch.spectrum
    }

    /// Inverse-transforms `spectrum` (as returned by [`Stft::analyze`], possibly modified),
    /// windows it and adds it into `out` at sample `start` (clipped to `out`).
    pub fn synthesize_add(
        &self,
        spectrum: &mut [Complex32],
        start: isize,
        out: &mut [f32],
        scratch: &mut StftScratch,
    ) {
        // A real signal's DC and Nyquist bins are real; the inverse FFT requires it.
        spectrum[0].im = 0.0;
        if let Some(last) = spectrum.last_mut() {
            last.im = 0.0;
        }
        let _ = self
            .inverse
            .process_with_scratch(spectrum, &mut scratch.time, &mut scratch.fft);
        let scale = 1.0 / self.len as f32;
        for (i, (t, w)) in scratch.time.iter().zip(&self.window).enumerate() {
            let idx = start + i as isize;
            if idx >= 0 && (idx as usize) < out.len() {
                out[idx as usize] += t * w * scale;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analysis_then_synthesis_reconstructs_the_signal() {
        let stft = Stft::new(320);
        let x: Vec<f32> = (0..8_000)
            .map(|i| ((i * 7919) % 101) as f32 / 50.0 - 1.0)
            .collect();
        let mut y = vec![0.0; x.len()];
        let mut scratch = stft.scratch();
        let hop = stft.hop() as isize;
        let mut start = -hop;
        while start < x.len() as isize {
            let mut spec = stft.analyze(&x, start, &mut scratch).to_vec();
            stft.synthesize_add(&mut spec, start, &mut y, &mut scratch);
            start += hop;
        }
        let max_err = x
            .iter()
            .zip(&y)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(max_err < 1e-4, "max error {max_err}");
    }
}
