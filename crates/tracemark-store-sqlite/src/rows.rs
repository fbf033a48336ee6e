//! Reading rows: every stored value is parsed into its type, and a value that does not
//! parse is a [`StoreError::Corrupt`] naming table, row and column, never a panic.

use rusqlite::Row;
use tracemark_store::StoreError;
use tracemark_types::{
    ApiToken, Issuance, IssuanceId, Job, JobStatus, PayloadBytes, Recipient, Recording, Session,
    Sha256, TraceRow, Transcript, UnixMillis, User,
};

use crate::store::db_err;

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

struct Cells<'r, 's> {
    row: &'r Row<'s>,
    table: &'static str,
    key: String,
}

impl Cells<'_, '_> {
    fn new<'r, 's>(row: &'r Row<'s>, table: &'static str) -> Cells<'r, 's> {
        let key = row
            .get_ref(0)
            .ok()
            .map(|v| match v {
                rusqlite::types::ValueRef::Integer(i) => i.to_string(),
                rusqlite::types::ValueRef::Text(t) => {
                    String::from_utf8_lossy(t).chars().take(40).collect()
                }
                _ => "?".to_string(),
            })
            .unwrap_or_default();
        Cells { row, table, key }
    }

    fn get<T: rusqlite::types::FromSql>(
        &self,
        i: usize,
        column: &'static str,
    ) -> Result<T, StoreError> {
        self.row
            .get(i)
            .map_err(|e| StoreError::corrupt(self.table, &self.key, column, e))
    }

    fn parse<T: std::str::FromStr>(&self, i: usize, column: &'static str) -> Result<T, StoreError>
    where
        T::Err: std::fmt::Display,
    {
        let s: String = self.get(i, column)?;
        s.parse()
            .map_err(|e| StoreError::corrupt(self.table, &self.key, column, e))
    }

    fn bytes<const N: usize>(&self, i: usize, column: &'static str) -> Result<[u8; N], StoreError> {
        let v: Vec<u8> = self.get(i, column)?;
        v.try_into().map_err(|v: Vec<u8>| {
            StoreError::corrupt(
                self.table,
                &self.key,
                column,
                format!("{} bytes where {N} were expected", v.len()),
            )
        })
    }

    fn index(&self, i: usize) -> Result<u64, StoreError> {
        let v: i64 = self.get(i, "log_index")?;
        u64::try_from(v)
            .map_err(|_| StoreError::corrupt(self.table, &self.key, "log_index", "negative"))
    }

    fn unsigned(&self, i: usize, column: &'static str) -> Result<u32, StoreError> {
        let v: i64 = self.get(i, column)?;
        u32::try_from(v)
            .map_err(|_| StoreError::corrupt(self.table, &self.key, column, "out of range"))
    }
}

pub fn recording(row: &Row<'_>) -> Result<Recording, StoreError> {
    let c = Cells::new(row, "recordings");
    Ok(Recording {
        id: c.parse(0, "id")?,
        title: c.get(1, "title")?,
        sha256: Sha256(c.bytes(2, "sha256")?),
        duration_s: c.get(3, "duration_s")?,
        sample_rate: c.unsigned(4, "sample_rate")?,
        channels: c.unsigned(5, "channels")?,
        format: c.get(6, "format")?,
        ingested_at: UnixMillis(c.get(7, "ingested_at")?),
        log_index: c.index(8)?,
    })
}

pub fn transcript(row: &Row<'_>) -> Result<Transcript, StoreError> {
    let c = Cells::new(row, "transcripts");
    Ok(Transcript {
        recording_id: c.parse(0, "recording_id")?,
        sha256: Sha256(c.bytes(1, "sha256")?),
        words: c.unsigned(2, "words")?,
        sites: c.unsigned(3, "sites")?,
        rules_version: c.unsigned(4, "rules_version")?,
        attached_at: UnixMillis(c.get(5, "attached_at")?),
        log_index: c.index(6)?,
    })
}

pub fn recipient(row: &Row<'_>) -> Result<Recipient, StoreError> {
    let c = Cells::new(row, "recipients");
    Ok(Recipient {
        id: c.parse(0, "id")?,
        name: c.get(1, "name")?,
        email: c.get(2, "email")?,
        created_at: UnixMillis(c.get(3, "created_at")?),
        log_index: c.index(4)?,
    })
}

pub fn issuance(row: &Row<'_>) -> Result<Issuance, StoreError> {
    let c = Cells::new(row, "issuances");
    let id: i64 = c.get(0, "id")?;
    Ok(Issuance {
        id: IssuanceId(
            u64::try_from(id)
                .map_err(|_| StoreError::corrupt("issuances", id, "id", "negative"))?,
        ),
        recording_id: c.parse(1, "recording_id")?,
        recipient_id: c.parse(2, "recipient_id")?,
        payload: PayloadBytes(c.bytes(3, "payload")?),
        codeword_commitment: Sha256(c.bytes(4, "codeword_commitment")?),
        format: c.get(5, "format")?,
        copy_sha256: Sha256(c.bytes(6, "copy_sha256")?),
        issued_at: UnixMillis(c.get(7, "issued_at")?),
        log_index: c.index(8)?,
    })
}

pub fn trace(row: &Row<'_>) -> Result<TraceRow, StoreError> {
    let c = Cells::new(row, "traces");
    Ok(TraceRow {
        id: c.parse(0, "id")?,
        leak_sha256: Sha256(c.bytes(1, "leak_sha256")?),
        verdict: c.get(2, "verdict")?,
        report_json: c.get(3, "report_json")?,
        report_sha256: Sha256(c.bytes(4, "report_sha256")?),
        created_at: UnixMillis(c.get(5, "created_at")?),
        log_index: c.index(6)?,
    })
}

fn flag(c: &Cells<'_, '_>, i: usize, column: &'static str) -> Result<bool, StoreError> {
    match c.get::<i64>(i, column)? {
        0 => Ok(false),
        1 => Ok(true),
        v => Err(StoreError::corrupt(
            c.table,
            &c.key,
            column,
            format!("{v} is not 0 or 1"),
        )),
    }
}

pub fn user(row: &Row<'_>) -> Result<User, StoreError> {
    let c = Cells::new(row, "users");
    Ok(User {
        id: c.parse(0, "id")?,
        name: c.get(1, "name")?,
        role: c.parse(2, "role")?,
        password_hash: c.get(3, "password_hash")?,
        disabled: flag(&c, 4, "disabled")?,
        created_at: UnixMillis(c.get(5, "created_at")?),
        log_index: c.index(6)?,
    })
}

pub fn token(row: &Row<'_>) -> Result<ApiToken, StoreError> {
    let c = Cells::new(row, "tokens");
    let expires: Option<i64> = c.get(4, "expires_at")?;
    Ok(ApiToken {
        id: c.parse(0, "id")?,
        user_id: c.parse(1, "user_id")?,
        secret_sha256: Sha256(c.bytes(2, "secret_sha256")?),
        created_at: UnixMillis(c.get(3, "created_at")?),
        expires_at: expires.map(UnixMillis),
        revoked: flag(&c, 5, "revoked")?,
        log_index: c.index(6)?,
    })
}

pub fn session(row: &Row<'_>) -> Result<Session, StoreError> {
    let c = Cells::new(row, "sessions");
    Ok(Session {
        secret_sha256: Sha256(c.bytes(0, "secret_sha256")?),
        user_id: c.parse(1, "user_id")?,
        csrf_token: c.get(2, "csrf_token")?,
        created_at: UnixMillis(c.get(3, "created_at")?),
        expires_at: UnixMillis(c.get(4, "expires_at")?),
    })
}

pub fn job(row: &Row<'_>) -> Result<Job, StoreError> {
    let c = Cells::new(row, "jobs");
    let status: String = c.get(3, "status")?;
    let lease_expires: Option<i64> = c.get(9, "lease_expires")?;
    Ok(Job {
        id: c.parse(0, "id")?,
        kind: c.get(1, "kind")?,
        input: c.get(2, "input")?,
        status: JobStatus::parse(&status)
            .ok_or_else(|| StoreError::corrupt("jobs", &c.key, "status", format!("{status:?}")))?,
        progress: c.get(4, "progress")?,
        result: c.get(5, "result")?,
        error: c.get(6, "error")?,
        attempts: c.unsigned(7, "attempts")?,
        lease: c.get(8, "lease")?,
        lease_expires: lease_expires.map(UnixMillis),
        created_at: UnixMillis(c.get(10, "created_at")?),
        updated_at: UnixMillis(c.get(11, "updated_at")?),
    })
}

/// Runs a query and converts every row.
pub fn query<T>(
    conn: &rusqlite::Connection,
    sql: &str,
    params: impl rusqlite::Params,
    convert: impl Fn(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut st = conn.prepare_cached(sql).map_err(db_err)?;
    let mut rows = st.query(params).map_err(db_err)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(db_err)? {
        out.push(convert(row)?);
    }
    Ok(out)
}

/// Runs a query expected to give at most one row.
pub fn query_one<T>(
    conn: &rusqlite::Connection,
    sql: &str,
    params: impl rusqlite::Params,
    convert: impl Fn(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    Ok(query(conn, sql, params, convert)?.into_iter().next())
}
