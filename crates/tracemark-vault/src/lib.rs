//! tracemark's use cases: ingest, issue, trace, verify, export and migrate, on any
//! [`Store`](tracemark_store::Store) and [`BlobStore`](tracemark_store::BlobStore).
//!
//! A [`Vault`] holds the key files of a vault directory (the master secret and the log
//! signing key, mode 0600) and talks to its database and blobs only through the storage
//! traits: it never knows which backend it runs on. Every write is one `append` of drafts,
//! so the database assigns ids and log indices under its sequencer lock.
//!
//! ```
//! use tracemark_vault::Vault;
//! # fn sqlite(dir: &std::path::Path) -> Box<dyn tracemark_store::Store> {
//! #     Box::new(tracemark_store_sqlite::SqliteStore::open(&dir.join("vault.db"), true).expect("db"))
//! # }
//! let dir = tempfile::tempdir()?;
//! Vault::create_keys(dir.path())?;
//! let blobs = Box::new(tracemark_blobs::LocalBlobs::new(dir.path()));
//! let vault = Vault::open(dir.path(), sqlite(dir.path()), blobs)?;
//! let alice = vault.add_recipient("Alice", Some("alice@example.org"))?;
//! assert_eq!(vault.recipients()?, vec![alice]);
//! assert!(vault.verify_log()?.entries >= 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod accounts;
mod error;
mod evidence;
mod finding;
mod issue;
mod jobs;
mod reference;
mod sealed;
mod secret;
#[cfg(test)]
mod testing;
mod trace;
mod transcripts;
mod vault;
mod verify;

pub use accounts::{
    MAX_PASSWORD_BYTES, MIN_PASSWORD_CHARS, SESSION_MS, hash_password, verify_password,
};
pub use error::VaultError;
pub use finding::{POWER_TRIALS, SLOT_S};
pub use issue::{
    Assigned, CODEWORD_BATCH, CODEWORD_FORMAT, Delivery, IssuedCopy, IssuedFile, is_text_only,
};
pub use jobs::{
    IssueRequest, IssueResult, IssuedCopyRef, JOB_ISSUE, JOB_TRACE, MAX_ATTEMPTS, TraceRequest,
    TraceResult, Worked, WorkerOptions, is_infrastructure,
};
pub use secret::Secret;
pub use trace::DEFAULT_BOUND;
pub use tracemark_types::{
    ApiToken, FindingKind, Issuance, IssuanceId, Job, JobId, JobStatus, Medium, Recipient,
    RecipientId, RecipientStanding, Recording, RecordingId, ReportSegment, Role, Session, Sha256,
    TokenId, TraceId, TraceReport, TraceRow, Transcript, UnixMillis, User, UserId,
};
pub use transcripts::{
    MIN_MATCHED_WORDS, TEXT_BIAS_CUTOFF, TEXT_FORMAT, combine_p_values, is_transcript_upload,
    looks_like_text, names_media_format,
};
pub use vault::{Clock, Vault, system_clock};
pub use verify::LogReport;
