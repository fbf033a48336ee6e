//! Helpers shared by the integration tests: synthetic tones, spectral peak, SNR. Real
//! recordings come from `tracemark-testkit`.
#![allow(dead_code, clippy::unwrap_used)] // test helpers: each test binary uses a subset; panics are test failures

use realfft::RealFftPlanner;
use tracemark_dsp::{AudioBuffer, SampleRate};

pub fn rate(hz: u32) -> SampleRate {
    SampleRate::try_new(hz).unwrap()
}

pub fn tone_samples(hz: f64, fs: u32, frames: usize, amplitude: f32) -> Vec<f32> {
    (0..frames)
        .map(|i| {
            (amplitude as f64 * (std::f64::consts::TAU * hz * i as f64 / f64::from(fs)).sin())
                as f32
        })
        .collect()
}

pub fn tone(hz: f64, fs: u32, seconds: f64, amplitude: f32) -> AudioBuffer {
    let frames = (seconds * f64::from(fs)) as usize;
    AudioBuffer::mono(rate(fs), tone_samples(hz, fs, frames, amplitude)).unwrap()
}

/// Frequency of the strongest spectral peak, Hann window, parabolic interpolation.
pub fn peak_hz(x: &[f32], fs: u32) -> f64 {
    let n = x.len();
    let mut planner = RealFftPlanner::<f64>::new();
    let fft = planner.plan_fft_forward(n);
    let mut input: Vec<f64> = x
        .iter()
        .enumerate()
        .map(|(i, &s)| {
            f64::from(s) * (0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / n as f64).cos())
        })
        .collect();
    let mut spectrum = fft.make_output_vec();
    fft.process(&mut input, &mut spectrum).unwrap();
    let mag: Vec<f64> = spectrum.iter().map(|c| c.norm().max(1e-20).ln()).collect();
    let k = (1..mag.len() - 1)
        .max_by(|&a, &b| mag[a].total_cmp(&mag[b]))
        .unwrap();
    let (a, b, c) = (mag[k - 1], mag[k], mag[k + 1]);
    let delta = 0.5 * (a - c) / (a - 2.0 * b + c);
    (k as f64 + delta) * f64::from(fs) / n as f64
}

pub fn power(x: &[f32]) -> f64 {
    x.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / x.len().max(1) as f64
}

/// 10 log10(P(reference) / P(test - reference)) over all channels.
pub fn snr_db(reference: &AudioBuffer, test: &AudioBuffer) -> f64 {
    let (mut signal, mut noise) = (0.0f64, 0.0f64);
    for (r, t) in reference.channels().iter().zip(test.channels()) {
        for (&a, &b) in r.iter().zip(t) {
            signal += f64::from(a).powi(2);
            noise += f64::from(b - a).powi(2);
        }
    }
    10.0 * (signal / noise).log10()
}

/// Normalised correlation of two equally long signals at lag zero.
pub fn correlation(a: &[f32], b: &[f32]) -> f64 {
    let n = a.len().min(b.len());
    let dot: f64 = (0..n).map(|i| f64::from(a[i]) * f64::from(b[i])).sum();
    let ea: f64 = a[..n].iter().map(|&v| f64::from(v).powi(2)).sum();
    let eb: f64 = b[..n].iter().map(|&v| f64::from(v).powi(2)).sum();
    dot / (ea * eb).sqrt().max(1e-30)
}

/// Attenuation in dB of `out` relative to `input`, over the second half (past the transient).
pub fn attenuation_db(input: &[f32], out: &[f32]) -> f64 {
    let half = input.len() / 2;
    10.0 * (power(&input[half..]) / power(&out[half..])).log10()
}
