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
    /// Where the clip's first sample falls in the mark's repeating 8 s block, in seconds
    /// (of the clip with its speed change undone).
    pub block_offset_s: f64,
    /// The speed change undone: original seconds per clip second (1 when the clip was
    /// read as it is).
    pub speed: f64,
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

/// Speed changes searched by [`detect_blind`] when the clip as it is shows no mark: +-5 %
/// (issue 14), original seconds per clip second.
pub const SPEED_SPAN: f64 = 0.05;
/// Coarse speed step: 0.2 %. Within one 8 s block a speed error of half a step drifts by
/// 8 ms (under half a 20 ms frame) and moves a 3.4 kHz bin by 3.4 Hz (a seventh of a
/// 25 Hz bin), so the sync still shows on single blocks.
const SPEED_STEP: f64 = 0.002;
/// Fine speed step around the best coarse speed, over the whole clip: 0.02 %, a drift of
/// 6 ms per 60 s at half a step.
const SPEED_FINE: f64 = 0.000_2;
/// Blocks of the clip read in the coarse search (each 8 s): enough for its sync to stand
/// out of the chance maximum, few enough to keep the search cheap.
const COARSE_BLOCKS: usize = 3;

/// A sync hypothesis: (z, phase, grid offset, parity, folded values).
type Sync = (f64, usize, usize, usize, Folded);

/// The best sync hypothesis over one signal at the detection rate.
fn best_sync(signal: &[f32], stft: &Stft, layout: &Layout) -> Option<Sync> {
    let hop = stft.hop();
    let mut best: Option<Sync> = None;
    for sub in 0..SUB_OFFSETS {
        let offset = sub * hop / SUB_OFFSETS;
        let spec = LogSpectrogram::compute(signal, stft, offset);
        for parity in 0..2 {
            let folded = Folded::new(&pair_values(&spec, parity));
            let (z, phase) = (0..BLOCK_PAIRS)
                .map(|phase| (folded.sync_z(layout, phase), phase))
                .fold((f64::NEG_INFINITY, 0), |a, b| if b.0 > a.0 { b } else { a });
            if best.as_ref().is_none_or(|b| z > b.0) {
                best = Some((z, phase, offset, parity, folded));
            }
        }
    }
    best
}

/// The clip with a speed change of `speed` (original seconds per clip second) undone.
fn unspeed(signal: &[f32], speed: f64) -> Result<Vec<f32>, WatermarkError> {
    Ok(tracemark_dsp::stretch(signal, speed)?)
}

/// Speeds of a grid of `step` over +-[`SPEED_SPAN`] around 1, the identity left out.
fn speed_grid(centre: f64, span: f64, step: f64) -> impl Iterator<Item = f64> {
    let n = (span / step).round() as i32;
    (-n..=n)
        .filter(|&i| i != 0)
        .map(move |i| centre + f64::from(i) * step)
}

/// Searches `audio` for a mark of `key` without the original, reading the clip at its own
/// speed ([`detect_blind_searching_speed`] also undoes a speed change).
pub fn detect_blind(audio: &AudioBuffer, key: &WatermarkKey) -> Result<Detection, WatermarkError> {
    blind(audio, key, false)
}

/// Like [`detect_blind`], and when the clip as it is shows no mark, a speed change of up to
/// +-[`SPEED_SPAN`] is searched: every coarse speed on the clip's first blocks, then fine
/// speeds around the best over the whole clip. The p-value is then corrected for every
/// speed the search could have ended at, as well as every grid offset and phase.
///
/// Slow: about 11 s for a 60 s clip without a mark (5-6x real time, measured with the
/// `timescale` example), so it is not the default.
pub fn detect_blind_searching_speed(
    audio: &AudioBuffer,
    key: &WatermarkKey,
) -> Result<Detection, WatermarkError> {
    blind(audio, key, true)
}

fn blind(
    audio: &AudioBuffer,
    key: &WatermarkKey,
    search_speed: bool,
) -> Result<Detection, WatermarkError> {
    if audio.duration_s() < MIN_SECONDS {
        return Err(WatermarkError::TooShort {
            seconds: audio.duration_s(),
            minimum_s: MIN_SECONDS,
        });
    }
    let signal = to_detect_rate(audio)?;
    let stft = Stft::new((f64::from(DETECT_RATE) * crate::layout::FRAME_S) as usize);
    let coder = PayloadCoder::new(key);
    let layout = Layout::new(key, coder.coded_len());
    let per_speed = SUB_OFFSETS * 2 * BLOCK_PAIRS;
    let too_short = || WatermarkError::TooShort {
        seconds: audio.duration_s(),
        minimum_s: MIN_SECONDS,
    };
    let identity = best_sync(&signal, &stft, &layout).ok_or_else(too_short)?;
    let as_is = finish(identity, 1.0, per_speed, &layout, &coder);
    if as_is.detected || !search_speed {
        return Ok(as_is);
    }
    // Coarse: each speed on the first blocks of the clip, scored by the sum of the
    // blocks' own best z (each block may sit at its own grid offset after a small error).
    let block = BLOCK_PAIRS * 2 * stft.hop();
    let coarse = speed_grid(1.0, SPEED_SPAN, SPEED_STEP)
        .map(|speed| -> Result<(f64, f64), WatermarkError> {
            let piece = &signal[..signal.len().min(COARSE_BLOCKS * block)];
            let restored = unspeed(piece, speed)?;
            let z: f64 = restored
                .chunks(block)
                .filter(|c| c.len() >= block / 2)
                .filter_map(|c| best_sync(c, &stft, &layout).map(|b| b.0))
                .sum();
            Ok((speed, z))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let Some(&(centre, _)) = coarse.iter().max_by(|a, b| a.1.total_cmp(&b.1)) else {
        return Ok(as_is);
    };
    // Fine: speeds around the best coarse one, each over the whole clip. Every speed of
    // the fine grid around any coarse speed could have been the one tested: the p-value is
    // corrected for all of them.
    let mut best: Option<(f64, Sync)> = None;
    for speed in std::iter::once(centre).chain(speed_grid(centre, SPEED_STEP, SPEED_FINE)) {
        let restored = unspeed(&signal, speed)?;
        if let Some(b) = best_sync(&restored, &stft, &layout)
            && best.as_ref().is_none_or(|x| b.0 > x.1.0)
        {
            best = Some((speed, b));
        }
    }
    let Some((speed, found)) = best else {
        return Ok(as_is);
    };
    let speeds = 1 + (2.0 * (SPEED_SPAN + SPEED_STEP) / SPEED_FINE).round() as usize;
    let searched = finish(found, speed, per_speed * speeds, &layout, &coder);
    Ok(if searched.detected { searched } else { as_is })
}

/// The detection reported for the best hypothesis at `speed`, corrected for `hypotheses`.
fn finish(
    (z, phase, offset, parity, folded): Sync,
    speed: f64,
    hypotheses: usize,
    layout: &Layout,
    coder: &PayloadCoder,
) -> Detection {
    let decoded = folded.decode(layout, coder, phase);
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
    Detection {
        detected,
        p_value,
        z,
        hypotheses,
        payload,
        block_offset_s: clip_start_in_block.rem_euclid(BLOCK_PAIRS as f64 * 2.0 * frame_s),
        speed,
    }
}
