//! Shared analysis: the log-magnitude spectrogram of the marked band on the mark's grid,
//! and the silence gate.

use tracemark_dsp::Stft;

use crate::layout::{BAND_BINS, BAND_HI, BAND_LO};

/// Frames quieter than this, relative to the loud reference, carry no mark and count as
/// no evidence. 50 dB below the loud frames is below the masking threshold of any
/// speech around it (Zwicker & Fastl, Psychoacoustics, ch. 4).
pub const SILENCE_DB: f64 = 50.0;
/// Percentile of frame energies used as the loud reference.
const LOUD_PERCENTILE: f64 = 0.95;

/// Start samples of the frames covering a signal of `len` samples.
pub fn frame_starts(len: usize, hop: usize, offset: usize) -> impl Iterator<Item = usize> {
    (offset..len).step_by(hop.max(1))
}

/// Per-frame weight in `[0, 1]`: 0 for silence, ramping to 1 over 10 dB above the gate.
pub fn frame_gates(energies: &[f64]) -> Vec<f32> {
    if energies.is_empty() {
        return Vec::new();
    }
    let mut sorted = energies.to_vec();
    sorted.sort_by(f64::total_cmp);
    let idx = ((sorted.len() - 1) as f64 * LOUD_PERCENTILE).round() as usize;
    let reference = sorted[idx].max(1e-30);
    energies
        .iter()
        .map(|&e| {
            let db = 10.0 * (e.max(1e-30) / reference).log10();
            ((db + SILENCE_DB) / 10.0).clamp(0.0, 1.0) as f32
        })
        .collect()
}

/// Log-magnitude spectrogram of the marked band: `frames x BAND_BINS`, natural log of
/// magnitude, floored 80 dB below the loud frames' mean bin energy.
pub struct LogSpectrogram {
    /// Row-major values.
    pub values: Vec<f32>,
    /// Per-frame gate (see [`frame_gates`]).
    pub gates: Vec<f32>,
}

impl LogSpectrogram {
    /// Analyses `signal` with frames starting at `offset + f * hop`.
    pub fn compute(signal: &[f32], stft: &Stft, offset: usize) -> Self {
        let mut scratch = stft.scratch();
        let mut values = Vec::new();
        let mut energies = Vec::new();
        for start in frame_starts(signal.len(), stft.hop(), offset) {
            let spec = stft.analyze(signal, start as isize, &mut scratch);
            let band = &spec[BAND_LO..=BAND_HI];
            energies.push(band.iter().map(|c| f64::from(c.norm_sqr())).sum::<f64>());
            values.extend(band.iter().map(|c| c.norm_sqr()));
        }
        let gates = frame_gates(&energies);
        let loud: Vec<f64> = energies
            .iter()
            .zip(&gates)
            .filter(|(_, g)| **g >= 1.0)
            .map(|(e, _)| *e)
            .collect();
        let mean_bin = if loud.is_empty() {
            1e-12
        } else {
            loud.iter().sum::<f64>() / loud.len() as f64 / BAND_BINS as f64
        };
        let floor = (mean_bin * 1e-8).max(1e-30) as f32;
        for v in &mut values {
            *v = 0.5 * (*v + floor).ln();
        }
        Self { values, gates }
    }

    /// Number of frames.
    pub fn frames(&self) -> usize {
        self.gates.len()
    }

    /// The band row of frame `f`.
    pub fn row(&self, f: usize) -> &[f32] {
        &self.values[f * BAND_BINS..(f + 1) * BAND_BINS]
    }
}
