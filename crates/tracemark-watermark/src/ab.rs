//! Copies assembled from a few renderings instead of marked one by one (issue 15 item 5;
//! the A/B idea of ETSI TS 104 002, done here at the sample level and bit for bit).
//!
//! A copy differs from another only in its codeword, one binary symbol per 80 ms slot; the
//! blind payload, the layout and the host are the same in every copy of a recording (the
//! vault gives all of a recording's copies one payload). Each sample of a copy is computed
//! from a few slots' symbols only, and [`AbLayout::slots_of`] says which, to the bit:
//!
//! - the mark of an 8 kHz frame depends on its slot's symbol alone (`Marker::frame_gains`);
//!   an 8 kHz mark sample is the sum of the (at most two) frames that cover it;
//! - at another rate the mark is upsampled by an FFT resampler whose output sample reads two
//!   whole units of input ([`ResampleGeometry`]);
//! - the peak limiter's gain at a sample is a function of the needs within twice its half
//!   window, each computed from host and mark at that sample alone
//!   (`tracemark_dsp::limit`, whose smoothing sums each window exactly, in integers, for this reason).
//!
//! With at most `span` consecutive slots behind any sample, `2^span` renderings suffice:
//! rendering `r` gives slot `k` the symbol `bit (k mod span) of r`, so for any codeword and
//! any sample there is a rendering that agrees with the codeword on every slot the sample
//! depends on, and its sample is the copy's, bit for bit. [`AbEmbedder`] runs the
//! renderings side by side over one decoding of the original and hands out each copy's
//! samples by picking, sample by sample, from the rendering [`AbLayout::source`] names: no
//! per-copy transform, filter or limiter. Tests compare with [`crate::embed`] bit for bit.

use tracemark_dsp::{ResampleGeometry, SampleRate};

use crate::WatermarkError;
use crate::blind::DETECT_RATE;
use crate::embed::{EmbedParams, Message, limiter_half_window, symbol_count};
use crate::key::WatermarkKey;
use crate::layout::SLOT_PAIRS;
use crate::payload::Payload;
use crate::stream::{Embedder, SurveyResult};

/// Frame length and hop at the detection rate (40 ms and 20 ms at 8 kHz).
const FRAME_8K: u64 = 320;
const HOP_8K: u64 = 160;
/// Frames per slot: two pairs of two.
const SLOT_FRAMES: u64 = 2 * SLOT_PAIRS as u64;

/// The most slots a sample may depend on for [`AbLayout`] to offer assembly: 8 renderings.
/// Every rate whose resampler units are 40 ms or less reaches 3 (8, 16, 22.05, 24, 32,
/// 44.1, 48, 96 kHz); 11.025 kHz (80 ms units) reaches 5 and is marked copy by copy.
pub const MAX_SPAN: usize = 3;

/// Which slots each output sample of a copy at one rate depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbLayout {
    geometry: Option<ResampleGeometry>,
    /// Twice the limiter's half window, in output samples.
    reach: u64,
    span: usize,
}

impl AbLayout {
    /// The layout for copies at `rate`.
    ///
    /// # Errors
    /// [`WatermarkError::RateNotOnGrid`] for a rate the mark's grid does not fit; a
    /// resampler error.
    pub fn new(rate: SampleRate) -> Result<Self, WatermarkError> {
        crate::embed::frame_len(rate.hz())?;
        let geometry = ResampleGeometry::of(DETECT_RATE, rate.hz())?;
        let reach = 2 * limiter_half_window(rate.hz()) as u64;
        // The widest 8 kHz window any sample reads: the limiter's 4 * half + 1 samples
        // touch at most `4 * half / chunk_out + 2` output units, each reading its input
        // unit and the one before.
        let window = match geometry {
            Some(g) => (2 * reach / g.chunk_out + 3) * g.chunk_in,
            None => 2 * reach + 1,
        };
        // Frames that overlap a window of that many samples, and the slots they lie in.
        let frames = (window + FRAME_8K - 2) / HOP_8K + 1;
        let span = 1 + (frames + SLOT_FRAMES - 2) / SLOT_FRAMES;
        Ok(Self {
            geometry,
            reach,
            span: span as usize,
        })
    }

    /// The most consecutive slots any sample depends on.
    pub fn span(&self) -> usize {
        self.span
    }

    /// Whether copies at this rate can be assembled ([`Self::span`] at most [`MAX_SPAN`]).
    pub fn assembles(&self) -> bool {
        self.span <= MAX_SPAN
    }

    /// Renderings needed: `2^span`.
    pub fn renderings(&self) -> usize {
        1 << self.span
    }

    /// The codeword of rendering `r` for a recording of `slots` slots: slot `k` carries bit
    /// `k mod span` of `r`.
    pub fn rendering_symbols(&self, r: usize, slots: usize) -> Vec<bool> {
        (0..slots + self.span)
            .map(|k| (r >> (k % self.span)) & 1 == 1)
            .collect()
    }

    /// The first and last slot (inclusive) output sample `n` is computed from.
    pub fn slots_of(&self, n: u64) -> (u64, u64) {
        let (first, last) = (n.saturating_sub(self.reach), n + self.reach);
        let (lo, hi) = match self.geometry {
            Some(g) => g.input_span(first, last),
            None => (first, last + 1),
        };
        // Frames `f` with `f * HOP <= t < f * HOP + FRAME` for some `t` in `lo..hi`.
        let f_lo = if lo < FRAME_8K {
            0
        } else {
            (lo - FRAME_8K) / HOP_8K + 1
        };
        let f_hi = (hi - 1) / HOP_8K;
        (f_lo / SLOT_FRAMES, f_hi / SLOT_FRAMES)
    }

    /// The rendering whose sample `n` is the sample of the copy marked with `symbols`
    /// (which wrap around, as [`crate::embed`] reads them).
    ///
    /// # Panics
    /// Never for a non-empty `symbols`: [`Self::slots_of`] spans at most `span` slots.
    pub fn source(&self, n: u64, symbols: &[bool]) -> usize {
        let (lo, hi) = self.slots_of(n);
        self.rendering_for(lo, hi, symbols)
    }

    /// The rendering that agrees with `symbols` on slots `lo..=hi`.
    fn rendering_for(&self, lo: u64, hi: u64, symbols: &[bool]) -> usize {
        debug_assert!((hi - lo) < self.span as u64);
        (lo..=hi).fold(0, |r, k| {
            let bit = usize::from(symbols[(k % symbols.len() as u64) as usize]);
            r | bit << (k % self.span as u64)
        })
    }
}

/// The renderings of one recording, run side by side over one pass of the original, from
/// which any number of copies are assembled: feed the original with [`Self::push`] (then
/// [`Self::finish`]); after each, [`Self::assemble`] each copy's ready samples, then
/// [`Self::advance`].
#[derive(Debug)]
pub struct AbEmbedder {
    layout: AbLayout,
    embedders: Vec<Embedder>,
    /// Each rendering's samples handed out and not yet advanced past, per channel; the
    /// first is absolute sample `at`.
    pending: Vec<Vec<Vec<f32>>>,
    at: u64,
    slots: usize,
    /// The ready samples cut where the slots they depend on change: each run's end (from
    /// `at`) and its first and last slot.
    runs: Vec<(usize, u64, u64)>,
}

impl AbEmbedder {
    /// The renderings of the recording `survey` describes, with `payload` and `params`.
    ///
    /// # Errors
    /// [`WatermarkError::StreamShape`] when the rate cannot be assembled
    /// ([`AbLayout::assembles`]); what [`Embedder::new`] refuses.
    pub fn new(
        survey: SurveyResult,
        key: &WatermarkKey,
        payload: Payload,
        params: &EmbedParams,
    ) -> Result<Self, WatermarkError> {
        let layout = AbLayout::new(survey.rate())?;
        if !layout.assembles() {
            return Err(WatermarkError::StreamShape {
                reason: format!(
                    "copies at {} Hz depend on {} slots per sample; assembly takes at most {MAX_SPAN}",
                    survey.rate().hz(),
                    layout.span()
                ),
            });
        }
        let slots = symbol_count(survey.frames() as usize, survey.rate().hz())?;
        let channels = survey.channels();
        let embedders = (0..layout.renderings())
            .map(|r| {
                let symbols = layout.rendering_symbols(r, slots);
                Embedder::new(
                    survey.clone(),
                    key,
                    &Message {
                        payload,
                        symbols: Some(&symbols),
                    },
                    params,
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            layout,
            pending: vec![vec![Vec::new(); channels]; embedders.len()],
            embedders,
            at: 0,
            slots,
            runs: Vec::new(),
        })
    }

    /// The layout the copies are assembled by.
    pub fn layout(&self) -> &AbLayout {
        &self.layout
    }

    /// Symbols a copy's codeword needs (one per slot): [`symbol_count`] of the recording.
    pub fn slots(&self) -> usize {
        self.slots
    }

    /// Feeds the next frames of the original to every rendering.
    ///
    /// # Errors
    /// As [`Embedder::push`].
    pub fn push(&mut self, block: &[&[f32]]) -> Result<(), WatermarkError> {
        for (e, out) in self.embedders.iter_mut().zip(&mut self.pending) {
            e.push(block, out)?;
        }
        self.cut_runs();
        Ok(())
    }

    /// Ends the original: every sample is then ready.
    ///
    /// # Errors
    /// As [`Embedder::finish`].
    pub fn finish(&mut self) -> Result<(), WatermarkError> {
        for (e, out) in self.embedders.drain(..).zip(&mut self.pending) {
            e.finish(out)?;
        }
        self.cut_runs();
        Ok(())
    }

    /// Cuts the ready samples into runs that depend on the same slots (once per push, for
    /// every copy assembled after it).
    fn cut_runs(&mut self) {
        let ready = self.ready();
        let mut i = self.runs.last().map_or(0, |r| r.0);
        let mut current = self.runs.pop();
        while i < ready {
            let slots = self.layout.slots_of(self.at + i as u64);
            match &mut current {
                Some((end, lo, hi)) if (*lo, *hi) == slots => *end = i + 1,
                _ => {
                    self.runs.extend(current.take());
                    current = Some((i + 1, slots.0, slots.1));
                }
            }
            i += 1;
        }
        self.runs.extend(current);
    }

    /// Samples every rendering has handed out that are not yet advanced past.
    pub fn ready(&self) -> usize {
        self.pending
            .iter()
            .flat_map(|r| r.iter().map(Vec::len))
            .min()
            .unwrap_or(0)
    }

    /// Appends to `out[c]` the ready samples of the copy marked with `symbols`.
    ///
    /// # Errors
    /// [`WatermarkError::EmptyCodeword`] for an empty codeword.
    pub fn assemble(&self, symbols: &[bool], out: &mut [Vec<f32>]) -> Result<(), WatermarkError> {
        if symbols.is_empty() {
            return Err(WatermarkError::EmptyCodeword);
        }
        let mut from = 0;
        for &(end, lo, hi) in &self.runs {
            let r = self.layout.rendering_for(lo, hi, symbols);
            for (o, c) in out.iter_mut().zip(&self.pending[r]) {
                o.extend_from_slice(&c[from..end]);
            }
            from = end;
        }
        Ok(())
    }

    /// Drops the ready samples (once every copy has taken them).
    pub fn advance(&mut self) {
        let ready = self.ready();
        for r in &mut self.pending {
            for c in r {
                c.drain(..ready);
            }
        }
        self.at += ready as u64;
        self.runs.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::embed;
    use crate::stream::Survey;
    use tracemark_dsp::AudioBuffer;

    fn noise(seed: u32) -> impl FnMut() -> f32 {
        let mut s = seed;
        move || {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (s >> 8) as f32 / 16_777_216.0 - 0.5
        }
    }

    /// Speech-like bursts (so gates open and close) and a few loud peaks near full scale
    /// (so the limiter engages), `seconds` long.
    fn host(rate: u32, channels: usize, seconds: f64, seed: u32) -> AudioBuffer {
        let mut next = noise(seed);
        let len = (f64::from(rate) * seconds) as usize;
        let chans = (0..channels)
            .map(|c| {
                (0..len)
                    .map(|i| {
                        let t = i as f64 / f64::from(rate);
                        let envelope = if (t * 3.0) as u64 % 4 == 3 { 0.02 } else { 0.3 };
                        let tone = (t * 2.0 * std::f64::consts::PI * (220.0 + 30.0 * c as f64))
                            .sin() as f32;
                        let peak = if i % (rate as usize / 3) < 40 {
                            0.9
                        } else {
                            0.0
                        };
                        envelope as f32 * (0.6 * tone + next()) + peak * tone.signum()
                    })
                    .collect()
            })
            .collect();
        AudioBuffer::try_new(SampleRate::try_new(rate).expect("test setup"), chans)
            .expect("test setup")
    }

    fn codeword(slots: usize, seed: u32) -> Vec<bool> {
        let mut next = noise(seed);
        (0..slots).map(|_| next() > 0.0).collect()
    }

    #[test]
    fn the_common_rates_assemble_from_eight_renderings() {
        for hz in [
            8_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000, 96_000,
        ] {
            let l =
                AbLayout::new(SampleRate::try_new(hz).expect("test setup")).expect("test setup");
            assert!(l.assembles(), "{hz} Hz: span {}", l.span());
            assert!(l.span() >= 2, "{hz} Hz");
        }
        let l =
            AbLayout::new(SampleRate::try_new(11_025).expect("test setup")).expect("test setup");
        assert!(!l.assembles(), "11025 Hz: span {}", l.span());
    }

    #[test]
    fn no_sample_depends_on_more_slots_than_the_span() {
        for hz in [8_000, 11_025, 16_000, 44_100, 48_000] {
            let l =
                AbLayout::new(SampleRate::try_new(hz).expect("test setup")).expect("test setup");
            let mut widest = 0;
            for n in 0..(hz as u64 * 3) {
                let (lo, hi) = l.slots_of(n);
                assert!(lo <= hi);
                widest = widest.max(hi - lo + 1);
            }
            assert!(
                widest <= l.span() as u64,
                "{hz} Hz: {widest} > {}",
                l.span()
            );
        }
    }

    /// The whole point: a copy assembled from the renderings is the copy `embed` marks with
    /// the same codeword, bit for bit, at every sample, for many codewords, at several
    /// rates, mono and stereo, with the limiter engaged.
    #[test]
    fn an_assembled_copy_is_the_marked_copy_bit_for_bit() {
        let key = WatermarkKey::from_bytes([9; 32]);
        let payload = Payload::from_hex("0123456789abcdef").expect("test setup");
        let params = EmbedParams::default();
        for (hz, channels, seconds) in [
            (8_000, 1, 6.0),
            (16_000, 1, 6.0),
            (44_100, 1, 4.0),
            (48_000, 2, 3.0),
        ] {
            let audio = host(hz, channels, seconds, hz);
            let mut survey = Survey::new(audio.rate(), channels).expect("test setup");
            let views: Vec<&[f32]> = audio.channels().iter().map(Vec::as_slice).collect();
            survey.push(&views).expect("test setup");
            let mut ab =
                AbEmbedder::new(survey.finish().expect("test setup"), &key, payload, &params)
                    .expect("test setup");
            let slots = ab.slots();
            let codewords: Vec<Vec<bool>> = (0..6).map(|s| codeword(slots, s * 31 + hz)).collect();
            let mut assembled = vec![vec![Vec::new(); channels]; codewords.len()];
            let len = audio.frames();
            let mut at = 0;
            let mut cut = 997;
            while at < len {
                let n = cut.min(len - at);
                let block: Vec<&[f32]> = views.iter().map(|c| &c[at..at + n]).collect();
                ab.push(&block).expect("test setup");
                for (cw, out) in codewords.iter().zip(&mut assembled) {
                    ab.assemble(cw, out).expect("test setup");
                }
                ab.advance();
                at += n;
                cut = cut * 7 % 4_001 + 300;
            }
            ab.finish().expect("test setup");
            for (cw, out) in codewords.iter().zip(&mut assembled) {
                ab.assemble(cw, out).expect("test setup");
            }
            let mut limited = 0;
            for (cw, out) in codewords.iter().zip(&assembled) {
                let message = Message {
                    payload,
                    symbols: Some(cw),
                };
                let (marked, report) =
                    crate::embed::embed_reporting(&audio, &key, &message, &params)
                        .expect("test setup");
                limited += report.limiter.attenuated_frames;
                for (c, (a, b)) in out.iter().zip(marked.channels()).enumerate() {
                    assert_eq!(a.len(), b.len(), "{hz} Hz, channel {c}: length");
                    let first = a
                        .iter()
                        .zip(b)
                        .position(|(x, y)| x.to_bits() != y.to_bits());
                    assert_eq!(first, None, "{hz} Hz, channel {c}: first differing sample");
                }
            }
            assert!(
                limited > 0,
                "{hz} Hz: the limiter never engaged, so it was not tested"
            );
            // And the copies do differ from each other (the codeword is in them).
            assert_ne!(assembled[0], assembled[1], "{hz} Hz");
            let plain = embed(
                &audio,
                &key,
                &Message {
                    payload,
                    symbols: None,
                },
                &params,
            )
            .expect("test setup");
            assert_ne!(assembled[0][0], plain.channels()[0], "{hz} Hz");
        }
    }
}
