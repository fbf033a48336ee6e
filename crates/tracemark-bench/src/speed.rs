//! Speed on one thread: embed, blind detect and informed detect on 60 s of mono 44.1 kHz
//! speech, beside baselines timed in the same run so that the figures compare as ratios.

use std::hint::black_box;
use std::time::Instant;

use anyhow::Result;
use serde::Serialize;
use tracemark_dsp::{AudioBuffer, SampleRate, resample};
use tracemark_watermark::{detect_blind, detect_informed};

use crate::cells::{mark, secrets};

/// Rate of the speed test's file.
pub const RATE_HZ: u32 = 44_100;

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub name: String,
    /// Median wall time over the repetitions.
    pub median_s: f64,
    pub min_s: f64,
    /// Audio seconds per wall second (median).
    pub x_real_time: f64,
    /// Median time over the FFT-resample baseline's median time.
    pub vs_resample: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Speed {
    pub source: String,
    pub audio_s: f64,
    pub repetitions: usize,
    pub steps: Vec<Step>,
    pub note: String,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn time<T>(reps: usize, mut f: impl FnMut() -> Result<T>) -> Result<(f64, f64)> {
    let mut times = Vec::with_capacity(reps);
    for _ in 0..reps {
        let t = Instant::now();
        black_box(f()?);
        times.push(t.elapsed().as_secs_f64());
    }
    let min = times.iter().copied().fold(f64::INFINITY, f64::min);
    Ok((median(times), min))
}

/// The reference workload: rubato's synchronous FFT resampler, 44.1 -> 48 kHz, 1024-frame
/// chunks, configured here rather than through `tracemark_dsp::resample` so that tuning
/// the product's resampler cannot move the yardstick.
fn baseline_resample(samples: &[f32]) -> Result<Vec<f32>> {
    use audioadapter_buffers::direct::InterleavedSlice;
    use rubato::{Fft, FixedSync, Resampler};
    let mut resampler = Fft::<f32>::new(RATE_HZ as usize, 48_000, 1024, 1, FixedSync::Input)?;
    let input = InterleavedSlice::new(samples, 1, samples.len())?;
    Ok(resampler
        .process_all(&input, samples.len(), None)?
        .take_data())
}

/// Times each step `reps` times (at least one) on the current thread.
pub fn measure(source_name: &str, source: &AudioBuffer, reps: usize) -> Result<Speed> {
    let reps = reps.max(1);
    let mono = resample(&source.downmix(), source.rate().hz(), RATE_HZ)?;
    let audio = AudioBuffer::mono(SampleRate::try_new(RATE_HZ)?, mono)?;
    let audio_s = audio.duration_s();
    let (key, payload, _) = secrets(0);
    let marked = mark(&audio, &key, payload)?;
    let samples = audio.channels()[0].as_slice();

    let mut raw: Vec<(&str, (f64, f64))> = vec![
        (
            "baseline: sum of samples (one memory pass)",
            time(reps, || {
                Ok(samples.iter().map(|&v| f64::from(v)).sum::<f64>())
            })?,
        ),
        (
            "baseline: FFT resample 44.1 -> 48 kHz (rubato)",
            time(reps, || baseline_resample(samples))?,
        ),
        ("embed", time(reps, || mark(&audio, &key, payload))?),
        (
            "blind detect",
            time(reps, || Ok(detect_blind(&marked, &key)?))?,
        ),
        (
            "informed detect",
            time(reps, || Ok(detect_informed(&marked, &audio, &key)?))?,
        ),
    ];
    let resample_s = raw[1].1.0;
    let steps = raw
        .drain(..)
        .map(|(name, (median_s, min_s))| Step {
            name: name.into(),
            median_s,
            min_s,
            x_real_time: audio_s / median_s.max(1e-12),
            vs_resample: median_s / resample_s.max(1e-12),
        })
        .collect();
    Ok(Speed {
        source: format!("{source_name}, first 60 s, downmixed and resampled to 44.1 kHz mono"),
        audio_s,
        repetitions: reps,
        steps,
        note: "release build, one thread, run before the matrix while no other benchmark \
               thread was busy; the machine is shared with other developers' builds, so read \
               the ratios to the baselines rather than the absolute times"
            .into(),
    })
}
