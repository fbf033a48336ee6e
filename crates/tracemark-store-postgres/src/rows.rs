//! Reading rows: every stored value is parsed into its type, and a value that does not
//! parse (or is NULL, or of another SQL type) is a [`StoreError::Corrupt`] naming table,
//! row and column, never a panic.

use postgres::Row;
use postgres::types::FromSql;
use tracemark_store::{LogRow, StoreError};
use tracemark_types::{
    ApiToken, Issuance, IssuanceId, Job, JobStatus, PayloadBytes, Recipient, Recording,
    RecordingId, Session, Sha256, TraceRow, Transcript, UnixMillis, User,
};

pub const RECORDING_COLS: &str =
    "id, title, sha256, duration_s, sample_rate, channels, format, ingested_at, log_index";
pub const RECIPIENT_COLS: &str = "id, name, email, created_at, log_index";
pub const ISSUANCE_COLS: &str = "id, recording_id, recipient_id, payload, codeword_commitment, format, copy_sha256, issued_at, log_index";
pub const USER_COLS: &str = "id, name, role, password_hash, disabled, created_at, log_index";
pub const TOKEN_COLS: &str =
    "id, user_id, secret_sha256, created_at, expires_at, revoked, log_index";
pub const TRANSCRIPT_COLS: &str =
    "recording_id, sha256, words, sites, rules_version, attached_at, log_index";
pub const SESSION_COLS: &str = "secret_sha256, user_id, csrf_token, created_at, expires_at";
pub const JOB_COLS: &str = "id, kind, input, status, progress, result, error, attempts, lease, lease_expires, created_at, updated_at";
pub const TRACE_COLS: &str =
    "id, leak_sha256, verdict, report_json, report_sha256, created_at, log_index";

/// One row of `table`, keyed for error messages by its first column.
pub struct Cells<'r> {
    row: &'r Row,
    table: &'static str,
    key: String,
}

impl<'r> Cells<'r> {
    pub fn new(row: &'r Row, table: &'static str) -> Self {
        let key = if let Ok(Some(text)) = row.try_get::<_, Option<String>>(0) {
            text.chars().take(40).collect()
        } else if let Ok(Some(n)) = row.try_get::<_, Option<i64>>(0) {
            n.to_string()
        } else {
            "?".to_string()
        };
        Cells { row, table, key }
    }

    fn corrupt(&self, column: &'static str, reason: impl std::fmt::Display) -> StoreError {
        StoreError::corrupt(self.table, &self.key, column, reason)
    }

    pub fn get<'a, T: FromSql<'a>>(
        &'a self,
        i: usize,
        column: &'static str,
    ) -> Result<T, StoreError> {
        self.row.try_get(i).map_err(|e| self.corrupt(column, e))
    }

    pub fn parse<T: std::str::FromStr>(
        &self,
        i: usize,
        column: &'static str,
    ) -> Result<T, StoreError>
    where
        T::Err: std::fmt::Display,
    {
        let s: String = self.get(i, column)?;
        s.parse().map_err(|e| self.corrupt(column, e))
    }

    pub fn bytes<const N: usize>(
        &self,
        i: usize,
        column: &'static str,
    ) -> Result<[u8; N], StoreError> {
        let v: Vec<u8> = self.get(i, column)?;
        v.try_into().map_err(|v: Vec<u8>| {
            self.corrupt(column, format!("{} bytes where {N} were expected", v.len()))
        })
    }

    /// A non-negative BIGINT (indices, sizes, ids).
    pub fn count(&self, i: usize, column: &'static str) -> Result<u64, StoreError> {
        let v: i64 = self.get(i, column)?;
        u64::try_from(v).map_err(|_| self.corrupt(column, format!("{v} is negative")))
    }

    fn unsigned(&self, i: usize, column: &'static str) -> Result<u32, StoreError> {
        let v: i64 = self.get(i, column)?;
        u32::try_from(v).map_err(|_| self.corrupt(column, format!("{v} is out of range")))
    }

    fn millis(&self, i: usize, column: &'static str) -> Result<UnixMillis, StoreError> {
        Ok(UnixMillis(self.get(i, column)?))
    }
}

pub fn user(row: &Row) -> Result<User, StoreError> {
    let c = Cells::new(row, "users");
    Ok(User {
        id: c.parse(0, "id")?,
        name: c.get(1, "name")?,
        role: c.parse(2, "role")?,
        password_hash: c.get(3, "password_hash")?,
        disabled: c.get(4, "disabled")?,
        created_at: c.millis(5, "created_at")?,
        log_index: c.count(6, "log_index")?,
    })
}

pub fn transcript(row: &Row) -> Result<Transcript, StoreError> {
    let c = Cells::new(row, "transcripts");
    Ok(Transcript {
        recording_id: c.parse(0, "recording_id")?,
        sha256: Sha256(c.bytes(1, "sha256")?),
        words: c.unsigned(2, "words")?,
        sites: c.unsigned(3, "sites")?,
        rules_version: c.unsigned(4, "rules_version")?,
        attached_at: c.millis(5, "attached_at")?,
        log_index: c.count(6, "log_index")?,
    })
}

pub fn token(row: &Row) -> Result<ApiToken, StoreError> {
    let c = Cells::new(row, "tokens");
    let expires: Option<i64> = c.get(4, "expires_at")?;
    Ok(ApiToken {
        id: c.parse(0, "id")?,
        user_id: c.parse(1, "user_id")?,
        secret_sha256: Sha256(c.bytes(2, "secret_sha256")?),
        created_at: c.millis(3, "created_at")?,
        expires_at: expires.map(UnixMillis),
        revoked: c.get(5, "revoked")?,
        log_index: c.count(6, "log_index")?,
    })
}

pub fn session(row: &Row) -> Result<Session, StoreError> {
    let c = Cells::new(row, "sessions");
    Ok(Session {
        secret_sha256: Sha256(c.bytes(0, "secret_sha256")?),
        user_id: c.parse(1, "user_id")?,
        csrf_token: c.get(2, "csrf_token")?,
        created_at: c.millis(3, "created_at")?,
        expires_at: c.millis(4, "expires_at")?,
    })
}

pub fn job(row: &Row) -> Result<Job, StoreError> {
    let c = Cells::new(row, "jobs");
    let status: String = c.get(3, "status")?;
    let lease_expires: Option<i64> = c.get(9, "lease_expires")?;
    Ok(Job {
        id: c.parse(0, "id")?,
        kind: c.get(1, "kind")?,
        input: c.get(2, "input")?,
        status: JobStatus::parse(&status)
            .ok_or_else(|| c.corrupt("status", format!("{status:?} is not a job status")))?,
        progress: c.get(4, "progress")?,
        result: c.get(5, "result")?,
        error: c.get(6, "error")?,
        attempts: c.unsigned(7, "attempts")?,
        lease: c.get(8, "lease")?,
        lease_expires: lease_expires.map(UnixMillis),
        created_at: c.millis(10, "created_at")?,
        updated_at: c.millis(11, "updated_at")?,
    })
}

pub fn recording(row: &Row) -> Result<Recording, StoreError> {
    let c = Cells::new(row, "recordings");
    Ok(Recording {
        id: c.parse(0, "id")?,
        title: c.get(1, "title")?,
        sha256: Sha256(c.bytes(2, "sha256")?),
        duration_s: c.get(3, "duration_s")?,
        sample_rate: c.unsigned(4, "sample_rate")?,
        channels: c.unsigned(5, "channels")?,
        format: c.get(6, "format")?,
        ingested_at: c.millis(7, "ingested_at")?,
        log_index: c.count(8, "log_index")?,
    })
}

pub fn recipient(row: &Row) -> Result<Recipient, StoreError> {
    let c = Cells::new(row, "recipients");
    Ok(Recipient {
        id: c.parse(0, "id")?,
        name: c.get(1, "name")?,
        email: c.get(2, "email")?,
        created_at: c.millis(3, "created_at")?,
        log_index: c.count(4, "log_index")?,
    })
}

pub fn issuance(row: &Row) -> Result<Issuance, StoreError> {
    let c = Cells::new(row, "issuances");
    Ok(Issuance {
        id: IssuanceId(c.count(0, "id")?),
        recording_id: c.parse(1, "recording_id")?,
        recipient_id: c.parse(2, "recipient_id")?,
        payload: PayloadBytes(c.bytes(3, "payload")?),
        codeword_commitment: Sha256(c.bytes(4, "codeword_commitment")?),
        format: c.get(5, "format")?,
        copy_sha256: Sha256(c.bytes(6, "copy_sha256")?),
        issued_at: c.millis(7, "issued_at")?,
        log_index: c.count(8, "log_index")?,
    })
}

pub fn trace(row: &Row) -> Result<TraceRow, StoreError> {
    let c = Cells::new(row, "traces");
    Ok(TraceRow {
        id: c.parse(0, "id")?,
        leak_sha256: Sha256(c.bytes(1, "leak_sha256")?),
        verdict: c.get(2, "verdict")?,
        report_json: c.get(3, "report_json")?,
        report_sha256: Sha256(c.bytes(4, "report_sha256")?),
        created_at: c.millis(5, "created_at")?,
        log_index: c.count(6, "log_index")?,
    })
}

/// `recording_id, bytes` of `fingerprints`.
pub fn fingerprint(row: &Row) -> Result<(RecordingId, Vec<u8>), StoreError> {
    let c = Cells::new(row, "fingerprints");
    Ok((c.parse(0, "recording_id")?, c.get(1, "bytes")?))
}

/// `idx, entry, leaf_hash` of `log`.
pub fn log_row(row: &Row) -> Result<LogRow, StoreError> {
    let c = Cells::new(row, "log");
    Ok(LogRow {
        index: c.count(0, "idx")?,
        entry: c.get(1, "entry")?,
        leaf_hash: c.get(2, "leaf_hash")?,
    })
}

/// `size, note` of `checkpoints`.
pub fn checkpoint(row: &Row) -> Result<(u64, String), StoreError> {
    let c = Cells::new(row, "checkpoints");
    Ok((c.count(0, "size")?, c.get(1, "note")?))
}
