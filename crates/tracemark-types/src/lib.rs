//! tracemark's domain types, shared by the use cases, every storage backend, the report
//! renderer, the CLI and the server, so all of them speak one JSON shape.
//!
//! - Ids are parsed, never confused with names: [`RecordingId`] (`rec-` and 12 hex digits
//!   of the content hash), [`RecipientId`] (`r-` and a number), [`TraceId`] (`t-` and up
//!   to 32 lower-case letters or digits), [`IssuanceId`] (a number).
//! - [`UnixMillis`] for times, [`Sha256`] for digests (hex in JSON), [`PayloadBytes`].
//! - The stored rows ([`Recording`], [`Recipient`], [`Issuance`], [`TraceRow`]) and the
//!   [`TraceReport`] a trace produces.
//!
//! The crate is pure: no I/O, no clock.
//!
//! ```
//! use tracemark_types::{RecipientId, RecordingId, Sha256};
//! let rec = RecordingId::from_content(&Sha256::digest(b"call.flac bytes"));
//! assert!(rec.as_str().starts_with("rec-"));
//! assert_eq!(rec.as_str().parse::<RecordingId>()?, rec);
//! assert!("Alice".parse::<RecipientId>().is_err());
//! assert_eq!("r-12".parse::<RecipientId>()?.number(), 12);
//! # Ok::<(), tracemark_types::TypeError>(())
//! ```

mod id;
mod report;
mod rows;

pub use id::{
    IssuanceId, JobId, PayloadBytes, RecipientId, RecordingId, Sha256, TokenId, TraceId, TypeError,
    UnixMillis, UserId, looks_like_id,
};
pub use report::{
    Finding, FindingKind, Medium, PRESENCE_LEVEL, Power, RecipientStanding, ReportSegment,
    TextFindings, TextSegment, TraceReport, wilson_interval,
};
pub use rows::{
    ApiToken, Issuance, Job, JobStatus, Recipient, Recording, Role, Session, TraceRow, Transcript,
    User,
};
