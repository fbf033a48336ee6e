//! Cutting and editing: crop, cut, jitter, splice, average, insert.

use rand::RngExt;

use crate::rng::Rng;

/// `len` frames from a random start (uniform over the possible starts).
pub(crate) fn crop(channels: &[Vec<f32>], len: usize, rng: &mut Rng) -> Vec<Vec<f32>> {
    let frames = channels.first().map_or(0, Vec::len);
    let start = rng.random_range(0..=frames - len);
    channels
        .iter()
        .map(|c| c[start..start + len].to_vec())
        .collect()
}

/// Removes `len` frames centred on the middle.
pub(crate) fn cut_middle(channels: &[Vec<f32>], len: usize) -> Vec<Vec<f32>> {
    let frames = channels.first().map_or(0, Vec::len);
    let start = (frames - len) / 2;
    channels
        .iter()
        .map(|c| [&c[..start], &c[start + len..]].concat())
        .collect()
}

/// In every `period` frames, at a random position, either drops `chunk` frames or repeats the
/// `chunk` frames that precede it (a fair coin decides). The length changes by at most
/// `chunk` per started period.
pub(crate) fn jitter(
    channels: &[Vec<f32>],
    period: usize,
    chunk: usize,
    rng: &mut Rng,
) -> Vec<Vec<f32>> {
    let frames = channels.first().map_or(0, Vec::len);
    let mut edits = Vec::new(); // (position, drop?)
    let mut block = 0;
    while block + period <= frames {
        // Keep the edit inside the block with room for a whole chunk on either side.
        let pos = block + chunk + rng.random_range(0..period.saturating_sub(2 * chunk).max(1));
        edits.push((pos, rng.random::<bool>()));
        block += period;
    }
    channels
        .iter()
        .map(|c| {
            let mut out = Vec::with_capacity(frames + edits.len() * chunk);
            let mut from = 0;
            for &(pos, drop) in &edits {
                out.extend_from_slice(&c[from..pos]);
                if drop {
                    from = (pos + chunk).min(frames);
                } else {
                    out.extend_from_slice(&c[pos - chunk..pos]);
                    from = pos;
                }
            }
            out.extend_from_slice(&c[from..]);
            out
        })
        .collect()
}

/// The first half (`len / 2` frames) of `a` followed by the rest of `b`, `len` frames in all.
pub(crate) fn splice(a: &[Vec<f32>], b: &[Vec<f32>], len: usize) -> Vec<Vec<f32>> {
    let half = len / 2;
    a.iter()
        .zip(b)
        .map(|(x, y)| [&x[..half], &y[half..len]].concat())
        .collect()
}

/// The sample-wise mean of `a` and `b` over `len` frames (collusion by averaging).
pub(crate) fn average(a: &[Vec<f32>], b: &[Vec<f32>], len: usize) -> Vec<Vec<f32>> {
    a.iter()
        .zip(b)
        .map(|(x, y)| (0..len).map(|i| 0.5 * (x[i] + y[i])).collect())
        .collect()
}

/// `a` with the first `len` frames of `foreign` inserted at its middle.
pub(crate) fn insert_middle(a: &[Vec<f32>], foreign: &[Vec<f32>], len: usize) -> Vec<Vec<f32>> {
    a.iter()
        .zip(foreign)
        .map(|(x, f)| {
            let mid = x.len() / 2;
            [&x[..mid], &f[..len], &x[mid..]].concat()
        })
        .collect()
}
