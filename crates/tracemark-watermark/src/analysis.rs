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

/// Cells this far below their frame's strongest marked bin (in dB) start getting a
/// stronger mark...
pub const BOOST_FROM_DB: f32 = 20.0;
/// ...one more times the base strength for every further this many dB...
pub const BOOST_STEP_DB: f32 = 5.0;
/// ...up to this many times the base strength (reached 45 dB below the peak).
pub const BOOST_MAX: f32 = 6.0;

/// `10^(BOOST_FROM_DB / 10)`: the power ratio where the boost starts.
const BOOST_FROM_RATIO: f32 = 100.0;
/// `10^((BOOST_FROM_DB + (BOOST_MAX - 1) * BOOST_STEP_DB) / 10)`: where it reaches its cap.
const BOOST_MAX_RATIO: f32 = 31_622.777;

/// How many times the base strength a cell gets, given its frame's strongest marked bin's
/// power `peak` and its own power `power` (both on the 8 kHz analysis grid).
///
/// A multiplicative mark of fixed depth spends nearly all its energy in the strong bins,
/// yet in the log domain, where it is detected, every cell counts alike. Weak bins lie
/// under the masking of the strong components around them (Zwicker & Fastl,
/// *Psychoacoustics*, 3rd ed., ch. 4: a masker raises the threshold across several critical
/// bands, more towards higher frequencies), and deepening their mark costs almost no
/// energy. Measured with `tracemark-bench` on the corpus (base strength 0.05): on 60 s of
/// the call, SNR 31.1 -> 30.6 dB, PESQ-WB 4.535 -> 4.517, ViSQOL 4.996 -> 4.989; blind
/// z 10.0 -> 29.0 (read speech, 24.7 s: 6.3 -> 16.2); mean signed symbol z with the
/// original after Opus 12 kbit/s 0.81 -> 1.28. Boosting only bins far below their
/// neighbourhood's peak (within +-200 Hz) instead of the frame's kept most of the cost and
/// lost most of the gain.
pub fn level_boost(peak: f32, power: f32) -> f32 {
    // Most cells lie within 20 dB of the peak or more than 45 dB below it: no logarithm.
    let comparable = power > 0.0 && peak > power;
    if !comparable || power * BOOST_FROM_RATIO >= peak {
        return 1.0;
    }
    if power * BOOST_MAX_RATIO <= peak {
        return BOOST_MAX;
    }
    let below_db = 10.0 * (peak / power).log10();
    (1.0 + (below_db - BOOST_FROM_DB) / BOOST_STEP_DB).clamp(1.0, BOOST_MAX)
}

/// Start samples of the frames covering a signal of `len` samples.
pub fn frame_starts(len: usize, hop: usize, offset: usize) -> impl Iterator<Item = usize> {
    (offset..len).step_by(hop.max(1))
}

/// Per-frame weight in `[0, 1]`: 0 for silence, ramping to 1 over 10 dB above the gate.
pub fn frame_gates(energies: &[f64]) -> Vec<f32> {
    gates_against(energies, loud_reference(energies))
}

/// The loud reference of a recording's frame energies: their [`LOUD_PERCENTILE`] point.
fn loud_reference(energies: &[f64]) -> f64 {
    if energies.is_empty() {
        return 1e-30;
    }
    let mut sorted = energies.to_vec();
    sorted.sort_by(f64::total_cmp);
    let idx = ((sorted.len() - 1) as f64 * LOUD_PERCENTILE).round() as usize;
    sorted[idx].max(1e-30)
}

/// [`frame_gates`] against a given loud reference (a whole recording's, for a stretch of it).
fn gates_against(energies: &[f64], reference: f64) -> Vec<f32> {
    energies
        .iter()
        .map(|&e| {
            let db = 10.0 * (e.max(1e-30) / reference).log10();
            ((db + SILENCE_DB) / 10.0).clamp(0.0, 1.0) as f32
        })
        .collect()
}

/// What the gates and the floor of a recording's [`LogSpectrogram`] are relative to: its
/// loud reference (the 95th percentile of its frames' band energies) and the mean band
/// bin energy of its loud frames. Two numbers measured once over the whole recording let
/// any stretch of it be analysed alone exactly as it is within the whole
/// ([`LogSpectrogram::compute_against`]), so that informed detection can read a clip
/// against the matched stretch of a long original instead of all of it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReferenceLevels {
    /// The loud reference energy (band energy of one 40 ms frame at 8 kHz).
    pub loud: f64,
    /// The mean energy of one band bin over the loud frames.
    pub mean_bin: f64,
}

impl ReferenceLevels {
    /// The levels of `signal`, the whole recording's mono mix at the detection rate
    /// ([`crate::DETECT_RATE`]), on the detector's grid.
    pub fn measure(signal: &[f32]) -> Self {
        let stft = crate::embed::detect_stft();
        let (energies, _) = band_values(signal, &stft, 0, false);
        Self::of_energies(&energies)
    }

    /// The levels of a recording whose frames have `energies`.
    pub(crate) fn of_energies(energies: &[f64]) -> Self {
        let loud = loud_reference(energies);
        let gates = gates_against(energies, loud);
        let loud_frames: Vec<f64> = energies
            .iter()
            .zip(&gates)
            .filter(|(_, g)| **g >= 1.0)
            .map(|(e, _)| *e)
            .collect();
        let mean_bin = if loud_frames.is_empty() {
            1e-12
        } else {
            loud_frames.iter().sum::<f64>() / loud_frames.len() as f64 / BAND_BINS as f64
        };
        Self { loud, mean_bin }
    }

    /// The floor a [`LogSpectrogram`] against these levels adds to every power: 80 dB
    /// below the mean band bin energy of the loud frames.
    pub(crate) fn floor(&self) -> f32 {
        (self.mean_bin * 1e-8).max(1e-30) as f32
    }

    /// 16 bytes: both levels as little-endian IEEE 754 doubles.
    pub fn to_bytes(&self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.loud.to_le_bytes());
        out[8..].copy_from_slice(&self.mean_bin.to_le_bytes());
        out
    }

    /// Reverses [`Self::to_bytes`]; `None` unless both are finite and positive.
    pub fn from_bytes(b: [u8; 16]) -> Option<Self> {
        let mut half = [0u8; 8];
        half.copy_from_slice(&b[..8]);
        let loud = f64::from_le_bytes(half);
        half.copy_from_slice(&b[8..]);
        let mean_bin = f64::from_le_bytes(half);
        let ok = |v: f64| v.is_finite() && v > 0.0;
        (ok(loud) && ok(mean_bin)).then_some(Self { loud, mean_bin })
    }
}

/// Per frame starting at `offset + f * hop`: the marked band's energy, and (when
/// `keep_values`) its bins' powers, row-major.
fn band_values(
    signal: &[f32],
    stft: &Stft,
    offset: usize,
    keep_values: bool,
) -> (Vec<f64>, Vec<f32>) {
    let mut scratch = stft.scratch();
    let mut values = Vec::new();
    let mut energies = Vec::new();
    for start in frame_starts(signal.len(), stft.hop(), offset) {
        let spec = stft.analyze(signal, start as isize, &mut scratch);
        let band = &spec[BAND_LO..=BAND_HI];
        energies.push(band.iter().map(|c| f64::from(c.norm_sqr())).sum::<f64>());
        if keep_values {
            values.extend(band.iter().map(|c| c.norm_sqr()));
        }
    }
    (energies, values)
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
        let (energies, values) = band_values(signal, stft, offset, true);
        let levels = ReferenceLevels::of_energies(&energies);
        Self::finish(&energies, values, levels)
    }

    /// Like [`Self::compute`] for a stretch of a recording whose whole has `levels`: the
    /// gates and the floor are the whole recording's, so every frame's values are what
    /// they are in the whole recording's spectrogram.
    pub fn compute_against(
        signal: &[f32],
        stft: &Stft,
        offset: usize,
        levels: ReferenceLevels,
    ) -> Self {
        let (energies, values) = band_values(signal, stft, offset, true);
        Self::finish(&energies, values, levels)
    }

    fn finish(energies: &[f64], mut values: Vec<f32>, levels: ReferenceLevels) -> Self {
        let gates = gates_against(energies, levels.loud);
        let floor = levels.floor();
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

/// Steps of the [`DenseSpectrogram`] per detector hop: 4, so 5 ms at 8 kHz, the grid
/// offsets blind detection tries within a hop.
pub(crate) const DENSE_STEPS: usize = 4;
/// Frequency oversampling of the [`DenseSpectrogram`]: the 40 ms frame zero-padded to
/// 80 ms, so bins fall every 12.5 Hz and every detector bin (25 Hz) is an even one.
const DENSE_OVERSAMPLE: usize = 2;
/// The largest frequency scale a [`DenseSpectrogram`] can be read at: its bins stop just
/// above the band's top edge times this.
pub(crate) const DENSE_MAX_SCALE: f64 = 1.1;

/// A clip's log spectrogram on a finer grid than the detector's (a 5 ms step, 12.5 Hz
/// bins), from which the detector's [`LogSpectrogram`] of the clip with a time scale, and
/// with or without the matching frequency scale, undone is read by interpolation
/// ([`DenseSpectrogram::warp`]). Blind detection's speed and tempo search reads hundreds
/// of such hypotheses; resampling and re-analysing the clip for each took 11 s per minute
/// of clip.
///
/// The logarithms are taken once, against one floor for the whole clip (80 dB below the
/// mean band bin energy of its loud frames, as [`LogSpectrogram`]'s), and interpolated in
/// the log domain, where the mark is additive. At a time scale of 1 it reads the
/// detector's own frames: the dense frame at every fourth step is the detector's frame at
/// that offset, and zero padding leaves the even bins equal to the unpadded transform's.
/// (The floor and the gates' loud reference are measured over all the dense frames rather
/// than over one offset's, which moves only cells near the floor.)
pub(crate) struct DenseSpectrogram {
    /// Row-major `frames x bins`: half the natural log of power plus the floor.
    logs: Vec<f32>,
    /// Per frame, the marked band's energy (the detector's even bins).
    energies: Vec<f64>,
    bins: usize,
    step: usize,
    hop: usize,
    frame_len: usize,
    signal_len: usize,
}

impl DenseSpectrogram {
    /// Analyses `signal` (at the detection rate) with the frames of `stft`.
    pub(crate) fn compute(signal: &[f32], stft: &Stft) -> Self {
        let frame_len = stft.len();
        let step = (stft.hop() / DENSE_STEPS).max(1);
        let n = frame_len * DENSE_OVERSAMPLE;
        let fft = realfft::RealFftPlanner::<f32>::new().plan_fft_forward(n);
        let mut time = fft.make_input_vec();
        let mut spectrum = fft.make_output_vec();
        let mut scratch = fft.make_scratch_vec();
        let top = (DENSE_OVERSAMPLE as f64 * BAND_HI as f64 * DENSE_MAX_SCALE).ceil() as usize + 2;
        let bins = top.min(spectrum.len());
        let frames = signal.len().div_ceil(step);
        let window = stft.window();
        let mut logs = Vec::with_capacity(frames * bins);
        let mut energies = Vec::with_capacity(frames);
        for j in 0..frames {
            let start = j * step;
            for (i, t) in time.iter_mut().enumerate() {
                *t = match (window.get(i), signal.get(start + i)) {
                    (Some(w), Some(x)) => w * x,
                    _ => 0.0,
                };
            }
            // The buffers come from this plan, so the lengths always match.
            let _ = fft.process_with_scratch(&mut time, &mut spectrum, &mut scratch);
            let band = spectrum
                .iter()
                .step_by(DENSE_OVERSAMPLE)
                .take(BAND_HI + 1)
                .skip(BAND_LO);
            energies.push(band.map(|c| f64::from(c.norm_sqr())).sum());
            logs.extend(spectrum[..bins].iter().map(|c| c.norm_sqr()));
        }
        let levels = ReferenceLevels::of_energies(&energies);
        let floor = levels.floor();
        for v in &mut logs {
            *v = 0.5 * (*v + floor).ln();
        }
        Self {
            logs,
            energies,
            bins,
            step,
            hop: stft.hop(),
            frame_len,
            signal_len: signal.len(),
        }
    }

    /// The detector's log spectrogram of the clip read `time_scale` times slower (original
    /// seconds per clip second) and with its frequencies divided by `freq_scale`, frames
    /// starting at `offset + f * hop` samples of that restored clip, for `f` in `frames`
    /// (cut short where the restored clip ends). The gates are measured over the frames
    /// returned. `freq_scale` is clamped to `1 / DENSE_MAX_SCALE ..= DENSE_MAX_SCALE`.
    pub(crate) fn warp(
        &self,
        time_scale: f64,
        freq_scale: f64,
        offset: usize,
        frames: std::ops::Range<usize>,
    ) -> LogSpectrogram {
        let b = freq_scale.clamp(1.0 / DENSE_MAX_SCALE, DENSE_MAX_SCALE);
        let restored_len = self.signal_len as f64 * time_scale;
        let half = self.frame_len as f64 / 2.0;
        let rows = self.energies.len();
        // Where each marked bin falls among the dense bins: index and weight of the next.
        // The clamp on `b` keeps both inside the bins kept; `min` makes sure of it.
        let last = self.bins.saturating_sub(2);
        let taps: Vec<(usize, f32)> = (BAND_LO..=BAND_HI)
            .map(|k| {
                let x = (DENSE_OVERSAMPLE * k) as f64 * b;
                ((x.floor() as usize).min(last), (x - x.floor()) as f32)
            })
            .collect();
        let silent = 0.5 * 1e-30f32.ln();
        let mut energies = Vec::new();
        let mut values = Vec::new();
        for f in frames {
            let start = offset + f * self.hop;
            if start as f64 >= restored_len {
                break;
            }
            let centre = (start as f64 + half) / time_scale;
            let j = ((centre - half) / self.step as f64).round();
            match (j >= 0.0 && (j as usize) < rows && self.bins >= 2).then_some(j as usize) {
                Some(j) => {
                    let r = &self.logs[j * self.bins..(j + 1) * self.bins];
                    values.extend(taps.iter().map(|&(i, w)| r[i] + w * (r[i + 1] - r[i])));
                    energies.push(self.energies[j]);
                }
                None => {
                    values.extend(std::iter::repeat_n(silent, taps.len()));
                    energies.push(0.0);
                }
            }
        }
        let gates = gates_against(&energies, loud_reference(&energies));
        LogSpectrogram { values, gates }
    }

    /// Detector frames a restored clip at `time_scale` holds from `offset`.
    pub(crate) fn restored_frames(&self, time_scale: f64, offset: usize) -> usize {
        let restored_len = self.signal_len as f64 * time_scale;
        let span = (restored_len - offset as f64).max(0.0);
        (span / self.hop as f64).ceil() as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boost_at(below_db: f32) -> f32 {
        level_boost(1.0, 10f32.powf(-below_db / 10.0))
    }

    #[test]
    fn boost_starts_20_db_down_and_caps_at_six() {
        assert_eq!(boost_at(0.0), 1.0);
        assert_eq!(boost_at(19.0), 1.0);
        assert!((boost_at(25.0) - 2.0).abs() < 1e-4);
        assert!((boost_at(35.0) - 4.0).abs() < 1e-4);
        assert_eq!(boost_at(45.0), BOOST_MAX);
        assert_eq!(boost_at(90.0), BOOST_MAX);
    }

    #[test]
    fn boost_shortcuts_agree_with_the_decibel_rule() {
        let db = |ratio: f32| 10.0 * ratio.log10();
        assert!((db(BOOST_FROM_RATIO) - BOOST_FROM_DB).abs() < 1e-4);
        let cap_db = BOOST_FROM_DB + (BOOST_MAX - 1.0) * BOOST_STEP_DB;
        assert!((db(BOOST_MAX_RATIO) - cap_db).abs() < 1e-4);
        for tenth_db in 0..700 {
            let below = tenth_db as f32 / 10.0;
            let want = (1.0 + (below - BOOST_FROM_DB) / BOOST_STEP_DB).clamp(1.0, BOOST_MAX);
            assert!((boost_at(below) - want).abs() < 1e-3, "{below} dB");
        }
    }

    #[test]
    fn boost_is_neutral_for_degenerate_powers() {
        assert_eq!(level_boost(0.0, 0.0), 1.0);
        assert_eq!(level_boost(1.0, 0.0), 1.0);
        assert_eq!(level_boost(1.0, f32::NAN), 1.0);
        assert_eq!(level_boost(f32::NAN, 1.0), 1.0);
    }

    fn noise(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (s >> 8) as f32 / 16_777_216.0 - 0.5
            })
            .collect()
    }

    #[test]
    fn the_dense_spectrogram_unwarped_reads_the_detectors_own_frames() {
        let stft = crate::embed::detect_stft();
        let mut signal = noise(8_000 * 3 + 77, 5);
        // A quiet stretch, so that gates and floor are exercised too.
        for v in &mut signal[4_000..9_000] {
            *v *= 1e-4;
        }
        let dense = DenseSpectrogram::compute(&signal, &stft);
        for sub in 0..DENSE_STEPS {
            let offset = sub * stft.hop() / DENSE_STEPS;
            let direct = LogSpectrogram::compute(&signal, &stft, offset);
            let warped = dense.warp(1.0, 1.0, offset, 0..usize::MAX);
            assert_eq!(warped.frames(), direct.frames(), "offset {offset}");
            assert_eq!(dense.restored_frames(1.0, offset), direct.frames());
            for (a, b) in warped.gates.iter().zip(&direct.gates) {
                assert!((a - b).abs() < 1e-4, "gate {a} vs {b}");
            }
            // Frames that carry evidence read the same; silent ones (gate 0, their pair
            // values zeroed) may differ at the floor.
            let mut compared = 0;
            for f in (0..direct.frames()).filter(|&f| direct.gates[f] > 0.0) {
                for (a, b) in warped.row(f).iter().zip(direct.row(f)) {
                    assert!((a - b).abs() < 1e-3, "frame {f}: value {a} vs {b}");
                    compared += 1;
                }
            }
            assert!(compared > direct.values.len() / 2);
        }
    }

    #[test]
    fn a_warped_read_of_a_resampled_tone_finds_the_tone_at_its_original_bin() {
        // A 1 kHz tone (bin 40) played 5 % fast sits at 1050 Hz; read at speed 1.05 it is
        // back at bin 40, read as tempo (pitch kept) it stays between bins 42 and 43.
        let stft = crate::embed::detect_stft();
        let tone: Vec<f32> = (0..16_000)
            .map(|i| (2.0 * std::f32::consts::PI * 1050.0 * i as f32 / 8_000.0).sin())
            .collect();
        let dense = DenseSpectrogram::compute(&tone, &stft);
        let peak = |spec: &LogSpectrogram| {
            let row = spec.row(10);
            BAND_LO
                + (0..row.len())
                    .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                    .unwrap_or(0)
        };
        assert_eq!(peak(&dense.warp(1.05, 1.05, 0, 0..usize::MAX)), 40);
        assert!((42..=43).contains(&peak(&dense.warp(1.05, 1.0, 0, 0..usize::MAX))));
        assert_eq!(
            dense.restored_frames(1.05, 0),
            (16_800f64 / 160.0).ceil() as usize
        );
    }

    #[test]
    fn gates_close_50_db_below_the_loud_frames() {
        let energies = [1.0, 1.0, 1.0, 1e-4, 1e-6, 1e-8];
        let gates = frame_gates(&energies);
        assert_eq!(&gates[..3], &[1.0, 1.0, 1.0]);
        assert_eq!(gates[3], 1.0); // 40 dB down: full weight
        assert!((gates[4] - 0.0).abs() < 1e-6); // 60 dB down: closed
        assert_eq!(gates[5], 0.0);
    }
}
