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
    let fail = |reason: String| DspError::Resample {
        from: from_hz,
        to: to_hz,
        reason,
    };
    // One FFT block per chunk, at least 256 frames long on the lower-rate side: rubato's
    // default of 256-frame sub-chunks shrinks the block, and the anti-aliasing filter's
    // cutoff with it, so far that 48 -> 8 kHz passed a 3 kHz tone at 0.18 of its
    // amplitude. An even number of minimal blocks keeps the resampler's delay (half a
    // block) a whole number of frames on both sides; an odd one left a half-sample shift
    // (11 us at 44.1 -> 8 kHz, 62 us at 48 -> 8 kHz).
    let gcd = gcd(from_hz as usize, to_hz as usize);
    let (min_in, min_out) = (from_hz as usize / gcd, to_hz as usize / gcd);
    let blocks = MIN_BLOCK.div_ceil(min_in.min(min_out)).next_multiple_of(2);
    let mut resampler = Fft::<f32>::new_custom(
        from_hz as usize,
        to_hz as usize,
        blocks * min_in,
        1,
        1,
        WindowFunction::BlackmanHarris2,
        FixedSync::Input,
    )
    .map_err(|e| fail(e.to_string()))?;
    run(&mut resampler, samples).map_err(fail)
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
