//! Sample-rate conversion for the Opus paths (Opus codes only at 8/12/16/24/48 kHz).

use rubato::audioadapter_buffers::direct::SequentialSliceOfVecs;
use rubato::{Fft, FixedSync, Resampler};

/// Frames per resampler chunk: ~20 ms at 48 kHz, a good FFT size/latency trade-off.
const CHUNK: usize = 1024;

/// Resamples planar audio from `from` Hz to `to` Hz with rubato's synchronous FFT resampler.
/// The output has `round(len * to / from)` frames and no added delay.
pub(crate) fn resample(planes: &[Vec<f32>], from: u32, to: u32) -> Result<Vec<Vec<f32>>, String> {
    let channels = planes.len();
    let frames = planes.first().map_or(0, Vec::len);
    if from == to || frames == 0 {
        return Ok(planes.to_vec());
    }
    let mut rs = Fft::<f32>::new(
        from as usize,
        to as usize,
        CHUNK,
        channels,
        FixedSync::Input,
    )
    .map_err(|e| e.to_string())?;
    let input = SequentialSliceOfVecs::new(planes, channels, frames).map_err(|e| e.to_string())?;
    let out = rs
        .process_all(&input, frames, None)
        .map_err(|e| e.to_string())?;
    let data = out.take_data();
    let want = (frames as u64 * u64::from(to)).div_ceil(u64::from(from)) as usize;
    let got = data.len() / channels;
    let n = want.min(got);
    let mut planar: Vec<Vec<f32>> = (0..channels)
        .map(|c| {
            data.iter()
                .skip(c)
                .step_by(channels)
                .take(n)
                .copied()
                .collect()
        })
        .collect();
    // Pad if the resampler delivered a frame or two short, so durations stay exact.
    for p in &mut planar {
        p.resize(want, 0.0);
    }
    Ok(planar)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_duration_and_a_tone() {
        let tone: Vec<f32> = (0..44_100)
            .map(|i| (std::f32::consts::TAU * 440.0 * i as f32 / 44_100.0).sin() * 0.5)
            .collect();
        let out = resample(&[tone], 44_100, 48_000).expect("resample");
        assert_eq!(out[0].len(), 48_000);
        // Compare against the ideal 440 Hz tone at 48 kHz, away from the edges.
        let err: f32 = (1_000..47_000)
            .map(|i| {
                let want = (std::f32::consts::TAU * 440.0 * i as f32 / 48_000.0).sin() * 0.5;
                (out[0][i] - want).abs()
            })
            .fold(0.0, f32::max);
        assert!(err < 0.01, "max error {err}");
    }
}
