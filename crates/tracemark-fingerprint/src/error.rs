//! Errors raised while fingerprinting, indexing and parsing stored indexes.

/// What went wrong in the fingerprint crate.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
#[non_exhaustive]
pub enum FingerprintError {
    /// A sample was NaN or infinite.
    #[error("sample {index} is not finite: clean the input before fingerprinting")]
    NonFiniteSample {
        /// Position of the offending sample.
        index: usize,
    },
    /// The input is longer than the fingerprinter accepts.
    #[error("{what} is {found}, above the limit of {limit}: split the input")]
    Limit {
        /// Which quantity hit its cap.
        what: &'static str,
        /// The cap.
        limit: u64,
        /// The value found.
        found: u64,
    },
    /// A recording id was added twice to one index.
    #[error("recording {id} is already in the index")]
    DuplicateRecording {
        /// The repeated id.
        id: u64,
    },
    /// Stored index bytes do not start with the expected magic.
    #[error(
        "not a tracemark fingerprint index (bad magic): was this blob written by another tool?"
    )]
    BadMagic,
    /// Stored index bytes come from a format version this build does not read.
    #[error("index format version {found} is not supported (this build reads version {supported})")]
    UnsupportedVersion {
        /// Version in the bytes.
        found: u16,
        /// Version this build reads.
        supported: u16,
    },
    /// Stored index bytes end early.
    #[error("index truncated at byte {offset}: expected {needed} more bytes for {what}")]
    Truncated {
        /// Byte offset where reading stopped.
        offset: usize,
        /// Bytes still needed.
        needed: usize,
        /// The field being read.
        what: &'static str,
    },
    /// Stored index bytes hold a value that violates the format.
    #[error("invalid index at byte {offset}: {reason}")]
    Invalid {
        /// Byte offset of the bad field.
        offset: usize,
        /// What was wrong.
        reason: String,
    },
}
