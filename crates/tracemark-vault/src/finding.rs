//! What a trace finds when nobody is accused (issue 14 item 6; docs/design/finding.md).
//!
//! Either the leak carries this vault's mark and the evidence cannot yet pin it on a copy
//! (then: about how many more seconds would be needed), or it carries no issued copy's
//! mark, and then the statement's power: how often an issued copy, pushed through the
//! channel the leak went through, would have been named. The power is estimated by
//! simulation: fresh codewords (issued to nobody) are embedded in the matched stretch of the
//! original as the vault embeds a copy, the mark's difference is passed through the channel
//! estimated from the leak against the original and added to the leak itself (so the
//! channel's noise and damage are the leak's own), and each simulated leak is read and
//! scored exactly as the trace scored the real one.

use tracemark_dsp::{AudioBuffer, SampleRate, Stft, resample, stretch};
use tracemark_tardos::{
    AccusationConfig, Biases, Codeword, Observations, Screen, default_score_functions,
};
use tracemark_types::{Finding, FindingKind, PRESENCE_LEVEL, Power, TraceReport};
use tracemark_watermark::{
    DETECT_RATE, EmbedParams, Message, OriginalExcerpt, Payload, ReferenceLevels, WatermarkKey,
    detect_informed_excerpt, embed,
};

use crate::VaultError;

/// Simulated copies per power estimate: the 95 % Wilson interval of 100 of 100 named is
/// 0.963-1; cost is this many embeddings and detections of the matched stretch.
pub const POWER_TRIALS: usize = 100;

/// Seconds per codeword slot (docs/design/watermark.md section 2).
pub const SLOT_S: f64 = 0.08;

/// The watermark's block, seconds: the layout repeats every block, so a stretch of the
/// original cut at a block boundary is marked exactly as the whole recording is there.
const BLOCK_S: f64 = 8.0;

/// Recordings up to this long (seconds) are marked whole in each trial, as a copy is, and
/// the matched stretch cut from the result: the embedder's loudness gate is relative to the
/// whole recording's loud frames, which a crop would change. Longer ones are marked on the
/// crop alone, so the work stays bounded.
const WHOLE_EMBED_S: f64 = 600.0;

/// How far the fingerprint map's placement of a stretch is searched for the exact lag.
const LAG_SEARCH_S: f64 = 0.1;

/// At most this much of a stretch is cross-correlated to find its lag.
const LAG_WINDOW_S: f64 = 4.0;

/// The channel's estimated gain per bin is clamped to `[0, MAX_GAIN]`.
const MAX_GAIN: f32 = 1.5;

/// Bins either side pooled into one bin's gain (25 Hz bins: +-100 Hz).
const GAIN_SMOOTH_BINS: usize = 4;

/// What the finding needs from the trace besides the report.
pub(crate) struct Evidence<'a> {
    pub leak: &'a AudioBuffer,
    /// The stretch of the original's detection reference the trace read (`None` when
    /// nothing of the leak matched it).
    pub original: Option<&'a crate::reference::Excerpt>,
    pub key: &'a WatermarkKey,
    pub biases: &'a Biases,
    pub observations: &'a Observations,
    /// Issued recipients scored (the Bonferroni count the simulated copies face too).
    pub recipients: usize,
    /// The false-accusation bound and the recordings it was corrected for.
    pub bound: f64,
    pub recordings: u64,
    /// Names the simulated codewords' seeds (the recording's id): deterministic, and
    /// drawn under a label no issued codeword uses.
    pub label: String,
}

/// The audio finding of a scored trace whose recording was identified.
pub(crate) fn audio_finding(report: &TraceReport, ev: &Evidence<'_>) -> Finding {
    let mut finding = Finding {
        kind: FindingKind::NoIssuedCopy,
        presence_level: PRESENCE_LEVEL,
        power: None,
        more_seconds_needed: None,
    };
    if report.accused().next().is_some() {
        finding.kind = FindingKind::Accused;
    } else if report
        .watermark_p_value
        .is_some_and(|p| p <= PRESENCE_LEVEL)
    {
        finding.kind = FindingKind::MarkedUnresolved;
        finding.more_seconds_needed = more_seconds_needed(report, ev);
    } else if ev.recipients > 0 {
        // A failed simulation leaves the power unstated rather than failing the trace.
        finding.power = power(report, ev, POWER_TRIALS).ok().flatten();
    }
    finding
}

/// The accusation needs `ln(tests / bound)` nats against the best recipient; the evidence
/// per observed slot is the best recipient's so far (`-ln p / slots`) or, when it has none,
/// the expected log-likelihood ratio per slot at the amplitude estimated from the leak
/// (`2 mu^2 p (1 - p)`, small-`mu` expansion). Optimistic for a coalition; an estimate.
fn more_seconds_needed(report: &TraceReport, ev: &Evidence<'_>) -> Option<f64> {
    let seen = ev.observations.observed();
    if seen == 0 || report.tests <= 0.0 {
        return None;
    }
    let need = (report.tests / report.bound).ln();
    let best = report
        .standings
        .iter()
        .map(|s| s.p_value)
        .fold(1.0f64, f64::min);
    let per_slot_best = -best.ln() / seen as f64;
    let p = ev.biases.as_slice();
    let pq = ev
        .observations
        .iter_observed()
        .filter_map(|(i, _)| p.get(i).map(|p| p * (1.0 - p)))
        .sum::<f64>()
        / seen as f64;
    let mu = ev.observations.amplitude_estimate();
    let per_slot = if per_slot_best > 0.0 {
        per_slot_best
    } else {
        2.0 * mu * mu * pq
    };
    if per_slot <= 0.0 || !per_slot.is_finite() {
        return None;
    }
    let slots = need / per_slot;
    Some(((slots - seen as f64) * SLOT_S).max(0.0))
}

/// One genuine stretch of the leak, placed on the cropped original.
struct Piece {
    /// The leak's samples (8 kHz) this stretch covers.
    leak: std::ops::Range<usize>,
    /// The crop's samples read for it (with the search margin).
    orig: std::ops::Range<usize>,
    /// Leak samples per original sample.
    ratio: f64,
    /// Where leak sample `leak.start` falls in the stretched original piece.
    lag: usize,
    /// The channel's gain per STFT bin.
    gain: Vec<f32>,
}

/// The leak, the matched stretch of the original and the channel between them.
struct Channel {
    leak: Vec<f32>,
    /// The original's reference (8 kHz) where the leak matched it, from a block boundary.
    crop: Vec<f32>,
    /// The block the crop starts at, and the whole recording's levels.
    first_block: usize,
    levels: ReferenceLevels,
    /// What each trial marks: the whole recording (8 kHz) or, past [`WHOLE_EMBED_S`], the crop.
    host: AudioBuffer,
    /// The host's first slot in the recording.
    host_first_slot: usize,
    /// The crop's samples within the host.
    crop_in_host: std::ops::Range<usize>,
    pieces: Vec<Piece>,
    segments: Vec<(f64, f64)>,
    stft: Stft,
}

/// Simulates `trials` issued copies through the leak's channel and counts those named.
/// `None` when the leak has no genuine stretch to simulate on.
pub(crate) fn power(
    report: &TraceReport,
    ev: &Evidence<'_>,
    trials: usize,
) -> Result<Option<Power>, VaultError> {
    let Some(channel) = Channel::estimate(report, ev)? else {
        return Ok(None);
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, 4);
    let counts: Vec<Result<usize, VaultError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let channel = &channel;
                scope.spawn(move || {
                    let mut named = 0;
                    for k in (t..trials).step_by(threads) {
                        if channel.trial(ev, k)? {
                            named += 1;
                        }
                    }
                    Ok(named)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(VaultError::Invalid {
                        what: "power simulation",
                        reason: "a simulation thread panicked".into(),
                    })
                })
            })
            .collect()
    });
    let mut named = 0;
    for c in counts {
        named += c?;
    }
    Ok(Some(Power::from_counts(named, trials)))
}

/// The seed of simulated copy `k`: SHA-256 of a label no issued codeword is drawn under
/// (those are HKDF outputs of the vault secret).
fn simulated_seed(label: &str, k: usize) -> [u8; 32] {
    tracemark_types::Sha256::digest(
        format!("tracemark/v1/finding/simulated/{label}/{k}").as_bytes(),
    )
    .0
}

fn at_detect_rate(audio: &AudioBuffer) -> Result<Vec<f32>, VaultError> {
    Ok(resample(&audio.downmix(), audio.rate().hz(), DETECT_RATE)?)
}

impl Channel {
    fn estimate(report: &TraceReport, ev: &Evidence<'_>) -> Result<Option<Self>, VaultError> {
        let rate = f64::from(DETECT_RATE);
        let genuine: Vec<(f64, f64, f64, f64)> = report
            .segments
            .iter()
            .filter(|s| s.genuine && s.leak_end_s - s.leak_start_s >= 1.0)
            .filter_map(|s| {
                s.original
                    .map(|(a, b)| (s.leak_start_s, s.leak_end_s, a, b))
            })
            .collect();
        if genuine.is_empty() {
            return Ok(None);
        }
        let Some(excerpt) = ev.original else {
            return Ok(None);
        };
        let leak = at_detect_rate(ev.leak)?;
        let original = &excerpt.samples;
        // Times are the whole recording's; the excerpt starts at a block boundary.
        let shift = excerpt.view().start_s();
        let lo = genuine.iter().map(|g| g.2).fold(f64::INFINITY, f64::min) - shift;
        let hi = genuine.iter().map(|g| g.3).fold(0.0f64, f64::max) - shift;
        let block = ((lo - 1.0).max(0.0) / BLOCK_S).floor() as usize;
        let crop_start = (block * (BLOCK_S * rate) as usize).min(original.len());
        let crop_end = (((hi + 1.0) * rate).ceil() as usize).clamp(crop_start, original.len());
        let crop = original[crop_start..crop_end].to_vec();
        let block = block + excerpt.first_block;
        let genuine: Vec<(f64, f64, f64, f64)> = genuine
            .into_iter()
            .map(|(c, d, a, b)| (c, d, a - shift, b - shift))
            .collect();
        let first_slot = block * (BLOCK_S / SLOT_S).round() as usize;
        let speed = report
            .speed
            .filter(|s| s.is_finite() && *s > 0.5 && (s - 1.0).abs() > 0.002)
            .unwrap_or(1.0);
        let stft = Stft::new((0.04 * rate) as usize);
        let mut pieces = Vec::new();
        for &(c, d, a, b) in &genuine {
            let margin = LAG_SEARCH_S * rate;
            let orig = ((a * rate - margin - crop_start as f64).max(0.0) as usize).min(crop.len())
                ..((b * rate + margin - crop_start as f64).max(0.0) as usize).min(crop.len());
            let leak_range =
                ((c * rate) as usize).min(leak.len())..((d * rate) as usize).min(leak.len());
            if orig.len() < stft.len() * 4 || leak_range.len() < stft.len() * 4 {
                continue;
            }
            let ratio = 1.0 / speed;
            let piece = stretched(&crop[orig.clone()], ratio)?;
            // Where leak time c falls in the stretched piece, by the map.
            let nominal = ((a * rate - crop_start as f64 - orig.start as f64) * ratio).max(0.0);
            let lag = best_lag(
                &leak[leak_range.clone()],
                &piece,
                nominal as usize,
                (margin * ratio) as usize,
            );
            let gain = transfer(&leak[leak_range.clone()], &piece, lag, &stft);
            pieces.push(Piece {
                leak: leak_range,
                orig,
                ratio,
                lag,
                gain,
            });
        }
        if pieces.is_empty() {
            return Ok(None);
        }
        let segments = genuine.iter().map(|g| (g.0, g.1)).collect();
        let detect_rate = SampleRate::try_new(DETECT_RATE)?;
        let (host, host_first_slot, crop_in_host) =
            if excerpt.whole && original.len() as f64 <= WHOLE_EMBED_S * rate {
                let range = crop_start..crop_start + crop.len();
                (AudioBuffer::mono(detect_rate, original.clone())?, 0, range)
            } else {
                let range = 0..crop.len();
                (
                    AudioBuffer::mono(detect_rate, crop.clone())?,
                    first_slot,
                    range,
                )
            };
        Ok(Some(Self {
            leak,
            crop,
            first_block: block,
            levels: excerpt.levels,
            host,
            host_first_slot,
            crop_in_host,
            pieces,
            segments,
            stft,
        }))
    }

    /// Simulated copy `k`: embedded, through the channel, read and scored. True if named.
    fn trial(&self, ev: &Evidence<'_>, k: usize) -> Result<bool, VaultError> {
        let seed = simulated_seed(&ev.label, k);
        let codeword = Codeword::draw(&seed, ev.biases);
        let symbols: Vec<bool> = codeword.symbols().skip(self.host_first_slot).collect();
        let mut payload = [0u8; 8];
        payload.copy_from_slice(&seed[..8]);
        let marked = embed(
            &self.host,
            ev.key,
            &Message {
                payload: Payload::from_bytes(payload),
                symbols: Some(&symbols),
            },
            &EmbedParams::default(),
        )?;
        let range = self.crop_in_host.clone();
        let host = &self.host.channels()[0][range.clone()];
        let mark: Vec<f32> = marked.channels()[0][range]
            .iter()
            .zip(host)
            .map(|(m, h)| m - h)
            .collect();
        let mut leak = self.leak.clone();
        for piece in &self.pieces {
            let through = self.filter(
                &stretched(&mark[piece.orig.clone()], piece.ratio)?,
                &piece.gain,
            );
            for (i, s) in leak[piece.leak.clone()].iter_mut().enumerate() {
                if let Some(w) = through.get(i + piece.lag) {
                    *s += w;
                }
            }
        }
        let leak = AudioBuffer::mono(SampleRate::try_new(DETECT_RATE)?, leak)?;
        // Read as the trace read the leak: against the crop, with the whole recording's
        // levels, slots numbered from the recording's start.
        let crop = OriginalExcerpt {
            samples: &self.crop,
            first_block: self.first_block,
            levels: self.levels,
        };
        let detection = detect_informed_excerpt(&leak, &crop, ev.key, &self.segments)?;
        let slots = ev.biases.len();
        let (mut soft, mut cells) = (vec![0.0f32; slots], vec![0u32; slots]);
        for s in detection.symbols.iter().filter(|s| s.slot < slots) {
            soft[s.slot] = s.z;
            cells[s.slot] = s.cells;
        }
        let observations = Observations::try_new(soft, cells)?;
        let functions = default_score_functions(&observations);
        // One codeword is screened, but the correction is the real trace's: recipients x
        // recordings x functions (the recipients counted as keys, the same product).
        let config = AccusationConfig::new(ev.bound)?
            .with_recordings_tested(ev.recordings)
            .with_keys_tried(ev.recipients.max(1) as u64);
        let screen = Screen::new(&observations, ev.biases, &functions, 1, &config, 1)?;
        let mut scan = screen.scan();
        scan.push_seed(0, &seed)?;
        Ok(!scan.finish()?.accused.is_empty())
    }

    /// `signal` with the channel's gain applied per bin (STFT, sqrt-Hann at 50 %, which
    /// reconstructs exactly at unit gain).
    fn filter(&self, signal: &[f32], gain: &[f32]) -> Vec<f32> {
        let mut out = vec![0.0f32; signal.len()];
        let mut scratch = self.stft.scratch();
        let hop = self.stft.hop() as isize;
        let mut start = -hop;
        while start < signal.len() as isize {
            let spectrum = self.stft.analyze(signal, start, &mut scratch);
            for (x, g) in spectrum.iter_mut().zip(gain) {
                *x *= *g;
            }
            let mut spectrum = spectrum.to_vec();
            self.stft
                .synthesize_add(&mut spectrum, start, &mut out, &mut scratch);
            start += hop;
        }
        out
    }
}

fn stretched(samples: &[f32], ratio: f64) -> Result<Vec<f32>, VaultError> {
    if ratio == 1.0 {
        Ok(samples.to_vec())
    } else {
        Ok(stretch(samples, ratio)?)
    }
}

/// The lag `l` (within `nominal +- search`) at which `piece[l + i]` best matches
/// `leak[i]`: normalised cross-correlation over at most [`LAG_WINDOW_S`] of the middle.
fn best_lag(leak: &[f32], piece: &[f32], nominal: usize, search: usize) -> usize {
    let window = ((LAG_WINDOW_S * f64::from(DETECT_RATE)) as usize).min(leak.len());
    let from = (leak.len() - window) / 2;
    let target = &leak[from..from + window];
    let lo = nominal.saturating_sub(search);
    let hi = (nominal + search).min(piece.len().saturating_sub(from + window));
    let mut best = (f64::NEG_INFINITY, nominal.min(hi));
    for l in lo..=hi {
        let seg = &piece[from + l..from + l + window];
        let (mut xy, mut yy) = (0.0f64, 0.0f64);
        for (x, y) in target.iter().zip(seg) {
            xy += f64::from(*x) * f64::from(*y);
            yy += f64::from(*y) * f64::from(*y);
        }
        let score = xy / yy.sqrt().max(1e-12);
        if score > best.0 {
            best = (score, l);
        }
    }
    best.1
}

/// The channel's gain per bin: `|sum conj(X) Y| / sum |X|^2` over the stretch's frames
/// (original `X`, leak `Y`), pooled over neighbouring bins. A fixed phase turn (delay
/// left over after the lag) does not lower it; independent noise averages out of it.
fn transfer(leak: &[f32], piece: &[f32], lag: usize, stft: &Stft) -> Vec<f32> {
    let bins = stft.bins();
    let (mut sxy_re, mut sxy_im, mut sxx) =
        (vec![0.0f64; bins], vec![0.0f64; bins], vec![0.0f64; bins]);
    let (mut sx, mut sy) = (stft.scratch(), stft.scratch());
    let hop = stft.hop();
    let aligned = &piece[lag.min(piece.len())..];
    let frames = leak.len().min(aligned.len()) / hop;
    for f in 0..frames.saturating_sub(1) {
        let x = stft.analyze(aligned, (f * hop) as isize, &mut sx);
        let y = stft.analyze(leak, (f * hop) as isize, &mut sy);
        for k in 0..bins {
            let (x, y) = (x[k], y[k]);
            let c = x.conj() * y;
            sxy_re[k] += f64::from(c.re);
            sxy_im[k] += f64::from(c.im);
            sxx[k] += f64::from(x.norm_sqr());
        }
    }
    (0..bins)
        .map(|k| {
            let range = k.saturating_sub(GAIN_SMOOTH_BINS)..(k + GAIN_SMOOTH_BINS + 1).min(bins);
            let re: f64 = sxy_re[range.clone()].iter().sum();
            let im: f64 = sxy_im[range.clone()].iter().sum();
            let xx: f64 = sxx[range].iter().sum();
            if xx <= 0.0 {
                0.0
            } else {
                ((re.hypot(im) / xx) as f32).clamp(0.0, MAX_GAIN)
            }
        })
        .collect()
}
