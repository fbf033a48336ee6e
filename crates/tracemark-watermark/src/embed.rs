//! Embedding: multiply the magnitude of every cell of the band by `exp(+-strength)`,
//! opposite signs in the two frames of a pair, following the keyed layout.
//!
//! A multiplicative change follows the host's own spectrum, so the mark is as loud as the
//! signal lets it be in each cell (the masking principle of Cox et al., "Secure spread
//! spectrum watermarking for multimedia", IEEE Trans. Image Proc. 6(12), 1997) and nothing
//! is added to silence.

use tracemark_dsp::limit::{LimitReport, add_limited, ceiling_for};
use tracemark_dsp::{AudioBuffer, Complex32, Stft, StftScratch, resample};

use crate::WatermarkError;
use crate::analysis::{frame_gates, frame_starts, level_boost};
use crate::blind::{DETECT_RATE, to_detect_rate};
use crate::key::WatermarkKey;
use crate::layout::{BAND_BINS, BAND_LO, FRAME_S, Layout, Role, SLOT_PAIRS};
use crate::payload::{Payload, PayloadCoder};

/// Embedding settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EmbedParams {
    /// Log-magnitude change per cell (0.05 = +-0.43 dB).
    pub strength: f32,
}

impl Default for EmbedParams {
    fn default() -> Self {
        Self { strength: 0.05 }
    }
}

/// What to embed: a payload for the blind layer and, optionally, one symbol per slot for
/// the codeword layer (slot `j` covers pairs `2j, 2j+1`, that is 80 ms starting at
/// `j * 0.08` s). Missing symbols (a codeword shorter than the audio) wrap around.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    /// The blind payload.
    pub payload: Payload,
    /// The per-slot symbols, if any.
    pub symbols: Option<&'a [bool]>,
}

/// Frame length in samples at `rate`, if the rate puts bins exactly 25 Hz apart.
pub fn frame_len(rate: u32) -> Result<usize, WatermarkError> {
    let n = f64::from(rate) * FRAME_S;
    if !rate.is_multiple_of(25) || n.fract() != 0.0 {
        return Err(WatermarkError::RateNotOnGrid { hz: rate });
    }
    Ok(n as usize)
}

/// Number of codeword symbols a recording of `frames` samples at `rate` carries.
pub fn symbol_count(frames: usize, rate: u32) -> Result<usize, WatermarkError> {
    let hop = frame_len(rate)? / 2;
    let pairs = frames.div_ceil(2 * hop);
    Ok(pairs.div_ceil(SLOT_PAIRS))
}

/// Embeds `message` into `audio` with `key`.
///
/// The marked copy never goes past the original's own peak, nor past -0.1 dBFS where the
/// original comes closer to full scale than that: around a sample where the mark would, the
/// mark alone is faded out over
/// [`LIMITER_HALF_WINDOW_S`] either side by a look-ahead limiter
/// ([`tracemark_dsp::limit`]); the host keeps every sample and the mark is untouched
/// elsewhere. The copy carries the original's [`AudioBuffer::source_format`], so an encoder
/// can keep it.
pub fn embed(
    audio: &AudioBuffer,
    key: &WatermarkKey,
    message: &Message<'_>,
    params: &EmbedParams,
) -> Result<AudioBuffer, WatermarkError> {
    embed_reporting(audio, key, message, params).map(|(marked, _)| marked)
}

/// Half-width of the limiter's smoothing around an overshoot: 5 ms, an eighth of a 40 ms
/// frame, so a faded stretch (at most 4 x 5 ms = 20 ms wide) takes out less than half a
/// frame's mark, while the gain ramps over 240 samples at 48 kHz (a triangular ramp whose
/// spectrum falls off as `sinc^2`, well inside the host's masking at a peak).
pub const LIMITER_HALF_WINDOW_S: f64 = 0.005;

/// What [`embed_reporting`] did besides marking.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct EmbedReport {
    /// What the peak limiter did to the mark.
    pub limiter: LimitReport,
}

/// [`embed`], also saying what the limiter did (for measurement and logs).
pub fn embed_reporting(
    audio: &AudioBuffer,
    key: &WatermarkKey,
    message: &Message<'_>,
    params: &EmbedParams,
) -> Result<(AudioBuffer, EmbedReport), WatermarkError> {
    check(audio.rate().hz(), message, params)?;
    let rate = audio.rate().hz();
    // The mark lives below 3400 Hz, so it is computed at the detection rate (8 kHz, where
    // frames are 320 samples) and only its difference is brought back to the input's rate:
    // the costly transforms never run at 44.1 or 48 kHz.
    let stft = detect_stft();
    let hop = stft.hop();
    let mix = to_detect_rate(audio)?;
    let mut scratch = stft.scratch();
    let mix_band = band_spectra(&mix, &stft, &mut scratch);
    let energies: Vec<f64> = mix_band
        .chunks_exact(BAND_BINS)
        .map(|row| row.iter().map(|c| f64::from(c.norm_sqr())).sum())
        .collect();
    let gates = frame_gates(&energies);

    // The gain offset of every cell of every frame, computed once and applied to each
    // channel so that all channels (and so any downmix) carry the same mark.
    let frames = gates.len();
    let mut gains = vec![0.0f32; frames * BAND_BINS];
    let marker = Marker::new(key, message, params);
    for f in 0..frames {
        marker.frame_gains(
            f,
            gates[f],
            &mix_band[f * BAND_BINS..(f + 1) * BAND_BINS],
            &mut gains[f * BAND_BINS..(f + 1) * BAND_BINS],
        );
    }

    let mut out_channels = Vec::with_capacity(audio.channel_count());
    let mut marked = vec![Default::default(); stft.len() / 2 + 1];
    for channel in audio.channels() {
        // Mono: the mix is the channel, and its spectra are already at hand.
        let own;
        let (band, len) = if audio.channel_count() == 1 {
            (&mix_band, mix.len())
        } else {
            let narrow = resample(channel, rate, DETECT_RATE)?;
            own = band_spectra(&narrow, &stft, &mut scratch);
            (&own, narrow.len())
        };
        let mut delta = vec![0.0f32; len];
        for (f, start) in frame_starts(len, hop, 0).enumerate() {
            let row = &gains[f * BAND_BINS..(f + 1) * BAND_BINS];
            if row.iter().all(|&g| g == 0.0) {
                continue;
            }
            let spec = &band[f * BAND_BINS..(f + 1) * BAND_BINS];
            // The inverse transform works in place: clear what the last frame left.
            marked.fill(Default::default());
            for (k, (g, x)) in row.iter().zip(spec).enumerate() {
                marked[BAND_LO + k] = x * *g;
            }
            stft.synthesize_add(&mut marked, start as isize, &mut delta, &mut scratch);
        }
        out_channels.push(resample(&delta, DETECT_RATE, rate)?);
    }
    let peak = audio
        .channels()
        .iter()
        .flatten()
        .fold(0.0f32, |m, x| m.max(x.abs()));
    let (out_channels, limiter) = add_limited(
        audio.channels(),
        out_channels,
        ceiling_for(peak),
        limiter_half_window(rate),
    );
    let marked =
        AudioBuffer::try_new(audio.rate(), out_channels)?.with_source_format(audio.source_format());
    Ok((marked, EmbedReport { limiter }))
}

/// The checks [`embed_reporting`] makes before it reads any audio.
pub(crate) fn check(
    rate: u32,
    message: &Message<'_>,
    params: &EmbedParams,
) -> Result<(), WatermarkError> {
    if !(params.strength > 0.0 && params.strength <= 0.5) {
        return Err(WatermarkError::BadStrength {
            strength: params.strength,
        });
    }
    if matches!(message.symbols, Some(s) if s.is_empty()) {
        return Err(WatermarkError::EmptyCodeword);
    }
    frame_len(rate)?;
    Ok(())
}

/// The STFT the mark is computed with: 40 ms frames at the detection rate.
pub(crate) fn detect_stft() -> Stft {
    Stft::new((f64::from(DETECT_RATE) * FRAME_S) as usize)
}

/// [`LIMITER_HALF_WINDOW_S`] in samples at `rate`.
pub(crate) fn limiter_half_window(rate: u32) -> usize {
    (LIMITER_HALF_WINDOW_S * f64::from(rate)).round() as usize
}

/// What decides every cell's gain: the keyed layout, the coded payload, the codeword and
/// the strength.
#[derive(Debug, Clone)]
pub(crate) struct Marker {
    layout: Layout,
    coded: Vec<f32>,
    symbols: Option<Vec<bool>>,
    strength: f32,
}

impl Marker {
    pub(crate) fn new(key: &WatermarkKey, message: &Message<'_>, params: &EmbedParams) -> Self {
        let coder = PayloadCoder::new(key);
        let layout = Layout::new(key, coder.coded_len());
        let coded = coder
            .encode(&message.payload)
            .iter()
            .map(|&b| if b { 1.0 } else { -1.0 })
            .collect();
        Self {
            layout,
            coded,
            symbols: message.symbols.map(<[bool]>::to_vec),
            strength: params.strength,
        }
    }

    /// Writes into `gains` the gain offset (`exp(+-alpha) - 1`) of every band cell of frame
    /// `f`, whose gate is `gate` and whose band spectrum (of the downmix) is `row`; all zero
    /// for a silent frame.
    pub(crate) fn frame_gains(&self, f: usize, gate: f32, row: &[Complex32], gains: &mut [f32]) {
        let alpha = self.strength * gate;
        if alpha == 0.0 {
            gains.fill(0.0);
            return;
        }
        let pair = f / 2;
        let parity = if f.is_multiple_of(2) { 1.0 } else { -1.0 };
        let slot = pair / SLOT_PAIRS;
        let peak = row.iter().map(|c| c.norm_sqr()).fold(0.0f32, f32::max);
        for k in 0..BAND_BINS {
            let alpha = alpha * level_boost(peak, row[k].norm_sqr());
            let cell = self.layout.cell(pair, k);
            let value = match cell.role {
                Role::Sync => 1.0,
                Role::Data(b) => self.coded[b as usize],
                Role::Symbol(b) => match &self.symbols {
                    Some(symbols) => {
                        if symbols[slot % symbols.len()] {
                            1.0
                        } else {
                            -1.0
                        }
                    }
                    None => self.coded[b as usize],
                },
            };
            gains[k] = (alpha * parity * cell.sign * value).exp() - 1.0;
        }
    }
}

/// The marked band of every frame of `signal` (frame `f` starts at `f * hop`), row-major
/// `frames x BAND_BINS`.
fn band_spectra(signal: &[f32], stft: &Stft, scratch: &mut StftScratch) -> Vec<Complex32> {
    let mut out = Vec::new();
    for start in frame_starts(signal.len(), stft.hop(), 0) {
        let spec = stft.analyze(signal, start as isize, scratch);
        out.extend_from_slice(&spec[BAND_LO..BAND_LO + BAND_BINS]);
    }
    out
}
