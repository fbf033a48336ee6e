//! Additive noise at an exact signal-to-noise ratio: white Gaussian noise and babble.

use rand::RngExt;
use rand_distr::StandardNormal;

use crate::rng::Rng;

/// Mean power over all channels.
pub(crate) fn power(channels: &[Vec<f32>]) -> f64 {
    let n: usize = channels.iter().map(Vec::len).sum();
    if n == 0 {
        return 0.0;
    }
    channels
        .iter()
        .flatten()
        .map(|&s| f64::from(s).powi(2))
        .sum::<f64>()
        / n as f64
}

/// Adds `noise` scaled so that the signal-to-noise power ratio over the whole buffer is exactly
/// `snr_db`. The realised noise is rescaled, not just its expected power, so the measured SNR
/// equals the request to float precision. A silent input gets no noise (the ratio is undefined).
pub(crate) fn add_at_snr(channels: &mut [Vec<f32>], noise: &[Vec<f32>], snr_db: f64) {
    let signal = power(channels);
    let noise_power = power(noise);
    if signal == 0.0 || noise_power == 0.0 {
        return;
    }
    let scale = (signal / noise_power / 10f64.powf(snr_db / 10.0)).sqrt();
    for (c, nz) in channels.iter_mut().zip(noise) {
        for (s, v) in c.iter_mut().zip(nz) {
            *s = (f64::from(*s) + f64::from(*v) * scale) as f32;
        }
    }
}

/// Independent white Gaussian noise per channel.
pub(crate) fn white(channel_count: usize, frames: usize, rng: &mut Rng) -> Vec<Vec<f32>> {
    (0..channel_count)
        .map(|_| {
            (0..frames)
                .map(|_| rng.sample::<f64, _>(StandardNormal) as f32)
                .collect()
        })
        .collect()
}

/// Talkers summed to make babble: with four or more, individual words become hard to follow
/// (the babble of NOISEX-92 is about 100 talkers; a handful already masks like a crowd).
pub const BABBLE_TALKERS: usize = 6;

/// Babble: [`BABBLE_TALKERS`] copies of `source` (one channel per output channel, looped to
/// `frames`), each started at a random offset, summed.
pub(crate) fn babble(source: &[Vec<f32>], frames: usize, rng: &mut Rng) -> Vec<Vec<f32>> {
    source
        .iter()
        .map(|src| {
            let mut out = vec![0.0f32; frames];
            if src.is_empty() {
                return out;
            }
            for _ in 0..BABBLE_TALKERS {
                let offset = rng.random_range(0..src.len());
                for (i, o) in out.iter_mut().enumerate() {
                    *o += src[(offset + i) % src.len()];
                }
            }
            out
        })
        .collect()
}
