//! Float to integer PCM for the lossless writers: the sample format a copy is written in,
//! and TPDF-dithered requantisation.
//!
//! Dither: triangular-PDF noise of 2 LSB peak to peak (the sum of two independent uniform
//! variables of 1 LSB) added before rounding. It is the lowest-power non-subtractive dither
//! that makes the first two moments of the quantisation error independent of the signal, so
//! no distortion products or noise modulation follow the music (S. P. Lipshitz, R. A.
//! Wannamaker and J. Vanderkooy, "Quantization and dither: a theoretical survey", J. Audio
//! Eng. Soc. 40(5), 1992, §4; AES17 uses the same dither for converter tests). It costs
//! 4.8 dB of noise over plain rounding: at 16 bits the error sits near -96 dBFS, far below
//! any watermark on audible material.
//!
//! Audio already on the target grid (a 16-bit decode written back at 16 bits) is written
//! as it is: dither exists for requantisation, and adding it there would only add noise.

use tracemark_dsp::{AudioBuffer, SampleFormat};

use crate::{Format, MediaError};

/// Which sample format [`crate::encode_bytes_as`] writes a lossless copy (WAV, FLAC) in.
/// Ignored by the lossy formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SampleChoice {
    /// The audio's [`AudioBuffer::source_format`] where the format can store it (WAV: 8, 16,
    /// 24, 32-bit integers, 32-bit float; FLAC: 8 to 24-bit integers), otherwise the
    /// format's default. What [`crate::encode_bytes`] does: a 16-bit WAV in gives a 16-bit
    /// WAV out.
    #[default]
    Source,
    /// The format's default whatever the source: 32-bit float WAV, 16-bit FLAC, rounded
    /// without dither (the behaviour before source formats were kept).
    FormatDefault,
    /// This sample format, dithered when it is an integer one.
    Exactly(SampleFormat),
}

impl SampleChoice {
    /// The choice that writes, for audio whose source format is `source_format`, the file
    /// this one writes, whatever the source: [`SampleChoice::Exactly`] the sample format
    /// written (its container: a 12-bit source is written as 16-bit WAV), or
    /// [`SampleChoice::FormatDefault`] where that is FLAC's undithered 16 bits, which no
    /// `Exactly` writes. A lossy format ignores the choice, so gets `FormatDefault`. An
    /// `Exactly` the format cannot store is an error. What a log records of a copy: the
    /// same choice writes the same file again.
    pub fn settled(
        self,
        source_format: Option<SampleFormat>,
        format: Format,
    ) -> Result<Self, MediaError> {
        if !format.is_lossless() {
            return Ok(Self::FormatDefault);
        }
        Ok(match resolve_for(source_format, format, self)? {
            Pcm::Int { dither: false, .. } => Self::FormatDefault,
            Pcm::Float32 => Self::Exactly(SampleFormat::Float { bits: 32 }),
            Pcm::Int { bits, .. } => Self::Exactly(SampleFormat::Int { bits }),
        })
    }
}

/// How one lossless file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pcm {
    /// 32-bit float (WAV only).
    Float32,
    /// Integers of `bits`, dithered (unless already on the grid) or plainly rounded.
    Int { bits: u8, dither: bool },
}

/// Resolves `choice` for `audio` written as `format` (WAV or FLAC).
pub(crate) fn resolve(
    audio: &AudioBuffer,
    format: Format,
    choice: SampleChoice,
) -> Result<Pcm, MediaError> {
    resolve_for(audio.source_format(), format, choice)
}

/// [`resolve`] for audio whose source format is `source_format`.
pub(crate) fn resolve_for(
    source_format: Option<SampleFormat>,
    format: Format,
    choice: SampleChoice,
) -> Result<Pcm, MediaError> {
    let default = match format {
        Format::Flac => Pcm::Int {
            bits: 16,
            dither: false,
        },
        _ => Pcm::Float32,
    };
    let wanted = match choice {
        SampleChoice::FormatDefault => return Ok(default),
        SampleChoice::Source => match source_format {
            Some(f) => f,
            None => return Ok(default),
        },
        SampleChoice::Exactly(f) => f,
    };
    let unsupported = || MediaError::Encode {
        format,
        reason: format!("{wanted} samples cannot be written as {format:?}"),
    };
    match (format, wanted) {
        // hound writes 8, 16, 24 and 32-bit integer WAV: a source of another width (12 or
        // 20 valid bits in a wider container) is written in the next container up.
        (Format::Wav, SampleFormat::Int { bits: 1..=32 }) => Ok(Pcm::Int {
            bits: wanted_container(wanted),
            dither: true,
        }),
        // f64 sources become f32: lossless for an `f32` buffer.
        (Format::Wav, SampleFormat::Float { .. }) => Ok(Pcm::Float32),
        // flacenc writes 8 to 24 bits (RFC 9639 allows 4 to 32).
        (
            Format::Flac,
            SampleFormat::Int {
                bits: bits @ 8..=24,
            },
        ) => Ok(Pcm::Int { bits, dither: true }),
        // A float or 32-bit source has no FLAC equivalent flacenc writes: keep the default
        // when following the source, refuse when asked exactly.
        (Format::Flac, _) if choice == SampleChoice::Source => Ok(default),
        _ => Err(unsupported()),
    }
}

fn wanted_container(f: SampleFormat) -> u8 {
    match f {
        SampleFormat::Int { bits: ..=8 } => 8,
        SampleFormat::Int { bits: 9..=16 } => 16,
        SampleFormat::Int { bits: 17..=24 } => 24,
        _ => 32,
    }
}

/// The channels of `audio` as `bits`-bit integers (full scale `2^(bits-1)`, as every decoder
/// here reads them), interleaved, clamped to the representable range; TPDF-dithered when
/// `dither` and the audio is not already on the grid. Deterministic: the dither sequence is
/// fixed, so the same audio always gives the same file.
pub(crate) fn interleave(audio: &AudioBuffer, bits: u8, dither: bool) -> Vec<i32> {
    let scale = f64::from(1u32 << (bits - 1));
    let (lo, hi) = (-scale, scale - 1.0);
    let dither = dither && !on_grid(audio, scale);
    let mut noise = Tpdf::new();
    let mut out = Vec::with_capacity(audio.frames() * audio.channel_count());
    for i in 0..audio.frames() {
        for ch in audio.channels() {
            let d = if dither { noise.next_lsb() } else { 0.0 };
            // The clamp keeps the value within `bits` bits, so the cast cannot wrap.
            out.push((f64::from(ch[i]) * scale + d).round().clamp(lo, hi) as i32);
        }
    }
    out
}

/// Whether every sample is an integer multiple of `1/scale` within range: requantising it
/// then changes nothing.
fn on_grid(audio: &AudioBuffer, scale: f64) -> bool {
    audio
        .channels()
        .iter()
        .flatten()
        .all(|&x| on_grid_sample(x, scale))
}

/// Whether `x` is an integer multiple of `1/scale` within range.
pub(crate) fn on_grid_sample(x: f32, scale: f64) -> bool {
    let v = f64::from(x) * scale;
    v.fract() == 0.0 && v >= -scale && v < scale
}

/// [`interleave`] sample by sample, for a signal that arrives in pieces: the same integers,
/// except that whether dither is needed is known only once a sample off the grid arrives.
/// Until then samples are written plain (exactly their values, being on the grid); from that
/// sample on they are dithered, and [`Self::plain_prefix`] says how many came before it, for
/// the writer to redo with [`Redither`]. The dither sequence runs for every sample, so each
/// meets the noise it meets in [`interleave`] (without dither, plain rounding).
pub(crate) struct StreamQuantizer {
    scale: f64,
    lo: f64,
    hi: f64,
    dither: bool,
    noise: Tpdf,
    /// Samples quantised so far.
    at: u64,
    /// The index of the first sample off the grid, once dither is allowed and one was seen.
    dithering_from: Option<u64>,
}

impl StreamQuantizer {
    pub(crate) fn new(bits: u8, dither: bool) -> Self {
        let scale = f64::from(1u32 << (bits - 1));
        Self {
            scale,
            lo: -scale,
            hi: scale - 1.0,
            dither,
            noise: Tpdf::new(),
            at: 0,
            dithering_from: None,
        }
    }

    /// The next sample (channels interleaved) as an integer of the quantiser's width.
    #[inline]
    pub(crate) fn next(&mut self, x: f32) -> i32 {
        if !self.dither {
            return round_clamped(f64::from(x) * self.scale, self.lo, self.hi);
        }
        let d = self.noise.next_lsb();
        if self.dithering_from.is_none() && !on_grid_sample(x, self.scale) {
            self.dithering_from = Some(self.at);
        }
        self.at += 1;
        let d = if self.dithering_from.is_some() {
            d
        } else {
            0.0
        };
        round_clamped(f64::from(x) * self.scale + d, self.lo, self.hi)
    }

    /// [`Self::next`] for every sample of a block (`block[c]` holds channel `c`'s frames; the
    /// first `frames` of each), channels interleaved, appended to `out`: the same integers.
    /// Once dither has started, the noise for the whole block is drawn at once
    /// ([`Tpdf::fill_lsb`], four stretches of the sequence in flight) and the rounding is a
    /// loop of its own.
    pub(crate) fn next_block<C: AsRef<[f32]>>(
        &mut self,
        block: &[C],
        frames: usize,
        out: &mut Vec<i32>,
        noise: &mut Vec<f64>,
    ) {
        let channels = block.len();
        let mut i = 0;
        // Sample by sample until dither is known to be needed (or for good, without it).
        while i < frames && !(self.dither && self.dithering_from.is_some()) {
            if !self.dither {
                let (scale, lo, hi) = (self.scale, self.lo, self.hi);
                for f in i..frames {
                    for ch in block {
                        out.push(round_clamped(f64::from(ch.as_ref()[f]) * scale, lo, hi));
                    }
                }
                return;
            }
            for ch in block {
                out.push(self.next(ch.as_ref()[i]));
            }
            i += 1;
        }
        if i == frames {
            return;
        }
        let n = (frames - i) * channels;
        noise.clear();
        noise.resize(n, 0.0);
        self.noise.fill_lsb(noise);
        self.at += n as u64;
        let (scale, lo, hi) = (self.scale, self.lo, self.hi);
        let start = out.len();
        out.resize(start + n, 0);
        let dst = &mut out[start..];
        if let [ch] = block {
            for ((o, &x), &d) in dst.iter_mut().zip(&ch.as_ref()[i..frames]).zip(&noise[..]) {
                *o = round_clamped(f64::from(x) * scale + d, lo, hi);
            }
            return;
        }
        for (c, ch) in block.iter().enumerate() {
            let samples = &ch.as_ref()[i..frames];
            let (dst, noise) = (
                dst[c..].iter_mut().step_by(channels),
                noise[c..].iter().step_by(channels),
            );
            for ((o, &x), &d) in dst.zip(samples).zip(noise) {
                *o = round_clamped(f64::from(x) * scale + d, lo, hi);
            }
        }
    }

    /// How many samples at the start were written plain although dither turned out to be
    /// needed; `None` while it is not (or when there are none).
    pub(crate) fn plain_prefix(&self) -> Option<u64> {
        self.dithering_from.filter(|&n| n > 0)
    }

    /// Whether every sample still to come is quantised as it will stay: dither is off, or
    /// it has started (so nothing written from now on is redone).
    pub(crate) fn settled(&self) -> bool {
        !self.dither || self.dithering_from.is_some()
    }
}

/// The dither [`interleave`] gives the samples a [`StreamQuantizer`] wrote plain, from the
/// first on: each plain integer is its sample exactly, so adding the same noise to it and
/// rounding gives the whole-buffer integer.
pub(crate) struct Redither {
    lo: f64,
    hi: f64,
    noise: Tpdf,
}

impl Redither {
    pub(crate) fn new(bits: u8) -> Self {
        let scale = f64::from(1u32 << (bits - 1));
        Self {
            lo: -scale,
            hi: scale - 1.0,
            noise: Tpdf::new(),
        }
    }

    /// The dithered integer for the next plain one.
    pub(crate) fn next(&mut self, v: i32) -> i32 {
        // Within the width's range: the clamp keeps it there, so the cast cannot wrap.
        (f64::from(v) + self.noise.next_lsb())
            .round()
            .clamp(self.lo, self.hi) as i32
    }
}

/// `v.round().clamp(lo, hi) as i32` for any `v` and integer bounds within `i32`, without
/// the libm call `f64::round` compiles to on baseline x86-64 (no SSE4.1 `roundsd`): half
/// away from zero, as `round`. Exact: below 2^31 in magnitude, `v - trunc(v)` is exact.
#[inline]
fn round_clamped(v: f64, lo: f64, hi: f64) -> i32 {
    // Rounding then clamping to integer bounds is clamping then rounding; a NaN stays NaN
    // through `clamp`, and its fraction fails both tests below, so it gives `0 as i32` = 0,
    // as `NaN as i32` does. No branch: under dither the fraction is noise, and a branch on
    // it (or on the range) would be mispredicted.
    let v = v.clamp(lo, hi);
    // Within i32: the cast truncates exactly.
    let t = v as i32;
    let frac = v - f64::from(t);
    t + i32::from(frac >= 0.5) - i32::from(frac <= -0.5)
}

/// Triangular-PDF noise in LSB, from a fixed-seed xorshift64* generator (Marsaglia 2003,
/// multiplier from Vigna, "An experimental exploration of Marsaglia's xorshift generators,
/// scrambled", 2016): dither needs no secrecy, only independence from the signal.
pub(crate) struct Tpdf(u64);

impl Tpdf {
    pub(crate) fn new() -> Self {
        Self(0x9e37_79b9_7f4a_7c15)
    }

    #[inline]
    fn uniform(&mut self) -> f64 {
        self.0 = Self::step(self.0);
        let x = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }

    /// In (-1, 1) LSB, triangular.
    #[inline]
    pub(crate) fn next_lsb(&mut self) -> f64 {
        self.uniform() - self.uniform()
    }

    /// Fills `out` with the next `out.len()` values of [`Self::next_lsb`], the same
    /// sequence. The state update is a serial chain (each step waits on the last), so the
    /// values are drawn in four stretches of [`FILL_STRETCH`] at once: the state at the start
    /// of each is the one before it jumped ahead by the stretch's draws, a fixed linear map
    /// over GF(2) (xorshift is linear: Marsaglia 2003), applied as 64 precomputed columns.
    pub(crate) fn fill_lsb(&mut self, out: &mut [f64]) {
        let mut groups = out.chunks_exact_mut(4 * FILL_STRETCH);
        for group in &mut groups {
            let (a, rest) = group.split_at_mut(FILL_STRETCH);
            let (b, rest) = rest.split_at_mut(FILL_STRETCH);
            let (c, d) = rest.split_at_mut(FILL_STRETCH);
            let s1 = jump(self.0);
            let s2 = jump(s1);
            let s3 = jump(s2);
            let mut g = [Self(self.0), Self(s1), Self(s2), Self(s3)];
            for (((a, b), c), d) in a.iter_mut().zip(b).zip(c).zip(d) {
                *a = g[0].next_lsb();
                *b = g[1].next_lsb();
                *c = g[2].next_lsb();
                *d = g[3].next_lsb();
            }
            self.0 = g[3].0;
        }
        for v in groups.into_remainder() {
            *v = self.next_lsb();
        }
    }

    /// One step of the state (without the output's multiplication).
    #[inline]
    fn step(mut s: u64) -> u64 {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        s
    }
}

/// Values per stretch of [`Tpdf::fill_lsb`] (two draws each).
const FILL_STRETCH: usize = 1024;

/// The state `2 * FILL_STRETCH` steps after `s`.
fn jump(s: u64) -> u64 {
    static COLUMNS: std::sync::OnceLock<[u64; 64]> = std::sync::OnceLock::new();
    let columns = COLUMNS.get_or_init(|| {
        let mut columns = [0u64; 64];
        for (bit, column) in columns.iter_mut().enumerate() {
            let mut v = 1u64 << bit;
            for _ in 0..2 * FILL_STRETCH {
                v = Tpdf::step(v);
            }
            *column = v;
        }
        columns
    });
    columns.iter().enumerate().fold(0, |acc, (bit, column)| {
        acc ^ (column & ((s >> bit) & 1).wrapping_neg())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracemark_dsp::SampleRate;

    fn buffer(samples: Vec<f32>) -> AudioBuffer {
        AudioBuffer::mono(SampleRate::try_new(8_000).expect("rate"), samples).expect("buffer")
    }

    #[test]
    fn round_clamped_is_round_then_clamp() {
        let (lo, hi) = (-32_768.0, 32_767.0);
        let mut values = vec![
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.5,
            0.499_999_999_999_999_9,
            -0.499_999_999_999_999_9,
            32_766.5,
            32_767.4,
            32_767.5,
            40_000.0,
            -32_768.5,
            -32_769.0,
            -1e12,
            1e12,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            f64::MIN_POSITIVE,
        ];
        let mut state = 1u64;
        for _ in 0..100_000 {
            state = Tpdf::step(state);
            values.push((state >> 11) as f64 / (1u64 << 53) as f64 * 80_000.0 - 40_000.0);
        }
        for v in values {
            assert_eq!(
                round_clamped(v, lo, hi),
                v.round().clamp(lo, hi) as i32,
                "{v}"
            );
        }
    }

    #[test]
    fn drawn_in_stretches_the_dither_is_the_same_sequence() {
        for len in [
            0,
            1,
            7,
            4 * FILL_STRETCH - 1,
            4 * FILL_STRETCH,
            9 * FILL_STRETCH + 5,
        ] {
            let (mut serial, mut fast) = (Tpdf::new(), Tpdf::new());
            // Start somewhere inside the sequence, as a later block does.
            for _ in 0..3 {
                serial.next_lsb();
                fast.next_lsb();
            }
            let want: Vec<f64> = (0..len).map(|_| serial.next_lsb()).collect();
            let mut got = vec![0.0; len];
            fast.fill_lsb(&mut got);
            assert_eq!(got, want, "{len}");
            assert_eq!(fast.next_lsb(), serial.next_lsb(), "{len}: the state after");
        }
    }

    #[test]
    fn a_block_quantises_as_sample_by_sample() {
        // Two channels; on the grid for the first 100 frames, then off it; blocks of
        // several sizes; 8, 16 and 24 bits, with and without dither.
        let frames = 9_000;
        let block: Vec<Vec<f32>> = (0..2)
            .map(|c| {
                (0..frames)
                    .map(|n| {
                        let on = ((n * 37 + c * 11) % 2001) as f32 - 1000.0;
                        if n < 100 {
                            on / 32_768.0
                        } else {
                            (on + 0.3) / 1001.0
                        }
                    })
                    .collect()
            })
            .collect();
        for bits in [8, 16, 24] {
            for dither in [false, true] {
                let mut serial = StreamQuantizer::new(bits, dither);
                let want: Vec<i32> = (0..frames)
                    .flat_map(|f| [block[0][f], block[1][f]])
                    .map(|x| serial.next(x))
                    .collect();
                let mut fast = StreamQuantizer::new(bits, dither);
                let (mut got, mut noise) = (Vec::new(), Vec::new());
                let mut at = 0;
                for size in [1, 150, 4_097, 10_000].iter().cycle() {
                    if at == frames {
                        break;
                    }
                    let n = (*size).min(frames - at);
                    let piece: Vec<&[f32]> = block.iter().map(|c| &c[at..at + n]).collect();
                    fast.next_block(&piece, n, &mut got, &mut noise);
                    at += n;
                }
                assert_eq!(got, want, "{bits} bits, dither {dither}");
                assert_eq!(fast.plain_prefix(), serial.plain_prefix());
            }
        }
    }

    #[test]
    fn audio_on_the_grid_is_written_exactly() {
        let samples: Vec<f32> = (-50..50).map(|i| i as f32 * 321.0 / 32_768.0).collect();
        let ints = interleave(&buffer(samples), 16, true);
        assert_eq!(ints, (-50..50).map(|i| i * 321).collect::<Vec<_>>());
    }

    #[test]
    fn the_stream_quantiser_with_its_prefix_redithered_gives_interleave() {
        // On the grid for 300 samples, then off it: the first 300 come out plain and are
        // redithered afterwards; rounding alone (no dither) needs no second pass.
        let mut samples: Vec<f32> = (0..1_000).map(|i| (i as f32 * 0.05).sin() * 0.7).collect();
        for x in &mut samples[..300] {
            *x = (*x * 32_768.0).round() / 32_768.0;
        }
        for dither in [true, false] {
            let mut q = StreamQuantizer::new(16, dither);
            let mut got: Vec<i32> = samples.iter().map(|&x| q.next(x)).collect();
            if let Some(n) = q.plain_prefix() {
                let mut r = Redither::new(16);
                for v in &mut got[..n as usize] {
                    *v = r.next(*v);
                }
            }
            assert_eq!(q.plain_prefix(), dither.then_some(300));
            assert_eq!(got, interleave(&buffer(samples.clone()), 16, dither));
        }
    }

    #[test]
    fn dither_is_triangular_unbiased_and_at_most_one_lsb() {
        // A constant a third of an LSB above 100 LSB: plain rounding would always give 100;
        // TPDF dither gives 99, 100 or 101 with mean 100 + 1/3.
        let x = (100.0 + 1.0 / 3.0) / 32_768.0;
        let ints = interleave(&buffer(vec![x; 60_000]), 16, true);
        assert!(ints.iter().all(|v| (99..=101).contains(v)), "within 1 LSB");
        let mean = ints.iter().map(|&v| f64::from(v)).sum::<f64>() / ints.len() as f64;
        assert!((mean - (100.0 + 1.0 / 3.0)).abs() < 0.01, "mean {mean}");
        let rounded = interleave(&buffer(vec![x; 10]), 16, false);
        assert!(rounded.iter().all(|&v| v == 100));
    }

    #[test]
    fn dithered_output_is_deterministic_and_clamped_at_full_scale() {
        let samples: Vec<f32> = (0..1_000).map(|i| (i as f32 * 0.37).sin()).collect();
        let a = interleave(&buffer(samples.clone()), 16, true);
        assert_eq!(a, interleave(&buffer(samples), 16, true));
        assert!(a.iter().all(|v| (-32_768..=32_767).contains(v)));
    }

    #[test]
    fn the_source_is_followed_where_the_format_can_store_it() {
        let b = buffer(vec![0.0; 4]);
        let int16 = b
            .clone()
            .with_source_format(Some(SampleFormat::Int { bits: 16 }));
        let int24 = b
            .clone()
            .with_source_format(Some(SampleFormat::Int { bits: 24 }));
        let float = b
            .clone()
            .with_source_format(Some(SampleFormat::Float { bits: 64 }));
        let src = SampleChoice::Source;
        let r = |a: &AudioBuffer, f, c| resolve(a, f, c).expect("resolves");
        assert_eq!(r(&b, Format::Wav, src), Pcm::Float32);
        assert_eq!(
            r(&b, Format::Flac, src),
            Pcm::Int {
                bits: 16,
                dither: false
            }
        );
        assert_eq!(
            r(&int16, Format::Wav, src),
            Pcm::Int {
                bits: 16,
                dither: true
            }
        );
        assert_eq!(
            r(&int24, Format::Flac, src),
            Pcm::Int {
                bits: 24,
                dither: true
            }
        );
        assert_eq!(r(&float, Format::Wav, src), Pcm::Float32);
        assert_eq!(
            r(&int16, Format::Wav, SampleChoice::FormatDefault),
            Pcm::Float32
        );
        let float32 = SampleChoice::Exactly(SampleFormat::Float { bits: 32 });
        assert!(resolve(&b, Format::Flac, float32).is_err());
    }

    #[test]
    fn a_settled_choice_writes_what_the_choice_wrote_whatever_the_source() {
        let int = |bits| Some(SampleFormat::Int { bits });
        let sources = [
            None,
            int(8),
            int(12),
            int(16),
            int(24),
            int(32),
            Some(SampleFormat::Float { bits: 32 }),
            Some(SampleFormat::Float { bits: 64 }),
        ];
        let choices = [
            SampleChoice::Source,
            SampleChoice::FormatDefault,
            SampleChoice::Exactly(SampleFormat::Int { bits: 16 }),
            SampleChoice::Exactly(SampleFormat::Int { bits: 20 }),
            SampleChoice::Exactly(SampleFormat::Float { bits: 32 }),
        ];
        for format in [Format::Wav, Format::Flac] {
            for source in sources {
                for choice in choices {
                    let Ok(written) = resolve_for(source, format, choice) else {
                        assert!(choice.settled(source, format).is_err());
                        continue;
                    };
                    let settled = choice.settled(source, format).expect("settles");
                    assert!(!matches!(settled, SampleChoice::Source));
                    // The settled choice needs no source to write the same samples.
                    for other in sources {
                        assert_eq!(
                            resolve_for(other, format, settled).expect("writes"),
                            written,
                            "{format:?} {source:?} {choice:?} -> {settled:?}, then {other:?}"
                        );
                    }
                }
            }
        }
        let s16 = SampleChoice::Source.settled(int(16), Format::Flac);
        assert_eq!(
            s16.expect("16-bit FLAC"),
            SampleChoice::Exactly(SampleFormat::Int { bits: 16 })
        );
        assert_eq!(
            SampleChoice::Source
                .settled(None, Format::Wav)
                .expect("wav"),
            SampleChoice::Exactly(SampleFormat::Float { bits: 32 })
        );
        assert_eq!(
            SampleChoice::Source
                .settled(None, Format::Flac)
                .expect("flac"),
            SampleChoice::FormatDefault
        );
        assert_eq!(
            SampleChoice::Source
                .settled(int(16), Format::Mp3)
                .expect("mp3"),
            SampleChoice::FormatDefault
        );
    }
}
