//! A look-ahead peak limiter for an *added* signal: it scales what is added to a host (a
//! watermark's difference signal), never the host itself, so that `host + gain * added`
//! stays within a ceiling.
//!
//! Design: the standard look-ahead limiter built from a sliding-window minimum of the gain
//! each sample needs, then a smoothing filter whose support is no wider than that window, so
//! the smoothed gain can never exceed what any sample needs (no overshoot, no hard clip). This
//! is the construction described by G. Luff, "Designing a straightforward limiter"
//! (Signalsmith Audio, 2022: peak-hold over the look-ahead, then cascaded box filters), and
//! the look-ahead principle of D. Giannoulis, M. Massberg and J. D. Reiss, "Digital dynamic
//! range compressor design: a tutorial and analysis", J. Audio Eng. Soc. 60(6), 2012, §4.
//! audiowmark (`src/limiter.cc`) runs a look-ahead limiter on its whole output; here only the
//! added part is attenuated, so the host keeps every sample it had.
//!
//! Why it holds: let `r[n]` be the gain sample `n` needs. With `h[j] = min r[j-W..=j+W]` and
//! `s[n]` a weighted mean of `h[n-W..=n+W]` (non-negative weights summing to 1), every `j` in
//! that range has `n` inside its own window, so `h[j] <= r[n]` and hence `s[n] <= r[n]`.
//! Far from any overshoot (more than `2W` samples) `r = h = s = 1`: the added signal is
//! untouched there.

/// Default ceiling below full scale: -0.1 dBFS (`10^(-0.1/20)`), the usual headroom a
/// mastering limiter leaves for the next stage's rounding and dither.
pub const CEILING_DBFS: f64 = -0.1;

/// What the limiter did.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LimitReport {
    /// The ceiling applied (linear): the host's own peak or [`CEILING_DBFS`], whichever is
    /// lower. Host samples already above it are kept, and the added signal may not push them
    /// further out.
    pub ceiling: f32,
    /// Sample frames where `host + added` would have gone past the ceiling.
    pub overshoot_frames: usize,
    /// Sample frames whose added signal was attenuated at all (the overshoots and the smooth
    /// ramps around them).
    pub attenuated_frames: usize,
    /// The smallest gain applied (1.0 when the limiter never engaged).
    pub min_gain: f32,
    /// Energy of the added signal after limiting over its energy before (1.0 when untouched).
    pub energy_kept: f64,
}

/// The default ceiling for a host whose peak is `host_peak`: the lower of that peak and
/// [`CEILING_DBFS`].
pub fn ceiling_for(host_peak: f32) -> f32 {
    let ceiling = 10f64.powf(CEILING_DBFS / 20.0) as f32;
    host_peak.min(ceiling)
}

/// Returns `host + gain * added` (one `Vec` per channel, `added` reused for the result),
/// with `gain` chosen so that every output sample lies within `max(ceiling, |host|)`: the
/// added signal is attenuated smoothly over `half_window` samples either side of a would-be
/// overshoot and left exactly as it is elsewhere. The gain is shared by all channels (a
/// linked limiter), so the channels keep their balance and any downmix keeps the same added
/// signal. Deterministic: no state beyond the arguments.
///
/// ```
/// use tracemark_dsp::limit::add_limited;
/// let host = vec![vec![0.0, 0.9, 0.95, 0.9, 0.0, 0.0, 0.0, 0.0]];
/// let (out, report) = add_limited(&host, vec![vec![0.1; 8]], 0.95, 1);
/// assert!(out[0].iter().all(|y| y.abs() <= 0.95));
/// assert_eq!(out[0][2], 0.95); // the peak gets no mark
/// assert_eq!(out[0][7], 0.1); // more than 2 x 1 samples from any overshoot: untouched
/// assert!(report.min_gain < 1.0);
/// ```
///
/// Each `added[c]` is cut or zero-padded to the length of `host[c]`; channels beyond the
/// shorter of the two lists are dropped.
pub fn add_limited(
    host: &[Vec<f32>],
    mut added: Vec<Vec<f32>>,
    ceiling: f32,
    half_window: usize,
) -> (Vec<Vec<f32>>, LimitReport) {
    added.truncate(host.len());
    for (d, x) in added.iter_mut().zip(host) {
        d.resize(x.len(), 0.0);
    }
    let len = host.iter().map(Vec::len).min().unwrap_or(0);
    let mut report = LimitReport {
        ceiling,
        min_gain: 1.0,
        energy_kept: 1.0,
        ..LimitReport::default()
    };
    let need = needed_gains(host, &added, ceiling, len);
    report.overshoot_frames = need.iter().filter(|&&g| g < 1.0).count();
    let gains = if report.overshoot_frames == 0 {
        Vec::new()
    } else {
        smooth_below(&need, half_window)
    };
    let (mut before, mut after) = (0.0f64, 0.0f64);
    for (x, d) in host.iter().zip(added.iter_mut()) {
        for (n, (x, d)) in x.iter().zip(d.iter_mut()).enumerate() {
            let g = gains.get(n).copied().unwrap_or(1.0);
            before += f64::from(*d).powi(2);
            let bound = ceiling.max(x.abs());
            let y = if g < 1.0 {
                (f64::from(*x) + g * f64::from(*d)) as f32
            } else {
                x + *d
            };
            // A no-op but for the last ulp of rounding: every gain already keeps the exact
            // sum within the bound (see the module docs), and rounding to f32 may at most
            // step onto the bound's neighbour.
            let y = y.clamp(-bound, bound);
            after += (g * f64::from(*d)).powi(2);
            *d = y;
        }
    }
    report.attenuated_frames = gains.iter().filter(|&&g| g < 1.0).count();
    report.min_gain = gains.iter().copied().fold(1.0f64, f64::min) as f32;
    report.energy_kept = if before > 0.0 { after / before } else { 1.0 };
    (added, report)
}

/// The largest gain in `[0, 1]` for each frame that keeps every channel within its bound.
fn needed_gains(host: &[Vec<f32>], added: &[Vec<f32>], ceiling: f32, len: usize) -> Vec<f64> {
    let mut need = vec![1.0f64; len];
    for (x, d) in host.iter().zip(added) {
        for n in 0..len {
            let (x, d) = (f64::from(x[n]), f64::from(d[n]));
            let bound = f64::from(ceiling).max(x.abs());
            let y = x + d;
            let g = if y > bound {
                (bound - x) / d
            } else if y < -bound {
                (-bound - x) / d
            } else {
                continue;
            };
            // `|x| <= bound`, so the gain lies in [0, 1); the clamp guards rounding only.
            need[n] = need[n].min(g.clamp(0.0, 1.0));
        }
    }
    need
}

/// A smooth gain curve never above `need`: the sliding minimum over `2w + 1` samples, then a
/// triangular mean over the same span (two box filters of `w + 1`, one causal, one
/// anti-causal). Outside the signal the need is 1.
fn smooth_below(need: &[f64], w: usize) -> Vec<f64> {
    let len = need.len();
    // Padded by 2w on each side so the windows near the ends see the real needs.
    let pad = 2 * w;
    let mut padded = vec![1.0f64; len + 2 * pad];
    padded[pad..pad + len].copy_from_slice(need);
    let held = sliding_min(&padded, w);
    let first = box_mean(&held, w, false);
    let second = box_mean(&first, w, true);
    second[pad..pad + len]
        .iter()
        .zip(need)
        // Mathematically `0 <= second <= need`; the min and max only absorb the rounding of
        // the running sums.
        .map(|(&s, &r)| s.min(r).max(0.0))
        .collect()
}

/// `out[j] = min x[j-w..=j+w]` (clamped to the slice), by a monotonic deque in O(n).
fn sliding_min(x: &[f64], w: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(x.len());
    let mut deque = std::collections::VecDeque::new();
    let mut next = 0;
    for j in 0..x.len() {
        while next < x.len() && next <= j + w {
            while deque.back().is_some_and(|&b: &usize| x[b] >= x[next]) {
                deque.pop_back();
            }
            deque.push_back(next);
            next += 1;
        }
        while deque.front().is_some_and(|&f| f + w < j) {
            deque.pop_front();
        }
        // The deque holds `j + w` (or the last index) at least, so it is never empty here.
        out.push(deque.front().map_or(1.0, |&f| x[f]));
    }
    out
}

/// Mean over `w + 1` samples: `x[j-w..=j]` (or `x[j..=j+w]` when `ahead`), with the value 1
/// beyond the ends (where the padded gain is 1). A window of ones gives exactly 1: the
/// running sum is reset there, so its rounding never leaks past an overshoot's neighbourhood.
fn box_mean(x: &[f64], w: usize, ahead: bool) -> Vec<f64> {
    let n = w + 1;
    let at = |i: isize| -> f64 {
        if i < 0 || i as usize >= x.len() {
            1.0
        } else {
            x[i as usize]
        }
    };
    let (lo, hi): (isize, isize) = if ahead {
        (0, w as isize)
    } else {
        (-(w as isize), 0)
    };
    let mut sum: f64 = (lo..=hi).map(at).sum();
    let mut below = (lo..=hi).filter(|&i| at(i) < 1.0).count();
    let mut out = Vec::with_capacity(x.len());
    for j in 0..x.len() as isize {
        out.push(if below == 0 { 1.0 } else { sum / n as f64 });
        let (enter, leave) = (at(j + 1 + hi), at(j + lo));
        below = below + usize::from(enter < 1.0) - usize::from(leave < 1.0);
        sum += enter - leave;
        if below == 0 {
            sum = n as f64;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn an_added_signal_that_fits_is_left_untouched() {
        let host = vec![vec![0.5f32; 100]];
        let (out, r) = add_limited(&host, vec![vec![0.01f32; 100]], 0.9, 10);
        assert!(out[0].iter().all(|&y| y == 0.5 + 0.01));
        assert_eq!((r.overshoot_frames, r.attenuated_frames), (0, 0));
        assert_eq!((r.min_gain, r.energy_kept), (1.0, 1.0));
    }

    #[test]
    fn only_frames_within_two_windows_of_an_overshoot_are_attenuated() {
        let mut host = vec![vec![0.1f32; 1_000]];
        host[0][500] = 0.95;
        let (out, r) = add_limited(&host, vec![vec![0.1f32; 1_000]], 0.95, 8);
        assert_eq!(r.overshoot_frames, 1);
        assert_eq!(r.attenuated_frames, 2 * 16 + 1);
        assert_eq!(out[0][500], 0.95, "the peak gets no added signal");
        let added: Vec<f32> = out[0].iter().zip(&host[0]).map(|(y, x)| y - x).collect();
        for (n, d) in added.iter().enumerate() {
            if n.abs_diff(500) > 16 {
                assert_eq!(
                    out[0][n],
                    0.1f32 + 0.1,
                    "frame {n} is far from the overshoot"
                );
                assert!((d - 0.1).abs() < 1e-6);
            }
        }
        // Smooth: a triangular kernel of w + 1 = 9 moves the gain by at most 1/9 per step
        // (plus the step of the held minimum itself, which the kernel spreads).
        for w in added.windows(2) {
            assert!((w[0] - w[1]).abs() <= 0.1 / 9.0 + 1e-6, "{w:?}");
        }
    }

    #[test]
    fn a_host_already_past_the_ceiling_is_kept_and_not_pushed_further() {
        let host = vec![vec![0.999f32, -0.999, 0.5]];
        let (out, r) = add_limited(&host, vec![vec![0.01, -0.01, 0.01]], 0.98, 0);
        assert_eq!(out[0][..2], [0.999, -0.999]);
        assert_eq!(out[0][2], 0.51);
        assert_eq!(r.overshoot_frames, 2);
    }

    #[test]
    fn the_gain_is_linked_across_channels() {
        let host = vec![vec![0.0f32, 0.97, 0.0], vec![0.0f32, 0.0, 0.0]];
        let (out, _) = add_limited(&host, vec![vec![0.02; 3], vec![0.02; 3]], 0.98, 0);
        assert_eq!(out[0][1], 0.98);
        assert!(
            (out[1][1] - 0.01).abs() < 1e-6,
            "the quiet channel follows: {}",
            out[1][1]
        );
    }

    #[test]
    fn sliding_min_matches_the_naive_window() {
        let x: Vec<f64> = (0..50).map(|i| ((i * 37) % 11) as f64).collect();
        for w in [0, 1, 3, 7] {
            let fast = sliding_min(&x, w);
            for (j, v) in fast.iter().enumerate() {
                let lo = j.saturating_sub(w);
                let hi = (j + w).min(x.len() - 1);
                let naive = x[lo..=hi].iter().copied().fold(f64::INFINITY, f64::min);
                assert_eq!(*v, naive, "w {w} j {j}");
            }
        }
    }

    proptest! {
        #[test]
        fn loud_hosts_never_pass_their_ceiling(
            seed in any::<u64>(),
            level in 0.5f32..1.0,
            mark in 0.001f32..0.2,
            w in 0usize..64,
            channels in 1usize..3,
        ) {
            let mut s = seed | 1;
            let mut next = move || {
                s ^= s << 13; s ^= s >> 7; s ^= s << 17;
                (s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
            };
            let host: Vec<Vec<f32>> =
                (0..channels).map(|_| (0..2_000).map(|_| next() * level).collect()).collect();
            let added: Vec<Vec<f32>> =
                (0..channels).map(|_| (0..2_000).map(|_| next() * mark).collect()).collect();
            let peak = host.iter().flatten().fold(0.0f32, |m, x| m.max(x.abs()));
            let ceiling = ceiling_for(peak);
            let (out, r) = add_limited(&host, added.clone(), ceiling, w);
            for ((x, d), y) in host.iter().zip(&added).zip(&out) {
                for ((x, d), y) in x.iter().zip(d).zip(y) {
                    prop_assert!(y.abs() <= ceiling.max(x.abs()));
                    prop_assert!(y.abs() <= peak);
                    // Never more than the mark, never the other way.
                    prop_assert!((y - x).abs() <= d.abs() + 1e-6);
                    prop_assert!((y - x) * d >= -1e-9);
                }
            }
            prop_assert!(r.min_gain >= 0.0 && r.min_gain <= 1.0);
            // Farther than 2w from every would-be overshoot, the sum is left exactly as is.
            let over: Vec<usize> = (0..2_000)
                .filter(|&n| host.iter().zip(&added).any(|(x, d)| {
                    (x[n] + d[n]).abs() > ceiling.max(x[n].abs())
                }))
                .collect();
            prop_assert_eq!(over.len(), r.overshoot_frames);
            for n in 0..2_000 {
                if over.iter().all(|&o| o.abs_diff(n) > 2 * w) {
                    for ((x, d), y) in host.iter().zip(&added).zip(&out) {
                        prop_assert_eq!(y[n], x[n] + d[n], "frame {}", n);
                    }
                }
            }
        }
    }
}
