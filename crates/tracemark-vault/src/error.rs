//! Errors of the vault.

use std::path::PathBuf;

/// What went wrong in a vault operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// The directory holds no vault.
    #[error("no vault at {path}: run `tracemark init` first (or pass --vault DIR)")]
    NotAVault {
        /// The directory.
        path: PathBuf,
    },
    /// `init` on a directory that already holds one.
    #[error("a vault already exists at {path}")]
    AlreadyExists {
        /// The directory.
        path: PathBuf,
    },
    /// A file of the vault could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
    /// The database was written by a newer tracemark.
    #[error(
        "the vault's database is at schema version {found}; this tracemark knows up to {known}: upgrade tracemark"
    )]
    SchemaTooNew {
        /// The stored version.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// A key file is malformed.
    #[error("key file {path} is malformed: {reason}")]
    BadKeyFile {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: &'static str,
    },
    /// An encrypted blob failed authentication: it was altered or belongs to another vault.
    #[error("stored original {what} failed authentication (altered, or from another vault)")]
    Tampered {
        /// Which blob.
        what: String,
    },
    /// A name or id that does not exist.
    #[error("no {kind} named {name:?}")]
    NotFound {
        /// Recipient, recording...
        kind: &'static str,
        /// The name looked up.
        name: String,
    },
    /// A name already taken.
    #[error("a {kind} named {name:?} already exists")]
    Duplicate {
        /// Recipient, recording...
        kind: &'static str,
        /// The name.
        name: String,
    },
    /// A user-supplied value is invalid.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// Which value.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// Resampling failed.
    #[error(transparent)]
    Dsp(#[from] tracemark_dsp::DspError),
    /// Decoding or encoding audio failed.
    #[error(transparent)]
    Media(#[from] tracemark_media::MediaError),
    /// The watermark engine failed.
    #[error(transparent)]
    Watermark(#[from] tracemark_watermark::WatermarkError),
    /// The log failed.
    #[error("log: {0}")]
    Ledger(#[from] tracemark_ledger::LedgerError),
    /// The fingerprint index failed.
    #[error("fingerprint index: {0}")]
    Fingerprint(#[from] tracemark_fingerprint::FingerprintError),
    /// The code or accusation failed.
    #[error("tracing code: {0}")]
    Tardos(#[from] tracemark_tardos::Error),
    /// The stored log and the records disagree.
    #[error("log verification failed at entry {index}: {reason}")]
    LogBroken {
        /// First broken entry.
        index: u64,
        /// What is wrong.
        reason: String,
    },
}

impl VaultError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }
}
