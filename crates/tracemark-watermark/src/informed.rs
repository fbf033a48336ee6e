//! Informed detection: the original is known. Align the clip to it, then compare each
//! cell's log magnitude with the original's, so the host signal, the largest noise in
//! blind detection, cancels.

use tracemark_dsp::{AudioBuffer, Complex32, Stft};

use crate::WatermarkError;
use crate::align::{Alignment, align};
use crate::analysis::{LogSpectrogram, ReferenceLevels, level_boost};
use crate::blind::{DETECT_RATE, DETECTION_THRESHOLD, to_detect_rate};
use crate::coherent::PhaseMatch;
use crate::evidence::{Folded, SymbolSoft, combined_p, hoeffding_p, symbol_estimates};
use crate::key::WatermarkKey;
use crate::layout::{
    BAND_BINS, BAND_HI, BAND_LO, BLOCK_PAIRS, FRAME_S, Layout, Role, slots_for_pairs,
};
use crate::payload::{Payload, PayloadCoder};
use crate::room::{ROOM_TAPS, Room};

/// Host-cancelled pair values are clipped to +-0.2 (natural-log units, about +-1.7 dB): the
/// mark moves a pair value by 0.1 in strong cells and up to 0.6 in the weakest (see
/// `analysis::level_boost`), and beyond that mostly codec damage or noise. Measured with
/// `tracemark-bench` (3 seeds, 13 attacks): clipping at 0.2 recovered more payloads than at
/// 0.5 (MP3 16k, GSM and tempo +5 % on a 5 s clip each 6/9 against 5/9, 5/9 and 4/9); 0.3
/// was close to 0.2, and 1.0 worse than 0.5 (MP3 16k 3/9).
const CLIP: f32 = 0.2;
/// Coherent values are clipped to +-0.5 of the original's power in the cell: a relative
/// change of the cell's amplitude by half, five times the strong cells' mark and above the
/// weakest cells' (0.3), so foreign or badly aligned material cannot outweigh the rest.
const COHERENT_CLIP: f32 = 0.5;
/// Shortest clip worth aligning.
const MIN_SECONDS: f64 = 1.0;

/// The outcome of an informed detection.
#[derive(Debug, Clone, PartialEq)]
pub struct InformedDetection {
    /// Whether a mark of this key is present (p-value below 1e-9).
    pub detected: bool,
    /// Probability that a clip without this key's mark scores this high (and, when a
    /// payload was decoded, passes its keyed CRC: `evidence::combined_p`). The alignment
    /// uses the audio alone, so one position is tested; the p-value is corrected for the
    /// three weightings of the presence test.
    pub p_value: f64,
    /// The sync z-score (the largest of the three weightings').
    pub z: f64,
    /// The payload, when the mark is present and its CRC checks.
    pub payload: Option<Payload>,
    /// How the clip maps onto the original.
    pub alignment: Alignment,
    /// One soft estimate per codeword slot of the original (slots the clip does not cover
    /// have `cells == 0`).
    pub symbols: Vec<SymbolSoft>,
    /// When the clip was heard through a room (re-recorded or reverberated), the share of
    /// the fitted room's energy in its tail (`None`: compared with the dry original).
    pub room_tail: Option<f64>,
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
    let orig = to_detect_rate(original)?;
    let excerpt = OriginalExcerpt {
        levels: ReferenceLevels::measure(&orig),
        samples: &orig,
        first_block: 0,
    };
    detect_informed_excerpt(clip, &excerpt, key, segments)
}

/// A stretch of the original, as informed detection reads it: its mono mix at
/// [`DETECT_RATE`] from the start of one of the mark's 8 s blocks, and the whole
/// recording's [`ReferenceLevels`].
#[derive(Debug, Clone, Copy)]
pub struct OriginalExcerpt<'a> {
    /// The mix (the whole recording's, resampled whole or by `StreamResampler`, cut here).
    pub samples: &'a [f32],
    /// The block it starts at: sample `first_block * BLOCK_S * DETECT_RATE` of the whole.
    pub first_block: usize,
    /// The whole recording's levels.
    pub levels: ReferenceLevels,
}

impl OriginalExcerpt<'_> {
    /// Seconds of the whole recording before the excerpt.
    pub fn start_s(&self) -> f64 {
        (self.first_block * BLOCK_PAIRS * 2) as f64 * FRAME_S / 2.0
    }
}

/// [`detect_informed_segments`] against a stretch of the original: the clip's covered
/// frames are read as they would be against the whole recording (the same gates, floor
/// and cells), so a trace's work grows with the clip, not with the recording. Slots and
/// the alignment's times are the whole recording's. Matched material outside the excerpt
/// is not read.
pub fn detect_informed_excerpt(
    clip: &AudioBuffer,
    original: &OriginalExcerpt<'_>,
    key: &WatermarkKey,
    segments: &[(f64, f64)],
) -> Result<InformedDetection, WatermarkError> {
    let rate = f64::from(DETECT_RATE);
    let excerpt_s = original.samples.len() as f64 / rate;
    for seconds in [clip.duration_s(), excerpt_s] {
        if seconds < MIN_SECONDS {
            return Err(WatermarkError::TooShort {
                seconds,
                minimum_s: MIN_SECONDS,
            });
        }
    }
    let orig = original.samples;
    let clip = to_detect_rate(clip)?;
    let stft = Stft::new((rate * FRAME_S) as usize);
    let reference = LogSpectrogram::compute_against(orig, &stft, 0, original.levels);
    let pairs = reference.frames() / 2;
    let mut evidence = PairEvidence {
        log: vec![0.0f32; pairs * BAND_BINS],
        coherent: vec![0.0f32; pairs * BAND_BINS],
    };
    let mut observed = vec![false; pairs];
    let mut longest: Option<(f64, Alignment, Option<f64>)> = None;
    for &(start_s, end_s) in segments {
        let start = ((start_s.max(0.0) * rate) as usize).min(clip.len());
        let end = ((end_s * rate) as usize).clamp(start, clip.len());
        if ((end - start) as f64) < MIN_SECONDS * rate {
            continue;
        }
        let (alignment, room) = accumulate(
            &clip[start..end],
            orig,
            (&reference, original.levels.floor()),
            &stft,
            &mut evidence,
            &mut observed,
        )?;
        let length = (end - start) as f64;
        if longest.as_ref().is_none_or(|(l, _, _)| length > *l) {
            longest = Some((length, alignment, room));
        }
    }
    let Some((_, mut alignment, room_tail)) = longest else {
        return Err(WatermarkError::TooShort {
            seconds: 0.0,
            minimum_s: MIN_SECONDS,
        });
    };
    let shift = original.start_s();
    alignment.offset_s += shift;
    for a in &mut alignment.anchors {
        a.original_s += shift;
    }
    let first_pair = original.first_block * BLOCK_PAIRS;

    let coder = PayloadCoder::new(key);
    let layout = Layout::new(key, coder.coded_len());
    let cells = CellClasses::new(&reference);
    // Three presence tests, each with weights fixed by the audio alone (the original's
    // gate and levels, the clip's own class variances), never by the key, so that each
    // p-value is a Hoeffding bound (see `evidence`); the smallest is tripled (Bonferroni
    // over the three).
    // Equal weights on the log-magnitude values: since weak cells get a deeper mark
    // (`analysis::level_boost`) they carry as much evidence per cell as strong ones after
    // a codec (on 60 s of the call after Opus 12 kbit/s, equal weights keep 92 % of the
    // information of per-level matched weights; the older rule, which dropped cells 25 dB
    // below their frame's peak, 15 %). Inverse class variance: where a codec swamps some
    // classes they count for less. Measured with `tracemark-bench` (3 seeds): with both,
    // 5 s clips 9/9 payloads (7/9 with equal weights alone), MP3 16k 9/9 (6/9), GSM 9/9
    // (7/9). The coherent projection (`coherent`), weighted as the embedder shaped the
    // mark, is the matched filter for additive noise.
    let diffs = &evidence.log;
    let gated = cells.weighted(diffs, &observed, |_| 1.0);
    let z_equal = Folded::new(&gated).sync_z(&layout, 0);
    let stats = cells.class_stats(&evidence, &observed, Half::All);
    let inverse = ClassStats::inverse_variances(&stats);
    let scaled = cells.weighted(diffs, &observed, |c| inverse[usize::from(cells.class[c])]);
    let z_inverse = Folded::new(&scaled).sync_z(&layout, 0);
    let z_coherent = Folded::new(&evidence.coherent).sync_z(&layout, 0);
    let z = z_equal.max(z_inverse).max(z_coherent);
    // Payload and symbols are read with weights fitted to this clip on the sync cells:
    // jointly on both values, or on the log-magnitude values alone, whichever reads the
    // clip better out of sample (the coherent values add nothing but estimation noise
    // after a coder that keeps magnitudes and not phases).
    let read = |with_coherent: bool| -> Vec<f32> {
        let (log_w, coherent_w) = cells.fit(
            &evidence,
            &observed,
            &layout,
            &stats,
            with_coherent,
            Half::All,
        );
        let mut values = cells.weighted(diffs, &observed, |c| log_w[usize::from(cells.class[c])]);
        if with_coherent {
            for (c, v) in values.iter_mut().enumerate() {
                *v += evidence.coherent[c] * coherent_w[usize::from(cells.class[c])];
            }
        }
        values
    };
    let joint_first = cells.joint_reads_better(&evidence, &observed, &layout);
    let adaptive = read(joint_first);
    // The payload is read the chosen way, then the other. A payload that passes its keyed
    // CRC is evidence too (`evidence::combined_p`).
    let decoded = Folded::new(&adaptive)
        .decode(&layout, &coder, 0)
        .or_else(|| Folded::new(&read(!joint_first)).decode(&layout, &coder, 0));
    let p_value = combined_p((3.0 * hoeffding_p(z)).min(1.0), 2, decoded.is_some());
    let detected = p_value < DETECTION_THRESHOLD;
    let payload = decoded.filter(|_| detected);
    let symbols = symbol_estimates(
        &layout,
        &adaptive,
        first_pair,
        slots_for_pairs(first_pair + pairs),
    );
    Ok(InformedDetection {
        detected,
        p_value,
        z,
        payload,
        alignment,
        symbols,
        room_tail,
    })
}

/// A clip frame read at an original frame's position: per band bin, the clip's power, the
/// original's power, and the projection of the clip on the original
/// (`coherent::PhaseMatch`).
struct FrameRow {
    power: Vec<f32>,
    original: Vec<f32>,
    projection: Vec<f32>,
}

/// Aligns one stretch of clip (8 kHz) and adds its host-cancelled pair values into
/// `evidence` (indexed by the original's pairs), marking the pairs it covers in `observed`.
///
/// Returns the alignment and, when the clip was heard through a room ([`Room`]), the
/// room's tail share: the host each cell is compared with is then the original through
/// that room.
fn accumulate(
    clip: &[f32],
    orig: &[f32],
    (reference, reference_floor): (&LogSpectrogram, f32),
    stft: &Stft,
    evidence: &mut PairEvidence,
    observed: &mut [bool],
) -> Result<(Alignment, Option<f64>), WatermarkError> {
    let (alignment, clip) = align(orig, clip)?;
    let hop = stft.hop();
    let frames = reference.frames();

    // The clip's band at the position of every original frame it covers.
    let mut scratch = stft.scratch();
    let mut matcher = PhaseMatch::new(stft.len());
    let mut rows: Vec<Option<FrameRow>> = Vec::with_capacity(frames);
    let (mut loud_sum, mut loud_n) = (0.0f64, 0usize);
    for f in 0..frames {
        let t = (f * hop) as f64 / f64::from(DETECT_RATE);
        let Some(start) = alignment.clip_time_of(t).and_then(|ct| {
            let mut start = (ct * f64::from(DETECT_RATE)).round() as isize;
            if alignment.kind.is_segmented() {
                start += waveform_lag(orig, f * hop, &clip, start, stft.len());
            }
            (start >= 0 && start as usize + stft.len() <= clip.len()).then_some(start)
        }) else {
            rows.push(None);
            continue;
        };
        let y: Vec<Complex32> =
            stft.analyze(&clip, start, &mut scratch)[BAND_LO..=BAND_HI].to_vec();
        let x = &stft.analyze(orig, (f * hop) as isize, &mut scratch)[BAND_LO..=BAND_HI];
        // A silent frame carries no mark (its gate is 0): nothing to project.
        let mut projection = vec![0.0f32; BAND_BINS];
        if reference.gates[f] > 0.0 {
            matcher.project(x, &y, &mut projection);
        }
        let row = FrameRow {
            power: y.iter().map(|c| c.norm_sqr()).collect(),
            original: x.iter().map(|c| c.norm_sqr()).collect(),
            projection,
        };
        if reference.gates[f] >= 1.0 {
            loud_sum += row.power.iter().map(|&v| f64::from(v)).sum::<f64>();
            loud_n += BAND_BINS;
        }
        rows.push(Some(row));
    }
    let floor = if loud_n > 0 {
        (loud_sum / loud_n as f64 * 1e-8) as f32
    } else {
        1e-30
    };

    // The room, fitted on the original's band powers at every covered frame and the
    // frames its taps reach back to, recovered from the reference spectrogram's
    // logarithms (no second analysis of the original, none of the frames no tap reads).
    let original_power: Vec<Vec<f32>> = (0..frames)
        .map(|f| {
            let read = rows[f..frames.min(f + ROOM_TAPS)]
                .iter()
                .any(Option::is_some);
            if !read {
                return Vec::new();
            }
            reference
                .row(f)
                .iter()
                .map(|&v| ((2.0 * v).exp() - reference_floor).max(0.0))
                .collect()
        })
        .collect();
    let original_rows: Vec<&[f32]> = original_power.iter().map(Vec::as_slice).collect();
    let clip_rows: Vec<Option<&[f32]>> = rows
        .iter()
        .map(|r| r.as_ref().map(|r| r.power.as_slice()))
        .collect();
    let room = Room::fit(&clip_rows, &original_rows, &reference.gates).filter(Room::is_reverberant);
    let host = room.as_ref().map(|room| Host {
        room,
        original: &original_rows,
        floor: reference_floor,
    });
    let (u, coherent) = frame_values(&rows, reference, floor, host.as_ref());
    for p in 0..frames / 2 {
        if let (Some(ua), Some(ub), Some(ca), Some(cb)) = (
            &u[2 * p],
            &u[2 * p + 1],
            &coherent[2 * p],
            &coherent[2 * p + 1],
        ) {
            observed[p] = true;
            for k in 0..BAND_BINS {
                let c = p * BAND_BINS + k;
                evidence.log[c] += (ua[k] - ub[k]).clamp(-CLIP, CLIP);
                evidence.coherent[c] += ca[k] - cb[k];
            }
        }
    }
    Ok((alignment, room.map(|r| r.tail)))
}

/// The host a reverberant clip's cells are compared with: the original through `room`,
/// floored as the reference spectrogram is.
struct Host<'a> {
    room: &'a Room,
    original: &'a [&'a [f32]],
    floor: f32,
}

/// Per-frame cell values, `None` where the clip does not cover the frame.
type FrameValues = Vec<Option<Vec<f32>>>;

/// Per covered frame, the log-magnitude values `log|clip| - log|original|` and the
/// coherent values.
fn frame_values(
    rows: &[Option<FrameRow>],
    reference: &LogSpectrogram,
    floor: f32,
    host: Option<&Host<'_>>,
) -> (FrameValues, FrameValues) {
    // Log-magnitude: u = log|clip| - log|host| per cell, then pair differences; the host
    // is the original, or the original through the clip's room.
    let mut heard = vec![0.0f32; BAND_BINS];
    let u: FrameValues = rows
        .iter()
        .enumerate()
        .map(|(f, row)| {
            row.as_ref().map(|r| {
                if let Some(h) = host {
                    h.room.predict(h.original, f, &mut heard);
                    for v in &mut heard {
                        *v = 0.5 * (*v + h.floor).ln();
                    }
                }
                let original = if host.is_some() {
                    &heard[..]
                } else {
                    reference.row(f)
                };
                r.power
                    .iter()
                    .zip(original)
                    .map(|(c, o)| 0.5 * (c + floor).max(1e-30).ln() - o)
                    .collect()
            })
        })
        .collect();
    // Coherent: the clip's transfer function per bin over the stretch (a gain, a filter;
    // the mark's random signs average out of it), then what it leaves of each cell's
    // projection, as the embedder would have shaped the mark: times the cell's boost and
    // the frame's gate.
    let (mut cross, mut power) = (vec![0.0f64; BAND_BINS], vec![0.0f64; BAND_BINS]);
    for (f, row) in rows.iter().enumerate() {
        if let Some(r) = row {
            let g = f64::from(reference.gates[f]);
            for k in 0..BAND_BINS {
                cross[k] += g * f64::from(r.projection[k]);
                power[k] += g * f64::from(r.original[k]);
            }
        }
    }
    let transfer: Vec<f32> = cross
        .iter()
        .zip(&power)
        .map(|(c, p)| if *p > 0.0 { (c / p) as f32 } else { 0.0 })
        .collect();
    let coherent: FrameValues = rows
        .iter()
        .enumerate()
        .map(|(f, row)| {
            row.as_ref().map(|r| {
                let peak = r.original.iter().copied().fold(0.0f32, f32::max);
                (0..BAND_BINS)
                    .map(|k| {
                        let x = r.original[k];
                        let left = (r.projection[k] - transfer[k] * x)
                            .clamp(-COHERENT_CLIP * x, COHERENT_CLIP * x);
                        left * level_boost(peak, x) * reference.gates[f]
                    })
                    .collect()
            })
        })
        .collect();
    (u, coherent)
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

    /// The fully gated pairs the clip covers, all of them or one half.
    fn fitted_pairs<'a>(
        &'a self,
        observed: &'a [bool],
        half: Half,
    ) -> impl Iterator<Item = usize> + 'a {
        observed
            .iter()
            .enumerate()
            .filter(move |(p, o)| **o && self.gate[*p] >= 1.0 && half.holds(*p))
            .map(|(p, _)| p)
    }

    /// The sync cells of [`Self::fitted_pairs`]: index, class and keyed sign.
    fn sync_cells<'a>(
        &'a self,
        observed: &'a [bool],
        layout: &'a Layout,
        half: Half,
    ) -> impl Iterator<Item = (usize, usize, f64)> + 'a {
        self.fitted_pairs(observed, half).flat_map(move |p| {
            (0..BAND_BINS).filter_map(move |k| {
                let cell = layout.cell(p, k);
                let c = p * BAND_BINS + k;
                (cell.role == Role::Sync)
                    .then(|| (c, usize::from(self.class[c]), f64::from(cell.sign)))
            })
        })
    }

    /// The sync z-score of pair values read with per-class weights, over one half.
    fn sync_score(
        &self,
        evidence: &PairEvidence,
        observed: &[bool],
        layout: &Layout,
        weights: &([f32; CLASSES], [f32; CLASSES]),
        half: Half,
    ) -> f64 {
        let (mut t, mut e) = (0.0f64, 0.0f64);
        for (c, class, sign) in self.sync_cells(observed, layout, half) {
            let x = f64::from(
                weights.0[class] * evidence.log[c] + weights.1[class] * evidence.coherent[c],
            );
            t += sign * x;
            e += x * x;
        }
        if e > 0.0 { t / e.sqrt() } else { 0.0 }
    }

    /// Whether the joint fit reads this clip better than the log-magnitude values alone:
    /// each is fitted on one half of the pairs and scored on the other half's sync cells,
    /// both ways, so that the extra value's estimation noise counts against it. Sync
    /// signs are drawn independently of any codeword, so the choice favours none.
    fn joint_reads_better(
        &self,
        evidence: &PairEvidence,
        observed: &[bool],
        layout: &Layout,
    ) -> bool {
        let held_out = |with_coherent: bool| -> f64 {
            [(Half::Even, Half::Odd), (Half::Odd, Half::Even)]
                .into_iter()
                .map(|(fit_on, score_on)| {
                    let stats = self.class_stats(evidence, observed, fit_on);
                    let weights =
                        self.fit(evidence, observed, layout, &stats, with_coherent, fit_on);
                    self.sync_score(evidence, observed, layout, &weights, score_on)
                })
                .sum()
        };
        held_out(true) > held_out(false)
    }

    /// Per class, over every cell of the fully gated pairs the clip covers: the second
    /// moments of the two pair values and the number of cells. Audio only, never the key.
    fn class_stats(
        &self,
        evidence: &PairEvidence,
        observed: &[bool],
        half: Half,
    ) -> [ClassStats; CLASSES] {
        let mut all = [ClassStats::default(); CLASSES];
        for p in self.fitted_pairs(observed, half) {
            for c in p * BAND_BINS..(p + 1) * BAND_BINS {
                let (d, v) = (f64::from(evidence.log[c]), f64::from(evidence.coherent[c]));
                let s = &mut all[usize::from(self.class[c])];
                s.dd += d * d;
                s.dv += d * v;
                s.vv += v * v;
                s.n += 1.0;
            }
        }
        all
    }

    /// Matched-filter weights per class for the log-magnitude and the coherent pair values
    /// (returned in that order; without `with_coherent`, for the log-magnitude ones alone):
    /// `Sigma^-1 mu`, with `mu` the mean of `sign x value` measured on the sync cells of fully gated pairs (shrunk as described at [`SHRINK_CELLS`],
    /// negative means taken as 0) and `Sigma` their covariance on all cells. The coherent
    /// values are first scaled to unit mean square per class, so that their means can be
    /// shrunk across classes. Sync signs are drawn independently of any caller's codeword,
    /// so the weights cannot favour one codeword over another; they do depend on the key,
    /// which is why the presence test does not use them.
    fn fit(
        &self,
        evidence: &PairEvidence,
        observed: &[bool],
        layout: &Layout,
        all: &[ClassStats; CLASSES],
        with_coherent: bool,
        half: Half,
    ) -> ([f32; CLASSES], [f32; CLASSES]) {
        let scale: Vec<f64> = all
            .iter()
            .map(|s| if s.vv > 0.0 { (s.n / s.vv).sqrt() } else { 0.0 })
            .collect();
        // Per class: sums of sign x value over sync cells (log, scaled coherent) and count.
        let mut sync = [(0.0f64, 0.0f64, 0.0f64); CLASSES];
        for (c, class, sign) in self.sync_cells(observed, layout, half) {
            let acc = &mut sync[class];
            acc.0 += sign * f64::from(evidence.log[c]);
            acc.1 += sign * f64::from(evidence.coherent[c]) * scale[class];
            acc.2 += 1.0;
        }
        let pool = |range: std::ops::Range<usize>| {
            range.fold((0.0, 0.0, 0.0), |acc, c| {
                (acc.0 + sync[c].0, acc.1 + sync[c].1, acc.2 + sync[c].2)
            })
        };
        let shrink = |(d, v, n): (f64, f64, f64), prior: (f64, f64)| {
            (
                (d + SHRINK_CELLS * prior.0) / (n + SHRINK_CELLS),
                (v + SHRINK_CELLS * prior.1) / (n + SHRINK_CELLS),
            )
        };
        let (d, v, count) = pool(0..CLASSES);
        let clip_mean = if count > 0.0 {
            (d / count, v / count)
        } else {
            (0.0, 0.0)
        };
        let mut log_weights = [0.0f32; CLASSES];
        let mut coherent_weights = [0.0f32; CLASSES];
        for level in 0..LEVEL_CLASSES {
            let classes = level * BAND_CLASSES..(level + 1) * BAND_CLASSES;
            let level_mean = shrink(pool(classes.clone()), clip_mean);
            for c in classes {
                let s = all[c];
                if s.n <= 1.0 {
                    continue;
                }
                let (md, mv) = shrink(sync[c], level_mean);
                let (md, mv) = (md.max(0.0), mv.max(0.0));
                let k = scale[c];
                let a = s.dd / s.n - md * md;
                let b = s.dv * k / s.n - md * mv;
                let e = s.vv * k * k / s.n - mv * mv;
                let det = a * e - b * b;
                let (wd, wv) = if with_coherent && a > 0.0 && e > 0.0 && det > 1e-6 * a * e {
                    ((e * md - b * mv) / det, (a * mv - b * md) / det)
                } else if a > 0.0 {
                    (md / a, 0.0)
                } else {
                    (0.0, 0.0)
                };
                log_weights[c] = wd as f32;
                coherent_weights[c] = (wv * k) as f32;
            }
        }
        (log_weights, coherent_weights)
    }
}

/// Host-cancelled pair values of every cell of the original (row-major `pairs x
/// BAND_BINS`, zero where the clip does not cover the pair), in two forms: the difference
/// of log magnitudes (clipped to [`CLIP`]) and the coherent projection (`coherent`).
struct PairEvidence {
    log: Vec<f32>,
    coherent: Vec<f32>,
}

/// Second moments of one class's pair values (`d` log-magnitude, `v` coherent) over `n`
/// cells.
#[derive(Debug, Clone, Copy, Default)]
struct ClassStats {
    dd: f64,
    dv: f64,
    vv: f64,
    n: f64,
}

/// Which pairs a fit uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Half {
    All,
    Even,
    Odd,
}

impl Half {
    fn holds(self, pair: usize) -> bool {
        match self {
            Self::All => true,
            Self::Even => pair.is_multiple_of(2),
            Self::Odd => !pair.is_multiple_of(2),
        }
    }
}

impl ClassStats {
    /// One over each class's mean square of log-magnitude values.
    fn inverse_variances(stats: &[ClassStats; CLASSES]) -> [f32; CLASSES] {
        let mut out = [0.0f32; CLASSES];
        for (w, s) in out.iter_mut().zip(stats) {
            if s.n > 1.0 && s.dd > 0.0 {
                *w = (s.n / s.dd) as f32;
            }
        }
        out
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
