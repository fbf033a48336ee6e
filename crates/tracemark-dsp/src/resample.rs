//! Sample-rate conversion, wrapping `rubato`.

use audioadapter_buffers::direct::InterleavedSlice;
use rubato::{
    Async, Fft, FixedAsync, FixedSync, Resampler, SincInterpolationParameters,
    SincInterpolationType, WindowFunction,
};

use crate::DspError;

/// Shortest FFT block of the resampler, in frames of the lower rate.
const MIN_BLOCK: usize = 256;

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Converts mono `samples` from `from_hz` to `to_hz` with a synchronous FFT resampler.
///
/// The output is time-aligned with the input (rubato removes its own delay) and holds
/// `ceil(len * to / from)` samples.
pub fn resample(samples: &[f32], from_hz: u32, to_hz: u32) -> Result<Vec<f32>, DspError> {
    if from_hz == to_hz || samples.is_empty() {
        return Ok(samples.to_vec());
    }
    let mut resampler = fft_resampler(from_hz, to_hz)?;
    run(&mut resampler, samples).map_err(|reason| resample_error(from_hz, to_hz, reason))
}

fn resample_error(from: u32, to: u32, reason: String) -> DspError {
    DspError::Resample { from, to, reason }
}

/// The synchronous FFT resampler behind [`resample`] and [`StreamResampler`].
fn fft_resampler(from_hz: u32, to_hz: u32) -> Result<Fft<f32>, DspError> {
    // One FFT block per chunk, at least 256 frames long on the lower-rate side: rubato's
    // default of 256-frame sub-chunks shrinks the block, and the anti-aliasing filter's
    // cutoff with it, so far that 48 -> 8 kHz passed a 3 kHz tone at 0.18 of its
    // amplitude. An even number of minimal blocks keeps the resampler's delay (half a
    // block) a whole number of frames on both sides; an odd one left a half-sample shift
    // (11 us at 44.1 -> 8 kHz, 62 us at 48 -> 8 kHz).
    let gcd = gcd(from_hz as usize, to_hz as usize);
    let (min_in, min_out) = (from_hz as usize / gcd, to_hz as usize / gcd);
    let blocks = MIN_BLOCK.div_ceil(min_in.min(min_out)).next_multiple_of(2);
    Fft::<f32>::new_custom(
        from_hz as usize,
        to_hz as usize,
        blocks * min_in,
        1,
        1,
        WindowFunction::BlackmanHarris2,
        FixedSync::Input,
    )
    .map_err(|e| resample_error(from_hz, to_hz, e.to_string()))
}

/// Which input samples each output sample of [`resample`] (and [`StreamResampler`]) is
/// computed from, to the bit. The FFT resampler works in units: input unit `j` (samples
/// `j * chunk_in..(j + 1) * chunk_in`) is transformed whole, filtered and transformed back
/// to `2 * chunk_out` samples, of which the first half, plus the second half of unit
/// `j - 1`'s, is output unit `j` (overlap-add; rubato's `FftResampler::resample_unit`).
/// Output sample `n` is unit sample `n + delay`, so it reads input units `j - 1` and `j` for
/// `j = (n + delay) / chunk_out`, every sample of them: a transform mixes the rounding of
/// all its inputs into every output, though the filter gives far ones no weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResampleGeometry {
    /// Input samples per unit.
    pub chunk_in: u64,
    /// Output samples per unit.
    pub chunk_out: u64,
    /// Unit samples dropped before the first output sample.
    pub delay: u64,
}

impl ResampleGeometry {
    /// The geometry of the resampler [`resample`] runs from `from_hz` to `to_hz`, or `None`
    /// when the rates are equal (output sample `n` is input sample `n`).
    pub fn of(from_hz: u32, to_hz: u32) -> Result<Option<Self>, DspError> {
        if from_hz == to_hz {
            return Ok(None);
        }
        let fft = fft_resampler(from_hz, to_hz)?;
        Ok(Some(Self {
            chunk_in: fft.input_frames_next() as u64,
            chunk_out: fft.output_frames_next() as u64,
            delay: fft.output_delay() as u64,
        }))
    }

    /// The input samples output samples `first..=last` are computed from: `lo..hi`.
    pub fn input_span(&self, first: u64, last: u64) -> (u64, u64) {
        let (j_lo, j_hi) = (
            (first + self.delay) / self.chunk_out,
            (last + self.delay) / self.chunk_out,
        );
        (
            j_lo.saturating_sub(1) * self.chunk_in,
            (j_hi + 1) * self.chunk_in,
        )
    }
}

/// [`resample`] for a signal that arrives in pieces, with memory bounded by one resampler
/// block: [`Self::push`] the pieces in order, then [`Self::finish`], and the samples handed
/// out are exactly, bit for bit, what [`resample`] returns for the whole signal. It runs the
/// same resampler through the same chunks as rubato's `process_all` (full chunks while more
/// input follows, the last one zero-padded, zeros pumped until the output is long enough),
/// drops the same start-up delay and cuts at the same length, `ceil(len * to / from)`.
///
/// ```
/// use tracemark_dsp::{StreamResampler, resample};
/// let x: Vec<f32> = (0..10_000).map(|i| (i as f32 * 0.01).sin()).collect();
/// let mut stream = StreamResampler::new(44_100, 8_000)?;
/// let mut y = Vec::new();
/// for piece in x.chunks(777) {
///     stream.push(piece, &mut y)?;
/// }
/// stream.finish(&mut y)?;
/// assert_eq!(y, resample(&x, 44_100, 8_000)?);
/// # Ok::<(), tracemark_dsp::DspError>(())
/// ```
pub struct StreamResampler {
    /// `None` when the rates are equal: samples pass through.
    fft: Option<Fft<f32>>,
    from_hz: u32,
    to_hz: u32,
    /// Input not yet resampled, from `pending_at` on.
    pending: Vec<f32>,
    pending_at: usize,
    /// One chunk's output.
    scratch: Vec<f32>,
    /// Input samples pushed, resampler output produced (delay included) and handed out.
    pushed: u64,
    produced: u64,
    emitted: u64,
    finished: bool,
}

impl std::fmt::Debug for StreamResampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamResampler")
            .field("from_hz", &self.from_hz)
            .field("to_hz", &self.to_hz)
            .field("pushed", &self.pushed)
            .finish()
    }
}

impl StreamResampler {
    /// A resampler from `from_hz` to `to_hz`, as [`resample`] makes it.
    pub fn new(from_hz: u32, to_hz: u32) -> Result<Self, DspError> {
        let fft = (from_hz != to_hz)
            .then(|| fft_resampler(from_hz, to_hz))
            .transpose()?;
        let scratch = vec![0.0; fft.as_ref().map_or(0, |f| f.output_frames_max())];
        Ok(Self {
            fft,
            from_hz,
            to_hz,
            pending: Vec::new(),
            pending_at: 0,
            scratch,
            pushed: 0,
            produced: 0,
            emitted: 0,
            finished: false,
        })
    }

    /// Input samples pushed so far.
    pub fn pushed(&self) -> u64 {
        self.pushed
    }

    /// Feeds `samples` and appends to `out` whatever output they complete.
    pub fn push(&mut self, samples: &[f32], out: &mut Vec<f32>) -> Result<(), DspError> {
        if self.finished {
            return Err(self.fail("push after finish".into()));
        }
        self.pushed += samples.len() as u64;
        let Some(fft) = &self.fft else {
            out.extend_from_slice(samples);
            return Ok(());
        };
        let chunk = fft.input_frames_next();
        self.pending.extend_from_slice(samples);
        // `process_all` resamples a full chunk only while more input follows it, so the
        // last one (full or not) is left for `finish`.
        while self.pending.len() - self.pending_at > chunk {
            let at = self.pending_at;
            self.pending_at += chunk;
            let piece = std::mem::take(&mut self.pending);
            let result = self.process(&piece[at..at + chunk], out);
            self.pending = piece;
            result?;
        }
        if self.pending_at > 0 && self.pending_at >= self.pending.len() / 2 {
            self.pending.drain(..self.pending_at);
            self.pending_at = 0;
        }
        Ok(())
    }

    /// Ends the input and appends the rest of the output to `out`.
    pub fn finish(&mut self, out: &mut Vec<f32>) -> Result<(), DspError> {
        if std::mem::replace(&mut self.finished, true) {
            return Ok(());
        }
        let Some(fft) = &self.fft else {
            return Ok(());
        };
        // `resample` returns an empty signal as it is, without running the resampler.
        if self.pushed == 0 {
            return Ok(());
        }
        let chunk = fft.input_frames_next();
        let delay = fft.output_delay() as u64;
        let expected = (fft.resample_ratio() * self.pushed as f64).ceil() as u64;
        let mut last = self.pending[self.pending_at..].to_vec();
        self.pending = Vec::new();
        self.pending_at = 0;
        if !last.is_empty() {
            last.resize(chunk, 0.0);
            self.process_capped(&last, expected, out)?;
        }
        let zeros = vec![0.0f32; chunk];
        while self.produced < expected + delay {
            self.process_capped(&zeros, expected, out)?;
        }
        Ok(())
    }

    fn fail(&self, reason: String) -> DspError {
        resample_error(self.from_hz, self.to_hz, reason)
    }

    /// Resamples one full chunk and hands out its output after the start-up delay.
    fn process(&mut self, chunk: &[f32], out: &mut Vec<f32>) -> Result<(), DspError> {
        self.process_capped(chunk, u64::MAX, out)
    }

    /// [`Self::process`], handing out no more than `cap` samples in all.
    fn process_capped(
        &mut self,
        chunk: &[f32],
        cap: u64,
        out: &mut Vec<f32>,
    ) -> Result<(), DspError> {
        let (from, to) = (self.from_hz, self.to_hz);
        let fail = |reason: String| resample_error(from, to, reason);
        let Some(fft) = &mut self.fft else {
            return Ok(());
        };
        let input =
            InterleavedSlice::new(chunk, 1, chunk.len()).map_err(|e| fail(e.to_string()))?;
        let frames = self.scratch.len();
        let mut output = InterleavedSlice::new_mut(&mut self.scratch[..], 1, frames)
            .map_err(|e| fail(e.to_string()))?;
        let (_, produced) = fft
            .process_into_buffer(&input, &mut output, None)
            .map_err(|e| fail(e.to_string()))?;
        let delay = fft.output_delay() as u64;
        let start = self.produced;
        self.produced += produced as u64;
        // The part of this chunk's output past the delay, up to the cap.
        let from_sample = delay.max(start).min(self.produced);
        let to_sample = (cap.saturating_add(delay)).clamp(from_sample, self.produced);
        let (a, b) = ((from_sample - start) as usize, (to_sample - start) as usize);
        out.extend_from_slice(&self.scratch[a..b]);
        self.emitted += (b - a) as u64;
        Ok(())
    }
}

/// Stretches mono `samples` in time by `ratio` (output length = input length x ratio),
/// with a band-limited sinc interpolator. A ratio above 1 lowers pitch when the result is
/// played at the original rate: this is the "speed change" of tape and of naive resampling.
pub fn stretch(samples: &[f32], ratio: f64) -> Result<Vec<f32>, DspError> {
    let fail = |reason: String| DspError::Resample {
        from: 1_000_000,
        to: (ratio * 1_000_000.0).round() as u32,
        reason,
    };
    if !(0.25..=4.0).contains(&ratio) {
        return Err(fail(format!("stretch ratio {ratio} outside 0.25..4")));
    }
    if samples.is_empty() || ratio == 1.0 {
        return Ok(samples.to_vec());
    }
    let params = SincInterpolationParameters {
        sinc_len: 64,
        f_cutoff: Some(0.92),
        interpolation: SincInterpolationType::Linear,
        oversampling_factor: 128,
        window: WindowFunction::BlackmanHarris2,
    };
    let mut resampler = Async::<f32>::new_sinc(ratio, 1.0, &params, 1024, 1, FixedAsync::Input)
        .map_err(|e| fail(e.to_string()))?;
    run(&mut resampler, samples).map_err(fail)
}

fn run(resampler: &mut dyn Resampler<f32>, samples: &[f32]) -> Result<Vec<f32>, String> {
    let input = InterleavedSlice::new(samples, 1, samples.len()).map_err(|e| e.to_string())?;
    let out = resampler
        .process_all(&input, samples.len(), None)
        .map_err(|e| e.to_string())?;
    Ok(out.take_data())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(hz: f32, rate: u32, len: usize) -> Vec<f32> {
        (0..len)
            .map(|i| (2.0 * std::f32::consts::PI * hz * i as f32 / rate as f32).sin())
            .collect()
    }

    /// Changing every input sample outside an output sample's span leaves that output
    /// sample as it was, to the bit, for the upsamplings the watermark runs.
    #[test]
    fn an_output_sample_reads_only_its_inputs_span() {
        let mut s = 7u32;
        let mut noise = move || {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (s >> 8) as f32 / 16_777_216.0 - 0.5
        };
        for to in [11_025, 16_000, 22_050, 44_100, 48_000, 96_000] {
            let g = ResampleGeometry::of(8_000, to)
                .expect("a rate pair rubato takes")
                .expect("rates differ");
            let x: Vec<f32> = (0..8_000).map(|_| noise()).collect();
            let y = resample(&x, 8_000, to).expect("resampled");
            for n in [0u64, 1, 977, 5_003, y.len() as u64 / 2, y.len() as u64 - 1] {
                let (lo, hi) = g.input_span(n, n);
                let mut other: Vec<f32> = (0..x.len()).map(|_| noise()).collect();
                let hi = (hi as usize).min(x.len());
                other[lo as usize..hi].copy_from_slice(&x[lo as usize..hi]);
                let z = resample(&other, 8_000, to).expect("resampled");
                assert_eq!(
                    z[n as usize].to_bits(),
                    y[n as usize].to_bits(),
                    "8000 -> {to} Hz, sample {n}"
                );
                // And the span is not wider than two units.
                assert!(hi as u64 - lo <= 2 * g.chunk_in);
            }
        }
        assert_eq!(
            ResampleGeometry::of(8_000, 8_000).expect("equal rates"),
            None
        );
    }

    #[test]
    fn resampling_keeps_a_tone_aligned_and_in_length() {
        let x = tone(440.0, 44_100, 44_100);
        let y = resample(&x, 44_100, 8_000).expect("resample");
        assert!((y.len() as i64 - 8_000).abs() <= 1, "len {}", y.len());
        let reference = tone(440.0, 8_000, y.len());
        let err: f32 = y[200..7_800]
            .iter()
            .zip(&reference[200..7_800])
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f32>()
            / 7_600.0;
        // A one-sample misalignment at 8 kHz would give about 0.06; the FFT resampler's
        // passband ripple and sub-sample delay stay far below 2e-3.
        assert!(err < 2e-3, "mean squared error {err}");
    }

    /// Amplitude and delay (seconds) of the `hz` tone in the middle half of `y` at `rate`.
    fn tone_gain_and_delay(y: &[f32], hz: f64, rate: u32) -> (f64, f64) {
        let (mut s, mut c) = (0.0f64, 0.0f64);
        let m = y.len();
        for (i, &v) in y.iter().enumerate().take(3 * m / 4).skip(m / 4) {
            let t = 2.0 * std::f64::consts::PI * hz * i as f64 / f64::from(rate);
            s += f64::from(v) * t.sin();
            c += f64::from(v) * t.cos();
        }
        let gain = 2.0 * (s * s + c * c).sqrt() / (m / 2) as f64;
        (gain, -c.atan2(s) / (2.0 * std::f64::consts::PI * hz))
    }

    #[test]
    fn the_telephone_band_passes_whole_and_on_time_at_every_usual_rate_pair() {
        // Regression: with rubato's default sub-chunks, 48 -> 8 kHz passed 3 kHz at 0.18 of
        // its amplitude, and 44.1 -> 8 kHz shifted everything by half an input sample.
        for (from, to) in [
            (48_000, 8_000),
            (44_100, 8_000),
            (16_000, 8_000),
            (96_000, 8_000),
            (8_000, 44_100),
            (8_000, 48_000),
        ] {
            for hz in [300.0, 1_000.0, 3_400.0] {
                let x: Vec<f32> = (0..from as usize * 2)
                    .map(|i| {
                        (2.0 * std::f64::consts::PI * hz * i as f64 / f64::from(from)).sin() as f32
                    })
                    .collect();
                let y = resample(&x, from, to).expect("resample");
                let (gain, delay) = tone_gain_and_delay(&y, hz, to);
                assert!(
                    (gain - 1.0).abs() < 0.01,
                    "{from} -> {to}, {hz} Hz: gain {gain}"
                );
                assert!(
                    delay.abs() < 2e-6,
                    "{from} -> {to}, {hz} Hz: delay {delay} s"
                );
            }
        }
    }

    #[test]
    fn stretching_changes_length_by_the_ratio() {
        let x = tone(300.0, 8_000, 16_000);
        let y = stretch(&x, 1.05).expect("stretch");
        assert!((y.len() as f64 - 16_800.0).abs() <= 2.0, "len {}", y.len());
    }
}
