//! Embedding in two streaming passes, with memory bounded by a few blocks whatever the
//! recording's length, and output equal to [`embed`](crate::embed)'s bit for bit.
//!
//! [`embed`](crate::embed) needs two things that depend on the whole recording before it
//! can mark any of it: the frame gates (relative to the 95th percentile of every frame's
//! energy, `analysis::frame_gates`) and the peak limiter's ceiling (the original's own
//! peak). [`Survey`] is the first pass: it reads the recording once and keeps only one
//! energy per 20 ms frame (400 bytes a second of audio) and the peak. [`Embedder`] is the
//! second: it reads the recording again and hands the marked copy out as it goes, running
//! the same resamplers through the same chunks ([`StreamResampler`]), the same transforms
//! frame by frame and the same limiter ([`StreamLimiter`]) as the whole-buffer path.
//!
//! ```
//! use tracemark_dsp::{AudioBuffer, SampleRate};
//! use tracemark_watermark::{embed, EmbedParams, Embedder, Message, Payload, Survey, WatermarkKey};
//! let mut s = 1u32;
//! let noise: Vec<f32> = (0..96_000).map(|_| { s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223); (s >> 8) as f32 / 16_777_216.0 - 0.5 }).collect();
//! let audio = AudioBuffer::mono(SampleRate::try_new(16_000)?, noise)?;
//! let key = WatermarkKey::from_bytes([42; 32]);
//! let message = Message { payload: Payload::from_hex("00000000deadbeef")?, symbols: None };
//! let params = EmbedParams::default();
//!
//! let mut survey = Survey::new(audio.rate(), 1)?;
//! for block in audio.channels()[0].chunks(10_000) {
//!     survey.push(&[block])?;
//! }
//! let mut embedder = Embedder::new(survey.finish()?, &key, &message, &params)?;
//! let mut marked = vec![Vec::new()];
//! for block in audio.channels()[0].chunks(4_321) {
//!     embedder.push(&[block], &mut marked)?;
//! }
//! embedder.finish(&mut marked)?;
//! assert_eq!(marked, embed(&audio, &key, &message, &params)?.channels());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use tracemark_dsp::limit::{StreamLimiter, ceiling_for};
use tracemark_dsp::{Complex32, SampleRate, Stft, StftScratch, StreamResampler, downmix_into};

use crate::WatermarkError;
use crate::analysis::{ReferenceLevels, frame_gates};
use crate::blind::DETECT_RATE;
use crate::embed::{
    EmbedParams, EmbedReport, Marker, Message, check, detect_stft, limiter_half_window,
};
use crate::key::WatermarkKey;
use crate::layout::{BAND_BINS, BAND_LO};

/// The first pass: feed the whole recording with [`Self::push`], then [`Self::finish`].
#[derive(Debug)]
pub struct Survey {
    rate: SampleRate,
    channels: usize,
    mix: NarrowBand,
    stft: Stft,
    scratch: StftScratch,
    energies: Vec<f64>,
    peak: f32,
    frames: u64,
}

/// What the first pass learnt: all [`Embedder`] needs besides the audio itself (and, for
/// a recording of up to 15 minutes, its 8 kHz downmix, so that the second pass need not
/// compute it again).
#[derive(Clone, PartialEq)]
pub struct SurveyResult {
    rate: SampleRate,
    channels: usize,
    frames: u64,
    /// The whole 8 kHz downmix, when short enough to keep.
    mix: Option<Vec<f32>>,
    gates: Vec<f32>,
    peak: f32,
}

impl std::fmt::Debug for SurveyResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SurveyResult")
            .field("rate", &self.rate)
            .field("channels", &self.channels)
            .field("frames", &self.frames)
            .field("gated_frames", &self.gates.len())
            .field("peak", &self.peak)
            .field("kept_mix", &self.mix.as_ref().map(Vec::len))
            .finish()
    }
}

impl SurveyResult {
    /// Sample frames surveyed.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// The recording's sample rate.
    pub fn rate(&self) -> SampleRate {
        self.rate
    }

    /// The recording's channel count.
    pub fn channels(&self) -> usize {
        self.channels
    }
}

impl Survey {
    /// A survey of a recording of `channels` channels at `rate`.
    ///
    /// # Errors
    /// [`WatermarkError::RateNotOnGrid`] for a rate the mark's grid does not fit, and a
    /// resampler error for a rate it cannot convert.
    pub fn new(rate: SampleRate, channels: usize) -> Result<Self, WatermarkError> {
        crate::embed::frame_len(rate.hz())?;
        let stft = detect_stft();
        let scratch = stft.scratch();
        Ok(Self {
            rate,
            channels,
            mix: NarrowBand::new(rate.hz())?.keeping(),
            stft,
            scratch,
            energies: Vec::new(),
            peak: 0.0,
            frames: 0,
        })
    }

    /// Feeds the next frames: `block[c]` holds channel `c`'s, all of one length.
    ///
    /// # Errors
    /// [`WatermarkError::StreamShape`] when the block has the wrong number of channels or
    /// channels of different lengths.
    pub fn push(&mut self, block: &[&[f32]]) -> Result<(), WatermarkError> {
        let frames = check_block(block, self.channels)?;
        self.peak = block
            .iter()
            .flat_map(|c| c.iter())
            .fold(self.peak, |m, x| m.max(x.abs()));
        self.frames += frames as u64;
        self.mix.push(block)?;
        self.measure(None);
        Ok(())
    }

    /// Ends the first pass.
    ///
    /// # Errors
    /// A resampler error.
    pub fn finish(mut self) -> Result<SurveyResult, WatermarkError> {
        let total = self.mix.finish()?;
        self.measure(Some(total));
        Ok(SurveyResult {
            rate: self.rate,
            channels: self.channels,
            frames: self.frames,
            mix: self.mix.keep.take(),
            gates: frame_gates(&self.energies),
            peak: self.peak,
        })
    }
}

impl Survey {
    /// Records the band energy of every frame now complete.
    fn measure(&mut self, total: Option<u64>) {
        measure_frames(
            &mut self.mix,
            &self.stft,
            &mut self.scratch,
            &mut self.energies,
            total,
        );
    }
}

/// Appends the band energy of every frame of `mix` now complete to `energies` (every
/// frame that starts before the end, once `total` is known) and drops what no frame reads
/// again: frame for frame the energies `band_values` computes on the whole signal.
fn measure_frames(
    mix: &mut NarrowBand,
    stft: &Stft,
    scratch: &mut StftScratch,
    energies: &mut Vec<f64>,
    total: Option<u64>,
) {
    while mix.next_frame(stft, scratch, total).is_some() {
        energies.push(mix.band.iter().map(|c| f64::from(c.norm_sqr())).sum());
    }
    mix.forget_read(stft);
}

/// [`ReferenceLevels::measure`] for a recording's mono mix at [`DETECT_RATE`] that arrives
/// in pieces: [`Self::push`] them in order, then [`Self::finish`] gives exactly, bit for
/// bit, the levels of the whole. Holds one frame's samples and one `f64` per 40 ms frame
/// (90,000 an hour, 720 KB), never the signal.
///
/// ```
/// use tracemark_watermark::{LevelMeter, ReferenceLevels};
/// let x: Vec<f32> = (0..40_000).map(|i| (i as f32 * 0.07).sin() * (i % 9_000) as f32 * 1e-4).collect();
/// let mut meter = LevelMeter::new();
/// for piece in x.chunks(999) {
///     meter.push(piece);
/// }
/// assert_eq!(meter.finish(), ReferenceLevels::measure(&x));
/// ```
#[derive(Debug)]
pub struct LevelMeter {
    mix: NarrowBand,
    stft: Stft,
    scratch: StftScratch,
    energies: Vec<f64>,
}

impl Default for LevelMeter {
    fn default() -> Self {
        Self::new()
    }
}

impl LevelMeter {
    /// A meter with nothing measured.
    pub fn new() -> Self {
        let stft = detect_stft();
        let scratch = stft.scratch();
        Self {
            mix: NarrowBand::passing(),
            stft,
            scratch,
            energies: Vec::new(),
        }
    }

    /// Feeds the next samples (mono, at [`DETECT_RATE`]).
    pub fn push(&mut self, samples: &[f32]) {
        self.mix.samples.extend_from_slice(samples);
        measure_frames(
            &mut self.mix,
            &self.stft,
            &mut self.scratch,
            &mut self.energies,
            None,
        );
    }

    /// The levels of everything pushed.
    pub fn finish(mut self) -> ReferenceLevels {
        let total = self.mix.at + self.mix.samples.len() as u64;
        measure_frames(
            &mut self.mix,
            &self.stft,
            &mut self.scratch,
            &mut self.energies,
            Some(total),
        );
        ReferenceLevels::of_energies(&self.energies)
    }
}

/// The second pass: feed the same recording again with [`Self::push`], which hands out the
/// marked frames as they are done, then [`Self::finish`] for the rest.
#[derive(Debug)]
pub struct Embedder {
    survey: SurveyResult,
    marker: Marker,
    stft: Stft,
    scratch: StftScratch,
    /// The downmix, which decides the gains; for one channel, also the channel.
    mix: NarrowBand,
    /// Each channel's own band, when there are several.
    own: Vec<NarrowBand>,
    /// Each channel's mark at 8 kHz, then at the input's rate.
    marks: Vec<MarkSynth>,
    /// Host frames waiting for their mark.
    host: Vec<Vec<f32>>,
    /// Mark samples waiting for their host frames, and how many were passed on.
    added: Vec<Vec<f32>>,
    added_taken: u64,
    limiter: StreamLimiter,
    pushed: u64,
    gains: Vec<f32>,
    marked: Vec<Complex32>,
}

impl Embedder {
    /// The second pass over the recording `survey` describes, marking it with `message`
    /// under `key`.
    ///
    /// # Errors
    /// As [`embed`](crate::embed): a strength out of range, an empty codeword.
    pub fn new(
        mut survey: SurveyResult,
        key: &WatermarkKey,
        message: &Message<'_>,
        params: &EmbedParams,
    ) -> Result<Self, WatermarkError> {
        let rate = survey.rate.hz();
        check(rate, message, params)?;
        let stft = detect_stft();
        let scratch = stft.scratch();
        let channels = survey.channels;
        let own = if channels > 1 {
            (0..channels)
                .map(|_| NarrowBand::new(rate))
                .collect::<Result<_, _>>()?
        } else {
            Vec::new()
        };
        let marks = (0..channels)
            .map(|_| MarkSynth::new(rate))
            .collect::<Result<_, _>>()?;
        let limiter = StreamLimiter::new(
            channels,
            ceiling_for(survey.peak),
            limiter_half_window(rate),
        );
        Ok(Self {
            marker: Marker::new(key, message, params),
            marked: vec![Complex32::default(); stft.bins()],
            stft,
            scratch,
            mix: match survey.mix.take() {
                Some(samples) => NarrowBand::replaying(rate, samples)?,
                None => NarrowBand::new(rate)?,
            },
            own,
            marks,
            host: vec![Vec::new(); channels],
            added: vec![Vec::new(); channels],
            added_taken: 0,
            limiter,
            pushed: 0,
            gains: vec![0.0; BAND_BINS],
            survey,
        })
    }

    /// Feeds the next frames (`block[c]` holds channel `c`'s, all of one length) and
    /// appends every marked frame now done to `out[c]`.
    ///
    /// # Errors
    /// [`WatermarkError::StreamShape`] for a block of the wrong shape or more frames than
    /// the survey saw; a resampler error.
    pub fn push(&mut self, block: &[&[f32]], out: &mut [Vec<f32>]) -> Result<(), WatermarkError> {
        let frames = check_block(block, self.survey.channels)?;
        self.pushed += frames as u64;
        if self.pushed > self.survey.frames {
            return Err(WatermarkError::StreamShape {
                reason: format!(
                    "{} frames pushed where the survey saw {}",
                    self.pushed, self.survey.frames
                ),
            });
        }
        for (queue, samples) in self.host.iter_mut().zip(block) {
            queue.extend_from_slice(samples);
        }
        self.mix.push(block)?;
        for (c, own) in self.own.iter_mut().enumerate() {
            own.push(&block[c..=c])?;
        }
        self.mark_frames(None)?;
        self.limit(out, false);
        Ok(())
    }

    /// Ends the second pass, appends the last marked frames to `out[c]`, and says what the
    /// limiter did.
    ///
    /// # Errors
    /// [`WatermarkError::StreamShape`] when fewer frames were pushed than the survey saw; a
    /// resampler error.
    pub fn finish(mut self, out: &mut [Vec<f32>]) -> Result<EmbedReport, WatermarkError> {
        if self.pushed != self.survey.frames {
            return Err(WatermarkError::StreamShape {
                reason: format!(
                    "{} frames pushed where the survey saw {}",
                    self.pushed, self.survey.frames
                ),
            });
        }
        let total = self.mix.finish()?;
        for own in &mut self.own {
            own.finish()?;
        }
        self.mark_frames(Some(total))?;
        for (mark, added) in self.marks.iter_mut().zip(&mut self.added) {
            mark.finish(total, added)?;
        }
        self.limit(out, true);
        Ok(EmbedReport {
            limiter: self.limiter.finish(out),
        })
    }

    /// Marks every 8 kHz frame whose samples are all in (all of them once `total`, the
    /// 8 kHz length, is known).
    fn mark_frames(&mut self, total: Option<u64>) -> Result<(), WatermarkError> {
        // Every channel's band is cut in step with the downmix's (whose samples may come
        // from the first pass, ahead of the channels').
        while self.own.iter().all(|own| own.ready(&self.stft, total)) {
            let Some(f) = self.mix.next_frame(&self.stft, &mut self.scratch, total) else {
                break;
            };
            let gate = self.survey.gates.get(f).copied().unwrap_or(0.0);
            self.marker
                .frame_gains(f, gate, &self.mix.band, &mut self.gains);
            if self.own.is_empty() {
                // One channel: the mix is the channel, and its band is the one marked.
                self.marks[0].frame(
                    f,
                    &self.gains,
                    &self.mix.band,
                    &self.stft,
                    &mut self.marked,
                    total,
                    &mut self.added[0],
                )?;
                continue;
            }
            for c in 0..self.own.len() {
                let own = &mut self.own[c];
                // Every channel is as long as the mix, so it has frame `f` too.
                if own.next_frame(&self.stft, &mut self.scratch, total) != Some(f) {
                    return Err(WatermarkError::StreamShape {
                        reason: format!("channel {c} out of step with the downmix at frame {f}"),
                    });
                }
                self.marks[c].frame(
                    f,
                    &self.gains,
                    &own.band,
                    &self.stft,
                    &mut self.marked,
                    total,
                    &mut self.added[c],
                )?;
            }
        }
        self.mix.forget_read(&self.stft);
        for own in &mut self.own {
            own.forget_read(&self.stft);
        }
        Ok(())
    }

    /// Passes host frames and their marks to the limiter, as far as both are in; `last`
    /// once all of both are.
    fn limit(&mut self, out: &mut [Vec<f32>], last: bool) {
        // `embed` cuts the mark at the host's length, or pads it with silence.
        let wanted = (self.survey.frames - self.added_taken) as usize;
        for (added, host) in self.added.iter_mut().zip(&self.host) {
            added.truncate(wanted);
            if last {
                added.resize(host.len(), 0.0);
            }
        }
        let n = self
            .host
            .iter()
            .zip(&self.added)
            .map(|(h, a)| h.len().min(a.len()))
            .min()
            .unwrap_or(0);
        if n == 0 {
            return;
        }
        let host: Vec<&[f32]> = self.host.iter().map(|h| &h[..n]).collect();
        let added: Vec<&[f32]> = self.added.iter().map(|a| &a[..n]).collect();
        self.limiter.push(&host, &added, out);
        for v in self.host.iter_mut().chain(self.added.iter_mut()) {
            v.drain(..n);
        }
        self.added_taken += n as u64;
    }
}

/// Checks a block's shape; returns its length in frames.
fn check_block(block: &[&[f32]], channels: usize) -> Result<usize, WatermarkError> {
    if block.len() != channels {
        return Err(WatermarkError::StreamShape {
            reason: format!("a block of {} channels for {channels}", block.len()),
        });
    }
    let frames = block.first().map_or(0, |c| c.len());
    if block.iter().any(|c| c.len() != frames) {
        return Err(WatermarkError::StreamShape {
            reason: "a block whose channels differ in length".into(),
        });
    }
    Ok(frames)
}

/// A signal (the downmix of a block, or one channel) brought to 8 kHz as it arrives and cut
/// into the mark's frames.
#[derive(Debug)]
struct NarrowBand {
    /// `None` for a signal already at [`DETECT_RATE`] (a [`LevelMeter`]'s): it passes
    /// through.
    down: Option<StreamResampler>,
    /// 8 kHz samples from absolute index `at` on.
    samples: Vec<f32>,
    at: u64,
    next_frame: usize,
    /// The marked band of the frame last cut.
    band: Vec<Complex32>,
    mixed: Vec<f32>,
    narrow: Vec<f32>,
    /// Every 8 kHz sample handed to `samples` so far, while there are at most
    /// [`CACHE_SAMPLES`] (the first pass keeps them so the second need not resample).
    keep: Option<Vec<f32>>,
    /// In the second pass, the first pass's samples, handed out at the pace of the input
    /// (`rate` Hz, `pushed` frames so far) instead of resampling.
    replay: Option<Replay>,
}

/// The 8 kHz downmix of a recording up to this long (15 minutes, 29 MB) is kept from the
/// first pass for the second.
const CACHE_SAMPLES: usize = 15 * 60 * DETECT_RATE as usize;

#[derive(Debug)]
struct Replay {
    samples: Vec<f32>,
    handed: usize,
    rate: u32,
    pushed: u64,
}

impl NarrowBand {
    fn new(rate: u32) -> Result<Self, WatermarkError> {
        Ok(Self::with_down(Some(StreamResampler::new(
            rate,
            DETECT_RATE,
        )?)))
    }

    /// A band of a signal already at [`DETECT_RATE`]: samples pass through unresampled.
    fn passing() -> Self {
        Self::with_down(None)
    }

    fn with_down(down: Option<StreamResampler>) -> Self {
        Self {
            down,
            samples: Vec::new(),
            at: 0,
            next_frame: 0,
            band: Vec::with_capacity(BAND_BINS),
            mixed: Vec::new(),
            narrow: Vec::new(),
            keep: None,
            replay: None,
        }
    }

    /// Keeps what it resamples, up to [`CACHE_SAMPLES`], for [`Self::replaying`].
    fn keeping(mut self) -> Self {
        // Reserved whole (untouched pages cost nothing) so that growing never holds two
        // copies at once.
        self.keep = Some(Vec::with_capacity(CACHE_SAMPLES));
        self
    }

    /// A band that hands out `samples` (the whole 8 kHz signal, as a first pass resampled
    /// it from `rate` Hz) instead of resampling.
    fn replaying(rate: u32, samples: Vec<f32>) -> Result<Self, WatermarkError> {
        let mut band = Self::new(rate)?;
        band.replay = Some(Replay {
            samples,
            handed: 0,
            rate,
            pushed: 0,
        });
        Ok(band)
    }

    fn received(&mut self) {
        if let Some(keep) = &mut self.keep {
            if keep.len() + self.narrow.len() > CACHE_SAMPLES {
                self.keep = None;
            } else {
                keep.extend_from_slice(&self.narrow);
            }
        }
        self.samples.extend_from_slice(&self.narrow);
    }

    /// Feeds a block: one channel as it is, several downmixed as `AudioBuffer::downmix`
    /// does.
    fn push(&mut self, block: &[&[f32]]) -> Result<(), WatermarkError> {
        if let Some(replay) = &mut self.replay {
            // As much as the resampler would have given, roughly: the pace only bounds
            // what waits for its host frames, never what is computed.
            replay.pushed += block.first().map_or(0, |c| c.len()) as u64;
            let due = (replay.pushed * u64::from(DETECT_RATE)).div_ceil(u64::from(replay.rate));
            let due = (due as usize).min(replay.samples.len());
            self.samples
                .extend_from_slice(&replay.samples[replay.handed..due.max(replay.handed)]);
            replay.handed = due.max(replay.handed);
            return Ok(());
        }
        self.narrow.clear();
        let mono = match block {
            [one] => *one,
            _ => {
                self.mixed.clear();
                downmix_into(block, &mut self.mixed);
                &self.mixed
            }
        };
        match &mut self.down {
            Some(down) => down.push(mono, &mut self.narrow)?,
            None => self.narrow.extend_from_slice(mono),
        }
        self.received();
        Ok(())
    }

    /// Ends the input; returns the 8 kHz length.
    fn finish(&mut self) -> Result<u64, WatermarkError> {
        if let Some(replay) = &mut self.replay {
            self.samples
                .extend_from_slice(&replay.samples[replay.handed..]);
            replay.handed = replay.samples.len();
        } else {
            self.narrow.clear();
            if let Some(down) = &mut self.down {
                down.finish(&mut self.narrow)?;
            }
            self.received();
        }
        Ok(self.at + self.samples.len() as u64)
    }

    /// Cuts the next frame into [`Self::band`] and returns its index, if all its samples
    /// are in, or, once `total` (the 8 kHz length) is known, if it starts before the end
    /// (zeros past it).
    fn next_frame(
        &mut self,
        stft: &Stft,
        scratch: &mut StftScratch,
        total: Option<u64>,
    ) -> Option<usize> {
        if !self.ready(stft, total) {
            return None;
        }
        let start = self.next_frame as u64 * stft.hop() as u64;
        let spec = stft.analyze(&self.samples, (start - self.at) as isize, scratch);
        self.band.clear();
        self.band
            .extend_from_slice(&spec[BAND_LO..BAND_LO + BAND_BINS]);
        self.next_frame += 1;
        Some(self.next_frame - 1)
    }

    /// Whether [`Self::next_frame`] would cut a frame.
    fn ready(&self, stft: &Stft, total: Option<u64>) -> bool {
        let (len, hop) = (stft.len() as u64, stft.hop() as u64);
        let end = self.at + self.samples.len() as u64;
        let start = self.next_frame as u64 * hop;
        match total {
            Some(total) => start < total,
            None => start + len <= end,
        }
    }

    /// Drops the samples before the next frame's start: no frame reads them again.
    fn forget_read(&mut self, stft: &Stft) {
        let end = self.at + self.samples.len() as u64;
        let keep_from = (self.next_frame as u64 * stft.hop() as u64).min(end);
        if keep_from > self.at {
            self.samples.drain(..(keep_from - self.at) as usize);
            self.at = keep_from;
        }
    }
}

/// One channel's mark: overlap-added at 8 kHz frame by frame, then brought to the input's
/// rate as each 8 kHz sample is final.
#[derive(Debug)]
struct MarkSynth {
    up: StreamResampler,
    /// 8 kHz mark samples from absolute index `at` on, not yet final.
    delta: Vec<f32>,
    at: u64,
    scratch: Option<StftScratch>,
}

impl MarkSynth {
    fn new(rate: u32) -> Result<Self, WatermarkError> {
        Ok(Self {
            up: StreamResampler::new(DETECT_RATE, rate)?,
            delta: Vec::new(),
            at: 0,
            scratch: None,
        })
    }

    /// Adds frame `f`'s mark (`gains` applied to its band `band`) and passes the samples
    /// now final, brought to the input's rate, to `out`.
    #[allow(clippy::too_many_arguments)]
    fn frame(
        &mut self,
        f: usize,
        gains: &[f32],
        band: &[Complex32],
        stft: &Stft,
        marked: &mut [Complex32],
        total: Option<u64>,
        out: &mut Vec<f32>,
    ) -> Result<(), WatermarkError> {
        let hop = stft.hop() as u64;
        let start = f as u64 * hop;
        // The mark covers the whole 8 kHz signal and no more (`embed` cuts it at its length).
        let reach = start + stft.len() as u64;
        let reach = total.map_or(reach, |t| reach.min(t));
        let len = (reach.saturating_sub(self.at)) as usize;
        if self.delta.len() < len {
            self.delta.resize(len, 0.0);
        }
        if !gains.iter().all(|&g| g == 0.0) {
            let scratch = self.scratch.get_or_insert_with(|| stft.scratch());
            // The inverse transform works in place: clear what the last frame left.
            marked.fill(Complex32::default());
            for (k, (g, x)) in gains.iter().zip(band).enumerate() {
                marked[BAND_LO + k] = x * *g;
            }
            stft.synthesize_add(marked, (start - self.at) as isize, &mut self.delta, scratch);
        }
        // No later frame reaches before the next one's start.
        let done = ((start + hop).saturating_sub(self.at) as usize).min(self.delta.len());
        self.up.push(&self.delta[..done], out)?;
        self.delta.drain(..done);
        self.at += done as u64;
        Ok(())
    }

    /// Ends the mark at `total` 8 kHz samples and passes the rest to `out`.
    fn finish(&mut self, total: u64, out: &mut Vec<f32>) -> Result<(), WatermarkError> {
        self.delta
            .resize((total.saturating_sub(self.at)) as usize, 0.0);
        self.up.push(&self.delta, out)?;
        self.delta.clear();
        self.at = total;
        self.up.finish(out)?;
        Ok(())
    }
}
