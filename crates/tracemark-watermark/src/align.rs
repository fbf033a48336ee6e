//! Aligning a clip to the original it came from: offset, time scale (a speed change, which
//! also scales pitch, or a tempo change, which does not), pitch (a pitch shift, which keeps
//! time) and local drift. Time from band-energy envelopes; frequency from the fine
//! structure of the aligned frames' spectra (voice harmonics), which a speed change and a
//! pitch shift move and a tempo change keeps. Uses the audio only, never the key, so it
//! cannot bias the mark's statistics.

use realfft::RealFftPlanner;
use tracemark_dsp::{Complex32, Stft, stretch};

use crate::WatermarkError;

/// Envelope hop for the global search: 20 ms at 8 kHz.
const COARSE_HOP: usize = 160;
/// Envelope hop for local refinement: 5 ms at 8 kHz.
const FINE_HOP: usize = 40;
/// Analysis window for envelopes: 32 ms at 8 kHz.
const ENV_WIN: usize = 256;
/// Number of log-spaced bands between 300 and 3400 Hz.
const BANDS: usize = 8;
/// Time-scale factors searched: +-16 % in 0.5 % steps (issue 14: speed and tempo changes
/// up to +-15 %), then refined in 0.05 % steps.
const SCALE_SPAN: f64 = 0.16;
const SCALE_STEP: f64 = 0.005;
const SCALE_FINE: f64 = 0.0005;
/// Local refinement: chunks of 1 s, searched +-40 ms around the global fit.
const CHUNK_S: f64 = 1.0;
const LOCAL_SEARCH: usize = 8;
/// A chunk matches when its envelope correlation is at least this (0..1). Below it the
/// chunk is treated as foreign material and carries no evidence.
pub const MATCH_SCORE: f32 = 0.5;

/// How the clip's time axis relates to the original's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScaleKind {
    /// No measurable time scaling.
    None,
    /// Resampled (speed and pitch changed together).
    Speed,
    /// Tempo changed with pitch kept.
    Tempo,
    /// Pitch shifted with time kept. The pitch is restored by resampling, which leaves a
    /// tempo change: the clip is read as after [`ScaleKind::Tempo`].
    Pitch,
}

impl ScaleKind {
    /// Whether the clip was cut and re-joined in short segments (WSOLA and its kin), so
    /// that each frame must be found on the waveform.
    pub fn is_segmented(self) -> bool {
        matches!(self, Self::Tempo | Self::Pitch)
    }
}

/// One matched point: clip time and original time, in seconds, and its match score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Anchor {
    /// Seconds into the clip (after undoing a speed change).
    pub clip_s: f64,
    /// Seconds into the original.
    pub original_s: f64,
    /// Envelope correlation, 0..1.
    pub score: f32,
}

/// The alignment of a clip to the original.
#[derive(Debug, Clone, PartialEq)]
pub struct Alignment {
    /// Original seconds per clip second (1.05: the clip plays 5 % faster).
    pub scale: f64,
    /// Speed, tempo, pitch or none of them.
    pub kind: ScaleKind,
    /// Original Hz per clip Hz as found, before the clip was resampled to undo it (1: the
    /// pitch was kept; 2^(-1/12): the clip was a semitone higher).
    pub freq_scale: f64,
    /// Where the clip's start falls in the original, seconds.
    pub offset_s: f64,
    /// Local matches, one per second of clip, in clip order.
    pub anchors: Vec<Anchor>,
    /// The global envelope correlation at the chosen fit.
    pub score: f32,
}

/// Multi-band log-energy envelope, each band with its running mean removed.
fn envelope(signal: &[f32], hop: usize) -> Vec<[f32; BANDS]> {
    let stft = Stft::new(ENV_WIN);
    let mut scratch = stft.scratch();
    let bin_hz = 8_000.0 / ENV_WIN as f64;
    let edges: Vec<usize> = (0..=BANDS)
        .map(|i| {
            let hz = 300.0 * (3400.0f64 / 300.0).powf(i as f64 / BANDS as f64);
            (hz / bin_hz).round() as usize
        })
        .collect();
    let mut env: Vec<[f32; BANDS]> = (0..signal.len().div_ceil(hop))
        .map(|i| {
            let spec = stft.analyze(
                signal,
                (i * hop) as isize - (ENV_WIN / 2) as isize,
                &mut scratch,
            );
            let mut row = [0.0f32; BANDS];
            for b in 0..BANDS {
                let e: f32 = spec[edges[b]..edges[b + 1].max(edges[b] + 1)]
                    .iter()
                    .map(|c| c.norm_sqr())
                    .sum();
                row[b] = (e + 1e-9).ln();
            }
            row
        })
        .collect();
    // Remove a +-0.5 s running mean per band (gain and slow colouring do not matter).
    let half = (4_000 / hop).max(1);
    let n = env.len();
    #[allow(clippy::needless_range_loop)] // b indexes a column across every row
    for b in 0..BANDS {
        let mut cum = vec![0.0f64; n + 1];
        for i in 0..n {
            cum[i + 1] = cum[i] + f64::from(env[i][b]);
        }
        let means: Vec<f32> = (0..n)
            .map(|i| {
                let lo = i.saturating_sub(half);
                let hi = (i + half + 1).min(n);
                ((cum[hi] - cum[lo]) / (hi - lo) as f64) as f32
            })
            .collect();
        for i in 0..n {
            env[i][b] -= means[i];
        }
    }
    env
}

/// Time-scales an envelope: output row `j` is the input at `j / scale`.
fn rescale(env: &[[f32; BANDS]], scale: f64) -> Vec<[f32; BANDS]> {
    let len = ((env.len() as f64) * scale).floor() as usize;
    (0..len)
        .map(|j| {
            let x = j as f64 / scale;
            let i = x.floor() as usize;
            let t = (x - i as f64) as f32;
            let a = env[i.min(env.len() - 1)];
            let b = env[(i + 1).min(env.len() - 1)];
            std::array::from_fn(|k| a[k] * (1.0 - t) + b[k] * t)
        })
        .collect()
}

/// Best lag (original index of clip row 0) and its normalised correlation.
fn best_lag(orig: &[[f32; BANDS]], clip: &[[f32; BANDS]]) -> (isize, f32) {
    let n = (orig.len() + clip.len()).next_power_of_two();
    let mut planner = RealFftPlanner::<f32>::new();
    let fwd = planner.plan_fft_forward(n);
    let inv = planner.plan_fft_inverse(n);
    let mut acc = vec![realfft::num_complex::Complex32::default(); n / 2 + 1];
    for b in 0..BANDS {
        let mut a: Vec<f32> = vec![0.0; n];
        let mut c: Vec<f32> = vec![0.0; n];
        for (i, r) in orig.iter().enumerate() {
            a[i] = r[b];
        }
        for (i, r) in clip.iter().enumerate() {
            c[i] = r[b];
        }
        let mut fa = fwd.make_output_vec();
        let mut fc = fwd.make_output_vec();
        // Buffers come from the plans, so lengths always match.
        let _ = fwd.process(&mut a, &mut fa);
        let _ = fwd.process(&mut c, &mut fc);
        for (s, (x, y)) in acc.iter_mut().zip(fa.iter().zip(&fc)) {
            *s += x * y.conj();
        }
    }
    let mut out = vec![0.0f32; n];
    let _ = inv.process(&mut acc, &mut out);
    // Lag L >= 0 at out[L]: clip row 0 at original row L. Negative lags wrap around.
    let clip_energy: f64 = clip
        .iter()
        .flat_map(|r| r.iter())
        .map(|v| f64::from(v * v))
        .sum();
    let row_energy: Vec<f64> = orig
        .iter()
        .map(|r| r.iter().map(|v| f64::from(v * v)).sum())
        .collect();
    let mut cum = vec![0.0f64; row_energy.len() + 1];
    for (i, e) in row_energy.iter().enumerate() {
        cum[i + 1] = cum[i] + e;
    }
    let mut best = (0isize, f32::NEG_INFINITY);
    for (idx, &v) in out.iter().enumerate() {
        let lag = if idx < orig.len() {
            idx as isize
        } else {
            idx as isize - n as isize
        };
        if lag <= -(clip.len() as isize) {
            continue;
        }
        let lo = lag.max(0) as usize;
        let hi = ((lag + clip.len() as isize).max(0) as usize).min(orig.len());
        if hi <= lo {
            continue;
        }
        let overlap = (hi - lo) as f64 / clip.len() as f64;
        if overlap < 0.5 {
            continue;
        }
        let denom = ((cum[hi] - cum[lo]) * clip_energy).sqrt();
        if denom <= 0.0 {
            continue;
        }
        let score = (f64::from(v) / n as f64 / denom) as f32;
        if score > best.1 {
            best = (lag, score);
        }
    }
    best
}

/// Global fit: (scale, offset in seconds, score).
fn global_fit(orig_env: &[[f32; BANDS]], clip_env: &[[f32; BANDS]]) -> (f64, f64, f32) {
    let hop_s = COARSE_HOP as f64 / 8_000.0;
    let eval = |scale: f64| {
        let (lag, score) = best_lag(orig_env, &rescale(clip_env, scale));
        (scale, lag as f64 * hop_s, score)
    };
    let steps = (SCALE_SPAN / SCALE_STEP).round() as i32;
    let mut best = (1.0, 0.0, f32::NEG_INFINITY);
    for i in -steps..=steps {
        let r = eval(1.0 + f64::from(i) * SCALE_STEP);
        if r.2 > best.2 {
            best = r;
        }
    }
    let centre = best.0;
    let fine = (SCALE_STEP / SCALE_FINE).round() as i32;
    for i in -fine..=fine {
        let r = eval(centre + f64::from(i) * SCALE_FINE);
        if r.2 > best.2 {
            best = r;
        }
    }
    best
}

/// Frequency ratios searched (original Hz per clip Hz): 0.85-1.18 holds a +-15 % speed
/// change and a +-2.2 semitone pitch shift (2^(2.2/12) = 1.135). Coarse log step 0.25 %,
/// then 0.05 %.
const FREQ_RANGE: (f64, f64) = (0.85, 1.18);
const FREQ_STEP: f64 = 0.0025;
const FREQ_FINE: f64 = 0.0005;
/// Frames for the frequency search: 64 ms (15.6 Hz bins, so that the harmonics of a voice
/// are resolved), one every 40 ms of clip.
const FREQ_WIN: usize = 512;
const FREQ_HOP: usize = 320;
/// Log-spaced points compared, over 250-3000 Hz (inside the telephone band after the
/// largest ratio).
const FREQ_POINTS: usize = 256;
const FREQ_LO_HZ: f64 = 250.0;
const FREQ_HI_HZ: f64 = 3_000.0;
/// A ratio other than 1 is taken only when it explains the spectra better than no change
/// by at least this much correlation, and above 0.3 % away from 1.
const FREQ_MARGIN: f32 = 0.02;
const FREQ_MIN_CHANGE: f64 = 0.003;

/// A frame's log power spectrum with its smooth envelope (a 1/6-octave running mean over
/// the log-spaced points) removed: what is left is the harmonic fine structure.
fn fine_structure(spec: &[Complex32], at: &[f64]) -> Vec<f32> {
    let bin_hz = 8_000.0 / FREQ_WIN as f64;
    let log: Vec<f32> = at
        .iter()
        .map(|&hz| {
            let x = hz / bin_hz;
            let i = x.floor() as usize;
            let t = (x - i as f64) as f32;
            let p = |k: usize| spec.get(k).map_or(0.0, |c| c.norm_sqr());
            ((1.0 - t) * p(i) + t * p(i + 1) + 1e-12).ln()
        })
        .collect();
    let half = (FREQ_POINTS as f64 / ((FREQ_HI_HZ / FREQ_LO_HZ).log2() * 12.0)).round() as usize;
    let mut cum = vec![0.0f64; log.len() + 1];
    for (i, v) in log.iter().enumerate() {
        cum[i + 1] = cum[i] + f64::from(*v);
    }
    let mut out: Vec<f32> = (0..log.len())
        .map(|i| {
            let (lo, hi) = (i.saturating_sub(half), (i + half + 1).min(log.len()));
            log[i] - ((cum[hi] - cum[lo]) / (hi - lo) as f64) as f32
        })
        .collect();
    let norm = out.iter().map(|v| v * v).sum::<f32>().sqrt();
    if norm > 0.0 {
        out.iter_mut().for_each(|v| *v /= norm);
    }
    out
}

/// Estimates the clip's frequency scale (original Hz per clip Hz) from frames paired by
/// the time fit `original = offset + scale x clip`: the ratio at which the original's
/// frames, read at warped frequencies, best correlate with the clip's. Returns the ratio
/// and its correlation gain over no change.
fn freq_ratio(original: &[f32], clip: &[f32], scale: f64, offset_s: f64) -> (f64, f32) {
    let stft = Stft::new(FREQ_WIN);
    let mut scratch = stft.scratch();
    let span = (FREQ_HI_HZ / FREQ_LO_HZ).ln();
    let grid: Vec<f64> = (0..FREQ_POINTS)
        .map(|k| FREQ_LO_HZ * (span * k as f64 / (FREQ_POINTS - 1) as f64).exp())
        .collect();
    // The original's frame is read over a wider grid, so that any ratio finds its points.
    let wide_lo = FREQ_LO_HZ * FREQ_RANGE.0;
    let wide_span = (FREQ_HI_HZ * FREQ_RANGE.1 / wide_lo).ln();
    let step = span / (FREQ_POINTS - 1) as f64;
    let wide_n = (wide_span / step).ceil() as usize + 2;
    let wide: Vec<f64> = (0..wide_n)
        .map(|k| wide_lo * (step * k as f64).exp())
        .collect();
    let energy = |x: &[Complex32]| x.iter().map(|c| c.norm_sqr()).sum::<f32>();
    let mut frames: Vec<(f32, Vec<f32>, Vec<f32>)> = Vec::new();
    let mut start = 0;
    while start + FREQ_WIN <= clip.len() {
        let t = (start + FREQ_WIN / 2) as f64 / 8_000.0;
        let at = ((offset_s + scale * t) * 8_000.0).round() as isize - (FREQ_WIN / 2) as isize;
        if at >= 0 && at as usize + FREQ_WIN <= original.len() {
            let c = stft.analyze(clip, start as isize, &mut scratch);
            let e = energy(c);
            let c = fine_structure(c, &grid);
            let o = fine_structure(stft.analyze(original, at, &mut scratch), &wide);
            frames.push((e, c, o));
        }
        start += FREQ_HOP;
    }
    // Only frames within 30 dB of the loudest: silence has no harmonics.
    let loudest = frames.iter().map(|f| f.0).fold(0.0f32, f32::max);
    frames.retain(|f| f.0 > loudest * 1e-3);
    if frames.is_empty() {
        return (1.0, 0.0);
    }
    // Correlation at ratio r: the clip's point k (grid[k] Hz) against the original at
    // r * grid[k] Hz, which sits at wide index k + ln(r * FREQ_LO_HZ / wide_lo) / step.
    let score = |r: f64| -> f32 {
        let shift = (r * FREQ_LO_HZ / wide_lo).ln() / step;
        let i0 = shift.floor() as usize;
        let t = (shift - i0 as f64) as f32;
        let mut total = 0.0f32;
        for (_, c, o) in &frames {
            let (mut ab, mut bb) = (0.0f32, 0.0f32);
            for (k, &x) in c.iter().enumerate() {
                let y = o[i0 + k] * (1.0 - t) + o[(i0 + k + 1).min(o.len() - 1)] * t;
                ab += x * y;
                bb += y * y;
            }
            total += ab / bb.sqrt().max(1e-12);
        }
        total / frames.len() as f32
    };
    let (lo, hi) = (FREQ_RANGE.0.ln(), FREQ_RANGE.1.ln());
    let mut best = (1.0, score(1.0));
    let none = best.1;
    let coarse = ((hi - lo) / FREQ_STEP).round() as i32;
    for i in 0..=coarse {
        let r = (lo + f64::from(i) * FREQ_STEP).exp();
        let v = score(r);
        if v > best.1 {
            best = (r, v);
        }
    }
    let centre = best.0;
    let fine = (FREQ_STEP / FREQ_FINE).round() as i32;
    for i in -fine..=fine {
        let r = centre * (f64::from(i) * FREQ_FINE).exp();
        if (FREQ_RANGE.0..=FREQ_RANGE.1).contains(&r) {
            let v = score(r);
            if v > best.1 {
                best = (r, v);
            }
        }
    }
    (best.0, best.1 - none)
}

/// Aligns `clip` to `original` (both mono at 8 kHz). Returns the alignment and the clip as
/// it should be analysed (a speed change or a pitch shift undone by resampling).
pub fn align(original: &[f32], clip: &[f32]) -> Result<(Alignment, Vec<f32>), WatermarkError> {
    let orig_env = envelope(original, COARSE_HOP);
    let (first_scale, offset_s, score) = global_fit(&orig_env, &envelope(clip, COARSE_HOP));
    let (ratio, gain) = freq_ratio(original, clip, first_scale, offset_s);
    let mut clip = clip.to_vec();
    let (mut scale, mut offset_s, mut score) = (first_scale, offset_s, score);
    let mut kind = if (scale - 1.0).abs() > 0.002 {
        ScaleKind::Tempo
    } else {
        ScaleKind::None
    };
    let mut freq_scale = 1.0;
    if (ratio - 1.0).abs() > FREQ_MIN_CHANGE && gain > FREQ_MARGIN {
        // Resampled by 1 / ratio, the clip plays `ratio` times as fast: every frequency
        // is multiplied by `ratio`, back to the original's.
        let restored = stretch(&clip, 1.0 / ratio)?;
        let refit = global_fit(&orig_env, &envelope(&restored, COARSE_HOP));
        freq_scale = ratio;
        clip = restored;
        (scale, offset_s, score) = refit;
        // What time scale is left once the pitch is restored says which change it was:
        // none (a speed change), one that was not there before (a pitch shift: the
        // resampling made it), or one that was (a tempo change, or tempo and pitch both).
        kind = if (scale - 1.0).abs() <= 0.002 {
            ScaleKind::Speed
        } else if (first_scale - 1.0).abs() < 0.25 * (scale - 1.0).abs() {
            ScaleKind::Pitch
        } else {
            ScaleKind::Tempo
        };
    }
    let mut anchors = refine(original, &clip, scale, offset_s);
    if !kind.is_segmented() {
        pin_to_waveform(original, &clip, &mut anchors);
    }
    Ok((
        Alignment {
            scale,
            kind,
            freq_scale,
            offset_s,
            anchors,
            score,
        },
        clip,
    ))
}

/// Lags searched either side of an anchor's envelope position for the waveform's: 50 ms.
/// A room delays a clip's band envelopes by the centroid of its decay (for an exponential
/// decay of reverberation time T, `T / (6 ln 10)`: 36 ms at T = 0.5 s; Kuttruff, *Room
/// Acoustics*, 5th ed., sec. 5.1), and the envelope match follows it; the waveform's
/// cross-correlation peaks at the direct sound.
const WAVEFORM_SEARCH: usize = 400;
/// A waveform lag replaces an anchor's envelope lag only when its phase-transform
/// correlation peak stands this many times above the RMS of the correlation over the lags
/// searched (for independent signals the peak of 801 lags is about 3.3 RMS).
const WAVEFORM_PROMINENCE: f32 = 8.0;

/// Pins each anchor to the lag where the clip's waveform best matches the original's,
/// by the generalised cross-correlation with the phase transform over the marked band
/// (GCC-PHAT; Knapp and Carter, IEEE Trans. ASSP 24(4), 1976), which whitens the spectrum
/// so that the direct sound's peak stands out of a room's reflections. Anchors whose peak
/// is not prominent (a coder that kept the magnitudes and not the phases, foreign
/// material) keep their envelope lag. Audio only, never the key.
fn pin_to_waveform(original: &[f32], clip: &[f32], anchors: &mut [Anchor]) {
    let chunk = (CHUNK_S * 8_000.0) as usize;
    let w = WAVEFORM_SEARCH;
    let n = (chunk + 2 * w).next_power_of_two();
    let mut planner = RealFftPlanner::<f32>::new();
    let fwd = planner.plan_fft_forward(n);
    let inv = planner.plan_fft_inverse(n);
    let (mut a, mut b) = (fwd.make_input_vec(), fwd.make_input_vec());
    let (mut sa, mut sb) = (fwd.make_output_vec(), fwd.make_output_vec());
    let mut r = inv.make_output_vec();
    // The marked band, 300-3400 Hz, in bins of the transform.
    let bin_hz = 8_000.0 / n as f64;
    let (lo, hi) = ((300.0 / bin_hz) as usize, (3_400.0 / bin_hz) as usize);
    for anchor in anchors.iter_mut() {
        let c0 = (anchor.clip_s * 8_000.0).round() as usize;
        let o0 = (anchor.original_s * 8_000.0).round() as isize - w as isize;
        if c0 + chunk > clip.len() || o0 < 0 || o0 as usize + chunk + 2 * w > original.len() {
            continue;
        }
        let o0 = o0 as usize;
        a.iter_mut().for_each(|v| *v = 0.0);
        b.iter_mut().for_each(|v| *v = 0.0);
        a[..chunk].copy_from_slice(&clip[c0..c0 + chunk]);
        b[..chunk + 2 * w].copy_from_slice(&original[o0..o0 + chunk + 2 * w]);
        // The buffers come from these plans, so the lengths always match.
        let _ = fwd.process(&mut a, &mut sa);
        let _ = fwd.process(&mut b, &mut sb);
        for (i, (x, y)) in sa.iter_mut().zip(&sb).enumerate() {
            let cross = y * x.conj();
            let m = cross.norm();
            *x = if (lo..=hi).contains(&i) && m > 0.0 {
                cross / m
            } else {
                Complex32::default()
            };
        }
        sa[0].im = 0.0;
        if let Some(last) = sa.last_mut() {
            last.im = 0.0;
        }
        let _ = inv.process(&mut sa, &mut r);
        // r[m] = sum_t clip[c0 + t] original[o0 + t + m]: lag m - w from the envelope's.
        let window = &r[..=2 * w];
        let rms = (window.iter().map(|v| v * v).sum::<f32>() / window.len() as f32).sqrt();
        let Some((m, &peak)) = window.iter().enumerate().max_by(|x, y| x.1.total_cmp(y.1)) else {
            continue;
        };
        if rms.is_nan() || rms <= 0.0 || peak < WAVEFORM_PROMINENCE * rms {
            continue;
        }
        let frac = if m > 0 && m < 2 * w {
            let (p, q, u) = (window[m - 1], window[m], window[m + 1]);
            let den = p - 2.0 * q + u;
            if den < 0.0 {
                f64::from((0.5 * (p - u) / den).clamp(-0.5, 0.5))
            } else {
                0.0
            }
        } else {
            0.0
        };
        anchor.original_s = (o0 as f64 + m as f64 + frac) / 8_000.0;
    }
}

/// Local anchors, one per chunk of clip, searched around the global fit.
fn refine(original: &[f32], clip: &[f32], scale: f64, offset_s: f64) -> Vec<Anchor> {
    let hop_s = FINE_HOP as f64 / 8_000.0;
    let orig_env = envelope(original, FINE_HOP);
    let clip_env = envelope(clip, FINE_HOP);
    let chunk = (CHUNK_S / hop_s) as usize;
    let mut anchors = Vec::new();
    let mut start = 0;
    while start + chunk / 2 <= clip_env.len() {
        let end = (start + chunk).min(clip_env.len());
        let piece = rescale(&clip_env[start..end], scale);
        let predicted = offset_s + start as f64 * hop_s * scale;
        let centre = (predicted / hop_s).round() as isize;
        let mut scores = Vec::with_capacity(2 * LOCAL_SEARCH + 1);
        for d in -(LOCAL_SEARCH as isize)..=LOCAL_SEARCH as isize {
            scores.push(local_score(&orig_env, &piece, centre + d));
        }
        let (i, &s) = scores
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap_or((LOCAL_SEARCH, &f32::NEG_INFINITY));
        // Parabolic interpolation of the peak for sub-hop precision.
        let frac = if i > 0 && i + 1 < scores.len() {
            let (a, b, c) = (scores[i - 1], scores[i], scores[i + 1]);
            let den = a - 2.0 * b + c;
            if den < 0.0 {
                (0.5 * (a - c) / den).clamp(-0.5, 0.5)
            } else {
                0.0
            }
        } else {
            0.0
        };
        let lag = (centre + i as isize - LOCAL_SEARCH as isize) as f64 + f64::from(frac);
        anchors.push(Anchor {
            clip_s: start as f64 * hop_s,
            original_s: lag * hop_s,
            score: s.max(0.0),
        });
        start += chunk;
    }
    anchors
}

/// Normalised correlation of `piece` placed at original row `at`.
fn local_score(orig: &[[f32; BANDS]], piece: &[[f32; BANDS]], at: isize) -> f32 {
    let (mut ab, mut aa, mut bb) = (0.0f32, 0.0f32, 0.0f32);
    for (i, row) in piece.iter().enumerate() {
        let j = at + i as isize;
        if j < 0 || j as usize >= orig.len() {
            continue;
        }
        let o = &orig[j as usize];
        for k in 0..BANDS {
            ab += o[k] * row[k];
            aa += o[k] * o[k];
            bb += row[k] * row[k];
        }
    }
    if aa <= 0.0 || bb <= 0.0 {
        0.0
    } else {
        ab / (aa * bb).sqrt()
    }
}

impl Alignment {
    /// Clip position (seconds) that corresponds to original time `t`, if `t` falls in a
    /// matched chunk.
    pub fn clip_time_of(&self, t: f64) -> Option<f64> {
        let chunk_orig = CHUNK_S * self.scale;
        let idx = self
            .anchors
            .iter()
            .position(|a| t >= a.original_s && t < a.original_s + chunk_orig)?;
        let a = self.anchors[idx];
        if a.score < MATCH_SCORE {
            return None;
        }
        Some(a.clip_s + (t - a.original_s) / self.scale)
    }
}
