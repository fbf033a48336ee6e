//! Spectral peak picking ("constellation map", Wang 2003, section 2.1) on a 64 ms / 16 ms
//! STFT of 8 kHz audio, restricted to the telephone band.

use std::collections::VecDeque;

use tracemark_dsp::{Stft, StftScratch};

use crate::FingerprintError;

/// Sample rate the fingerprinter expects, Hz: the telephone rate (ITU-T G.711), so that a
/// leak that went through a phone channel and the original look the same.
pub const SAMPLE_RATE_HZ: u32 = 8_000;
/// Analysis frame, samples: 64 ms at 8 kHz, 15.6 Hz bins, fine enough to resolve the
/// harmonics of a voice (pitch >= 80 Hz).
pub const FRAME_LEN: usize = 512;
/// Hop between frames, samples: 16 ms, of the order of Wang's 10 ms time resolution.
pub const HOP: usize = 128;
/// Peak times are stored in ticks of a quarter hop (4 ms), after parabolic interpolation.
pub const TICKS_PER_HOP: u32 = 4;
/// Samples per tick.
pub const TICK_SAMPLES: usize = HOP / TICKS_PER_HOP as usize;
/// Lowest and highest peak frequency, Hz: the telephone band (ITU-T G.712, 300-3400 Hz).
pub const BAND_HZ: (f32, f32) = (300.0, 3400.0);
/// Peak neighbourhood, frames either side: a peak must be the largest within +/-64 ms.
const NEIGHBOUR_FRAMES: usize = 4;
/// Peak neighbourhood, bins either side: +/-78 Hz, about one voice harmonic spacing.
const NEIGHBOUR_BINS: usize = 5;
/// Density cap: at most this many peaks in any one-second window, keeping the strongest
/// (Wang 2003 picks density so that the constellation survives noise; 30/s measured here to
/// give ~150 hashes/s with fan-out 5).
const PEAKS_PER_SECOND: usize = 30;
/// Dynamic range kept, natural log of power: candidates more than 50 dB below the strongest
/// within +/-0.5 s are dropped. Lossy codecs and 20 dB noise bury them (perceptual coders
/// discard what lies far under the local masking threshold, ISO/IEC 11172-3 annex D).
const DYNAMIC_RANGE_LN: f32 = 11.5;
/// Power floor (natural log of |X|^2 for full-scale-normalised input): below it a bin counts
/// as silence. |X|^2 = 1e-6 is a sine of amplitude ~8e-6 under the 512-sample window.
const LOG_POWER_FLOOR: f32 = -13.8;
/// Longest input accepted, samples: 24 h at 8 kHz.
pub const MAX_SAMPLES: usize = 24 * 3600 * SAMPLE_RATE_HZ as usize;

/// One spectral peak: a time in ticks (4 ms) from the start and a frequency in quarter Hz.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Peak {
    /// Time of the peak in ticks ([`TICK_SAMPLES`] samples) from sample 0.
    pub tick: u32,
    /// Frequency in units of 0.25 Hz.
    pub quarter_hz: u16,
}

impl Peak {
    /// Time of the peak in seconds.
    pub fn time_s(self) -> f64 {
        f64::from(self.tick) * TICK_SAMPLES as f64 / f64::from(SAMPLE_RATE_HZ)
    }

    /// Frequency of the peak in Hz.
    pub fn hz(self) -> f32 {
        f32::from(self.quarter_hz) / 4.0
    }
}

/// The landmark fingerprint of one stretch of audio: its spectral peaks in time order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fingerprint {
    pub(crate) peaks: Vec<Peak>,
    pub(crate) ticks: u32,
}

impl Fingerprint {
    /// Builds a fingerprint from peaks (sorted here) and a duration in ticks.
    pub fn from_peaks(mut peaks: Vec<Peak>, ticks: u32) -> Self {
        peaks.sort_unstable();
        peaks.dedup();
        Self { peaks, ticks }
    }

    /// The peaks, sorted by time then frequency.
    pub fn peaks(&self) -> &[Peak] {
        &self.peaks
    }

    /// Duration of the fingerprinted audio in ticks.
    pub fn ticks(&self) -> u32 {
        self.ticks
    }

    /// Duration of the fingerprinted audio in seconds.
    pub fn duration_s(&self) -> f64 {
        f64::from(self.ticks) * TICK_SAMPLES as f64 / f64::from(SAMPLE_RATE_HZ)
    }
}

/// Fingerprints mono audio at [`SAMPLE_RATE_HZ`] (resample first with
/// `tracemark_dsp::resample`).
///
/// This is [`Fingerprinter`] fed `samples` in one piece: a signal too long for memory can
/// be fingerprinted piece by piece with it instead, to the same result.
///
/// Errors: [`FingerprintError::Limit`] when `samples` is longer than [`MAX_SAMPLES`], else
/// [`FingerprintError::NonFiniteSample`] at the first NaN or infinite sample.
pub fn fingerprint(samples: &[f32]) -> Result<Fingerprint, FingerprintError> {
    let mut streamer = Fingerprinter::new();
    streamer.push(samples)?;
    streamer.finish()
}

const BIN_HZ: f32 = SAMPLE_RATE_HZ as f32 / FRAME_LEN as f32;
/// Spectrogram rows a frame's local maximum looks at: itself and NEIGHBOUR_FRAMES either side.
const ROWS: usize = 2 * NEIGHBOUR_FRAMES + 1;
/// Frames either side of a candidate that the density cap looks at: +/-0.5 s.
const DENSITY_HALF_FRAMES: usize = (SAMPLE_RATE_HZ as usize / HOP) / 2;

/// [`fingerprint`] for a signal that arrives in pieces (Wang 2003's constellation map, picked
/// as it streams): [`Self::push`] the pieces in order, then [`Self::finish`], and the
/// [`Fingerprint`] is exactly, bit for bit, what [`fingerprint`] returns for the whole
/// signal, whatever the split (empty pieces and one-sample pieces included).
///
/// Every step is local in time, so each is run as soon as its inputs have arrived: a frame's
/// spectrum once all the samples it covers have been pushed (or at [`Self::finish`], past
/// the end), its local maxima once the rows 4 frames (64 ms) later exist, a candidate's
/// density test once the candidates half a second later are known.
///
/// Memory does not grow with the signal, only the output peaks do. It holds under one frame
/// ([`FRAME_LEN`]) of samples, and under two for a frame that straddles two pieces; the log
/// power of the last 9 frames (the frame being picked and 4 either side) over the band's 198
/// bins, with their across-bin maxima (2 x 9 x 198 floats); and the candidate peaks from half
/// a second before the first undecided one to the newest, about 1 s of candidates (at most
/// one per bin and frame; a few hundred in practice). Fed one piece, nothing of it is
/// copied but the last frame.
///
/// Errors: a push whose samples take the total past [`MAX_SAMPLES`] returns
/// [`FingerprintError::Limit`] (with the total as `found`), else one holding a NaN or infinite
/// sample returns [`FingerprintError::NonFiniteSample`] with its index counted from the
/// start of the whole signal. Fed whole, that is [`fingerprint`]'s error; split, a signal
/// with both faults reports the one its pieces reveal first. After an error the streamer
/// stays failed: every later push and the finish return the same error.
///
/// ```
/// use tracemark_fingerprint::{Fingerprinter, fingerprint};
/// let x: Vec<f32> = (0..20_000).map(|i| (i as f32 * 0.7).sin() * 0.3).collect();
/// let mut streamer = Fingerprinter::new();
/// for piece in x.chunks(777) {
///     streamer.push(piece)?;
/// }
/// assert_eq!(streamer.finish()?, fingerprint(&x)?);
/// # Ok::<(), tracemark_fingerprint::FingerprintError>(())
/// ```
pub struct Fingerprinter {
    stft: Stft,
    scratch: StftScratch,
    /// The band's first spectrum bin and its number of bins.
    first_bin: usize,
    bins: usize,
    /// Samples pushed so far.
    received: usize,
    /// The pushed samples from `tail_start` on: those the next frame to analyse covers.
    tail: Vec<f32>,
    tail_start: usize,
    /// `tail` followed by the start of a piece, for frames that straddle the two.
    joined: Vec<f32>,
    /// Frames analysed so far: row `r` sits in slot `r % ROWS` of the two rings below.
    rows: usize,
    /// Log power of the last ROWS frames, `bins` values each.
    log_power: Vec<f32>,
    /// For each of those, the maximum over +/-NEIGHBOUR_BINS bins.
    across_bins: Vec<f32>,
    /// Frames whose local maxima have been found.
    maxima_done: usize,
    /// Candidates from DENSITY_HALF_FRAMES before the first undecided one on, in order.
    candidates: VecDeque<Candidate>,
    /// Position in `candidates` of the first one not yet kept or dropped.
    undecided: usize,
    /// Candidates found so far (the next one's global index).
    found: usize,
    /// The peaks kept so far.
    peaks: Vec<Peak>,
    /// The error a push returned, returned again from then on.
    failed: Option<FingerprintError>,
}

impl Default for Fingerprinter {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Fingerprinter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fingerprinter")
            .field("received", &self.received)
            .field("rows", &self.rows)
            .field("peaks", &self.peaks.len())
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

impl Fingerprinter {
    /// A streamer that has been fed nothing.
    pub fn new() -> Self {
        let stft = Stft::new(FRAME_LEN);
        let scratch = stft.scratch();
        let first_bin = (BAND_HZ.0 / BIN_HZ).ceil() as usize;
        let last_bin = (BAND_HZ.1 / BIN_HZ).floor() as usize;
        let bins = last_bin + 1 - first_bin;
        Self {
            stft,
            scratch,
            first_bin,
            bins,
            received: 0,
            tail: Vec::with_capacity(FRAME_LEN),
            tail_start: 0,
            joined: Vec::with_capacity(2 * FRAME_LEN),
            rows: 0,
            log_power: vec![0.0; ROWS * bins],
            across_bins: vec![f32::NEG_INFINITY; ROWS * bins],
            maxima_done: 0,
            candidates: VecDeque::new(),
            undecided: 0,
            found: 0,
            peaks: Vec::new(),
            failed: None,
        }
    }

    /// Samples pushed so far.
    pub fn pushed(&self) -> usize {
        self.received
    }

    /// Feeds the next `samples` of the signal and picks whatever peaks they complete.
    ///
    /// Errors: [`FingerprintError::Limit`] when the total pushed would pass
    /// [`MAX_SAMPLES`], [`FingerprintError::NonFiniteSample`] (index from the start of the
    /// signal) for a NaN or infinite sample, or the error of an earlier push.
    pub fn push(&mut self, samples: &[f32]) -> Result<(), FingerprintError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let at = self.received;
        let total = at.saturating_add(samples.len());
        if total > MAX_SAMPLES {
            return Err(self.fail(FingerprintError::Limit {
                what: "input length in samples",
                limit: MAX_SAMPLES as u64,
                found: total as u64,
            }));
        }
        if let Some(i) = samples.iter().position(|s| !s.is_finite()) {
            return Err(self.fail(FingerprintError::NonFiniteSample { index: at + i }));
        }
        self.received = total;
        let mut joined = false;
        // Frame k covers samples k * HOP - FRAME_LEN / 2 .. k * HOP + FRAME_LEN / 2.
        while self.rows * HOP + FRAME_LEN / 2 <= total {
            let start = frame_start(self.rows);
            if start.max(0) as usize >= at {
                // Within this piece (or, for the first piece, before the signal).
                self.analyze_row(Source::Piece(samples), start - at as isize);
            } else {
                if !joined {
                    self.joined.clear();
                    self.joined.extend_from_slice(&self.tail);
                    self.joined
                        .extend_from_slice(&samples[..samples.len().min(FRAME_LEN)]);
                    joined = true;
                }
                self.analyze_row(Source::Joined, start - self.tail_start as isize);
            }
        }
        let keep_from = frame_start(self.rows).max(0) as usize;
        if keep_from >= at {
            self.tail.clear();
            self.tail.extend_from_slice(&samples[keep_from - at..]);
        } else {
            self.tail.drain(..keep_from - self.tail_start);
            self.tail.extend_from_slice(samples);
        }
        self.tail_start = keep_from;
        Ok(())
    }

    /// Ends the signal: analyses the frames that run past its end, picks the last peaks and
    /// returns the fingerprint, exactly [`fingerprint`]'s of all the samples pushed.
    ///
    /// Errors: the error of an earlier push, if one failed.
    pub fn finish(mut self) -> Result<Fingerprint, FingerprintError> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        let frames = self.received.div_ceil(HOP);
        while self.rows < frames {
            let start = frame_start(self.rows) - self.tail_start as isize;
            self.analyze_row(Source::Tail, start);
        }
        while self.maxima_done < frames {
            self.find_maxima();
        }
        self.decide(true);
        let ticks = self.received.div_ceil(TICK_SAMPLES) as u32;
        Ok(Fingerprint::from_peaks(self.peaks, ticks))
    }

    fn fail(&mut self, e: FingerprintError) -> FingerprintError {
        self.failed = Some(e.clone());
        e
    }

    /// Analyses frame `self.rows` from `source`, where it starts at `start`, stores its log
    /// power and across-bin maxima, then finds the local maxima this row completes.
    fn analyze_row(&mut self, source: Source<'_>, start: isize) {
        let signal = match source {
            Source::Piece(samples) => samples,
            Source::Joined => &self.joined,
            Source::Tail => &self.tail,
        };
        let spectrum = self.stft.analyze(signal, start, &mut self.scratch);
        let bins = self.bins;
        let slot = (self.rows % ROWS) * bins;
        let row = &mut self.log_power[slot..slot + bins];
        for (l, c) in row
            .iter_mut()
            .zip(&spectrum[self.first_bin..self.first_bin + bins])
        {
            *l = (c.norm_sqr() + 1e-12).ln();
        }
        let across = &mut self.across_bins[slot..slot + bins];
        for (b, a) in across.iter_mut().enumerate() {
            let lo = b.saturating_sub(NEIGHBOUR_BINS);
            let hi = (b + NEIGHBOUR_BINS + 1).min(bins);
            *a = row[lo..hi].iter().copied().fold(f32::MIN, f32::max);
        }
        self.rows += 1;
        // Before the next row overwrites the oldest: while pushing, a frame's maxima need
        // the rows NEIGHBOUR_FRAMES after it (`finish` does the last frames).
        if self.maxima_done + NEIGHBOUR_FRAMES < self.rows {
            self.find_maxima();
            self.decide(false);
        }
    }

    /// Log power of `frame` (one of the last ROWS analysed) at `bin`.
    fn at(&self, frame: usize, bin: usize) -> f32 {
        self.log_power[(frame % ROWS) * self.bins + bin]
    }

    /// Points of frame `self.maxima_done` that are the maximum of their
    /// (2 NEIGHBOUR_FRAMES + 1) x (2 NEIGHBOUR_BINS + 1) neighbourhood and above the floor,
    /// refined and queued for the density cap. The rectangle maximum is separable: bins (in
    /// `analyze_row`), then frames. Needs the rows up to NEIGHBOUR_FRAMES later, or up to the last.
    fn find_maxima(&mut self) {
        let (k, bins) = (self.maxima_done, self.bins);
        // While pushing, `rows` > k + NEIGHBOUR_FRAMES; at the finish it is the frame count.
        let frames = self.rows;
        let lo = k.saturating_sub(NEIGHBOUR_FRAMES);
        let hi = (k + NEIGHBOUR_FRAMES + 1).min(frames);
        for b in 0..bins {
            let v = self.at(k, b);
            if v < LOG_POWER_FLOOR {
                continue;
            }
            let max = (lo..hi)
                .map(|j| self.across_bins[(j % ROWS) * bins + b])
                .fold(f32::MIN, f32::max);
            if v >= max {
                let peak = self.refine(k, b, v, k + 1 < frames);
                self.candidates.push_back(Candidate {
                    frame: k,
                    power: v,
                    index: self.found,
                    peak,
                });
                self.found += 1;
            }
        }
        self.maxima_done += 1;
    }

    /// Parabolic interpolation of the log power along time and frequency around the local
    /// maximum `power` at `frame`, `bin` (rows `frame` +/- 1 must still be held).
    fn refine(&self, frame: usize, bin: usize, power: f32, has_next: bool) -> Peak {
        let offset = |a: f32, b: f32, d: f32| {
            let denom = a - 2.0 * b + d;
            if denom.abs() > 1e-9 {
                (0.5 * (a - d) / denom).clamp(-0.5, 0.5)
            } else {
                0.0
            }
        };
        let df = if bin > 0 && bin + 1 < self.bins {
            offset(self.at(frame, bin - 1), power, self.at(frame, bin + 1))
        } else {
            0.0
        };
        let dt = if frame > 0 && has_next {
            offset(self.at(frame - 1, bin), power, self.at(frame + 1, bin))
        } else {
            0.0
        };
        let hz = ((self.first_bin + bin) as f32 + df) * BIN_HZ;
        let tick = ((frame as f32 + dt) * TICKS_PER_HOP as f32)
            .round()
            .max(0.0);
        Peak {
            tick: tick as u32,
            quarter_hz: (hz * 4.0).round() as u16,
        }
    }

    /// Keeps a candidate when fewer than PEAKS_PER_SECOND stronger ones lie within +/-0.5 s
    /// and it is within DYNAMIC_RANGE_LN of the loudest there; decides each candidate once
    /// the maxima of the frames half a second after it are found (all of them when
    /// `complete`). Ties go to the earlier candidate in (frame, bin) order.
    fn decide(&mut self, complete: bool) {
        while let Some(&c) = self.candidates.get(self.undecided) {
            if !complete && c.frame + DENSITY_HALF_FRAMES >= self.maxima_done {
                break;
            }
            while let Some(front) = self.candidates.front()
                && front.frame + DENSITY_HALF_FRAMES < c.frame
            {
                self.candidates.pop_front();
                self.undecided -= 1;
            }
            let (mut stronger, mut loudest) = (0, c.power);
            for o in self
                .candidates
                .iter()
                .take_while(|o| o.frame <= c.frame + DENSITY_HALF_FRAMES)
            {
                if o.power > c.power || (o.power == c.power && o.index < c.index) {
                    stronger += 1;
                }
                loudest = loudest.max(o.power);
            }
            if stronger < PEAKS_PER_SECOND && c.power >= loudest - DYNAMIC_RANGE_LN {
                self.peaks.push(c.peak);
            }
            self.undecided += 1;
        }
    }
}

/// Where [`Fingerprinter::analyze_row`] reads its frame.
#[derive(Clone, Copy)]
enum Source<'a> {
    /// The piece being pushed.
    Piece(&'a [f32]),
    /// `Fingerprinter::joined`.
    Joined,
    /// `Fingerprinter::tail`.
    Tail,
}

/// First sample of frame `k`, which is centred on sample `k * HOP`.
fn frame_start(k: usize) -> isize {
    (k * HOP) as isize - (FRAME_LEN / 2) as isize
}

/// A local maximum of the spectrogram: its frame, log power, place in (frame, bin) order
/// and refined peak.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    frame: usize,
    power: f32,
    index: usize,
    peak: Peak,
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The batch pipeline `fingerprint` ran before [`Fingerprinter`]: the whole spectrogram,
    /// then the whole across-bin array, then all candidates. Kept as the oracle the streamer
    /// must equal bit for bit.
    mod batch {
        use tracemark_dsp::Stft;

        use super::super::{
            BAND_HZ, BIN_HZ, DYNAMIC_RANGE_LN, FRAME_LEN, Fingerprint, FingerprintError, HOP,
            LOG_POWER_FLOOR, MAX_SAMPLES, NEIGHBOUR_BINS, NEIGHBOUR_FRAMES, PEAKS_PER_SECOND, Peak,
            SAMPLE_RATE_HZ, TICK_SAMPLES, TICKS_PER_HOP,
        };

        pub(super) fn fingerprint(samples: &[f32]) -> Result<Fingerprint, FingerprintError> {
            if samples.len() > MAX_SAMPLES {
                return Err(FingerprintError::Limit {
                    what: "input length in samples",
                    limit: MAX_SAMPLES as u64,
                    found: samples.len() as u64,
                });
            }
            if let Some(index) = samples.iter().position(|s| !s.is_finite()) {
                return Err(FingerprintError::NonFiniteSample { index });
            }
            let spec = log_spectrogram(samples);
            let candidates = local_maxima(&spec);
            let kept = limit_density(candidates);
            let peaks = kept.iter().map(|c| refine(&spec, c)).collect();
            let ticks = samples.len().div_ceil(TICK_SAMPLES) as u32;
            Ok(Fingerprint::from_peaks(peaks, ticks))
        }

        /// Log-power spectrogram over the band's bins: frame k is centred on sample k * HOP.
        struct Spectrogram {
            first_bin: usize,
            bins: usize,
            frames: usize,
            data: Vec<f32>,
        }

        impl Spectrogram {
            fn at(&self, frame: usize, bin: usize) -> f32 {
                self.data[frame * self.bins + bin]
            }
        }

        fn log_spectrogram(samples: &[f32]) -> Spectrogram {
            let stft = Stft::new(FRAME_LEN);
            let mut scratch = stft.scratch();
            let first_bin = (BAND_HZ.0 / BIN_HZ).ceil() as usize;
            let last_bin = (BAND_HZ.1 / BIN_HZ).floor() as usize;
            let bins = last_bin + 1 - first_bin;
            let frames = samples.len().div_ceil(HOP);
            let mut data = Vec::with_capacity(frames * bins);
            for k in 0..frames {
                let start = (k * HOP) as isize - (FRAME_LEN / 2) as isize;
                let spectrum = stft.analyze(samples, start, &mut scratch);
                data.extend(
                    spectrum[first_bin..=last_bin]
                        .iter()
                        .map(|c| (c.norm_sqr() + 1e-12).ln()),
                );
            }
            Spectrogram {
                first_bin,
                bins,
                frames,
                data,
            }
        }

        #[derive(Debug, Clone, Copy)]
        struct Candidate {
            frame: usize,
            bin: usize,
            power: f32,
        }

        /// Points that are the maximum of their (2 NEIGHBOUR_FRAMES + 1) x (2 NEIGHBOUR_BINS + 1)
        /// neighbourhood and above the floor. The rectangle maximum is separable: bins, then frames.
        fn local_maxima(spec: &Spectrogram) -> Vec<Candidate> {
            let (frames, bins) = (spec.frames, spec.bins);
            let mut across_bins = vec![f32::NEG_INFINITY; frames * bins];
            for k in 0..frames {
                let row = &spec.data[k * bins..(k + 1) * bins];
                for b in 0..bins {
                    let lo = b.saturating_sub(NEIGHBOUR_BINS);
                    let hi = (b + NEIGHBOUR_BINS + 1).min(bins);
                    across_bins[k * bins + b] =
                        row[lo..hi].iter().copied().fold(f32::MIN, f32::max);
                }
            }
            let mut out = Vec::new();
            for k in 0..frames {
                let lo = k.saturating_sub(NEIGHBOUR_FRAMES);
                let hi = (k + NEIGHBOUR_FRAMES + 1).min(frames);
                for b in 0..bins {
                    let v = spec.at(k, b);
                    if v < LOG_POWER_FLOOR {
                        continue;
                    }
                    let max = (lo..hi)
                        .map(|j| across_bins[j * bins + b])
                        .fold(f32::MIN, f32::max);
                    if v >= max {
                        out.push(Candidate {
                            frame: k,
                            bin: b,
                            power: v,
                        });
                    }
                }
            }
            out
        }

        /// Keeps a candidate when fewer than PEAKS_PER_SECOND stronger ones lie within +/-0.5 s.
        fn limit_density(candidates: Vec<Candidate>) -> Vec<Candidate> {
            let half = (SAMPLE_RATE_HZ as usize / HOP) / 2;
            let mut kept = Vec::with_capacity(candidates.len());
            let mut lo = 0;
            for (i, c) in candidates.iter().enumerate() {
                while candidates[lo].frame + half < c.frame {
                    lo += 1;
                }
                let near = candidates[lo..]
                    .iter()
                    .take_while(|o| o.frame <= c.frame + half)
                    .enumerate();
                let (mut stronger, mut loudest) = (0, c.power);
                for (j, o) in near {
                    if o.power > c.power || (o.power == c.power && lo + j < i) {
                        stronger += 1;
                    }
                    loudest = loudest.max(o.power);
                }
                if stronger < PEAKS_PER_SECOND && c.power >= loudest - DYNAMIC_RANGE_LN {
                    kept.push(*c);
                }
            }
            kept
        }

        /// Parabolic interpolation of the log power along time and frequency.
        fn refine(spec: &Spectrogram, c: &Candidate) -> Peak {
            let offset = |a: f32, b: f32, d: f32| {
                let denom = a - 2.0 * b + d;
                if denom.abs() > 1e-9 {
                    (0.5 * (a - d) / denom).clamp(-0.5, 0.5)
                } else {
                    0.0
                }
            };
            let df = if c.bin > 0 && c.bin + 1 < spec.bins {
                offset(
                    spec.at(c.frame, c.bin - 1),
                    c.power,
                    spec.at(c.frame, c.bin + 1),
                )
            } else {
                0.0
            };
            let dt = if c.frame > 0 && c.frame + 1 < spec.frames {
                offset(
                    spec.at(c.frame - 1, c.bin),
                    c.power,
                    spec.at(c.frame + 1, c.bin),
                )
            } else {
                0.0
            };
            let hz = ((spec.first_bin + c.bin) as f32 + df) * BIN_HZ;
            let tick = ((c.frame as f32 + dt) * TICKS_PER_HOP as f32)
                .round()
                .max(0.0);
            Peak {
                tick: tick as u32,
                quarter_hz: (hz * 4.0).round() as u16,
            }
        }
    }
    /// Pushes `x` cut at `cuts` (sorted positions, repeats give empty pieces).
    fn streamed_at(x: &[f32], cuts: &[usize]) -> Result<Fingerprint, FingerprintError> {
        let mut streamer = Fingerprinter::new();
        let mut from = 0;
        for &cut in cuts.iter().chain(std::iter::once(&x.len())) {
            streamer.push(&x[from..cut])?;
            from = cut;
        }
        streamer.finish()
    }

    /// Pushes `x` in pieces of `chunk` samples (the last shorter).
    fn streamed_in(x: &[f32], chunk: usize) -> Result<Fingerprint, FingerprintError> {
        let mut streamer = Fingerprinter::new();
        for piece in x.chunks(chunk) {
            streamer.push(piece)?;
        }
        streamer.finish()
    }

    /// A xorshift stream of uniform values in [-1, 1).
    fn noise(seed: u32) -> impl FnMut() -> f32 {
        let mut state = seed | 1;
        move || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state >> 8) as f32 / (1u32 << 23) as f32 - 1.0
        }
    }

    /// One stretch of test signal: silence, a tone, a noise burst, a chirp up 1 kHz, or a
    /// tone in noise, at `hz` and amplitude `amp`.
    fn part(kind: u8, hz: f32, amp: f32, seed: u32, len: usize) -> Vec<f32> {
        let mut rand = noise(seed);
        let w = std::f32::consts::TAU / SAMPLE_RATE_HZ as f32;
        (0..len)
            .map(|i| {
                let t = i as f32;
                match kind {
                    0 => 0.0,
                    1 => amp * (w * hz * t).sin(),
                    2 => amp * rand(),
                    3 => amp * (w * (hz + 500.0 * t / len as f32) * t).sin(),
                    _ => amp * (0.7 * (w * hz * t).sin() + 0.3 * rand()),
                }
            })
            .collect()
    }

    /// Three minutes of chirps sweeping the band, with noise bursts and a silent gap.
    fn three_minutes() -> Vec<f32> {
        let mut x = Vec::with_capacity(180 * 8_000);
        for s in 0..180u32 {
            let kind = match s % 7 {
                0 => 2,
                3 => 4,
                5 if s % 2 == 0 => 0,
                _ => 3,
            };
            let hz = 300.0 + (s * 397 % 2_900) as f32;
            x.extend(part(kind, hz, 0.05 + (s % 5) as f32 * 0.1, s, 8_000));
        }
        x
    }

    #[test]
    fn three_minutes_pushed_in_4096_sample_pieces_are_the_batch_fingerprint() {
        let x = three_minutes();
        let streamed = streamed_in(&x, 4_096).expect("streamed");
        assert!(
            streamed.peaks().len() > 1_000,
            "{} peaks",
            streamed.peaks().len()
        );
        assert_eq!(streamed, batch::fingerprint(&x).expect("batch"));
        assert_eq!(streamed, fingerprint(&x).expect("whole"));
    }

    #[test]
    fn one_sample_pieces_and_empty_pieces_give_the_whole_signals_fingerprint() {
        let mut x = part(4, 1_234.0, 0.4, 9, 3_000);
        x.extend(part(0, 0.0, 0.0, 0, 1_000));
        x.extend(part(3, 700.0, 0.3, 0, 2_345));
        let whole = fingerprint(&x).expect("whole");
        assert!(!whole.peaks().is_empty());
        assert_eq!(whole, batch::fingerprint(&x).expect("batch"));
        assert_eq!(streamed_in(&x, 1).expect("ones"), whole);
        let mut streamer = Fingerprinter::new();
        for s in &x {
            streamer.push(&[]).expect("empty");
            streamer.push(std::slice::from_ref(s)).expect("one");
        }
        streamer.push(&[]).expect("empty");
        assert_eq!(streamer.pushed(), x.len());
        assert_eq!(streamer.finish().expect("finish"), whole);
    }

    #[test]
    fn empty_input_gives_what_fingerprint_of_nothing_gives() {
        let nothing = fingerprint(&[]).expect("nothing");
        assert_eq!(nothing, batch::fingerprint(&[]).expect("batch"));
        assert_eq!(nothing, Fingerprint::default());
        assert_eq!(Fingerprinter::new().finish(), Ok(nothing.clone()));
        let mut streamer = Fingerprinter::default();
        streamer.push(&[]).expect("empty");
        assert_eq!(streamer.finish(), Ok(nothing));
    }

    #[test]
    fn nan_in_the_second_piece_reports_its_absolute_index() {
        let mut x = part(1, 1_000.0, 0.5, 0, 5_000);
        x[3_210] = f32::NAN;
        let expected = Err(FingerprintError::NonFiniteSample { index: 3_210 });
        assert_eq!(fingerprint(&x), expected);
        assert_eq!(batch::fingerprint(&x), expected);
        let mut streamer = Fingerprinter::new();
        assert_eq!(streamer.push(&x[..3_000]), Ok(()));
        assert_eq!(
            streamer.push(&x[3_000..4_000]),
            expected.clone().map(|_| ())
        );
        // Failed for good: later pieces, even clean ones, and the finish give the same error.
        assert_eq!(streamer.push(&x[4_000..]), expected.clone().map(|_| ()));
        assert_eq!(streamer.finish(), expected);
        x[3_210] = f32::NEG_INFINITY;
        assert_eq!(streamed_in(&x, 1), expected);
    }

    #[test]
    fn the_push_that_crosses_the_length_limit_reports_it() {
        let mut streamer = Fingerprinter::new();
        streamer.push(&[0.0; 1_000]).expect("short");
        // Stand in for the 24 h of samples before (pushing them would take minutes): the
        // limit is checked before anything else, so the rest of the state does not matter.
        streamer.received = MAX_SAMPLES - 10;
        let expected = FingerprintError::Limit {
            what: "input length in samples",
            limit: MAX_SAMPLES as u64,
            found: MAX_SAMPLES as u64 + 1,
        };
        // The limit comes before the NaN in the same piece, as in `fingerprint`.
        let mut piece = [0.0; 11];
        piece[3] = f32::NAN;
        assert_eq!(streamer.push(&piece), Err(expected.clone()));
        assert_eq!(streamer.push(&[]), Err(expected.clone()));
        assert_eq!(streamer.finish(), Err(expected));
    }

    /// A random test signal: `len` samples made of the `parts` in turn, with a NaN at
    /// `nan` (taken modulo twice the length, so mostly none) when given.
    fn random_signal(len: usize, parts: &[(u8, f32, f32, u32)], nan: Option<usize>) -> Vec<f32> {
        let each = len / parts.len();
        let mut x = Vec::with_capacity(len);
        for (i, &(kind, hz, amp, seed)) in parts.iter().enumerate() {
            let n = if i + 1 == parts.len() {
                len - x.len()
            } else {
                each
            };
            x.extend(part(kind, hz, amp, seed, n));
        }
        if let Some(at) = nan
            && let Some(s) = x.get_mut(at % (2 * len.max(1)))
        {
            *s = f32::NAN;
        }
        x
    }

    /// Ten minutes of a tone jumping pitch every 80 ms over quiet white noise.
    fn ten_minutes() -> Vec<f32> {
        let mut rand = noise(12_345);
        let (mut hz, mut phase) = (500.0f32, 0.0f32);
        (0..SAMPLE_RATE_HZ as usize * 600)
            .map(|i| {
                if i % 640 == 0 {
                    hz = 400.0 + (rand() + 1.0) * 1_400.0;
                }
                phase = (phase + std::f32::consts::TAU * hz / SAMPLE_RATE_HZ as f32)
                    % std::f32::consts::TAU;
                0.3 * phase.sin() + 0.01 * rand()
            })
            .collect()
    }

    /// Times the batch pipeline, `fingerprint` (the streamer fed once) and the streamer fed
    /// 4096-sample pieces on ten minutes, interleaved, best of 7 each. A measurement, not a
    /// check: `cargo test --release -p tracemark-fingerprint --lib -- --ignored --nocapture`.
    #[test]
    #[ignore = "a timing, run by hand in release"]
    fn ten_minutes_timing() {
        let x = ten_minutes();
        let mut best = [f64::INFINITY; 3];
        let mut last = Vec::new();
        for _ in 0..7 {
            let runs: [&dyn Fn() -> Fingerprint; 3] = [
                &|| batch::fingerprint(&x).expect("batch"),
                &|| fingerprint(&x).expect("whole"),
                &|| streamed_in(&x, 4_096).expect("streamed"),
            ];
            last.clear();
            for (b, run) in best.iter_mut().zip(runs) {
                let t = std::time::Instant::now();
                last.push(run());
                *b = b.min(t.elapsed().as_secs_f64());
            }
            assert!(last.iter().all(|fp| *fp == last[0]));
        }
        println!(
            "600 s, {} peaks, best of 7: batch {:.3} s, fingerprint {:.3} s, \
             4096-sample pieces {:.3} s",
            last[0].peaks().len(),
            best[0],
            best[1],
            best[2]
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        #[test]
        fn any_split_of_any_signal_gives_fingerprints_result(
            len in prop_oneof![0usize..1_500, 0usize..40_000],
            parts in prop::collection::vec(
                (0u8..5, 250.0f32..3_600.0, 0.0f32..1.0, any::<u32>()),
                1..6,
            ),
            cuts in prop::collection::vec(any::<usize>(), 0..12),
            chunk in prop_oneof![1usize..8, 1usize..5_000],
            nan in prop::option::weighted(0.2, any::<usize>()),
        ) {
            let x = random_signal(len, &parts, nan);
            let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (len + 1)).collect();
            cuts.sort_unstable();
            let whole = fingerprint(&x);
            prop_assert_eq!(&whole, &batch::fingerprint(&x));
            prop_assert_eq!(&streamed_at(&x, &cuts), &whole);
            prop_assert_eq!(&streamed_in(&x, chunk), &whole);
        }
    }

    #[test]
    fn a_steady_tone_gives_peaks_at_its_frequency() {
        let x: Vec<f32> = (0..16_000)
            .map(|i| (std::f32::consts::TAU * 1_000.0 * i as f32 / 8_000.0).sin() * 0.5)
            .collect();
        let fp = fingerprint(&x).expect("fingerprint");
        assert!(!fp.peaks().is_empty());
        // Away from the abrupt start and end, whose clicks are broadband.
        for p in fp
            .peaks()
            .iter()
            .filter(|p| (0.3..1.7).contains(&p.time_s()))
        {
            assert!(
                (p.hz() - 1_000.0).abs() < 4.0,
                "peak at {} Hz, {} s; all {:?}",
                p.hz(),
                p.time_s(),
                fp.peaks().len()
            );
        }
    }

    #[test]
    fn silence_gives_no_peaks_and_nan_is_rejected() {
        assert!(fingerprint(&[0.0; 8_000]).expect("fp").peaks().is_empty());
        assert_eq!(
            fingerprint(&[0.0, f32::NAN]),
            Err(FingerprintError::NonFiniteSample { index: 1 })
        );
    }
}
