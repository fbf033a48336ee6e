//! Storage behind traits: what the use cases need from a database, and nothing about SQL.
//!
//! - [`Store`]: the rows and the log. Every write is one [`Store::append`] of
//!   [`Draft`]s: the backend assigns ids and log indices inside one database transaction,
//!   holding the one log-sequencer lock of that database, builds the log entries with
//!   [`sequence`] (shared by every backend, so they cannot disagree), extends the tree whose
//!   right edge ([`Frontier`](tracemark_ledger::Frontier)) it stores, signs a checkpoint and
//!   commits rows, entries and checkpoint together. The tree a process signs is the tree in
//!   the database, never a cached one.
//! - [`BlobStore`]: encrypted originals and other large values, by key.
//! - [`records`]: the canonical column digests and the entries each record must have, used
//!   by the write path and by `log verify`.
//! - [`conformance`]: the stories every backend must pass, run by each backend's tests.
//!
//! ```
//! use tracemark_store::{Draft, records};
//! let draft = Draft::Recipient { name: "Envoy office".into(), email: None };
//! assert!(records::check_recipient_name("Envoy office").is_ok());
//! assert!(records::check_recipient_name("r-2").is_err()); // a name is never an id
//! # let _ = draft;
//! ```

pub mod conformance;
mod error;
pub mod records;
mod sequence;
mod traits;

pub use error::StoreError;
pub use sequence::{AppendTx, finish, load_dump, sequence};
pub use traits::{
    BlobKey, BlobStore, Draft, Dump, JobOutcome, Lease, LegacyUpgrade, LogRow, NewIssuance, NewJob,
    NewRecording, NewTranscript, Store, Stored,
};
