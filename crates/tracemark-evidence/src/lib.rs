//! What a third party needs to check tracemark's claims offline, with the vault's public
//! key alone, and nothing that links a database:
//!
//! - [`verify_evidence`]: an evidence bundle (one trace, the entries it rests on, their
//!   inclusion proofs against one signed checkpoint); format in [`bundle`].
//! - [`LogChecker`]: a whole log (entries in index order, stored leaf hashes and every
//!   signed checkpoint) recomputed and checked; `tracemark log verify` runs it before
//!   matching the database's rows to the entries.
//!
//! ```
//! use tracemark_evidence::verify_evidence;
//! assert!(verify_evidence(b"{}", None).is_err());
//! ```

pub mod bundle;
mod log;

pub use bundle::{
    Bundle, BundleEntry, EVIDENCE_FORMAT, EVIDENCE_VERSION, EvidenceError, EvidenceSummary,
    MAX_BUNDLE_BYTES, MAX_BUNDLE_ENTRIES, MAX_HTML_BYTES, MAX_REPORT_JSON_BYTES, encode,
    verify_evidence,
};
pub use log::{CheckedLog, LogBroken, LogChecker};
