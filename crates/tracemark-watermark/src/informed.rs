//! Informed detection: the original is known. Align the clip to it, then compare each
//! cell's log magnitude with the original's, so the host signal, the largest noise in
//! blind detection, cancels.

use tracemark_dsp::{AudioBuffer, Stft};

use crate::WatermarkError;
use crate::align::{Alignment, ScaleKind, align};
use crate::analysis::LogSpectrogram;
use crate::blind::{DETECT_RATE, DETECTION_THRESHOLD, to_detect_rate};
use crate::evidence::{Folded, SymbolSoft, hoeffding_p, symbol_estimates};
use crate::key::WatermarkKey;
use crate::layout::{BAND_BINS, BAND_HI, BAND_LO, FRAME_S, Layout, Role, slots_for_pairs};
use crate::payload::{Payload, PayloadCoder};

/// Host-cancelled pair values are clipped to +-0.2 (natural-log units, about +-1.7 dB): the
/// mark moves a pair value by 0.1 in strong cells and up to 0.6 in the weakest (see
/// `analysis::level_boost`), and beyond that mostly codec damage or noise. Measured with
/// `tracemark-bench` (3 seeds, 13 attacks): clipping at 0.2 recovered more payloads than at
/// 0.5 (MP3 16k, GSM and tempo +5 % on a 5 s clip each 6/9 against 5/9, 5/9 and 4/9); 0.3
/// was close to 0.2, and 1.0 worse than 0.5 (MP3 16k 3/9).
const CLIP: f32 = 0.2;
/// Shortest clip worth aligning.
const MIN_SECONDS: f64 = 1.0;

/// The outcome of an informed detection.
#[derive(Debug, Clone, PartialEq)]
pub struct InformedDetection {
    /// Whether a mark of this key is present (p-value below 1e-9).
    pub detected: bool,
    /// Probability that a clip without this key's mark scores this high. The alignment
    /// uses the audio alone, so one position is tested; the p-value is corrected for the
    /// two weightings of the presence test.
    pub p_value: f64,
    /// The sync z-score (the larger of the two weightings').
    pub z: f64,
    /// The payload, when the mark is present and its CRC checks.
    pub payload: Option<Payload>,
    /// How the clip maps onto the original.
    pub alignment: Alignment,
    /// One soft estimate per codeword slot of the original (slots the clip does not cover
    /// have `cells == 0`).
    pub symbols: Vec<SymbolSoft>,
}

/// Detects a mark of `key` in `clip`, using the unmarked `original` it was made from.
pub fn detect_informed(
    clip: &AudioBuffer,
    original: &AudioBuffer,
    key: &WatermarkKey,
) -> Result<InformedDetection, WatermarkError> {
    detect_informed_segments(clip, original, key, &[(0.0, clip.duration_s())])
}

/// Like [`detect_informed`] for a clip spliced together from several stretches of the
/// original (or with foreign material between them): each `(start_s, end_s)` stretch of
/// the clip is aligned on its own and their evidence is pooled. Stretches shorter than
/// 1 s are skipped. The alignment reported is the longest stretch's.
pub fn detect_informed_segments(
    clip: &AudioBuffer,
    original: &AudioBuffer,
    key: &WatermarkKey,
    segments: &[(f64, f64)],
) -> Result<InformedDetection, WatermarkError> {
    for audio in [clip, original] {
        if audio.duration_s() < MIN_SECONDS {
            return Err(WatermarkError::TooShort {
                seconds: audio.duration_s(),
                minimum_s: MIN_SECONDS,
            });
        }
    }
    let orig = to_detect_rate(original)?;
    let clip = to_detect_rate(clip)?;
    let stft = Stft::new((f64::from(DETECT_RATE) * FRAME_S) as usize);
    let reference = LogSpectrogram::compute(&orig, &stft, 0);
    let pairs = reference.frames() / 2;
    let mut diffs = vec![0.0f32; pairs * BAND_BINS];
    let mut observed = vec![false; pairs];
    let rate = f64::from(DETECT_RATE);
    let mut longest: Option<(f64, Alignment)> = None;
    for &(start_s, end_s) in segments {
        let start = ((start_s.max(0.0) * rate) as usize).min(clip.len());
        let end = ((end_s * rate) as usize).clamp(start, clip.len());
        if ((end - start) as f64) < MIN_SECONDS * rate {
            continue;
        }
        let alignment = accumulate(
            &clip[start..end],
            &orig,
            &reference,
            &stft,
            &mut diffs,
            &mut observed,
        )?;
        let length = (end - start) as f64;
        if longest.as_ref().is_none_or(|(l, _)| length > *l) {
            longest = Some((length, alignment));
        }
    }
    let Some((_, alignment)) = longest else {
        return Err(WatermarkError::TooShort {
            seconds: 0.0,
            minimum_s: MIN_SECONDS,
        });
    };

    let coder = PayloadCoder::new(key);
    let layout = Layout::new(key, coder.coded_len());
    let cells = CellClasses::new(&reference);
    // Two presence tests, each with weights fixed by the audio alone (the original's gate,
    // the clip's own class variances), never by the key, so that each p-value is a
    // Hoeffding bound (see `evidence`); the smaller is doubled (Bonferroni over the two).
    // Equal weights: since weak cells get a deeper mark (`analysis::level_boost`) they
    // carry as much evidence per cell as strong ones after a codec (on 60 s of the call
    // after Opus 12 kbit/s, equal weights keep 92 % of the information of per-level
    // matched weights; the older rule, which dropped cells 25 dB below their frame's peak,
    // 15 %). Inverse class variance: where noise or a codec swamps some classes (white
    // noise buries the weak cells) they count for less. Measured with `tracemark-bench`
    // (3 seeds): with both, 5 s clips 9/9 payloads (7/9 with equal weights alone), MP3
    // 16k 9/9 (6/9), GSM 9/9 (7/9), noise 10 dB on 5 s 2/9 (0/9).
    let gated = cells.weighted(&diffs, &observed, |_| 1.0);
    let z_equal = Folded::new(&gated).sync_z(&layout, 0);
    let squares = cells.class_squares(&diffs, &observed);
    let inverse = CellClasses::inverse_variances(&squares);
    let scaled = cells.weighted(&diffs, &observed, |c| inverse[usize::from(cells.class[c])]);
    let z_inverse = Folded::new(&scaled).sync_z(&layout, 0);
    let z = z_equal.max(z_inverse);
    let p_value = (2.0 * hoeffding_p(z)).min(1.0);
    let detected = p_value < DETECTION_THRESHOLD;
    // Payload and symbols are read with weights fitted to this clip on the sync cells.
    let fitted = cells.fit(&diffs, &observed, &layout, &squares);
    let adaptive = cells.weighted(&diffs, &observed, |c| fitted[usize::from(cells.class[c])]);
    let payload = if detected {
        Folded::new(&adaptive).decode(&layout, &coder, 0)
    } else {
        None
    };
    let symbols = symbol_estimates(&layout, &adaptive, 0, slots_for_pairs(pairs));
    Ok(InformedDetection {
        detected,
        p_value,
        z,
        payload,
        alignment,
        symbols,
    })
}

/// Aligns one stretch of clip (8 kHz) and adds its host-cancelled pair differences into
/// `diffs` (indexed by the original's pairs), marking the pairs it covers in `observed`.
fn accumulate(
    clip: &[f32],
    orig: &[f32],
    reference: &LogSpectrogram,
    stft: &Stft,
    diffs: &mut [f32],
    observed: &mut [bool],
) -> Result<Alignment, WatermarkError> {
    let (alignment, clip) = align(orig, clip)?;
    let hop = stft.hop();
    let frames = reference.frames();

    // The clip's band power at the position of every original frame it covers.
    let mut scratch = stft.scratch();
    let mut rows: Vec<Option<Vec<f32>>> = Vec::with_capacity(frames);
    let (mut loud_sum, mut loud_n) = (0.0f64, 0usize);
    for f in 0..frames {
        let t = (f * hop) as f64 / f64::from(DETECT_RATE);
        let row = alignment.clip_time_of(t).and_then(|ct| {
            let mut start = (ct * f64::from(DETECT_RATE)).round() as isize;
            if alignment.kind == ScaleKind::Tempo {
                start += waveform_lag(orig, f * hop, &clip, start, stft.len());
            }
            if start < 0 || start as usize + stft.len() > clip.len() {
                return None;
            }
            let spec = stft.analyze(&clip, start, &mut scratch);
            Some(
                spec[BAND_LO..=BAND_HI]
                    .iter()
                    .map(|c| c.norm_sqr())
                    .collect::<Vec<f32>>(),
            )
        });
        if let Some(r) = &row
            && reference.gates[f] >= 1.0
        {
            loud_sum += r.iter().map(|&v| f64::from(v)).sum::<f64>();
            loud_n += BAND_BINS;
        }
        rows.push(row);
    }
    let floor = if loud_n > 0 {
        (loud_sum / loud_n as f64 * 1e-8) as f32
    } else {
        1e-30
    };

    // Host-cancelled values u = log|clip| - log|original|, then pair differences.
    let u: Vec<Option<Vec<f32>>> = rows
        .into_iter()
        .enumerate()
        .map(|(f, row)| {
            row.map(|r| {
                r.iter()
                    .zip(reference.row(f))
                    .map(|(c, o)| 0.5 * (c + floor).max(1e-30).ln() - o)
                    .collect()
            })
        })
        .collect();
    for p in 0..frames / 2 {
        if let (Some(ua), Some(ub)) = (&u[2 * p], &u[2 * p + 1]) {
            observed[p] = true;
            for k in 0..BAND_BINS {
                diffs[p * BAND_BINS + k] += (ua[k] - ub[k]).clamp(-CLIP, CLIP);
            }
        }
    }
    Ok(alignment)
}

/// Lags searched either side of a frame's predicted clip position after a tempo change:
/// 12 ms at 8 kHz, a little more than the 10 ms a WSOLA time-scaler may shift each 20 ms
/// hop (Verhelst & Roelands, ICASSP 1993, use half a synthesis hop).
const TEMPO_SEARCH: usize = 96;

/// The lag (samples, within +-[`TEMPO_SEARCH`]) at which the clip's waveform around
/// `predicted` best matches the original frame starting at `orig_start` (normalised
/// cross-correlation over `len` samples); 0 when nothing matches.
///
/// A tempo change that keeps the pitch (WSOLA and its kin) copies the signal in short
/// segments, each shifted by up to half a hop, often by a pitch period, to keep the
/// waveform continuous. The mark alternates every 20 ms, so a frame read 5-10 ms off the
/// original's grid loses half of it or more. The waveform, not the spectrum, pins the
/// shift down: a shift by one pitch period barely changes a frame's magnitudes. The search
/// uses the audio alone, never the key.
fn waveform_lag(
    orig: &[f32],
    orig_start: usize,
    clip: &[f32],
    predicted: isize,
    len: usize,
) -> isize {
    let Some(reference) = orig.get(orig_start..orig_start + len) else {
        return 0;
    };
    let ref_energy: f32 = reference.iter().map(|x| x * x).sum();
    if ref_energy <= 0.0 {
        return 0;
    }
    let radius = TEMPO_SEARCH as isize;
    let mut best = (0.0f32, 0isize);
    for lag in -radius..=radius {
        let at = predicted + lag;
        if at < 0 {
            continue;
        }
        let Some(piece) = clip.get(at as usize..at as usize + len) else {
            continue;
        };
        let (mut dot, mut energy) = (0.0f32, 0.0f32);
        for (a, b) in reference.iter().zip(piece) {
            dot += a * b;
            energy += b * b;
        }
        if energy > 0.0 {
            let score = dot / (ref_energy * energy).sqrt();
            if score > best.0 {
                best = (score, lag);
            }
        }
    }
    best.1
}

/// Adaptive weighting: cells are grouped by how far below their pair's strongest bin the
/// original is (5 dB steps, 8 classes) and by 625 Hz band (5 classes), because a codec
/// keeps the mark very unevenly across both (measured after Opus 12 kbit/s on the call
/// corpus: per-cell SNR 0.32 within 5 dB of the peak, 0.02 beyond 35 dB).
const LEVEL_STEP: f32 = 5.0 * 0.115_129_25;
const LEVEL_CLASSES: usize = 8;
const BAND_CLASS_BINS: usize = 25;
const BAND_CLASSES: usize = BAND_BINS.div_ceil(BAND_CLASS_BINS);
const CLASSES: usize = LEVEL_CLASSES * BAND_CLASSES;
/// Prior strength, in cells, with which a class's estimate is shrunk towards its level's,
/// and a level's towards the whole clip's (empirical Bayes; Efron and Morris, JASA 70,
/// 1975): short clips have few sync cells per class.
const SHRINK_CELLS: f64 = 200.0;

/// Per-cell facts that depend on the original alone: the pair's silence gate and the
/// adaptive class.
struct CellClasses {
    gate: Vec<f32>,
    class: Vec<u8>,
}

impl CellClasses {
    fn new(reference: &LogSpectrogram) -> Self {
        let pairs = reference.frames() / 2;
        let mut gate = Vec::with_capacity(pairs);
        let mut class = Vec::with_capacity(pairs * BAND_BINS);
        for p in 0..pairs {
            let (a, b) = (2 * p, 2 * p + 1);
            gate.push(reference.gates[a].min(reference.gates[b]));
            let (ra, rb) = (reference.row(a), reference.row(b));
            let peak = ra
                .iter()
                .chain(rb)
                .copied()
                .fold(f32::NEG_INFINITY, f32::max);
            class.extend((0..BAND_BINS).map(|k| {
                let level = ((peak - ra[k].min(rb[k])) / LEVEL_STEP) as usize;
                (level.min(LEVEL_CLASSES - 1) * BAND_CLASSES + k / BAND_CLASS_BINS) as u8
            }));
        }
        Self { gate, class }
    }

    /// `diffs` times the pair's gate times `weight(cell)`, zero where not observed.
    fn weighted(
        &self,
        diffs: &[f32],
        observed: &[bool],
        weight: impl Fn(usize) -> f32,
    ) -> Vec<f32> {
        let mut out = vec![0.0f32; diffs.len()];
        for (p, _) in observed.iter().enumerate().filter(|(_, o)| **o) {
            for c in p * BAND_BINS..(p + 1) * BAND_BINS {
                out[c] = diffs[c] * self.gate[p] * weight(c);
            }
        }
        out
    }

    /// Per class: the sum of squared pair values and the number of cells, over every cell
    /// of the fully gated pairs the clip covers. Audio only, never the key.
    fn class_squares(&self, diffs: &[f32], observed: &[bool]) -> [(f64, f64); CLASSES] {
        let mut all = [(0.0f64, 0.0f64); CLASSES];
        for (p, _) in observed
            .iter()
            .enumerate()
            .filter(|(p, o)| **o && self.gate[*p] >= 1.0)
        {
            let cells = p * BAND_BINS..(p + 1) * BAND_BINS;
            for (d, class) in diffs[cells.clone()].iter().zip(&self.class[cells]) {
                let class = usize::from(*class);
                all[class].0 += f64::from(*d).powi(2);
                all[class].1 += 1.0;
            }
        }
        all
    }

    /// One over each class's mean square (see [`Self::class_squares`]).
    fn inverse_variances(squares: &[(f64, f64); CLASSES]) -> [f32; CLASSES] {
        let mut out = [0.0f32; CLASSES];
        for (w, &(sum, n)) in out.iter_mut().zip(squares) {
            if n > 1.0 && sum > 0.0 {
                *w = (n / sum) as f32;
            }
        }
        out
    }

    /// Matched-filter weight `mean / variance` per class, the mean of `sign * diff`
    /// measured on the sync cells of fully gated pairs (shrunk as described at
    /// [`SHRINK_CELLS`]), the variance on all their cells. Sync signs are drawn
    /// independently of any caller's codeword, so the weights cannot favour one codeword
    /// over another; they do depend on the key, which is why the presence test does not
    /// use them.
    fn fit(
        &self,
        diffs: &[f32],
        observed: &[bool],
        layout: &Layout,
        all: &[(f64, f64); CLASSES],
    ) -> [f32; CLASSES] {
        // Per class: sum of sign * diff and count over sync cells (`all` holds the sum of
        // squares and count over all cells).
        let mut sync = [(0.0f64, 0.0f64); CLASSES];
        for (p, _) in observed
            .iter()
            .enumerate()
            .filter(|(p, o)| **o && self.gate[*p] >= 1.0)
        {
            for k in 0..BAND_BINS {
                let c = p * BAND_BINS + k;
                let (d, class) = (f64::from(diffs[c]), usize::from(self.class[c]));
                let cell = layout.cell(p, k);
                if cell.role == Role::Sync {
                    sync[class].0 += f64::from(cell.sign) * d;
                    sync[class].1 += 1.0;
                }
            }
        }
        let pool = |range: std::ops::Range<usize>| {
            range.fold((0.0, 0.0), |(s, n), c| (s + sync[c].0, n + sync[c].1))
        };
        let shrink =
            |(sum, n): (f64, f64), prior: f64| (sum + SHRINK_CELLS * prior) / (n + SHRINK_CELLS);
        let (total, count) = pool(0..CLASSES);
        let clip_mean = if count > 0.0 { total / count } else { 0.0 };
        let mut weights = [0.0f32; CLASSES];
        for level in 0..LEVEL_CLASSES {
            let classes = level * BAND_CLASSES..(level + 1) * BAND_CLASSES;
            let level_mean = shrink(pool(classes.clone()), clip_mean);
            for c in classes {
                let mean = shrink(sync[c], level_mean);
                let (squares, n) = all[c];
                let variance = if n > 1.0 {
                    squares / n - mean * mean
                } else {
                    0.0
                };
                if mean > 0.0 && variance > 0.0 {
                    weights[c] = (mean / variance) as f32;
                }
            }
        }
        weights
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pitched, non-periodic test waveform: a 150 Hz pulse train through a decaying
    /// resonance, with a slow vibrato so that no two periods are identical.
    fn voiced(len: usize) -> Vec<f32> {
        let mut out = vec![0.0f32; len];
        let mut phase = 0.0f64;
        let mut state = (0.0f32, 0.0f32);
        for (i, y) in out.iter_mut().enumerate() {
            let f0 = 150.0 + 10.0 * (i as f64 / 8_000.0 * 5.0).sin();
            phase += f0 / 8_000.0;
            let pulse = if phase >= 1.0 {
                phase -= 1.0;
                1.0
            } else {
                0.0
            };
            // Two-pole resonator at 700 Hz (formant-like).
            let (r, w) = (0.97f32, 2.0 * std::f32::consts::PI * 700.0 / 8_000.0);
            let v = pulse + 2.0 * r * w.cos() * state.0 - r * r * state.1;
            state = (v, state.0);
            *y = v;
        }
        out
    }

    #[test]
    fn waveform_lag_finds_a_segment_moved_by_a_pitch_period_or_less() {
        let orig = voiced(16_000);
        let len = 320;
        for shift in [-80isize, -53, -7, 0, 12, 53, 90] {
            // The clip holds the original's frame at 4000 + shift.
            let mut clip = orig.clone();
            clip.rotate_left((shift.rem_euclid(orig.len() as isize)) as usize);
            let lag = waveform_lag(&orig, 4_000, &clip, 4_000, len);
            // The original frame at 4000 sits in the clip at 4000 - shift.
            assert_eq!(lag, -shift, "shift {shift}");
        }
    }

    #[test]
    fn waveform_lag_is_zero_without_anything_to_match() {
        let silence = vec![0.0f32; 4_000];
        let orig = voiced(4_000);
        assert_eq!(waveform_lag(&silence, 1_000, &orig, 1_000, 320), 0);
        assert_eq!(waveform_lag(&orig, 1_000, &silence, 1_000, 320), 0);
        // Out of range on either side.
        assert_eq!(waveform_lag(&orig, 3_900, &orig, 1_000, 320), 0);
        assert_eq!(waveform_lag(&orig, 1_000, &orig[..500], 1_000, 320), 0);
    }
}
