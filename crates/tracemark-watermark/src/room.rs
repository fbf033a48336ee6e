//! A room between the original and the clip: informed detection's host model for a clip
//! played through a loudspeaker and recorded again, or reverberated.
//!
//! Informed detection cancels the host by comparing each cell of the clip with the same
//! cell of the original. A room adds to every cell the decaying energy of the cells before
//! it, so the comparison leaves the host's own reverberant tail, which changes from frame
//! to frame far more than the mark does. Short-time power spectra of a reverberant signal
//! are well modelled by a per-band convolution of the dry signal's power spectra along time
//! (the convolutive transfer function in the power domain; Talmon, Cohen and Gannot, IEEE
//! Trans. ASLP 17(4), 2009; the magnitude form of Avargel and Cohen, IEEE SPL 14(5), 2007):
//! `|Y(t, k)|^2 ~ sum_tau h_b(tau) |X(t - tau, k)|^2` for the bins `k` of band `b`. The taps
//! are fitted by least squares from the clip against the original (audio only, never the
//! key, so the false-alarm bound holds), and the host a cell is compared with becomes the
//! original through that room.

use crate::layout::BAND_BINS;

/// Taps of the room model, one per 20 ms hop: 500 ms, the reverberation time of an office
/// or a living room (0.3-0.6 s; ISO 3382-2:2008, annex A).
pub const ROOM_TAPS: usize = 25;
/// Bands with their own taps: five of 625 Hz across the marked band.
const ROOM_BANDS: usize = 5;
/// The room model replaces the dry one only where the fitted tail (every tap but the
/// direct one) holds at least this share of the room's energy. Measured on 30 s of the
/// call (the `timescale` example): dry clips, a gain change and a high-pass fit tails of
/// 0.001-0.005 (the frames' 50 % overlap, noise); sox's `reverb 50 50 100` 0.044, the
/// attack suite's re-recording 0.17, its 300 and 500 ms reverbs 0.49-0.50.
pub const ROOM_MIN_TAIL: f64 = 0.03;

/// Fitted taps per band, normalised to sum to one.
#[derive(Debug, Clone, PartialEq)]
pub struct Room {
    taps: Vec<[f64; ROOM_TAPS]>,
    /// The share of the room's energy in its tail, averaged over the bands.
    pub tail: f64,
}

/// The power of bin `k` at frame `f` (0 where the rows hold none).
fn power_at(rows: &[&[f32]], f: usize, k: usize) -> f32 {
    rows.get(f).and_then(|r| r.get(k)).copied().unwrap_or(0.0)
}

/// The band of marked bin `k`.
fn band(k: usize) -> usize {
    (k * ROOM_BANDS / BAND_BINS).min(ROOM_BANDS - 1)
}

impl Room {
    /// Fits the room from the clip's band powers `clip[f]` (`None` where the clip does not
    /// cover original frame `f`) and the original's `original[f]` (every frame), both rows
    /// of [`BAND_BINS`]. Frames with `weight[f] == 0` (silence) are left out. `None` when
    /// there is too little to fit.
    pub fn fit(clip: &[Option<&[f32]>], original: &[&[f32]], weight: &[f32]) -> Option<Self> {
        let mut gram = vec![[[0.0f64; ROOM_TAPS]; ROOM_TAPS]; ROOM_BANDS];
        let mut rhs = vec![[0.0f64; ROOM_TAPS]; ROOM_BANDS];
        let mut used = 0usize;
        let mut x = [0.0f64; ROOM_TAPS];
        for (f, row) in clip.iter().enumerate() {
            let Some(y) = row else { continue };
            if weight.get(f).is_none_or(|&w| w <= 0.0) || f < ROOM_TAPS || y.len() < BAND_BINS {
                continue;
            }
            used += 1;
            for k in 0..BAND_BINS {
                for (t, xt) in x.iter_mut().enumerate() {
                    *xt = f64::from(power_at(original, f - t, k));
                }
                let b = band(k);
                let (g, r) = (&mut gram[b], &mut rhs[b]);
                for i in 0..ROOM_TAPS {
                    for j in i..ROOM_TAPS {
                        g[i][j] += x[i] * x[j];
                    }
                    r[i] += x[i] * f64::from(y[k]);
                }
            }
        }
        if used < 4 * ROOM_TAPS {
            return None;
        }
        let mut taps = Vec::with_capacity(ROOM_BANDS);
        let mut tail = 0.0;
        for (g, r) in gram.iter().zip(&rhs) {
            let h = solve_nonnegative(g, r)?;
            let total: f64 = h.iter().sum();
            if total.is_nan() || total <= 0.0 {
                return None;
            }
            tail += (total - h[0]) / total;
            taps.push(h.map(|v| v / total));
        }
        Some(Self {
            taps,
            tail: tail / ROOM_BANDS as f64,
        })
    }

    /// Whether the room explains the clip better than a dry path (see [`ROOM_MIN_TAIL`]).
    pub fn is_reverberant(&self) -> bool {
        self.tail >= ROOM_MIN_TAIL
    }

    /// The original's powers at frame `f` heard through the room (on the original's
    /// scale: the taps sum to one).
    pub fn predict(&self, original: &[&[f32]], f: usize, out: &mut [f32]) {
        for (k, o) in out.iter_mut().enumerate().take(BAND_BINS) {
            let h = &self.taps[band(k)];
            *o = (0..ROOM_TAPS.min(f + 1))
                .map(|t| h[t] * f64::from(power_at(original, f - t, k)))
                .sum::<f64>() as f32;
        }
    }
}

/// Least squares with non-negative taps, by active-set elimination: solve, drop the taps
/// that came out negative, solve again (a room adds energy, never removes it). A small
/// ridge keeps the system well posed when the original is nearly stationary.
fn solve_nonnegative(
    gram: &[[f64; ROOM_TAPS]; ROOM_TAPS],
    rhs: &[f64; ROOM_TAPS],
) -> Option<[f64; ROOM_TAPS]> {
    let trace: f64 = (0..ROOM_TAPS).map(|i| gram[i][i]).sum();
    if !trace.is_finite() || trace <= 0.0 {
        return None;
    }
    let ridge = 1e-6 * trace / ROOM_TAPS as f64;
    let mut active = [true; ROOM_TAPS];
    for _ in 0..ROOM_TAPS {
        let idx: Vec<usize> = (0..ROOM_TAPS).filter(|&i| active[i]).collect();
        let n = idx.len();
        if n == 0 {
            return None;
        }
        let mut a: Vec<Vec<f64>> = idx
            .iter()
            .map(|&i| {
                idx.iter()
                    .map(|&j| gram[i.min(j)][i.max(j)] + if i == j { ridge } else { 0.0 })
                    .collect()
            })
            .collect();
        let mut b: Vec<f64> = idx.iter().map(|&i| rhs[i]).collect();
        let solution = crate::linalg::gauss(&mut a, &mut b, 1e-300)?;
        if solution.iter().all(|&v| v >= 0.0) {
            let mut h = [0.0f64; ROOM_TAPS];
            for (&i, &v) in idx.iter().zip(&solution) {
                h[i] = v;
            }
            return Some(h);
        }
        for (&i, &v) in idx.iter().zip(&solution) {
            if v < 0.0 {
                active[i] = false;
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (s >> 8) as f32 / 16_777_216.0
            })
            .collect()
    }

    /// Original powers with onsets and pauses, and the clip through `h` (same taps in every
    /// band) times a gain.
    fn scene(h: &[f64]) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
        let frames = 400;
        let raw = noise(frames * BAND_BINS, 11);
        let original: Vec<Vec<f32>> = raw
            .chunks_exact(BAND_BINS)
            .enumerate()
            .map(|(f, r)| {
                let level = if (f / 20) % 3 == 2 { 0.01 } else { 1.0 };
                r.iter().map(|v| v * v * level).collect()
            })
            .collect();
        let clip = (0..frames)
            .map(|f| {
                (0..BAND_BINS)
                    .map(|k| {
                        let s: f64 = h
                            .iter()
                            .enumerate()
                            .filter(|(t, _)| *t <= f)
                            .map(|(t, c)| c * f64::from(original[f - t][k]))
                            .sum();
                        (3.0 * s) as f32
                    })
                    .collect()
            })
            .collect();
        (original, clip)
    }

    fn fit(original: &[Vec<f32>], clip: &[Vec<f32>]) -> Option<Room> {
        let o: Vec<&[f32]> = original.iter().map(Vec::as_slice).collect();
        let c: Vec<Option<&[f32]>> = clip.iter().map(|r| Some(r.as_slice())).collect();
        Room::fit(&c, &o, &vec![1.0; clip.len()])
    }

    #[test]
    fn a_decaying_room_is_recovered_and_predicts_the_clip() {
        let h: Vec<f64> = (0..15).map(|t| 0.7f64.powi(t)).collect();
        let (original, clip) = scene(&h);
        let room = fit(&original, &clip).expect("fit");
        let total: f64 = h.iter().sum();
        assert!(
            (room.tail - (total - 1.0) / total).abs() < 0.01,
            "{}",
            room.tail
        );
        assert!(room.is_reverberant());
        let o: Vec<&[f32]> = original.iter().map(Vec::as_slice).collect();
        let mut out = vec![0.0f32; BAND_BINS];
        room.predict(&o, 200, &mut out);
        for (p, c) in out.iter().zip(&clip[200]) {
            // The clip is the room times 3 x total; the prediction is on the original's scale.
            let want = c / (3.0 * total as f32);
            assert!((p - want).abs() <= 1e-3 * want.max(1e-6), "{p} vs {want}");
        }
    }

    #[test]
    fn a_dry_clip_is_not_taken_for_a_room() {
        let (original, clip) = scene(&[1.0]);
        let room = fit(&original, &clip).expect("fit");
        assert!(room.tail < 0.01, "{}", room.tail);
        assert!(!room.is_reverberant());
    }

    #[test]
    fn too_little_or_silent_audio_fits_nothing() {
        let (original, clip) = scene(&[1.0]);
        let o: Vec<&[f32]> = original.iter().map(Vec::as_slice).collect();
        let c: Vec<Option<&[f32]>> = clip.iter().map(|r| Some(r.as_slice())).collect();
        assert!(Room::fit(&c[..50], &o, &[1.0; 50]).is_none());
        assert!(Room::fit(&c, &o, &vec![0.0; c.len()]).is_none());
        let zeros = vec![vec![0.0f32; BAND_BINS]; 400];
        assert!(fit(&zeros, &zeros).is_none());
    }
}
