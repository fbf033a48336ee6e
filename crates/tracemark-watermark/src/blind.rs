//! Blind detection: no original, unknown position. Searches every grid offset, pair parity
//! and block phase, scores the sync pattern, and corrects the best score's false-alarm bound
//! for the number of hypotheses tried (Bonferroni).

use tracemark_dsp::{AudioBuffer, Stft, resample};

use crate::WatermarkError;
use crate::analysis::LogSpectrogram;
use crate::evidence::{Folded, combined_p, hoeffding_p};
use crate::key::WatermarkKey;
use crate::layout::{BAND_BINS, BLOCK_PAIRS, Layout};
use crate::payload::{Payload, PayloadCoder};
use crate::whiten::whiten_rows;

/// Detection runs at 8 kHz: the mark lives below 3.4 kHz (ITU-T G.712 band).
pub const DETECT_RATE: u32 = 8_000;
/// A mark is reported only when its corrected false-alarm probability is below this.
pub const DETECTION_THRESHOLD: f64 = 1e-9;
/// Grid offsets tried within one hop (hop / 4 = 5 ms apart).
const SUB_OFFSETS: usize = 4;
/// Pair values are clipped to +-CLIP (natural-log units, about +-8.7 dB) so that a few
/// wild cells (a codec's spectral hole, an onset) cannot dominate.
pub(crate) const CLIP: f32 = 1.0;
/// Shortest clip worth searching.
const MIN_SECONDS: f64 = 1.0;

/// The outcome of a detection.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// Whether a mark of this key is present (corrected p-value below 1e-9).
    pub detected: bool,
    /// Probability that audio without this key's mark scores this high (and, when a
    /// payload was decoded, passes its keyed CRC), corrected for every hypothesis searched
    /// (see `evidence::combined_p`).
    pub p_value: f64,
    /// The best sync z-score.
    pub z: f64,
    /// Number of hypotheses the p-value is corrected for.
    pub hypotheses: usize,
    /// The payload, when the mark is present and its CRC checks.
    pub payload: Option<Payload>,
    /// Where the clip's first sample falls in the mark's repeating 8 s block, in seconds.
    pub block_offset_s: f64,
}

/// Downmixes and resamples to the detection rate.
pub(crate) fn to_detect_rate(audio: &AudioBuffer) -> Result<Vec<f32>, WatermarkError> {
    let rate = audio.rate().hz();
    // A mono buffer is its own downmix: resample it without copying it first.
    Ok(match audio.channels() {
        [mono] => resample(mono, rate, DETECT_RATE)?,
        _ => resample(&audio.downmix(), rate, DETECT_RATE)?,
    })
}

/// Pair values from a log spectrogram: `d = L[2p + parity] - L[2p + parity + 1]`, clipped
/// to +-2 * CLIP, whitened across frequency ([`whiten_rows`]), clipped to +-CLIP and weighted
/// by the quieter frame's gate. (Dividing by a local host-variance estimate was tried and
/// scored no better on the corpus speech.) Every step depends on the audio alone, never on
/// the key, so the false-alarm bound holds.
pub(crate) fn pair_values(spec: &LogSpectrogram, parity: usize) -> Vec<f32> {
    let frames = spec.frames();
    let pairs = frames.saturating_sub(parity) / 2;
    let mut out = Vec::with_capacity(pairs * BAND_BINS);
    let mut gates = Vec::with_capacity(pairs);
    for p in 0..pairs {
        let (a, b) = (2 * p + parity, 2 * p + parity + 1);
        let w = spec.gates[a].min(spec.gates[b]);
        gates.push(w);
        out.extend(spec.row(a).iter().zip(spec.row(b)).map(|(x, y)| {
            if w > 0.0 {
                (x - y).clamp(-2.0 * CLIP, 2.0 * CLIP)
            } else {
                0.0
            }
        }));
    }
    whiten_rows(&mut out, BAND_BINS);
    for (row, w) in out.chunks_exact_mut(BAND_BINS).zip(gates) {
        for v in row {
            *v = v.clamp(-CLIP, CLIP) * w;
        }
    }
    out
}

/// Searches `audio` for a mark of `key` without the original.
pub fn detect_blind(audio: &AudioBuffer, key: &WatermarkKey) -> Result<Detection, WatermarkError> {
    if audio.duration_s() < MIN_SECONDS {
        return Err(WatermarkError::TooShort {
            seconds: audio.duration_s(),
            minimum_s: MIN_SECONDS,
        });
    }
    let signal = to_detect_rate(audio)?;
    let stft = Stft::new((f64::from(DETECT_RATE) * crate::layout::FRAME_S) as usize);
    let hop = stft.hop();
    let coder = PayloadCoder::new(key);
    let layout = Layout::new(key, coder.coded_len());
    let hypotheses = SUB_OFFSETS * 2 * BLOCK_PAIRS;

    // (z, phase, offset, parity, folded grid) of the best hypothesis.
    let mut best: Option<(f64, usize, usize, usize, Folded)> = None;
    for sub in 0..SUB_OFFSETS {
        let offset = sub * hop / SUB_OFFSETS;
        let spec = LogSpectrogram::compute(&signal, &stft, offset);
        for parity in 0..2 {
            let folded = Folded::new(&pair_values(&spec, parity));
            let (z, phase) = (0..BLOCK_PAIRS)
                .map(|phase| (folded.sync_z(&layout, phase), phase))
                .fold((f64::NEG_INFINITY, 0), |a, b| if b.0 > a.0 { b } else { a });
            if best.as_ref().is_none_or(|b| z > b.0) {
                best = Some((z, phase, offset, parity, folded));
            }
        }
    }
    let Some((z, phase, offset, parity, folded)) = best else {
        return Err(WatermarkError::TooShort {
            seconds: audio.duration_s(),
            minimum_s: MIN_SECONDS,
        });
    };
    let decoded = folded.decode(&layout, &coder, phase);
    let p_value = combined_p(
        (hoeffding_p(z) * hypotheses as f64).min(1.0),
        1,
        decoded.is_some(),
    );
    let detected = p_value < DETECTION_THRESHOLD;
    let payload = decoded.filter(|_| detected);
    let frame_s = crate::layout::FRAME_S / 2.0;
    let clip_start_in_block = (phase * 2) as f64 * frame_s
        - (offset as f64 / f64::from(DETECT_RATE))
        - parity as f64 * frame_s;
    Ok(Detection {
        detected,
        p_value,
        z,
        hypotheses,
        payload,
        block_offset_s: clip_start_in_block.rem_euclid(BLOCK_PAIRS as f64 * 2.0 * frame_s),
    })
}
