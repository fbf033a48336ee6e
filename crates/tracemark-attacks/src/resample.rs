//! Resampling through `rubato` 5: fixed-rate conversion with its synchronous FFT resampler and
//! arbitrary ratios (speed, pitch) with its asynchronous sinc resampler.

use rubato::audioadapter::Adapter;
use rubato::audioadapter_buffers::direct::SequentialSliceOfVecs;
use rubato::{
    Async, Fft, FixedAsync, FixedSync, Resampler, SincInterpolationParameters,
    SincInterpolationType, WindowFunction, calculate_cutoff,
};
use tracemark_dsp::{AudioBuffer, SampleRate};

use crate::AttackError;

/// Frames per resampler call; rubato trims its own delay in `process_all`, so this only
/// trades memory against per-call overhead.
const CHUNK: usize = 1024;

/// Resamples planar `channels` from `from_hz` to `to_hz`, time-aligned, about
/// `len * to / from` frames long.
pub fn resample_channels(
    channels: &[Vec<f32>],
    from_hz: u32,
    to_hz: u32,
) -> Result<Vec<Vec<f32>>, AttackError> {
    if from_hz == to_hz {
        return Ok(channels.to_vec());
    }
    let ratio = f64::from(to_hz) / f64::from(from_hz);
    let err = |reason: String| AttackError::Resample { ratio, reason };
    let mut resampler = Fft::<f64>::new(
        from_hz as usize,
        to_hz as usize,
        CHUNK,
        channels.len(),
        FixedSync::Both,
    )
    .map_err(|e| err(e.to_string()))?;
    run(&mut resampler, channels).map_err(err)
}

/// Resamples planar `channels` by an arbitrary `ratio` (output frames per input frame), as when
/// a tape runs at a different speed: about `len * ratio` frames long.
pub fn stretch_channels(channels: &[Vec<f32>], ratio: f64) -> Result<Vec<Vec<f32>>, AttackError> {
    let err = |reason: String| AttackError::Resample { ratio, reason };
    if !(ratio.is_finite() && (0.1..=10.0).contains(&ratio)) {
        return Err(err("the ratio must lie in 0.1..=10".into()));
    }
    // rubato's README: sinc length 256, cubic interpolation and oversampling 256 match the
    // quality of its FFT resampler.
    let sinc_len = 256;
    let window = WindowFunction::BlackmanHarris2;
    let params = SincInterpolationParameters {
        sinc_len,
        f_cutoff: Some(calculate_cutoff(sinc_len, window)),
        interpolation: SincInterpolationType::Cubic,
        oversampling_factor: 256,
        window,
    };
    let mut resampler = Async::<f64>::new_sinc(
        ratio,
        1.0,
        &params,
        CHUNK,
        channels.len(),
        FixedAsync::Input,
    )
    .map_err(|e| err(e.to_string()))?;
    run(&mut resampler, channels).map_err(err)
}

fn run(resampler: &mut dyn Resampler<f64>, channels: &[Vec<f32>]) -> Result<Vec<Vec<f32>>, String> {
    let frames = channels.first().map_or(0, Vec::len);
    if frames == 0 {
        return Ok(vec![Vec::new(); channels.len()]);
    }
    let data: Vec<Vec<f64>> = channels
        .iter()
        .map(|c| c.iter().map(|&s| f64::from(s)).collect())
        .collect();
    let input =
        SequentialSliceOfVecs::new(&data, channels.len(), frames).map_err(|e| e.to_string())?;
    let output = resampler
        .process_all(&input, frames, None)
        .map_err(|e| e.to_string())?;
    let out_frames = output.frames();
    let nch = channels.len();
    let interleaved = output.take_data();
    Ok((0..nch)
        .map(|c| {
            (0..out_frames)
                .map(|f| interleaved[f * nch + c] as f32)
                .collect()
        })
        .collect())
}

/// The buffer resampled to `rate`.
pub fn resample(input: &AudioBuffer, rate: SampleRate) -> Result<AudioBuffer, AttackError> {
    let channels = resample_channels(input.channels(), input.rate().hz(), rate.hz())?;
    Ok(AudioBuffer::try_new(rate, channels)?)
}

/// Pads with zeros or truncates every channel to exactly `frames`.
pub(crate) fn fit_length(mut channels: Vec<Vec<f32>>, frames: usize) -> Vec<Vec<f32>> {
    for c in &mut channels {
        c.resize(frames, 0.0);
    }
    channels
}

/// `other` converted to `rate` and `channel_count` channels (downmixed, then copied to each
/// channel, when the counts differ).
pub(crate) fn conform(
    other: &AudioBuffer,
    rate: SampleRate,
    channel_count: usize,
) -> Result<Vec<Vec<f32>>, AttackError> {
    let channels = if other.channel_count() == channel_count {
        other.channels().to_vec()
    } else {
        vec![other.downmix(); channel_count]
    };
    resample_channels(&channels, other.rate().hz(), rate.hz())
}
