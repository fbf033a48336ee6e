//! Helpers shared by the integration tests: real recordings at 8 kHz, noise, splicing.
#![allow(dead_code, clippy::unwrap_used)] // test helpers: each test binary uses a subset; panics are test failures

/// The corpus recording `name` as mono 8 kHz: the whole file, or where the shared corpus
/// is absent, `excerpt_span` of the committed call excerpt (see `tracemark-testkit`).
pub fn load_8k(name: &str, excerpt_span: (f64, f64)) -> Vec<f32> {
    to_8k(&tracemark_testkit::corpus_or_excerpt(
        name,
        f64::INFINITY,
        excerpt_span,
    ))
}

/// The whole corpus recording `name` as mono 8 kHz, or `None` where the corpus lacks it (for
/// the benchmark example, whose figures are of the corpus alone).
pub fn corpus_8k(name: &str) -> Option<Vec<f32>> {
    tracemark_testkit::corpus_file(name, f64::INFINITY).map(|a| to_8k(&a))
}

fn to_8k(audio: &tracemark_dsp::AudioBuffer) -> Vec<f32> {
    tracemark_dsp::resample(&audio.downmix(), audio.rate().hz(), 8_000).unwrap()
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
