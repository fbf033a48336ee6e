//! Errors raised by the DSP primitives.

/// What went wrong in a DSP primitive.
#[derive(Debug, thiserror::Error, PartialEq)]
#[non_exhaustive]
pub enum DspError {
    /// The sample rate is outside the supported range.
    #[error("unsupported sample rate {hz} Hz: tracemark handles 8000 to 192000 Hz")]
    UnsupportedSampleRate {
        /// The rejected rate.
        hz: u32,
    },
    /// Too few or too many channels.
    #[error("unsupported channel count {count}: tracemark handles 1 to 16 channels")]
    ChannelCount {
        /// The rejected count.
        count: usize,
    },
    /// Channels of different lengths.
    #[error("channel {channel} has {len} samples where channel 0 has {expected}")]
    RaggedChannels {
        /// The offending channel.
        channel: usize,
        /// Its length.
        len: usize,
        /// The length of channel 0.
        expected: usize,
    },
    /// A NaN or infinite sample.
    #[error("channel {channel} has a non-finite sample at frame {frame}")]
    NonFiniteSample {
        /// The channel.
        channel: usize,
        /// The sample frame.
        frame: usize,
    },
    /// The resampler could not be built or run.
    #[error("resampling from {from} Hz to {to} Hz failed: {reason}")]
    Resample {
        /// Source rate.
        from: u32,
        /// Target rate.
        to: u32,
        /// The resampler's message.
        reason: String,
    },
}
