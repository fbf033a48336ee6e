//! The SQLite schema, its versioned migrations, and the row types.
//!
//! Every table that records an event carries the index of the log entry that describes
//! it; `log verify` re-derives each entry from its row and compares.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::VaultError;

/// Migrations, applied in order; `PRAGMA user_version` holds how many have run.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE log (
    idx        INTEGER PRIMARY KEY,
    entry      BLOB NOT NULL,
    leaf_hash  BLOB NOT NULL
);
CREATE TABLE checkpoints (
    size  INTEGER PRIMARY KEY,
    note  TEXT NOT NULL
);
CREATE TABLE recordings (
    id           TEXT PRIMARY KEY,
    title        TEXT NOT NULL,
    sha256       BLOB NOT NULL UNIQUE,
    duration_s   REAL NOT NULL,
    sample_rate  INTEGER NOT NULL,
    channels     INTEGER NOT NULL,
    format       TEXT NOT NULL,
    ingested_at  INTEGER NOT NULL,
    log_index    INTEGER NOT NULL UNIQUE
);
CREATE TABLE recipients (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    email       TEXT,
    created_at  INTEGER NOT NULL,
    log_index   INTEGER NOT NULL UNIQUE
);
CREATE TABLE issuances (
    id                   INTEGER PRIMARY KEY,
    recording_id         TEXT NOT NULL REFERENCES recordings(id),
    recipient_id         TEXT NOT NULL REFERENCES recipients(id),
    payload              BLOB NOT NULL,
    codeword_commitment  BLOB NOT NULL,
    format               TEXT NOT NULL,
    copy_sha256          BLOB NOT NULL,
    issued_at            INTEGER NOT NULL,
    log_index            INTEGER NOT NULL UNIQUE,
    UNIQUE (recording_id, recipient_id, format)
);
CREATE TABLE traces (
    id             TEXT PRIMARY KEY,
    leak_sha256    BLOB NOT NULL,
    verdict        TEXT NOT NULL,
    report_json    TEXT NOT NULL,
    report_sha256  BLOB NOT NULL,
    created_at     INTEGER NOT NULL,
    log_index      INTEGER NOT NULL UNIQUE
);
"#,
    r#"
CREATE TABLE fingerprint_index (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    bytes  BLOB NOT NULL
);
"#,
];

/// Opens (creating if asked) and migrates the database.
pub fn open(path: &std::path::Path, create: bool) -> Result<Connection, VaultError> {
    use rusqlite::OpenFlags;
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let mut conn = Connection::open_with_flags(path, flags)?;
    // WAL with full sync: a commit is durable once it returns, and a crash mid-write
    // leaves the previous state (SQLite's atomic commit, sqlite.org/atomiccommit.html).
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(VaultError::SchemaTooNew {
            found: version,
            known,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(conn)
}

/// A stored recording.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    /// Its id, `rec-` and 12 hex digits of its content hash.
    pub id: String,
    /// Its title.
    pub title: String,
    /// SHA-256 of the file as ingested.
    pub sha256: [u8; 32],
    /// Duration in seconds.
    pub duration_s: f64,
    /// Sample rate.
    pub sample_rate: u32,
    /// Channels.
    pub channels: u32,
    /// Container format of the ingested file (its extension).
    pub format: String,
    /// Unix milliseconds.
    pub ingested_at: i64,
    /// Its log entry.
    pub log_index: u64,
}

/// A stored recipient.
#[derive(Debug, Clone, PartialEq)]
pub struct Recipient {
    /// Its id, `r-` and a number.
    pub id: String,
    /// Its unique name.
    pub name: String,
    /// Optional e-mail.
    pub email: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Its log entry.
    pub log_index: u64,
}

/// A stored issuance.
#[derive(Debug, Clone, PartialEq)]
pub struct Issuance {
    /// Row id.
    pub id: i64,
    /// Recording id.
    pub recording_id: String,
    /// Recipient id.
    pub recipient_id: String,
    /// The blind payload in the copy.
    pub payload: [u8; 8],
    /// Commitment to the codeword.
    pub codeword_commitment: [u8; 32],
    /// Delivery format.
    pub format: String,
    /// SHA-256 of the delivered file.
    pub copy_sha256: [u8; 32],
    /// Unix milliseconds.
    pub issued_at: i64,
    /// Its log entry.
    pub log_index: u64,
}

/// A stored trace.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceRow {
    /// Its id.
    pub id: String,
    /// SHA-256 of the leaked file.
    pub leak_sha256: [u8; 32],
    /// One-line verdict.
    pub verdict: String,
    /// The JSON report.
    pub report_json: String,
    /// SHA-256 of the JSON report.
    pub report_sha256: [u8; 32],
    /// Unix milliseconds.
    pub created_at: i64,
    /// Its log entry.
    pub log_index: u64,
}

fn hash32(v: Vec<u8>) -> rusqlite::Result<[u8; 32]> {
    v.try_into().map_err(|_| {
        rusqlite::Error::InvalidColumnType(0, "hash".into(), rusqlite::types::Type::Blob)
    })
}

fn log_index(v: i64) -> u64 {
    v.max(0) as u64
}

pub fn insert_recording(tx: &Transaction<'_>, r: &Recording) -> Result<(), VaultError> {
    tx.execute(
        "INSERT INTO recordings (id, title, sha256, duration_s, sample_rate, channels, format, ingested_at, log_index)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![r.id, r.title, r.sha256.as_slice(), r.duration_s, r.sample_rate, r.channels, r.format, r.ingested_at, r.log_index as i64],
    )?;
    Ok(())
}

const RECORDING_COLS: &str =
    "id, title, sha256, duration_s, sample_rate, channels, format, ingested_at, log_index";

fn recording_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Recording> {
    Ok(Recording {
        id: row.get(0)?,
        title: row.get(1)?,
        sha256: hash32(row.get(2)?)?,
        duration_s: row.get(3)?,
        sample_rate: row.get(4)?,
        channels: row.get(5)?,
        format: row.get(6)?,
        ingested_at: row.get(7)?,
        log_index: log_index(row.get(8)?),
    })
}

pub fn recordings(conn: &Connection) -> Result<Vec<Recording>, VaultError> {
    let mut st = conn.prepare(&format!(
        "SELECT {RECORDING_COLS} FROM recordings ORDER BY ingested_at, id"
    ))?;
    let rows = st
        .query_map([], recording_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub fn recording(conn: &Connection, id: &str) -> Result<Option<Recording>, VaultError> {
    Ok(conn
        .query_row(
            &format!("SELECT {RECORDING_COLS} FROM recordings WHERE id = ?1"),
            [id],
            recording_row,
        )
        .optional()?)
}

pub fn recording_by_hash(
    conn: &Connection,
    sha: &[u8; 32],
) -> Result<Option<Recording>, VaultError> {
    Ok(conn
        .query_row(
            &format!("SELECT {RECORDING_COLS} FROM recordings WHERE sha256 = ?1"),
            [sha.as_slice()],
            recording_row,
        )
        .optional()?)
}

pub fn insert_recipient(tx: &Transaction<'_>, r: &Recipient) -> Result<(), VaultError> {
    tx.execute(
        "INSERT INTO recipients (id, name, email, created_at, log_index) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![r.id, r.name, r.email, r.created_at, r.log_index as i64],
    )?;
    Ok(())
}

fn recipient_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Recipient> {
    Ok(Recipient {
        id: row.get(0)?,
        name: row.get(1)?,
        email: row.get(2)?,
        created_at: row.get(3)?,
        log_index: log_index(row.get(4)?),
    })
}

pub fn recipients(conn: &Connection) -> Result<Vec<Recipient>, VaultError> {
    let mut st = conn.prepare(
        "SELECT id, name, email, created_at, log_index FROM recipients ORDER BY created_at, id",
    )?;
    let rows = st
        .query_map([], recipient_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub fn recipient_count(conn: &Connection) -> Result<i64, VaultError> {
    Ok(conn.query_row("SELECT COUNT(*) FROM recipients", [], |r| r.get(0))?)
}

pub fn insert_issuance(tx: &Transaction<'_>, i: &Issuance) -> Result<(), VaultError> {
    tx.execute(
        "INSERT INTO issuances (recording_id, recipient_id, payload, codeword_commitment, format, copy_sha256, issued_at, log_index)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![i.recording_id, i.recipient_id, i.payload.as_slice(), i.codeword_commitment.as_slice(), i.format, i.copy_sha256.as_slice(), i.issued_at, i.log_index as i64],
    )?;
    Ok(())
}

fn issuance_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Issuance> {
    let payload: Vec<u8> = row.get(3)?;
    Ok(Issuance {
        id: row.get(0)?,
        recording_id: row.get(1)?,
        recipient_id: row.get(2)?,
        payload: payload.try_into().map_err(|_| {
            rusqlite::Error::InvalidColumnType(3, "payload".into(), rusqlite::types::Type::Blob)
        })?,
        codeword_commitment: hash32(row.get(4)?)?,
        format: row.get(5)?,
        copy_sha256: hash32(row.get(6)?)?,
        issued_at: row.get(7)?,
        log_index: log_index(row.get(8)?),
    })
}

const ISSUANCE_COLS: &str = "id, recording_id, recipient_id, payload, codeword_commitment, format, copy_sha256, issued_at, log_index";

pub fn issuances(conn: &Connection) -> Result<Vec<Issuance>, VaultError> {
    let mut st = conn.prepare(&format!(
        "SELECT {ISSUANCE_COLS} FROM issuances ORDER BY id"
    ))?;
    let rows = st
        .query_map([], issuance_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub fn issuances_of(conn: &Connection, recording_id: &str) -> Result<Vec<Issuance>, VaultError> {
    let mut st = conn.prepare(&format!(
        "SELECT {ISSUANCE_COLS} FROM issuances WHERE recording_id = ?1 ORDER BY id"
    ))?;
    let rows = st
        .query_map([recording_id], issuance_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub fn issuance(
    conn: &Connection,
    recording_id: &str,
    recipient_id: &str,
    format: &str,
) -> Result<Option<Issuance>, VaultError> {
    Ok(conn
        .query_row(
            &format!("SELECT {ISSUANCE_COLS} FROM issuances WHERE recording_id = ?1 AND recipient_id = ?2 AND format = ?3"),
            params![recording_id, recipient_id, format],
            issuance_row,
        )
        .optional()?)
}

pub fn insert_trace(tx: &Transaction<'_>, t: &TraceRow) -> Result<(), VaultError> {
    tx.execute(
        "INSERT INTO traces (id, leak_sha256, verdict, report_json, report_sha256, created_at, log_index)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![t.id, t.leak_sha256.as_slice(), t.verdict, t.report_json, t.report_sha256.as_slice(), t.created_at, t.log_index as i64],
    )?;
    Ok(())
}

fn trace_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<TraceRow> {
    Ok(TraceRow {
        id: row.get(0)?,
        leak_sha256: hash32(row.get(1)?)?,
        verdict: row.get(2)?,
        report_json: row.get(3)?,
        report_sha256: hash32(row.get(4)?)?,
        created_at: row.get(5)?,
        log_index: log_index(row.get(6)?),
    })
}

const TRACE_COLS: &str =
    "id, leak_sha256, verdict, report_json, report_sha256, created_at, log_index";

pub fn traces(conn: &Connection) -> Result<Vec<TraceRow>, VaultError> {
    let mut st = conn.prepare(&format!(
        "SELECT {TRACE_COLS} FROM traces ORDER BY created_at, id"
    ))?;
    let rows = st
        .query_map([], trace_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub fn trace(conn: &Connection, id: &str) -> Result<Option<TraceRow>, VaultError> {
    Ok(conn
        .query_row(
            &format!("SELECT {TRACE_COLS} FROM traces WHERE id = ?1"),
            [id],
            trace_row,
        )
        .optional()?)
}

pub fn insert_log(
    tx: &Transaction<'_>,
    idx: u64,
    entry: &[u8],
    leaf: &[u8; 32],
) -> Result<(), VaultError> {
    tx.execute(
        "INSERT INTO log (idx, entry, leaf_hash) VALUES (?1, ?2, ?3)",
        params![idx as i64, entry, leaf.as_slice()],
    )?;
    Ok(())
}

/// Every log entry in index order: (index, encoded entry, stored leaf hash).
/// A stored log row: index, encoded entry, stored leaf hash.
pub type LogRow = (i64, Vec<u8>, Vec<u8>);

pub fn log_rows(conn: &Connection) -> Result<Vec<LogRow>, VaultError> {
    let mut st = conn.prepare("SELECT idx, entry, leaf_hash FROM log ORDER BY idx")?;
    let rows = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub fn insert_checkpoint(tx: &Transaction<'_>, size: u64, note: &str) -> Result<(), VaultError> {
    tx.execute(
        "INSERT OR REPLACE INTO checkpoints (size, note) VALUES (?1, ?2)",
        params![size as i64, note],
    )?;
    Ok(())
}

/// Every stored checkpoint, by size.
pub fn checkpoints(conn: &Connection) -> Result<Vec<(u64, String)>, VaultError> {
    let mut st = conn.prepare("SELECT size, note FROM checkpoints ORDER BY size")?;
    let rows = st
        .query_map([], |r| Ok((log_index(r.get(0)?), r.get(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The stored fingerprint index, if any recording was ingested.
pub fn fingerprint_index(conn: &Connection) -> Result<Option<Vec<u8>>, VaultError> {
    Ok(conn
        .query_row(
            "SELECT bytes FROM fingerprint_index WHERE id = 1",
            [],
            |r| r.get(0),
        )
        .optional()?)
}

pub fn store_fingerprint_index(tx: &Transaction<'_>, bytes: &[u8]) -> Result<(), VaultError> {
    tx.execute(
        "INSERT OR REPLACE INTO fingerprint_index (id, bytes) VALUES (1, ?1)",
        [bytes],
    )?;
    Ok(())
}

pub fn trace_count(conn: &Connection) -> Result<i64, VaultError> {
    Ok(conn.query_row("SELECT COUNT(*) FROM traces", [], |r| r.get(0))?)
}
