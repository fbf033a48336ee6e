//! Helpers shared by the integration tests: corpus loading at 8 kHz, noise, splicing.
#![allow(dead_code, clippy::unwrap_used)] // test helpers: each test binary uses a subset; panics are test failures

use std::path::PathBuf;

/// The shared corpus directory (../shared/corpus from the workspace root).
pub fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
}

/// Decodes a corpus FLAC to mono 8 kHz, or prints a note and returns None when absent.
pub fn load_8k(name: &str) -> Option<Vec<f32>> {
    let path = corpus_dir().join(name);
    let Ok(mut reader) = claxon::FlacReader::open(&path) else {
        eprintln!("note: {} absent, skipping", path.display());
        return None;
    };
    let info = reader.streaminfo();
    let channels = info.channels as usize;
    let scale = 1.0 / (1u64 << (info.bits_per_sample - 1)) as f32;
    let raw: Vec<f32> = reader
        .samples()
        .map(|s| s.unwrap() as f32 * scale)
        .collect();
    let mono: Vec<f32> = raw
        .chunks_exact(channels)
        .map(|c| c.iter().sum::<f32>() / channels as f32)
        .collect();
    Some(tracemark_dsp::resample(&mono, info.sample_rate, 8_000).unwrap())
}

/// Samples of `x` from `start_s` to `end_s` at 8 kHz.
pub fn cut(x: &[f32], start_s: f64, end_s: f64) -> Vec<f32> {
    x[(start_s * 8_000.0) as usize..(end_s * 8_000.0) as usize].to_vec()
}

/// Adds white noise (a fixed xorshift stream) at `snr_db` relative to the signal's power.
pub fn add_noise(x: &[f32], snr_db: f64, seed: u64) -> Vec<f32> {
    let power = x.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / x.len() as f64;
    let sigma = (power / 10f64.powf(snr_db / 10.0)).sqrt();
    let mut state = seed | 1;
    let mut uniform = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    x.iter()
        .map(|&s| {
            // Box-Muller.
            let (u, v) = (uniform().max(1e-300), uniform());
            let g = (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos();
            s + (sigma * g) as f32
        })
        .collect()
}
