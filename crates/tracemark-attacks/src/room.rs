//! Echo, synthetic room impulse responses and FFT convolution (overlap-add, `realfft`).

use realfft::RealFftPlanner;
use realfft::num_complex::Complex;

use rand::RngExt;
use rand_distr::StandardNormal;

use crate::rng::Rng;

/// `x[n] + gain * x[n - delay]`, same length as `x` (a single discrete echo).
pub fn echo(x: &[f32], delay: usize, gain: f32) -> Vec<f32> {
    x.iter()
        .enumerate()
        .map(|(n, &s)| s + if n >= delay { gain * x[n - delay] } else { 0.0 })
        .collect()
}

/// ln(1000): a decay of 60 dB in amplitude terms, the definition of RT60 (ISO 3382-1:2009).
const LN_1000: f64 = 6.907_755_278_982_137;

/// Delay of the diffuse tail after the direct sound: about the first reflection in a small room
/// (3.4 m extra path at 343 m/s).
const TAIL_ONSET_S: f64 = 0.010;

/// A synthetic room impulse response: a unit direct path, then Gaussian noise whose envelope
/// decays by 60 dB over `rt60_s` (the stochastic model of Moorer, "About this reverberation
/// business", CMJ 3(2), 1979), scaled so the tail carries `1 / 10^(drr_db / 10)` of the
/// direct path's energy. Length: one RT60.
pub fn room_impulse_response(rate_hz: u32, rt60_s: f64, drr_db: f64, rng: &mut Rng) -> Vec<f32> {
    let fs = f64::from(rate_hz);
    let len = ((rt60_s * fs) as usize).max(2);
    let onset = ((TAIL_ONSET_S * fs) as usize).min(len - 1);
    let mut tail: Vec<f64> = (0..len)
        .map(|n| {
            if n < onset {
                0.0
            } else {
                let t = (n - onset) as f64 / fs;
                rng.sample::<f64, _>(StandardNormal) * (-LN_1000 * t / rt60_s).exp()
            }
        })
        .collect();
    let energy: f64 = tail.iter().map(|v| v * v).sum();
    let scale = if energy > 0.0 {
        (10f64.powf(-drr_db / 10.0) / energy).sqrt()
    } else {
        0.0
    };
    tail.iter_mut().for_each(|v| *v *= scale);
    tail[0] = 1.0;
    tail.into_iter().map(|v| v as f32).collect()
}

/// `x` convolved with `h`, truncated to `x.len()` (the room's tail after the end is dropped,
/// as a recording that stops with the source would).
pub fn convolve(x: &[f32], h: &[f32]) -> Vec<f32> {
    if x.is_empty() || h.is_empty() {
        return vec![0.0; x.len()];
    }
    let fft_len = (2 * h.len()).next_power_of_two().max(1024);
    let block = fft_len - h.len() + 1;
    let mut planner = RealFftPlanner::<f32>::new();
    let forward = planner.plan_fft_forward(fft_len);
    let inverse = planner.plan_fft_inverse(fft_len);

    let mut h_time = vec![0.0f32; fft_len];
    h_time[..h.len()].copy_from_slice(h);
    let mut h_freq = forward.make_output_vec();
    // The lengths come from the planner itself, so processing cannot fail.
    let _ = forward.process(&mut h_time, &mut h_freq);

    let mut out = vec![0.0f32; x.len() + fft_len];
    let mut time = forward.make_input_vec();
    let mut freq: Vec<Complex<f32>> = forward.make_output_vec();
    let scale = 1.0 / fft_len as f32;
    for start in (0..x.len()).step_by(block) {
        let end = (start + block).min(x.len());
        time.fill(0.0);
        time[..end - start].copy_from_slice(&x[start..end]);
        let _ = forward.process(&mut time, &mut freq);
        freq.iter_mut().zip(&h_freq).for_each(|(a, b)| *a *= *b);
        // realfft requires the imaginary parts of the DC and Nyquist bins to be zero.
        if let Some(first) = freq.first_mut() {
            first.im = 0.0;
        }
        if let Some(last) = freq.last_mut() {
            last.im = 0.0;
        }
        let _ = inverse.process(&mut freq, &mut time);
        for (o, t) in out[start..start + fft_len].iter_mut().zip(&time) {
            *o += t * scale;
        }
    }
    out.truncate(x.len());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fft_convolution_matches_direct_convolution() {
        let mut rng = crate::rng::stream(5, "t");
        let mut gaussian = || rng.sample::<f64, _>(StandardNormal) as f32;
        let x: Vec<f32> = (0..5000).map(|_| gaussian()).collect();
        let h: Vec<f32> = (0..700).map(|_| gaussian() * 0.1).collect();
        let fast = convolve(&x, &h);
        for n in [0, 1, 699, 700, 2047, 4999] {
            let direct: f32 = (0..=n.min(h.len() - 1)).map(|k| h[k] * x[n - k]).sum();
            assert!(
                (fast[n] - direct).abs() < 1e-3,
                "n={n}: {} vs {direct}",
                fast[n]
            );
        }
    }

    #[test]
    fn room_response_decays_sixty_db_over_rt60() {
        let mut rng = crate::rng::stream(1, "rir");
        let rate = 16_000;
        let h = room_impulse_response(rate, 0.5, 0.0, &mut rng);
        assert_eq!(h[0], 1.0);
        let tail_energy: f64 = h[1..].iter().map(|&v| f64::from(v).powi(2)).sum();
        assert!(
            (tail_energy - 1.0).abs() < 1e-3,
            "DRR 0 dB: tail energy {tail_energy}"
        );
        // Envelope energy 10 ms after onset versus 310 ms: 60 dB per 0.5 s = 36 dB per 0.3 s.
        let energy = |from: usize| -> f64 {
            h[from..from + 800]
                .iter()
                .map(|&v| f64::from(v).powi(2))
                .sum()
        };
        let drop_db = 10.0 * (energy(320) / energy(320 + 4800)).log10();
        assert!((drop_db - 36.0).abs() < 3.0, "drop {drop_db} dB");
    }

    #[test]
    fn echo_adds_a_delayed_scaled_copy() {
        let mut x = vec![0.0f32; 10];
        x[1] = 1.0;
        let y = echo(&x, 3, 0.4);
        assert_eq!(y[1], 1.0);
        assert!((y[4] - 0.4).abs() < 1e-7);
        assert_eq!(y.len(), 10);
    }
}
