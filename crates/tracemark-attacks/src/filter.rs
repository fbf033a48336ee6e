//! Biquad filters after R. Bristow-Johnson, "Cookbook formulae for audio EQ biquad filter
//! coefficients" (the W3C Audio EQ Cookbook), cascaded into Butterworth low-, high- and
//! band-pass filters.

use std::f64::consts::PI;

/// Order of the Butterworth filters the attacks use: 24 dB per octave, the slope of a typical
/// telephone-band or anti-aliasing filter.
pub const BUTTERWORTH_ORDER: usize = 4;

/// One second-order section, coefficients normalised by `a0`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Biquad {
    b0: f64,
    b1: f64,
    b2: f64,
    a1: f64,
    a2: f64,
}

impl Biquad {
    /// Cookbook low-pass (`LPF`) at `f0` Hz with quality `q`.
    pub fn low_pass(rate_hz: f64, f0: f64, q: f64) -> Self {
        let (cos_w0, alpha) = Self::prewarp(rate_hz, f0, q);
        let b1 = 1.0 - cos_w0;
        Self::normalise(
            b1 / 2.0,
            b1,
            b1 / 2.0,
            1.0 + alpha,
            -2.0 * cos_w0,
            1.0 - alpha,
        )
    }

    /// Cookbook high-pass (`HPF`) at `f0` Hz with quality `q`.
    pub fn high_pass(rate_hz: f64, f0: f64, q: f64) -> Self {
        let (cos_w0, alpha) = Self::prewarp(rate_hz, f0, q);
        let b1 = -(1.0 + cos_w0);
        Self::normalise(
            -b1 / 2.0,
            b1,
            -b1 / 2.0,
            1.0 + alpha,
            -2.0 * cos_w0,
            1.0 - alpha,
        )
    }

    fn prewarp(rate_hz: f64, f0: f64, q: f64) -> (f64, f64) {
        let w0 = 2.0 * PI * f0 / rate_hz;
        (w0.cos(), w0.sin() / (2.0 * q))
    }

    fn normalise(b0: f64, b1: f64, b2: f64, a0: f64, a1: f64, a2: f64) -> Self {
        Self {
            b0: b0 / a0,
            b1: b1 / a0,
            b2: b2 / a0,
            a1: a1 / a0,
            a2: a2 / a0,
        }
    }

    /// Filters `x` in place (transposed direct form II, f64 state), starting from rest.
    pub fn process(&self, x: &mut [f32]) {
        let (mut z1, mut z2) = (0.0f64, 0.0f64);
        for s in x {
            let input = f64::from(*s);
            let y = self.b0 * input + z1;
            z1 = self.b1 * input - self.a1 * y + z2;
            z2 = self.b2 * input - self.a2 * y;
            *s = y as f32;
        }
    }
}

/// The Q of section `k` (0-based) of an even-order Butterworth filter:
/// `1 / (2 cos(pi (2k + 1) / (2 order)))`, from the pole angles of the Butterworth prototype.
fn butterworth_q(order: usize, k: usize) -> f64 {
    1.0 / (2.0 * (PI * (2 * k + 1) as f64 / (2 * order) as f64).cos())
}

/// Which side of the cutoff a Butterworth filter passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// Below the cutoff.
    Low,
    /// Above the cutoff.
    High,
}

/// The sections of an order-[`BUTTERWORTH_ORDER`] Butterworth filter. Through the bilinear
/// transform its magnitude is exactly
/// `1 / sqrt(1 + (tan(pi f / fs) / tan(pi fc / fs))^(2 order))` for the low-pass.
pub fn butterworth(pass: Pass, rate_hz: f64, cutoff_hz: f64) -> Vec<Biquad> {
    (0..BUTTERWORTH_ORDER / 2)
        .map(|k| {
            let q = butterworth_q(BUTTERWORTH_ORDER, k);
            match pass {
                Pass::Low => Biquad::low_pass(rate_hz, cutoff_hz, q),
                Pass::High => Biquad::high_pass(rate_hz, cutoff_hz, q),
            }
        })
        .collect()
}

/// Runs every channel through the cascade.
pub fn filter_channels(channels: &mut [Vec<f32>], sections: &[Biquad]) {
    for c in channels {
        for s in sections {
            s.process(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn butterworth_order_four_has_the_textbook_q_values() {
        assert!((butterworth_q(4, 0) - 0.541_196).abs() < 1e-5);
        assert!((butterworth_q(4, 1) - 1.306_563).abs() < 1e-5);
    }

    #[test]
    fn low_pass_passes_dc_and_high_pass_blocks_it() {
        let mut dc = vec![1.0f32; 4000];
        filter_channels(
            std::slice::from_mut(&mut dc),
            &butterworth(Pass::Low, 8000.0, 1000.0),
        );
        assert!((dc[3999] - 1.0).abs() < 1e-4);
        let mut dc = vec![1.0f32; 4000];
        filter_channels(
            std::slice::from_mut(&mut dc),
            &butterworth(Pass::High, 8000.0, 300.0),
        );
        assert!(dc[3999].abs() < 1e-4);
    }
}
