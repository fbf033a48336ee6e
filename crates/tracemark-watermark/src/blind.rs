//! Blind detection: no original, unknown position. Searches every grid offset, pair parity
//! and block phase, scores the sync pattern, and corrects the best score's false-alarm bound
//! for the number of hypotheses tried (Bonferroni).

use tracemark_dsp::{AudioBuffer, Stft, resample};

use crate::WatermarkError;
use crate::align::ScaleKind;
use crate::analysis::{DenseSpectrogram, LogSpectrogram};
use crate::evidence::{Folded, combined_p, hoeffding_p};
use crate::key::WatermarkKey;
use crate::layout::{BAND_BINS, BLOCK_PAIRS, Layout};
use crate::payload::{Payload, PayloadCoder};
use crate::sync::SyncSearch;
use crate::whiten::{Whitener, whiten_rows};

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
    /// The time scale undone: original seconds per clip second (1 when the clip was
    /// read as it is).
    pub speed: f64,
    /// What kind of change [`Detection::speed`] undid: [`ScaleKind::None`] when the clip
    /// was read as it is, [`ScaleKind::Speed`] (resampled: pitch moved with time) or
    /// [`ScaleKind::Tempo`] (pitch kept).
    pub scale_kind: ScaleKind,
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
///
/// `whitener`, when given, is a predictor fitted on another reading of the same clip, used
/// instead of one fitted to these values.
fn pair_values(spec: &LogSpectrogram, parity: usize, whitener: Option<&Whitener>) -> Vec<f32> {
    let (mut out, gates) = pair_differences(spec, parity);
    match whitener {
        Some(w) => w.apply(&mut out, BAND_BINS),
        None => whiten_rows(&mut out, BAND_BINS),
    }
    for (row, w) in out.chunks_exact_mut(BAND_BINS).zip(gates) {
        for v in row {
            *v = v.clamp(-CLIP, CLIP) * w;
        }
    }
    out
}

/// The clipped differences of each pair's frames (zero where the pair is silent) and the
/// pairs' gates: the first step of [`pair_values`].
fn pair_differences(spec: &LogSpectrogram, parity: usize) -> (Vec<f32>, Vec<f32>) {
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
    (out, gates)
}

/// Speed and tempo changes searched by [`detect_blind_searching_speed`] when the clip as
/// it is shows no mark: +-5 % (issue 14), original seconds per clip second.
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
/// The speed and tempo search reads at most this much of the clip (the fine search and
/// the final reading included): two minutes hold a mark many times over, and the dense
/// spectrogram it reads from (about 250 kB a second) stays bounded for any clip.
pub const SPEED_SEARCH_S: f64 = 120.0;

/// A sync hypothesis: (z, phase, grid offset, parity, folded values).
type Sync = (f64, usize, usize, usize, Folded);

/// The best sync hypothesis over spectrograms at grid offsets: each offset's spectrogram
/// is made by `spectrogram` (`None`: no frames there).
fn best_sync(
    search: &SyncSearch,
    hop: usize,
    whitener: Option<&Whitener>,
    mut spectrogram: impl FnMut(usize) -> LogSpectrogram,
) -> Option<Sync> {
    let mut best: Option<Sync> = None;
    for sub in 0..SUB_OFFSETS {
        let offset = sub * hop / SUB_OFFSETS;
        let spec = spectrogram(offset);
        if spec.frames() < 2 {
            continue;
        }
        for parity in 0..2 {
            let folded = Folded::new(&pair_values(&spec, parity, whitener));
            let (z, phase) = search.best(&folded);
            if best.as_ref().is_none_or(|b| z > b.0) {
                best = Some((z, phase, offset, parity, folded));
            }
        }
    }
    best
}

/// Speeds of a grid of `step` over +-`span` around `centre`, the centre left out.
fn speed_grid(centre: f64, span: f64, step: f64) -> impl Iterator<Item = f64> {
    let n = (span / step).round() as i32;
    (-n..=n)
        .filter(|&i| i != 0)
        .map(move |i| centre + f64::from(i) * step)
}

/// Searches `audio` for a mark of `key` without the original, reading the clip at its own
/// speed ([`detect_blind_searching_speed`] also undoes a speed or tempo change).
pub fn detect_blind(audio: &AudioBuffer, key: &WatermarkKey) -> Result<Detection, WatermarkError> {
    blind(audio, key, false)
}

/// Like [`detect_blind`], and when the clip as it is shows no mark, a speed change
/// (resampling: time and pitch together) or a tempo change (pitch kept) of up to
/// +-[`SPEED_SPAN`] is searched on the first [`SPEED_SEARCH_S`] of the clip: every coarse
/// speed on the clip's first blocks, then fine speeds around the best of each kind over
/// the whole stretch. Each hypothesis is read from one dense spectrogram of the clip
/// (`DenseSpectrogram::warp`), not by resampling the clip. The p-value is then corrected
/// for every speed of either kind the search could have ended at, as well as every grid
/// offset and phase. When nothing is found, the reading reported is the hypothesis with the
/// largest z of all (the clip as it is, or the search's best), with that same correction:
/// its `hypotheses` say that the search ran.
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
    let search = SyncSearch::new(&layout);
    let hop = stft.hop();
    let per_speed = SUB_OFFSETS * 2 * BLOCK_PAIRS;
    let too_short = || WatermarkError::TooShort {
        seconds: audio.duration_s(),
        minimum_s: MIN_SECONDS,
    };
    let identity = best_sync(&search, hop, None, |offset| {
        LogSpectrogram::compute(&signal, &stft, offset)
    })
    .ok_or_else(too_short)?;
    let as_is = finish(
        identity.clone(),
        1.0,
        ScaleKind::None,
        per_speed,
        &layout,
        &coder,
    );
    if as_is.detected || !search_speed {
        return Ok(as_is);
    }
    let identity_z = identity.0;
    let search_len = (SPEED_SEARCH_S * f64::from(DETECT_RATE)) as usize;
    let piece = &signal[..signal.len().min(search_len)];
    let dense = DenseSpectrogram::compute(piece, &stft);
    // One predictor for every warp: fitted on the stretch as it is.
    let whitener = Whitener::fit(
        &pair_differences(&LogSpectrogram::compute(piece, &stft, 0), 0).0,
        BAND_BINS,
    );
    let whitener = whitener.as_ref();
    let block = BLOCK_PAIRS * 2;
    let mut best: Option<(f64, ScaleKind, Sync)> = None;
    for kind in [ScaleKind::Speed, ScaleKind::Tempo] {
        let freq = |speed: f64| if kind == ScaleKind::Speed { speed } else { 1.0 };
        // Coarse: each speed on the first blocks of the clip, scored by the sum of the
        // blocks' own best z (each block may sit at its own grid offset after a small
        // error).
        let coarse = speed_grid(1.0, SPEED_SPAN, SPEED_STEP).map(|speed| {
            let z: f64 = (0..COARSE_BLOCKS)
                .filter(|c| dense.restored_frames(speed, 0) >= c * block + block / 2)
                .filter_map(|c| {
                    best_sync(&search, hop, whitener, |offset| {
                        dense.warp(speed, freq(speed), offset, c * block..(c + 1) * block)
                    })
                    .map(|b| b.0)
                })
                .sum();
            (speed, z)
        });
        let Some((centre, _)) = coarse.max_by(|a, b| a.1.total_cmp(&b.1)) else {
            continue;
        };
        // Fine: speeds around the best coarse one, each over the whole stretch searched.
        // Every speed of the fine grid around any coarse speed could have been the one
        // tested: the p-value is corrected for all of them.
        for speed in std::iter::once(centre).chain(speed_grid(centre, SPEED_STEP, SPEED_FINE)) {
            if let Some(b) = best_sync(&search, hop, whitener, |offset| {
                dense.warp(speed, freq(speed), offset, 0..usize::MAX)
            }) && best.as_ref().is_none_or(|x| b.0 > x.2.0)
            {
                best = Some((speed, kind, b));
            }
        }
    }
    let Some((speed, kind, found)) = best else {
        return Ok(as_is);
    };
    let speeds_per_kind = 1 + (2.0 * (SPEED_SPAN + SPEED_STEP) / SPEED_FINE).round() as usize;
    let hypotheses = per_speed * (1 + 2 * speeds_per_kind);
    let searched = finish(found, speed, kind, hypotheses, &layout, &coder);
    if searched.detected || searched.z > identity_z {
        return Ok(searched);
    }
    // Nothing anywhere: the reading as it is, but its p-value corrected for every
    // hypothesis that was tried, as the search's own is (the statistic is the largest z of
    // them all, here the unwarped one's).
    Ok(finish(
        identity,
        1.0,
        ScaleKind::None,
        hypotheses,
        &layout,
        &coder,
    ))
}

/// The detection reported for the best hypothesis at `speed`, corrected for `hypotheses`.
fn finish(
    (z, phase, offset, parity, folded): Sync,
    speed: f64,
    scale_kind: ScaleKind,
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
        scale_kind,
    }
}
