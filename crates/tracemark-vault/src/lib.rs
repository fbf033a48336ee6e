//! tracemark's vault: the originals (encrypted at rest), recipients, issued copies and the
//! signed, append-only log of everything that happened, in one directory with an embedded
//! SQLite database.
//!
//! ```
//! use tracemark_vault::Vault;
//! let dir = tempfile::tempdir()?;
//! let mut vault = Vault::init(dir.path())?;
//! let alice = vault.add_recipient("Alice", Some("alice@example.org"))?;
//! assert_eq!(vault.recipients()?, vec![alice]);
//! assert!(vault.verify_log()?.entries >= 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod db;
mod error;
mod evidence;
mod issue;
mod secret;
mod trace;
mod vault;
mod verify;

pub use db::{Issuance, Recipient, Recording, TraceRow};
pub use error::VaultError;
pub use evidence::{
    EVIDENCE_FORMAT, EVIDENCE_VERSION, EvidenceError, EvidenceSummary, MAX_BUNDLE_BYTES,
    MAX_BUNDLE_ENTRIES, MAX_HTML_BYTES, MAX_REPORT_JSON_BYTES, verify_evidence,
};
pub use issue::{Delivery, IssuedCopy};
pub use secret::Secret;
pub use trace::{DEFAULT_BOUND, RecipientStanding, ReportSegment, TraceReport};
pub use vault::{Clock, Vault, hex, sha256, system_clock};
pub use verify::LogReport;
