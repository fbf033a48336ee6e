//! Audio buffers and the newtypes that guard their invariants.

use crate::DspError;

/// A sample rate in Hz, between [`SampleRate::MIN`] and [`SampleRate::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SampleRate(u32);

impl SampleRate {
    /// Lowest supported rate: narrowband telephony (ITU-T G.711 samples at 8 kHz).
    pub const MIN: u32 = 8_000;
    /// Highest supported rate.
    pub const MAX: u32 = 192_000;

    /// Checks that `hz` is a supported rate.
    pub fn try_new(hz: u32) -> Result<Self, DspError> {
        if (Self::MIN..=Self::MAX).contains(&hz) {
            Ok(Self(hz))
        } else {
            Err(DspError::UnsupportedSampleRate { hz })
        }
    }

    /// The rate in Hz.
    pub fn hz(self) -> u32 {
        self.0
    }
}

impl std::fmt::Display for SampleRate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} Hz", self.0)
    }
}

/// How the samples of a source file were stored, so that a copy can be written the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SampleFormat {
    /// Linear PCM integers of `bits` bits (e.g. 16 for CD audio, 24 for studio masters).
    Int {
        /// Bits per sample.
        bits: u8,
    },
    /// IEEE 754 floating point of `bits` bits (32 or 64).
    Float {
        /// Bits per sample.
        bits: u8,
    },
}

impl std::fmt::Display for SampleFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Int { bits } => write!(f, "{bits}-bit integer"),
            Self::Float { bits } => write!(f, "{bits}-bit float"),
        }
    }
}

/// Planar floating-point audio: one `Vec<f32>` per channel, all of equal length,
/// samples nominally in `[-1.0, 1.0]`.
///
/// A buffer may also record the [`SampleFormat`] of the file it was decoded from
/// ([`Self::source_format`]); it is provenance, not audio, and equality ignores it.
#[derive(Debug, Clone)]
pub struct AudioBuffer {
    rate: SampleRate,
    channels: Vec<Vec<f32>>,
    source_format: Option<SampleFormat>,
}

/// Two buffers are equal when their rate and samples are: the same audio decoded from a
/// 16-bit file and built in memory compares equal.
impl PartialEq for AudioBuffer {
    fn eq(&self, other: &Self) -> bool {
        self.rate == other.rate && self.channels == other.channels
    }
}

impl AudioBuffer {
    /// Most channels a buffer may hold (7.1 surround plus headroom).
    pub const MAX_CHANNELS: usize = 16;

    /// Builds a buffer, checking that there is at least one channel, no more than
    /// [`Self::MAX_CHANNELS`], that all channels have the same length and that every sample
    /// is finite.
    pub fn try_new(rate: SampleRate, channels: Vec<Vec<f32>>) -> Result<Self, DspError> {
        if channels.is_empty() || channels.len() > Self::MAX_CHANNELS {
            return Err(DspError::ChannelCount {
                count: channels.len(),
            });
        }
        let len = channels[0].len();
        if let Some((index, ch)) = channels.iter().enumerate().find(|(_, c)| c.len() != len) {
            return Err(DspError::RaggedChannels {
                channel: index,
                len: ch.len(),
                expected: len,
            });
        }
        for (channel, ch) in channels.iter().enumerate() {
            if let Some(frame) = ch.iter().position(|s| !s.is_finite()) {
                return Err(DspError::NonFiniteSample { channel, frame });
            }
        }
        Ok(Self {
            rate,
            channels,
            source_format: None,
        })
    }

    /// The same buffer, recording that its samples came from a file stored as `format`
    /// (`None`: unknown, or not PCM, such as a lossy codec's output).
    #[must_use]
    pub fn with_source_format(mut self, format: Option<SampleFormat>) -> Self {
        self.source_format = format;
        self
    }

    /// How the file this buffer was decoded from stored its samples, when a decoder said so
    /// (WAV, FLAC, AIFF and other PCM); `None` for buffers built in memory or decoded from a
    /// lossy codec.
    pub fn source_format(&self) -> Option<SampleFormat> {
        self.source_format
    }

    /// A mono buffer.
    pub fn mono(rate: SampleRate, samples: Vec<f32>) -> Result<Self, DspError> {
        Self::try_new(rate, vec![samples])
    }

    /// The sample rate.
    pub fn rate(&self) -> SampleRate {
        self.rate
    }

    /// Number of channels (at least one).
    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }

    /// Number of sample frames (samples per channel).
    pub fn frames(&self) -> usize {
        self.channels[0].len()
    }

    /// Duration in seconds.
    pub fn duration_s(&self) -> f64 {
        self.frames() as f64 / f64::from(self.rate.hz())
    }

    /// The channels, planar.
    pub fn channels(&self) -> &[Vec<f32>] {
        &self.channels
    }

    /// Consumes the buffer, returning its channels.
    pub fn into_channels(self) -> Vec<Vec<f32>> {
        self.channels
    }

    /// The average of all channels (a downmix), as one channel.
    pub fn downmix(&self) -> Vec<f32> {
        if self.channels.len() == 1 {
            return self.channels[0].clone();
        }
        let mut out = Vec::with_capacity(self.frames());
        downmix_into(&self.channels, &mut out);
        out
    }

    /// A copy of frames `start..end` (clamped to the buffer).
    pub fn slice(&self, start: usize, end: usize) -> Self {
        let end = end.min(self.frames());
        let start = start.min(end);
        Self {
            rate: self.rate,
            channels: self
                .channels
                .iter()
                .map(|c| c[start..end].to_vec())
                .collect(),
            source_format: self.source_format,
        }
    }
}

/// Appends the average of `planes` (channels of one length, at least one), frame by frame,
/// to `out`: what [`AudioBuffer::downmix`] computes, for a signal that arrives in blocks,
/// so a downmix made block by block is bit for bit the whole signal's.
pub fn downmix_into<C: AsRef<[f32]>>(planes: &[C], out: &mut Vec<f32>) {
    let frames = planes.first().map_or(0, |c| c.as_ref().len());
    let scale = 1.0 / planes.len() as f32;
    out.extend((0..frames).map(|i| planes.iter().map(|c| c.as_ref()[i]).sum::<f32>() * scale));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_rates_outside_the_supported_range() {
        assert!(SampleRate::try_new(7_999).is_err());
        assert!(SampleRate::try_new(192_001).is_err());
        assert_eq!(
            SampleRate::try_new(44_100).map(SampleRate::hz).ok(),
            Some(44_100)
        );
    }

    #[test]
    fn rejects_ragged_empty_and_non_finite_buffers() {
        let r = SampleRate::try_new(8_000).expect("valid rate");
        assert!(AudioBuffer::try_new(r, vec![]).is_err());
        assert!(AudioBuffer::try_new(r, vec![vec![0.0; 3], vec![0.0; 2]]).is_err());
        assert!(AudioBuffer::try_new(r, vec![vec![0.0, f32::NAN]]).is_err());
    }

    #[test]
    fn the_source_format_is_kept_by_slices_and_ignored_by_equality() {
        let r = SampleRate::try_new(8_000).expect("valid rate");
        let plain = AudioBuffer::mono(r, vec![0.5; 4]).expect("valid");
        assert_eq!(plain.source_format(), None);
        let int16 = Some(SampleFormat::Int { bits: 16 });
        let tagged = plain.clone().with_source_format(int16);
        assert_eq!(tagged.slice(1, 3).source_format(), int16);
        assert_eq!(tagged, plain);
    }

    #[test]
    fn downmix_averages_channels() {
        let r = SampleRate::try_new(8_000).expect("valid rate");
        let b = AudioBuffer::try_new(r, vec![vec![1.0, 0.0], vec![0.0, 1.0]]).expect("valid");
        assert_eq!(b.downmix(), vec![0.5, 0.5]);
    }
}
