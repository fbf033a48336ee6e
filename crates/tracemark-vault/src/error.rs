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
    /// The database or blob store failed, or refused a write.
    #[error(transparent)]
    Store(tracemark_store::StoreError),
    /// An id in the wrong syntax.
    #[error(transparent)]
    Id(#[from] tracemark_types::TypeError),
    /// The vault directory's keys did not sign this database's log.
    #[error(
        "the log in this database (checkpoint of size {size}) is not signed by the keys in {dir} ({key}): use the key files of the vault this database belongs to"
    )]
    WrongKeys {
        /// The vault directory.
        dir: PathBuf,
        /// The size of the latest checkpoint.
        size: u64,
        /// The verifier key of the directory's keys.
        key: String,
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
    /// A copy rendered again differs from the copy the log records as issued: marking or
    /// encoding changed since (another release), so the file at hand is not the one the
    /// recipient received, and it is not handed out.
    #[error(
        "the {format} copy of {recording} for {recipient:?} rendered now (SHA-256 {rendered}) differs from the one issued (SHA-256 {issued}): this release marks or encodes differently; the issued copy is the one in the log"
    )]
    CopyDiffers {
        /// The recording.
        recording: String,
        /// The recipient's name.
        recipient: String,
        /// The delivery label.
        format: String,
        /// The hash the log records.
        issued: String,
        /// The hash of the copy rendered now.
        rendered: String,
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
    /// A stored original no longer decodes (under this vault's limits, or with this
    /// release's decoders): the vault's state is at fault, not the request.
    #[error("the stored original of {recording} does not decode: {source}")]
    StoredMedia {
        /// The recording.
        recording: String,
        /// What the decoder said.
        #[source]
        source: tracemark_media::MediaError,
    },
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
    /// The stored log is broken (entries, leaf hashes or checkpoints).
    #[error(transparent)]
    LogBroken(#[from] tracemark_evidence::LogBroken),
    /// A stored record and the log disagree.
    #[error(
        "log verification failed: {table} row {row}: {} {what} (log entry {index})",
        if columns.is_empty() { String::new() } else { format!("column {}", columns.join(", ")) }
    )]
    RecordBroken {
        /// Table.
        table: &'static str,
        /// Row id.
        row: String,
        /// The columns that differ (empty when the row as a whole is at fault).
        columns: Vec<String>,
        /// What is wrong.
        what: String,
        /// The log entry concerned.
        index: u64,
    },
}

impl From<tracemark_store::StoreError> for VaultError {
    fn from(e: tracemark_store::StoreError) -> Self {
        use tracemark_store::StoreError as S;
        match e {
            S::Duplicate { kind, name } => Self::Duplicate { kind, name },
            S::Invalid { what, reason } => Self::Invalid { what, reason },
            S::NotFound { kind, id } => Self::NotFound { kind, name: id },
            other => Self::Store(other),
        }
    }
}

impl VaultError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }
}
