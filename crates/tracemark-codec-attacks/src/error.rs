//! Errors raised by the codec round trips.

use std::path::PathBuf;

use tracemark_attacks::{AttackError, Codec};

/// What went wrong in a codec round trip.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The program the codec needs is not on `PATH`: skip the cell with a note, or run
    /// `.ci/install-tools.sh`.
    #[error("codec tool `{tool}` is not installed: run .ci/install-tools.sh")]
    ToolMissing {
        /// The program.
        tool: &'static str,
    },
    /// The program ran and failed.
    #[error("`{tool}` failed ({status}); stderr ends with: {stderr_tail}")]
    ToolFailed {
        /// The program.
        tool: &'static str,
        /// Its exit status, as text.
        status: String,
        /// The last lines of its stderr.
        stderr_tail: String,
    },
    /// The program ran longer than its budget and was killed.
    #[error("`{tool}` ran longer than {seconds} s and was killed")]
    Timeout {
        /// The program.
        tool: &'static str,
        /// The budget.
        seconds: u64,
    },
    /// The input exceeds the length this crate will hand to a tool (a resource cap).
    #[error("input of {seconds:.1} s exceeds the {max_seconds} s limit for codec round trips")]
    InputTooLong {
        /// The input's duration.
        seconds: f64,
        /// The cap, [`crate::MAX_INPUT_SECONDS`].
        max_seconds: u64,
    },
    /// The codec does not support the requested setting.
    #[error("{codec}: unsupported setting: {reason}")]
    UnsupportedSetting {
        /// The codec's short name.
        codec: String,
        /// Which settings are supported.
        reason: String,
    },
    /// A temporary file could not be created, written or read.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A WAV file written or decoded by a tool could not be handled.
    #[error("WAV file {path}: {reason}")]
    Wav {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// Resampling or rebuilding the buffer failed.
    #[error(transparent)]
    Attack(#[from] AttackError),
}

impl CodecError {
    /// The attack-level error for this failure of `codec`: a missing tool stays
    /// [`AttackError::ToolMissing`] (skippable), everything else becomes [`AttackError::Codec`].
    pub fn into_attack_error(self, codec: Codec) -> AttackError {
        match self {
            Self::ToolMissing { tool } => AttackError::ToolMissing { tool: tool.into() },
            Self::Attack(inner) => inner,
            other => AttackError::Codec {
                codec: codec.name(),
                reason: other.to_string(),
            },
        }
    }
}
