//! The stored rows, as every backend returns them.

use serde::{Deserialize, Serialize};

use crate::{IssuanceId, PayloadBytes, RecipientId, RecordingId, Sha256, TraceId, UnixMillis};

/// A stored recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recording {
    /// Its id, from its content hash.
    pub id: RecordingId,
    /// Its title.
    pub title: String,
    /// SHA-256 of the file as ingested.
    pub sha256: Sha256,
    /// Duration in seconds.
    pub duration_s: f64,
    /// Sample rate, Hz.
    pub sample_rate: u32,
    /// Channels.
    pub channels: u32,
    /// Container format of the ingested file (its extension, or `unknown`).
    pub format: String,
    /// When it was ingested.
    pub ingested_at: UnixMillis,
    /// Its `RecordingIngested` log entry.
    pub log_index: u64,
}

/// A recording's transcript (issue 13): stored sealed beside the original, one per
/// recording. Its variant sites, and so its code, are a pure function of the text under
/// the site rules of `rules_version` (`tracemark_textmark::SITE_RULES_VERSION`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transcript {
    /// The recording it belongs to (a text-only recording is its own).
    pub recording_id: RecordingId,
    /// SHA-256 of the UTF-8 text as ingested.
    pub sha256: Sha256,
    /// Whitespace-separated words.
    pub words: u32,
    /// Variant sites found (one code slot each).
    pub sites: u32,
    /// Version of the site rules that found them.
    pub rules_version: u32,
    /// When it was stored.
    pub attached_at: UnixMillis,
    /// Its `RecordStated` log entry.
    pub log_index: u64,
}

/// A stored recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    /// Its id, assigned by the store.
    pub id: RecipientId,
    /// Its unique name (never in id syntax).
    pub name: String,
    /// Optional e-mail address.
    pub email: Option<String>,
    /// When it was added.
    pub created_at: UnixMillis,
    /// Its `RecipientAdded` log entry.
    pub log_index: u64,
}

/// A stored issuance: one copy of a recording for one recipient in one format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issuance {
    /// Its id, assigned by the store.
    pub id: IssuanceId,
    /// The recording.
    pub recording_id: RecordingId,
    /// The recipient.
    pub recipient_id: RecipientId,
    /// The blind payload in the copy.
    #[serde(skip_deserializing)]
    pub payload: PayloadBytes,
    /// Commitment to the recipient's codeword.
    pub codeword_commitment: Sha256,
    /// Delivery format label, e.g. `flac` or `mp3-64k`.
    pub format: String,
    /// SHA-256 of the delivered file.
    pub copy_sha256: Sha256,
    /// When it was issued.
    pub issued_at: UnixMillis,
    /// Its `CopyIssued` log entry.
    pub log_index: u64,
}

/// A stored trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceRow {
    /// Its id.
    pub id: TraceId,
    /// SHA-256 of the leaked file.
    pub leak_sha256: Sha256,
    /// One-line verdict.
    pub verdict: String,
    /// The JSON report, byte for byte as logged.
    pub report_json: String,
    /// SHA-256 of `report_json`.
    pub report_sha256: Sha256,
    /// When it was traced.
    pub created_at: UnixMillis,
    /// Its `TraceRecorded` log entry.
    pub log_index: u64,
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Waiting for a worker.
    Queued,
    /// A worker holds its lease.
    Running,
    /// Finished; `result` holds the outcome.
    Succeeded,
    /// Finished; `error` says why.
    Failed,
}

impl JobStatus {
    /// The stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => Self::Queued,
            "running" => Self::Running,
            "succeeded" => Self::Succeeded,
            "failed" => Self::Failed,
            _ => return None,
        })
    }
}

/// A job: work (issuing, tracing) that a worker claims under a lease. Jobs are
/// operational rows: the log records what a job did (its issuances, its trace), exactly
/// once, in the transaction that finishes it; editing a job row changes no verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Its id.
    pub id: crate::JobId,
    /// What to do, e.g. `issue` or `trace`.
    pub kind: String,
    /// The request, as JSON.
    pub input: String,
    /// Where it stands.
    pub status: JobStatus,
    /// 0 to 1.
    pub progress: f64,
    /// The outcome, as JSON, once succeeded.
    pub result: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// Claims so far.
    pub attempts: u32,
    /// The current claim's token (worker and attempt), while running.
    #[serde(skip)]
    pub lease: Option<String>,
    /// When the current lease runs out.
    #[serde(skip)]
    pub lease_expires: Option<UnixMillis>,
    /// When it was enqueued.
    pub created_at: UnixMillis,
    /// When it last changed.
    pub updated_at: UnixMillis,
}

/// What a user of the service may do (issue 12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Recipients, recordings, issuing, downloading copies.
    Distributor,
    /// Uploading leaks, tracing, reports, evidence.
    Investigator,
    /// Read-only: the log, checkpoints, verification, the audit trail.
    Auditor,
    /// Users and tokens.
    Admin,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 4] = [
        Role::Distributor,
        Role::Investigator,
        Role::Auditor,
        Role::Admin,
    ];

    /// The stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Distributor => "distributor",
            Self::Investigator => "investigator",
            Self::Auditor => "auditor",
            Self::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = crate::TypeError;
    fn from_str(s: &str) -> Result<Self, crate::TypeError> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| crate::TypeError::Syntax {
                what: "role",
                value: s.chars().take(80).collect(),
                expected: "distributor, investigator, auditor or admin",
            })
    }
}

/// A user of the service. Users are facts (who could do what is evidence): every column
/// is stated in the log, and a role change is an event of its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Its id, assigned by the store.
    pub id: crate::UserId,
    /// Its unique name (never in id syntax).
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// Its password as an Argon2id PHC string, if it signs in by password.
    #[serde(skip)]
    pub password_hash: Option<String>,
    /// Whether it is disabled (cannot sign in; its tokens are refused).
    pub disabled: bool,
    /// When it was added.
    pub created_at: UnixMillis,
    /// Its creating log entry.
    pub log_index: u64,
}

/// An API token: stored only as the SHA-256 of the secret the user was shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    /// Its id.
    pub id: crate::TokenId,
    /// Whose it is.
    pub user_id: crate::UserId,
    /// SHA-256 of the secret.
    #[serde(skip)]
    pub secret_sha256: Sha256,
    /// When it was created.
    pub created_at: UnixMillis,
    /// When it stops working, if ever.
    pub expires_at: Option<UnixMillis>,
    /// Whether it was revoked.
    pub revoked: bool,
    /// Its creating log entry.
    pub log_index: u64,
}

/// A signed-in browser session: operational (deleting one signs its user out; nothing
/// else depends on it). Stored by the SHA-256 of the cookie's secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// SHA-256 of the cookie's secret.
    pub secret_sha256: Sha256,
    /// Who signed in.
    pub user_id: crate::UserId,
    /// The CSRF token forms must carry.
    pub csrf_token: String,
    /// When it was created.
    pub created_at: UnixMillis,
    /// When it ends.
    pub expires_at: UnixMillis,
}
