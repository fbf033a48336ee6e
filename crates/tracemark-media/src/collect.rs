//! Accumulates decoded audio under the caps, shared by every decoder path.

use tracemark_dsp::{AudioBuffer, DspError, SampleRate};

use crate::{Limits, MediaError};

/// Lowest sample rate accepted from a decoder.
pub(crate) const MIN_RATE: u32 = SampleRate::MIN;
/// Highest sample rate accepted from a decoder: covers every studio rate up to 96 kHz.
/// Anything above is rejected as out of scope for watermark detection.
pub(crate) const MAX_RATE: u32 = 96_000;

/// Checks a decoded stream's rate before anything is allocated for it.
pub(crate) fn check_rate(hz: u32) -> Result<SampleRate, MediaError> {
    let err = || MediaError::SampleRate {
        path: None,
        hz,
        min: MIN_RATE,
        max: MAX_RATE,
    };
    if hz > MAX_RATE {
        return Err(err());
    }
    SampleRate::try_new(hz).map_err(|_| err())
}

/// Checks a decoded stream's channel count before anything is allocated for it.
pub(crate) fn check_channels(count: usize) -> Result<(), MediaError> {
    if count == 0 || count > AudioBuffer::MAX_CHANNELS {
        return Err(MediaError::Channels {
            path: None,
            count,
            max: AudioBuffer::MAX_CHANNELS,
        });
    }
    Ok(())
}

/// Planar sample store that refuses to grow past [`Limits::max_duration_s`].
pub(crate) struct Collector {
    rate: SampleRate,
    planes: Vec<Vec<f32>>,
    frames: u64,
    max_frames: u64,
}

impl Collector {
    /// A collector for `channels` channels at `rate_hz`, after checking both.
    pub(crate) fn new(rate_hz: u32, channels: usize, limits: &Limits) -> Result<Self, MediaError> {
        let rate = check_rate(rate_hz)?;
        check_channels(channels)?;
        Ok(Self {
            rate,
            planes: vec![Vec::new(); channels],
            frames: 0,
            max_frames: limits.max_frames(rate_hz),
        })
    }

    /// Frames collected so far.
    pub(crate) fn frames(&self) -> u64 {
        self.frames
    }

    /// Channel count.
    pub(crate) fn channels(&self) -> usize {
        self.planes.len()
    }

    /// Errors if `total` frames would exceed the duration cap.
    pub(crate) fn check_total(&self, total: u64) -> Result<(), MediaError> {
        if total > self.max_frames {
            return Err(MediaError::Limit {
                path: None,
                what: "decoded duration (sample frames)",
                limit: self.max_frames,
                found: total,
            });
        }
        Ok(())
    }

    /// Appends `frames` frames from planar `planes` (each at least `frames` long).
    pub(crate) fn push_planar(
        &mut self,
        planes: &[Vec<f32>],
        frames: usize,
    ) -> Result<(), MediaError> {
        if planes.len() != self.planes.len() {
            return Err(MediaError::corrupt(
                self.frames,
                format!(
                    "channel count changed mid-stream from {} to {}",
                    self.planes.len(),
                    planes.len()
                ),
            ));
        }
        self.check_total(self.frames + frames as u64)?;
        for (dst, src) in self.planes.iter_mut().zip(planes) {
            dst.extend_from_slice(&src[..frames]);
        }
        self.frames += frames as u64;
        Ok(())
    }

    /// Appends interleaved samples (a whole number of frames).
    pub(crate) fn push_interleaved(&mut self, samples: &[f32]) -> Result<(), MediaError> {
        let ch = self.planes.len();
        let frames = samples.len() / ch;
        self.check_total(self.frames + frames as u64)?;
        for (c, dst) in self.planes.iter_mut().enumerate() {
            dst.extend(samples.iter().skip(c).step_by(ch).take(frames));
        }
        self.frames += frames as u64;
        Ok(())
    }

    /// The collected audio; [`MediaError::NoAudio`] when nothing was decoded.
    pub(crate) fn finish(self) -> Result<AudioBuffer, MediaError> {
        if self.frames == 0 {
            return Err(MediaError::NoAudio { path: None });
        }
        AudioBuffer::try_new(self.rate, self.planes).map_err(|e| match e {
            DspError::NonFiniteSample { frame, channel } => MediaError::corrupt(
                frame as u64,
                format!("non-finite sample (NaN or infinity) in channel {channel}"),
            ),
            other => MediaError::buffer(other),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(s: f64) -> Limits {
        Limits {
            max_bytes: u64::MAX,
            max_duration_s: s,
        }
    }

    #[test]
    fn rejects_rates_and_channel_counts_before_allocating() {
        assert!(matches!(
            Collector::new(192_000, 1, &limits(1.0)),
            Err(MediaError::SampleRate { hz: 192_000, .. })
        ));
        assert!(matches!(
            Collector::new(7_999, 1, &limits(1.0)),
            Err(MediaError::SampleRate { .. })
        ));
        assert!(matches!(
            Collector::new(8_000, 17, &limits(1.0)),
            Err(MediaError::Channels { count: 17, .. })
        ));
        assert!(matches!(
            Collector::new(8_000, 0, &limits(1.0)),
            Err(MediaError::Channels { count: 0, .. })
        ));
    }

    #[test]
    fn stops_at_the_duration_cap() {
        let mut c = Collector::new(8_000, 2, &limits(0.001)).expect("valid");
        c.push_interleaved(&[0.0; 16]).expect("8 frames fit");
        let e = c
            .push_interleaved(&[0.0; 2])
            .expect_err("9th frame is over");
        assert!(
            matches!(
                e,
                MediaError::Limit {
                    limit: 8,
                    found: 9,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn deinterleaves_and_reports_non_finite_samples_as_corrupt() {
        let mut c = Collector::new(8_000, 2, &limits(1.0)).expect("valid");
        c.push_interleaved(&[1.0, 2.0, 3.0, 4.0]).expect("fits");
        let b = c.finish().expect("finite");
        assert_eq!(b.channels(), &[vec![1.0, 3.0], vec![2.0, 4.0]]);
        let mut c = Collector::new(8_000, 1, &limits(1.0)).expect("valid");
        c.push_interleaved(&[0.0, f32::NAN]).expect("fits");
        assert!(matches!(
            c.finish(),
            Err(MediaError::Corrupt { frame: 1, .. })
        ));
    }

    #[test]
    fn nothing_decoded_is_no_audio() {
        let c = Collector::new(8_000, 1, &limits(1.0)).expect("valid");
        assert!(matches!(c.finish(), Err(MediaError::NoAudio { .. })));
    }
}
