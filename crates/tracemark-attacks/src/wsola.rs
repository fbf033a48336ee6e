//! Time-scale modification without pitch change by WSOLA: W. Verhelst and M. Roelands, "An
//! overlap-add technique based on waveform similarity (WSOLA) for high quality time-scale
//! modification of speech", Proc. IEEE ICASSP 1993, vol. 2, pp. 554-557.
//!
//! Each output frame (Hann window, 50 % overlap, so the windows sum to one) is cut from the
//! input near its nominal position `k * synthesis_hop * tempo`, shifted within a tolerance so
//! that it best matches (by cross-correlation) the natural continuation of the frame before.

/// Frame length: 40 ms, long enough to span two periods of an 50 Hz voice.
pub const FRAME_S: f64 = 0.040;
/// Search tolerance either side of the nominal position: 10 ms, half a synthesis hop.
pub const TOLERANCE_S: f64 = 0.010;
/// The similarity search runs first on every `rate / COARSE_RATE_HZ`-th sample and lag, then
/// refines at full resolution: the waveform's shape below 4 kHz decides the alignment.
const COARSE_RATE_HZ: u32 = 8_000;

/// Stretches planar `channels` so they play `tempo` times faster (`tempo > 1` shortens):
/// `round(len / tempo)` frames, pitch unchanged. All channels share the guide (their downmix) so
/// stereo images stay aligned.
pub fn time_stretch(channels: &[Vec<f32>], rate_hz: u32, tempo: f64) -> Vec<Vec<f32>> {
    let len = channels.first().map_or(0, Vec::len);
    let out_len = (len as f64 / tempo).round() as usize;
    let frame = ((FRAME_S * f64::from(rate_hz)) as usize / 2 * 2).max(4);
    let hop = frame / 2;
    let analysis_hop = hop as f64 * tempo;
    let tolerance = (TOLERANCE_S * f64::from(rate_hz)) as isize;
    let window: Vec<f32> = (0..frame)
        .map(|i| (0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / frame as f64).cos()) as f32)
        .collect();
    let guide: Vec<f32> = (0..len)
        .map(|i| channels.iter().map(|c| c[i]).sum::<f32>())
        .collect();
    let stride = (rate_hz / COARSE_RATE_HZ).max(1) as isize;

    let mut out = vec![vec![0.0f32; out_len + frame]; channels.len()];
    let mut norm = vec![0.0f32; out_len + frame];
    let mut previous: isize = 0;
    let mut k = 0usize;
    while k * hop < out_len {
        let nominal = (k as f64 * analysis_hop).round() as isize;
        let start = if k == 0 {
            0
        } else {
            let target = previous + hop as isize;
            best_match(&guide, target, nominal, tolerance, frame, stride)
        };
        let at = k * hop;
        for (o, c) in out.iter_mut().zip(channels) {
            for (i, w) in window.iter().enumerate() {
                o[at + i] += w * sample(c, start + i as isize);
            }
        }
        for (i, w) in window.iter().enumerate() {
            norm[at + i] += w;
        }
        previous = start;
        k += 1;
    }
    for o in &mut out {
        for (s, &n) in o.iter_mut().zip(&norm) {
            if n > 1e-3 {
                *s /= n;
            }
        }
        o.truncate(out_len);
    }
    out
}

fn sample(x: &[f32], i: isize) -> f32 {
    usize::try_from(i)
        .ok()
        .and_then(|i| x.get(i))
        .copied()
        .unwrap_or(0.0)
}

fn correlation(x: &[f32], a: isize, b: isize, frame: usize, step: usize) -> f32 {
    (0..frame)
        .step_by(step)
        .map(|i| sample(x, a + i as isize) * sample(x, b + i as isize))
        .sum()
}

/// The start in `nominal ± tolerance` whose frame best matches the frame at `target`.
fn best_match(
    guide: &[f32],
    target: isize,
    nominal: isize,
    tolerance: isize,
    frame: usize,
    stride: isize,
) -> isize {
    let search = |lo: isize, hi: isize, lag_step: isize, sample_step: usize| {
        let mut best = (f32::NEG_INFINITY, nominal);
        let mut lag = lo;
        while lag <= hi {
            let c = correlation(guide, target, lag, frame, sample_step);
            if c > best.0 {
                best = (c, lag);
            }
            lag += lag_step;
        }
        best.1
    };
    let coarse = search(
        nominal - tolerance,
        nominal + tolerance,
        stride,
        stride as usize,
    );
    search(
        (coarse - stride).max(nominal - tolerance),
        (coarse + stride).min(nominal + tolerance),
        1,
        1,
    )
}
