//! Errors raised by the attacks.

use tracemark_dsp::DspError;

/// What went wrong while applying an attack.
#[derive(Debug, thiserror::Error, PartialEq)]
#[non_exhaustive]
pub enum AttackError {
    /// A parameter is outside the range the attack supports.
    #[error("attack {attack}: invalid parameter: {reason}")]
    InvalidParameter {
        /// The attack's short name.
        attack: String,
        /// What is wrong and what range is accepted.
        reason: String,
    },
    /// The input is too short for the attack (for example a 5 s crop of a 3 s file).
    #[error("attack {attack} needs at least {needed_frames} frames, the input has {frames}")]
    TooShort {
        /// The attack's short name.
        attack: String,
        /// Frames the attack needs.
        needed_frames: usize,
        /// Frames the input has.
        frames: usize,
    },
    /// The attack needs a second buffer (babble source, other copy, foreign segment) that the
    /// [`crate::AttackContext`] does not carry. Add it with `AttackContext::with_other`.
    #[error("attack {attack} needs a second buffer in the context: {role}")]
    MissingOtherBuffer {
        /// The attack's short name.
        attack: String,
        /// What the second buffer stands for.
        role: &'static str,
    },
    /// The second buffer cannot be combined with the input.
    #[error("attack {attack}: the second buffer does not fit the input: {reason}")]
    MismatchedBuffers {
        /// The attack's short name.
        attack: String,
        /// Why not.
        reason: String,
    },
    /// A codec attack was asked for but the context has no codec backend; add one (for example
    /// `tracemark-codec-attacks`' `ToolBackend`) with `AttackContext::with_codec_backend`.
    #[error("attack {attack} needs a codec backend in the context")]
    NoCodecBackend {
        /// The attack's short name.
        attack: String,
    },
    /// The external tool a codec backend needs is not installed; a benchmark should skip the
    /// cell with a note.
    #[error("codec tool `{tool}` is not installed (see .ci/install-tools.sh)")]
    ToolMissing {
        /// The missing program.
        tool: String,
    },
    /// A codec backend failed for another reason.
    #[error("codec {codec} failed: {reason}")]
    Codec {
        /// The codec's short name.
        codec: String,
        /// The backend's message (for tools, the tail of their stderr).
        reason: String,
    },
    /// The resampler could not be built or run.
    #[error("resampling by ratio {ratio} failed: {reason}")]
    Resample {
        /// Output rate divided by input rate.
        ratio: f64,
        /// The resampler's message.
        reason: String,
    },
    /// A buffer invariant failed (for example a non-finite sample).
    #[error(transparent)]
    Dsp(#[from] DspError),
}

impl AttackError {
    /// True when the attack could not run for want of something outside the audio (a tool, a
    /// backend, a second buffer, a longer input): a benchmark skips such a cell with a note
    /// rather than counting it as a failure.
    pub fn is_skippable(&self) -> bool {
        matches!(
            self,
            Self::ToolMissing { .. }
                | Self::NoCodecBackend { .. }
                | Self::MissingOtherBuffer { .. }
                | Self::TooShort { .. }
        )
    }
}
