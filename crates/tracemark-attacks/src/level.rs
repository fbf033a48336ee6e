//! Level attacks: gain with hard clipping and a look-ahead peak limiter.

/// Full scale: samples are clipped to `[-FULL_SCALE, FULL_SCALE]` as a fixed-point export would.
pub const FULL_SCALE: f32 = 1.0;

/// Multiplies by `factor` and clips to full scale.
pub fn gain_clip(x: &mut [f32], factor: f32) {
    for s in x {
        *s = (*s * factor).clamp(-FULL_SCALE, FULL_SCALE);
    }
}

/// The limiter's ceiling: -1 dBFS, the true-peak ceiling EBU R 128 recommends for
/// distribution (EBU Tech 3343).
pub const LIMITER_CEILING: f32 = 0.891_250_9;
/// Look-ahead, so gain reduction is in place before a peak arrives.
pub const LIMITER_LOOKAHEAD_S: f64 = 0.005;
/// Release time constant.
pub const LIMITER_RELEASE_S: f64 = 0.050;

/// A broadcast-style brick-wall limiter: drives the signal by `drive_db`, then applies one gain
/// shared by all channels that never lets a sample exceed [`LIMITER_CEILING`]. The gain drops
/// instantly (early, thanks to the look-ahead) and recovers exponentially.
pub fn limit(channels: &mut [Vec<f32>], rate_hz: u32, drive_db: f32) {
    let frames = channels.first().map_or(0, Vec::len);
    let drive = 10f32.powf(drive_db / 20.0);
    let ceiling = f64::from(LIMITER_CEILING);
    // The gain each frame needs on its own.
    let needed: Vec<f64> = (0..frames)
        .map(|i| {
            let peak = channels
                .iter()
                .map(|c| f64::from((c[i] * drive).abs()))
                .fold(0.0, f64::max);
            if peak > ceiling { ceiling / peak } else { 1.0 }
        })
        .collect();
    let lookahead = (LIMITER_LOOKAHEAD_S * f64::from(rate_hz)) as usize;
    let ahead_min = sliding_min_ahead(&needed, lookahead);
    let release = 1.0 - (-1.0 / (LIMITER_RELEASE_S * f64::from(rate_hz))).exp();
    let mut g = 1.0f64;
    for (i, &target) in ahead_min.iter().enumerate() {
        g = (g + (1.0 - g) * release).min(target);
        for c in channels.iter_mut() {
            // g <= needed[i], so the product stays within the ceiling.
            c[i] = (f64::from(c[i] * drive) * g) as f32;
        }
    }
}

/// `out[i] = min(x[i..=i + window])`, by a monotone deque (O(n)).
fn sliding_min_ahead(x: &[f64], window: usize) -> Vec<f64> {
    let mut out = vec![0.0; x.len()];
    let mut deque = std::collections::VecDeque::<usize>::new();
    for j in (0..x.len()).rev() {
        while deque.back().is_some_and(|&k| x[k] >= x[j]) {
            deque.pop_back();
        }
        deque.push_back(j);
        while deque.front().is_some_and(|&k| k > j + window) {
            deque.pop_front();
        }
        // The deque holds j at least, so front exists.
        out[j] = deque.front().map_or(x[j], |&k| x[k]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_min_looks_ahead() {
        let x = [5.0, 4.0, 6.0, 1.0, 7.0, 8.0];
        assert_eq!(sliding_min_ahead(&x, 2), vec![4.0, 1.0, 1.0, 1.0, 7.0, 8.0]);
    }

    #[test]
    fn gain_clips_at_full_scale() {
        let mut x = vec![0.1, -0.5, 0.3];
        gain_clip(&mut x, 4.0);
        assert_eq!(x, vec![0.4, -1.0, 1.0]);
    }
}
