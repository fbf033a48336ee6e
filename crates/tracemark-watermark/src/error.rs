//! Errors of the watermark engine.

use tracemark_dsp::DspError;

/// What went wrong while embedding or detecting.
#[derive(Debug, thiserror::Error, PartialEq)]
#[non_exhaustive]
pub enum WatermarkError {
    /// The key text is malformed.
    #[error("bad watermark key: {reason}")]
    BadKey {
        /// What was wrong.
        reason: &'static str,
    },
    /// The payload text is malformed.
    #[error("bad payload: {reason}")]
    BadPayload {
        /// What was wrong.
        reason: &'static str,
    },
    /// The embedding strength is out of range.
    #[error("embedding strength {strength} is outside (0, 0.5]")]
    BadStrength {
        /// The rejected value.
        strength: f32,
    },
    /// A codeword with no symbols.
    #[error("the codeword to embed has no symbols")]
    EmptyCodeword,
    /// The sample rate does not put 40 ms frames on whole samples.
    #[error(
        "sample rate {hz} Hz is not a multiple of 25 Hz; resample the input (for example to 48000 Hz) before marking"
    )]
    RateNotOnGrid {
        /// The rejected rate.
        hz: u32,
    },
    /// The audio is too short to hold a mark.
    #[error("audio of {seconds:.2} s is too short: at least {minimum_s} s is needed")]
    TooShort {
        /// Its duration.
        seconds: f64,
        /// The minimum.
        minimum_s: f64,
    },
    /// Audio fed to the streaming embedder ([`crate::Survey`], [`crate::Embedder`]) does
    /// not fit what it was set up for, or the second pass differs from the first.
    #[error("streaming embedder: {reason}; feed both passes the same audio, block by block")]
    StreamShape {
        /// What did not fit.
        reason: String,
    },
    /// A DSP primitive failed.
    #[error(transparent)]
    Dsp(#[from] DspError),
}
