//! The traits and the values that cross them.

use tracemark_ledger::{Frontier, LogEntry, NoteSigner};
use tracemark_types::{
    ApiToken, Issuance, Job, JobId, PayloadBytes, Recipient, RecipientId, Recording, RecordingId,
    Role, Session, Sha256, TokenId, TraceId, TraceRow, Transcript, UnixMillis, User, UserId,
};

use crate::StoreError;

/// A job about to be enqueued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    /// Its id (random, chosen by the caller, so the request can answer with it).
    pub id: JobId,
    /// What to do, e.g. `issue` or `trace` (1 to 64 characters, no control characters).
    pub kind: String,
    /// The request, as JSON.
    pub input: String,
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    /// Done; the result as JSON.
    Succeeded(String),
    /// Failed; why, in words for the user.
    Failed(String),
}

/// A worker's claim on a job: valid until `expires` unless renewed by
/// [`Store::heartbeat_job`]; another worker may claim the job after that.
#[derive(Debug, Clone, PartialEq)]
pub struct Lease {
    /// The job as claimed (status running, attempts counted).
    pub job: Job,
    /// This claim's token: only its holder may renew or finish the job.
    pub token: String,
}

/// A recording about to be stored (its id derives from its content).
#[derive(Debug, Clone, PartialEq)]
pub struct NewRecording {
    /// Its id.
    pub id: RecordingId,
    /// Its title (checked by [`crate::records::check_title`]).
    pub title: String,
    /// SHA-256 of the file.
    pub sha256: Sha256,
    /// Duration, seconds.
    pub duration_s: f64,
    /// Sample rate, Hz.
    pub sample_rate: u32,
    /// Channels.
    pub channels: u32,
    /// Container format.
    pub format: String,
}

/// An issuance about to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIssuance {
    /// The recording.
    pub recording_id: RecordingId,
    /// The recipient.
    pub recipient_id: RecipientId,
    /// The blind payload in the copy.
    pub payload: PayloadBytes,
    /// Commitment to the codeword.
    pub codeword_commitment: Sha256,
    /// Delivery format label.
    pub format: String,
    /// SHA-256 of the delivered file.
    pub copy_sha256: Sha256,
}

/// A transcript about to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTranscript {
    /// The recording it belongs to.
    pub recording_id: RecordingId,
    /// SHA-256 of the text.
    pub sha256: Sha256,
    /// Whitespace-separated words.
    pub words: u32,
    /// Variant sites.
    pub sites: u32,
    /// Site rules version.
    pub rules_version: u32,
}

/// One thing to record. The store assigns ids and log indices; the entries each draft
/// produces are fixed by [`crate::sequence`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Draft {
    /// A new recipient (name checked with [`crate::records::check_recipient_name`]).
    /// Duplicate names are refused. Entry: `RecordStated` for `recipients`.
    Recipient {
        /// Unique name.
        name: String,
        /// Optional e-mail.
        email: Option<String>,
    },
    /// A new recording and its fingerprint. The same content again returns the stored
    /// recording and logs nothing. Entries: `RecordingIngested`, `RecordStated`.
    Recording {
        /// The recording.
        recording: NewRecording,
        /// Its serialised fingerprint (`tracemark_fingerprint` wire format).
        fingerprint: Vec<u8>,
    },
    /// A new issuance. The same (recording, recipient, format) again returns the stored
    /// one and logs nothing. Entry: `CopyIssued`.
    Issuance(NewIssuance),
    /// A trace. Entry: `TraceRecorded`.
    Trace {
        /// Its id (random, chosen by the caller).
        id: TraceId,
        /// SHA-256 of the leaked file.
        leak_sha256: Sha256,
        /// One-line verdict (cut to 4000 bytes).
        verdict: String,
        /// The report JSON, committed to by its hash.
        report_json: String,
    },
    /// A recording's transcript (issue 13). The recording must exist; the same text again
    /// returns the stored row and logs nothing; a different text for a recording that has
    /// one is refused (a transcript, once issued from, is evidence and never replaced).
    /// Entry: `RecordStated` for `transcripts`.
    Transcript(NewTranscript),
    /// A new title for a recording. Entry: `RecordStated`.
    RetitleRecording {
        /// The recording.
        id: RecordingId,
        /// The new title.
        title: String,
    },
    /// A new e-mail address (or none) for a recipient. Entry: `RecordStated`.
    SetRecipientEmail {
        /// The recipient.
        id: RecipientId,
        /// The new address.
        email: Option<String>,
    },
    /// Finishes upgrading a vault made by an older release (see [`Store::legacy_upgrade`]):
    /// stores each recording's own fingerprint and states the columns of every recording
    /// and recipient, so that from now on an edit to any of them is caught. Does nothing
    /// when another process finished the upgrade first.
    FinishLegacyUpgrade {
        /// Each recording's fingerprint, split from the legacy single index.
        fingerprints: Vec<(RecordingId, Vec<u8>)>,
    },
    /// A new user of the service (name checked like a recipient's). Duplicate names are
    /// refused. Entry: `RecordStated` for `users`.
    User {
        /// Unique name.
        name: String,
        /// What it may do.
        role: Role,
        /// Argon2id PHC string, if it signs in by password.
        password_hash: Option<String>,
    },
    /// A user's new role, password or disabled flag (`None` keeps the current value).
    /// Entry: `RecordStated` for `users`: a role change is an event of its own.
    ChangeUser {
        /// The user.
        id: UserId,
        /// A new role.
        role: Option<Role>,
        /// A new password hash (`Some(None)` removes password sign-in).
        password_hash: Option<Option<String>>,
        /// Disable or enable.
        disabled: Option<bool>,
    },
    /// A new API token, stored as the SHA-256 of its secret. Entry: `RecordStated` for
    /// `tokens`.
    Token {
        /// Its id (random, chosen by the caller).
        id: TokenId,
        /// Whose it is.
        user_id: UserId,
        /// SHA-256 of the secret.
        secret_sha256: Sha256,
        /// When it stops working.
        expires_at: Option<UnixMillis>,
    },
    /// Revokes a token. Entry: `RecordStated` for `tokens`.
    RevokeToken {
        /// The token.
        id: TokenId,
    },
    /// A job to run, enqueued in the same transaction as the request's own drafts (so a
    /// request is recorded with its job or not at all). No log entry: what the job does is
    /// logged when it finishes ([`Store::finish_job`]).
    EnqueueJob(NewJob),
    /// An entry with no row of its own (evidence exported, access recorded, the statements
    /// an upgrade writes for records that older entries did not cover).
    Event(LogEntry),
}

/// What one draft stored.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Stored {
    /// A recipient was added.
    Recipient(Recipient),
    /// A recording, new or (`existing`) already stored.
    Recording {
        /// The row.
        recording: Recording,
        /// True when it was already there and nothing was logged.
        existing: bool,
    },
    /// A transcript, new or (`existing`) already stored.
    Transcript {
        /// The row.
        transcript: Transcript,
        /// True when it was already there and nothing was logged.
        existing: bool,
    },
    /// An issuance, new or (`existing`) already stored.
    Issuance {
        /// The row.
        issuance: Issuance,
        /// True when it was already there and nothing was logged.
        existing: bool,
    },
    /// A trace.
    Trace(TraceRow),
    /// An enqueued job.
    Job(Job),
    /// A user was added.
    User(User),
    /// A token was created.
    Token(ApiToken),
    /// A change or an event, at this log index.
    Logged {
        /// The entry's index.
        log_index: u64,
    },
}

/// What a vault made by an older release still needs (see [`Draft::FinishLegacyUpgrade`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyUpgrade {
    /// The legacy single fingerprint index of every recording, to split per recording.
    pub fingerprint_index: Option<Vec<u8>>,
}

/// A stored log row, as read (the leaf hash is what the row says, checked by `verify`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRow {
    /// Index.
    pub index: u64,
    /// Canonical entry bytes.
    pub entry: Vec<u8>,
    /// Stored RFC 9162 leaf hash.
    pub leaf_hash: Vec<u8>,
}

/// Everything in a store, for `migrate`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dump {
    /// The log.
    pub log: Vec<LogRow>,
    /// Signed checkpoints `(size, note)`.
    pub checkpoints: Vec<(u64, String)>,
    /// Recordings with their fingerprints.
    pub recordings: Vec<(Recording, Vec<u8>)>,
    /// Recipients.
    pub recipients: Vec<Recipient>,
    /// Issuances.
    pub issuances: Vec<Issuance>,
    /// Traces.
    pub traces: Vec<TraceRow>,
    /// Users.
    pub users: Vec<User>,
    /// API tokens.
    pub tokens: Vec<ApiToken>,
    /// Transcripts.
    pub transcripts: Vec<Transcript>,
}

/// A vault's database. Reads see committed data; every write is one [`Store::append`].
pub trait Store: Send + Sync {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Stores `drafts` with their log entries and one new signed checkpoint, atomically,
    /// under the database's one sequencer lock; returns what each draft stored, in order.
    fn append(
        &self,
        time: UnixMillis,
        drafts: Vec<Draft>,
        signer: &NoteSigner,
    ) -> Result<Vec<Stored>, StoreError>;

    /// Every recording, oldest first.
    fn recordings(&self) -> Result<Vec<Recording>, StoreError>;
    /// One recording.
    fn recording(&self, id: &RecordingId) -> Result<Option<Recording>, StoreError>;
    /// The recording with this content hash.
    fn recording_by_content(&self, sha: &Sha256) -> Result<Option<Recording>, StoreError>;
    /// One recording's stored fingerprint.
    fn fingerprint(&self, id: &RecordingId) -> Result<Option<Vec<u8>>, StoreError>;
    /// Every recording id with its fingerprint (to build the search index).
    fn fingerprints(&self) -> Result<Vec<(RecordingId, Vec<u8>)>, StoreError>;

    /// Every transcript, in recording id order.
    fn transcripts(&self) -> Result<Vec<Transcript>, StoreError>;
    /// One recording's transcript.
    fn transcript(&self, recording: &RecordingId) -> Result<Option<Transcript>, StoreError>;

    /// Every recipient, oldest first.
    fn recipients(&self) -> Result<Vec<Recipient>, StoreError>;
    /// One recipient by id.
    fn recipient(&self, id: &RecipientId) -> Result<Option<Recipient>, StoreError>;
    /// One recipient by exact name.
    fn recipient_by_name(&self, name: &str) -> Result<Option<Recipient>, StoreError>;

    /// Every issuance, in id order.
    fn issuances(&self) -> Result<Vec<Issuance>, StoreError>;
    /// The issuances of one recording, in id order.
    fn issuances_of(&self, recording: &RecordingId) -> Result<Vec<Issuance>, StoreError>;
    /// One issuance.
    fn issuance(
        &self,
        recording: &RecordingId,
        recipient: &RecipientId,
        format: &str,
    ) -> Result<Option<Issuance>, StoreError>;
    /// Issuances whose copy carries this blind payload.
    fn issuances_by_payload(&self, payload: &PayloadBytes) -> Result<Vec<Issuance>, StoreError>;

    /// Every trace, oldest first.
    fn traces(&self) -> Result<Vec<TraceRow>, StoreError>;
    /// One trace.
    fn trace(&self, id: &TraceId) -> Result<Option<TraceRow>, StoreError>;

    /// Number of log entries.
    fn log_size(&self) -> Result<u64, StoreError>;
    /// Up to `limit` log rows from index `from`, in index order.
    fn log_rows(&self, from: u64, limit: u64) -> Result<Vec<LogRow>, StoreError>;
    /// Every signed checkpoint `(size, note)`, by size.
    fn checkpoints(&self) -> Result<Vec<(u64, String)>, StoreError>;
    /// The latest signed checkpoint.
    fn latest_checkpoint(&self) -> Result<Option<(u64, String)>, StoreError>;
    /// The tree's right edge as stored (what the next append extends).
    fn frontier(&self) -> Result<Frontier, StoreError>;

    /// Every user, oldest first.
    fn users(&self) -> Result<Vec<User>, StoreError>;
    /// One user by id.
    fn user(&self, id: &UserId) -> Result<Option<User>, StoreError>;
    /// One user by exact name.
    fn user_by_name(&self, name: &str) -> Result<Option<User>, StoreError>;
    /// Every API token, oldest first.
    fn tokens(&self) -> Result<Vec<ApiToken>, StoreError>;
    /// The token whose secret has this SHA-256.
    fn token_by_secret(&self, secret_sha256: &Sha256) -> Result<Option<ApiToken>, StoreError>;

    /// Stores a browser session (operational: not logged; the sign-in is).
    fn create_session(&self, session: &Session) -> Result<(), StoreError>;
    /// The session whose cookie secret has this SHA-256, if it has not expired at `now`.
    fn session(
        &self,
        secret_sha256: &Sha256,
        now: UnixMillis,
    ) -> Result<Option<Session>, StoreError>;
    /// Ends a session (sign-out).
    fn delete_session(&self, secret_sha256: &Sha256) -> Result<(), StoreError>;
    /// Removes sessions that expired before `now`; returns how many.
    fn delete_expired_sessions(&self, now: UnixMillis) -> Result<u64, StoreError>;

    /// One job.
    fn job(&self, id: &JobId) -> Result<Option<Job>, StoreError>;

    /// Claims the oldest job that is queued, or running under a lease that ran out before
    /// `now`, for `worker`, until `now + lease_ms`. Several workers may call this at once:
    /// each job goes to one of them (PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite: its
    /// write lock).
    fn claim_job(
        &self,
        worker: &str,
        now: UnixMillis,
        lease_ms: u64,
    ) -> Result<Option<Lease>, StoreError>;

    /// Renews a lease until `now + lease_ms` and records progress (0 to 1). False when the
    /// lease is no longer this claim's (it ran out and another worker took the job, or the
    /// job finished): the worker must stop.
    fn heartbeat_job(
        &self,
        lease: &Lease,
        now: UnixMillis,
        lease_ms: u64,
        progress: f64,
    ) -> Result<bool, StoreError>;

    /// Finishes a job: appends `drafts` (what the job did, with their log entries and a
    /// checkpoint) and marks the job succeeded or failed, in one transaction under the
    /// sequencer lock, if and only if `lease` still holds the job. `None` (and nothing
    /// stored) when it does not: the outcome is logged exactly once, by the last claim.
    fn finish_job(
        &self,
        lease: &Lease,
        time: UnixMillis,
        outcome: &JobOutcome,
        drafts: Vec<Draft>,
        signer: &NoteSigner,
    ) -> Result<Option<Vec<Stored>>, StoreError>;

    /// What an upgrade from an older release still needs, if anything.
    fn legacy_upgrade(&self) -> Result<Option<LegacyUpgrade>, StoreError> {
        Ok(None)
    }

    /// Everything, for `migrate`.
    fn export(&self) -> Result<Dump, StoreError>;
    /// Loads a dump into this empty store, rows and log as they were.
    fn import(&self, dump: &Dump) -> Result<(), StoreError>;
}

/// A blob's key: `originals/rec-0123456789ab.sealed` and the like: 1 to 200 bytes of
/// `[a-z0-9._-]` in `/`-separated parts, none of them `.` or `..`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlobKey(String);

impl BlobKey {
    /// Checks the key syntax.
    pub fn try_new(s: impl Into<String>) -> Result<Self, StoreError> {
        let s = s.into();
        let part_ok = |p: &str| {
            !p.is_empty()
                && p != "."
                && p != ".."
                && p.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
                })
        };
        if s.is_empty() || s.len() > 200 || !s.split('/').all(part_ok) {
            return Err(StoreError::Invalid {
                what: "blob key",
                reason: format!("{s:?} is not 1-200 bytes of [a-z0-9._-] parts"),
            });
        }
        Ok(Self(s))
    }

    /// The sealed original of a recording.
    pub fn original(id: &RecordingId) -> Self {
        Self(format!("originals/{id}.sealed"))
    }

    /// The sealed file of an issued copy, by the copy's SHA-256.
    pub fn copy(sha: &Sha256) -> Self {
        Self(format!("copies/{}.sealed", sha.to_hex()))
    }

    /// The sealed transcript of a recording.
    pub fn transcript(id: &RecordingId) -> Self {
        Self(format!("transcripts/{id}.sealed"))
    }

    /// The sealed header of a recording's detection reference (its levels and length).
    pub fn reference_header(id: &RecordingId) -> Self {
        Self(format!("references/{id}/header.sealed"))
    }

    /// Chunk `n` of a recording's detection reference (its mono mix at 8 kHz).
    pub fn reference_chunk(id: &RecordingId, n: usize) -> Self {
        Self(format!("references/{id}/{n:06}.sealed"))
    }

    /// The sealed file of an uploaded leak, by its SHA-256.
    pub fn leak(sha: &Sha256) -> Self {
        Self(format!("leaks/{}.sealed", sha.to_hex()))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Large values by key: written once, durably, then read.
pub trait BlobStore: Send + Sync {
    /// `local` or `object-store`.
    fn backend(&self) -> &'static str;
    /// Writes `bytes` at `key`, replacing nothing that differs: a second put of the same
    /// key overwrites (blobs are content-addressed by the caller). Durable on return.
    fn put(&self, key: &BlobKey, bytes: &[u8]) -> Result<(), StoreError>;
    /// Writes the blob read from `from` to its end, as [`BlobStore::put`] does (whole or
    /// not at all, durable on return), without holding it whole: a long original is
    /// sealed chunk by chunk straight into the store. Returns the bytes written.
    fn put_from(&self, key: &BlobKey, from: &mut dyn std::io::Read) -> Result<u64, StoreError>;
    /// Reads a blob, or `None`.
    fn get(&self, key: &BlobKey) -> Result<Option<Vec<u8>>, StoreError>;
    /// A blob's length in bytes, or `None` when it is missing.
    fn size(&self, key: &BlobKey) -> Result<Option<u64>, StoreError>;
    /// Bytes `range` of a blob, or `None` when it is missing. A range reaching past the
    /// blob's end is an error ([`StoreError::Invalid`]), never a short read.
    fn get_range(
        &self,
        key: &BlobKey,
        range: std::ops::Range<u64>,
    ) -> Result<Option<Vec<u8>>, StoreError>;
    /// Every key, sorted.
    fn list(&self) -> Result<Vec<BlobKey>, StoreError>;
}
