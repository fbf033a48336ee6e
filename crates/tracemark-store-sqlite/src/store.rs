//! [`SqliteStore`]: the [`Store`] trait on one SQLite file.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use tracemark_ledger::{Frontier, NoteSigner};
use tracemark_store::{
    AppendTx, Draft, Dump, JobOutcome, Lease, LegacyUpgrade, LogRow, NewIssuance, Store,
    StoreError, Stored, finish, load_dump, sequence,
};
use tracemark_types::{
    ApiToken, Issuance, IssuanceId, Job, JobId, JobStatus, PayloadBytes, Recipient, RecipientId,
    Recording, RecordingId, Session, Sha256, TokenId, TraceId, TraceRow, Transcript, UnixMillis,
    User, UserId,
};

use crate::rows::{
    self, ISSUANCE_COLS, JOB_COLS, RECIPIENT_COLS, RECORDING_COLS, SESSION_COLS, TOKEN_COLS,
    TRACE_COLS, TRANSCRIPT_COLS, USER_COLS, query, query_one,
};
use crate::schema;

/// How long a writer waits for another writer's lock before giving up.
pub const BUSY_TIMEOUT_MS: u64 = 60_000;

const BACKEND: &str = "sqlite";

pub(crate) fn db_err(e: rusqlite::Error) -> StoreError {
    StoreError::backend(BACKEND, e)
}

/// A vault database in one SQLite file. One connection, behind a mutex; open one store
/// per thread or process for parallel work (SQLite serialises writers itself).
pub struct SqliteStore {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish()
    }
}

impl SqliteStore {
    /// Opens (creating it if `create`) and migrates the database at `path`.
    pub fn open(path: &Path, create: bool) -> Result<Self, StoreError> {
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if create {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let mut conn = Connection::open_with_flags(path, flags).map_err(db_err)?;
        conn.busy_timeout(std::time::Duration::from_millis(BUSY_TIMEOUT_MS))
            .map_err(db_err)?;
        // WAL with full sync: a commit is durable once it returns, and a crash mid-write
        // leaves the previous state (SQLite's atomic commit, sqlite.org/atomiccommit.html).
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db_err)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(db_err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(db_err)?;
        schema::migrate(&mut conn)?;
        Ok(Self {
            path: path.to_path_buf(),
            conn: Mutex::new(conn),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (the transaction rolls
        // back when dropped), so a poisoned mutex is still safe to use.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn busy_or(e: rusqlite::Error, started: Instant) -> StoreError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseBusy) | Some(rusqlite::ErrorCode::DatabaseLocked) => {
            StoreError::Busy {
                backend: BACKEND,
                waited_ms: started.elapsed().as_millis() as u64,
            }
        }
        _ => db_err(e),
    }
}

fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn frontier_of(conn: &Connection) -> Result<Frontier, StoreError> {
    let bytes: Option<Vec<u8>> = conn
        .query_row("SELECT frontier FROM log_state WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()
        .map_err(db_err)?;
    match bytes {
        None => Ok(Frontier::new()),
        Some(b) => {
            Frontier::from_bytes(&b).map_err(|e| StoreError::corrupt("log_state", 1, "frontier", e))
        }
    }
}

fn recipient_by_name(conn: &Connection, name: &str) -> Result<Option<Recipient>, StoreError> {
    query_one(
        conn,
        &format!("SELECT {RECIPIENT_COLS} FROM recipients WHERE name = ?1"),
        [name],
        rows::recipient,
    )
}

fn recipient(conn: &Connection, id: &RecipientId) -> Result<Option<Recipient>, StoreError> {
    query_one(
        conn,
        &format!("SELECT {RECIPIENT_COLS} FROM recipients WHERE id = ?1"),
        [id.as_str()],
        rows::recipient,
    )
}

fn recording(conn: &Connection, id: &RecordingId) -> Result<Option<Recording>, StoreError> {
    query_one(
        conn,
        &format!("SELECT {RECORDING_COLS} FROM recordings WHERE id = ?1"),
        [id.as_str()],
        rows::recording,
    )
}

fn recording_by_content(conn: &Connection, sha: &Sha256) -> Result<Option<Recording>, StoreError> {
    query_one(
        conn,
        &format!("SELECT {RECORDING_COLS} FROM recordings WHERE sha256 = ?1"),
        [sha.0.as_slice()],
        rows::recording,
    )
}

fn fingerprint(conn: &Connection, id: &RecordingId) -> Result<Option<Vec<u8>>, StoreError> {
    conn.query_row(
        "SELECT bytes FROM fingerprints WHERE recording_id = ?1",
        [id.as_str()],
        |r| r.get(0),
    )
    .optional()
    .map_err(db_err)
}

fn issuance(
    conn: &Connection,
    rec: &RecordingId,
    who: &RecipientId,
    format: &str,
) -> Result<Option<Issuance>, StoreError> {
    query_one(
        conn,
        &format!(
            "SELECT {ISSUANCE_COLS} FROM issuances WHERE recording_id = ?1 AND recipient_id = ?2 AND format = ?3"
        ),
        params![rec.as_str(), who.as_str(), format],
        rows::issuance,
    )
}

fn recordings(conn: &Connection) -> Result<Vec<Recording>, StoreError> {
    query(
        conn,
        &format!("SELECT {RECORDING_COLS} FROM recordings ORDER BY ingested_at, log_index"),
        [],
        rows::recording,
    )
}

fn recipients(conn: &Connection) -> Result<Vec<Recipient>, StoreError> {
    query(
        conn,
        &format!("SELECT {RECIPIENT_COLS} FROM recipients ORDER BY created_at, log_index"),
        [],
        rows::recipient,
    )
}

fn fingerprints(conn: &Connection) -> Result<Vec<(RecordingId, Vec<u8>)>, StoreError> {
    query(
        conn,
        "SELECT recording_id, bytes FROM fingerprints ORDER BY recording_id",
        [],
        |row| {
            let id: String = row.get(0).map_err(db_err)?;
            let parsed = id
                .parse()
                .map_err(|e| StoreError::corrupt("fingerprints", &id, "recording_id", e))?;
            let bytes = row
                .get(1)
                .map_err(|e| StoreError::corrupt("fingerprints", &id, "bytes", e))?;
            Ok((parsed, bytes))
        },
    )
}

fn log_rows(conn: &Connection, from: u64, limit: u64) -> Result<Vec<LogRow>, StoreError> {
    query(
        conn,
        "SELECT idx, entry, leaf_hash FROM log WHERE idx >= ?1 ORDER BY idx LIMIT ?2",
        params![i64_of(from), i64_of(limit)],
        |row| {
            let idx: i64 = row.get(0).map_err(db_err)?;
            Ok(LogRow {
                index: u64::try_from(idx)
                    .map_err(|_| StoreError::corrupt("log", idx, "idx", "negative"))?,
                entry: row.get(1).map_err(db_err)?,
                leaf_hash: row.get(2).map_err(db_err)?,
            })
        },
    )
}

fn checkpoints(conn: &Connection) -> Result<Vec<(u64, String)>, StoreError> {
    query(
        conn,
        "SELECT size, note FROM checkpoints ORDER BY size",
        [],
        |row| {
            let size: i64 = row.get(0).map_err(db_err)?;
            Ok((
                u64::try_from(size)
                    .map_err(|_| StoreError::corrupt("checkpoints", size, "size", "negative"))?,
                row.get(1).map_err(db_err)?,
            ))
        },
    )
}

/// The write transaction handed to [`sequence`].
struct Tx<'c>(rusqlite::Transaction<'c>);

impl Tx<'_> {
    fn exec(&self, sql: &str, params: impl rusqlite::Params) -> Result<(), StoreError> {
        self.0.execute(sql, params).map_err(db_err)?;
        Ok(())
    }
}

impl AppendTx for Tx<'_> {
    fn frontier(&mut self) -> Result<Frontier, StoreError> {
        frontier_of(&self.0)
    }

    fn set_frontier(&mut self, frontier: &Frontier) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO log_state (id, frontier) VALUES (1, ?1)
                 ON CONFLICT (id) DO UPDATE SET frontier = excluded.frontier",
            [frontier.to_bytes()],
        )
    }

    fn insert_log(&mut self, index: u64, entry: &[u8], leaf: &[u8]) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO log (idx, entry, leaf_hash) VALUES (?1, ?2, ?3)",
            params![i64_of(index), entry, leaf],
        )
    }

    fn insert_checkpoint(&mut self, size: u64, note: &str) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO checkpoints (size, note) VALUES (?1, ?2)",
            params![i64_of(size), note],
        )
    }

    fn max_recipient_number(&mut self) -> Result<u64, StoreError> {
        Ok(newest_id::<RecipientId>(&self.0, "recipients")?.map_or(0, |id| id.number()))
    }

    fn recipient_by_name(&mut self, name: &str) -> Result<Option<Recipient>, StoreError> {
        recipient_by_name(&self.0, name)
    }

    fn recipient(&mut self, id: &RecipientId) -> Result<Option<Recipient>, StoreError> {
        recipient(&self.0, id)
    }

    fn insert_recipient(&mut self, r: &Recipient) -> Result<(), StoreError> {
        self.exec(
                "INSERT INTO recipients (id, name, email, created_at, log_index) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![r.id.as_str(), r.name, r.email, r.created_at.0, i64_of(r.log_index)],
            )
    }

    fn set_recipient_email(
        &mut self,
        id: &RecipientId,
        email: Option<&str>,
    ) -> Result<(), StoreError> {
        self.exec(
            "UPDATE recipients SET email = ?1 WHERE id = ?2",
            params![email, id.as_str()],
        )
    }

    fn recording_by_content(&mut self, sha: &Sha256) -> Result<Option<Recording>, StoreError> {
        recording_by_content(&self.0, sha)
    }

    fn recording(&mut self, id: &RecordingId) -> Result<Option<Recording>, StoreError> {
        recording(&self.0, id)
    }

    fn fingerprint(&mut self, id: &RecordingId) -> Result<Option<Vec<u8>>, StoreError> {
        fingerprint(&self.0, id)
    }

    fn insert_recording(&mut self, r: &Recording, fp: &[u8]) -> Result<(), StoreError> {
        self.0
            .execute(
                "INSERT INTO recordings (id, title, sha256, duration_s, sample_rate, channels, format, ingested_at, log_index)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![r.id.as_str(), r.title, r.sha256.0.as_slice(), r.duration_s, r.sample_rate, r.channels, r.format, r.ingested_at.0, i64_of(r.log_index)],
            )
            .map_err(db_err)?;
        self.set_fingerprint(&r.id, fp)
    }

    fn transcript(&mut self, id: &RecordingId) -> Result<Option<Transcript>, StoreError> {
        transcript(&self.0, id)
    }

    fn insert_transcript(&mut self, t: &Transcript) -> Result<(), StoreError> {
        self.exec(
            &format!(
                "INSERT INTO transcripts ({TRANSCRIPT_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
            ),
            params![
                t.recording_id.as_str(),
                t.sha256.0.as_slice(),
                t.words,
                t.sites,
                t.rules_version,
                t.attached_at.0,
                i64_of(t.log_index)
            ],
        )
    }

    fn set_recording_title(&mut self, id: &RecordingId, title: &str) -> Result<(), StoreError> {
        self.exec(
            "UPDATE recordings SET title = ?1 WHERE id = ?2",
            params![title, id.as_str()],
        )
    }

    fn issuance(
        &mut self,
        rec: &RecordingId,
        who: &RecipientId,
        format: &str,
    ) -> Result<Option<Issuance>, StoreError> {
        issuance(&self.0, rec, who, format)
    }

    fn insert_issuance(
        &mut self,
        i: &NewIssuance,
        issued_at: UnixMillis,
        log_index: u64,
    ) -> Result<IssuanceId, StoreError> {
        self.0
            .execute(
                "INSERT INTO issuances (recording_id, recipient_id, payload, codeword_commitment, format, copy_sha256, issued_at, log_index)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![i.recording_id.as_str(), i.recipient_id.as_str(), i.payload.0.as_slice(), i.codeword_commitment.0.as_slice(), i.format, i.copy_sha256.0.as_slice(), issued_at.0, i64_of(log_index)],
            )
            .map_err(db_err)?;
        Ok(IssuanceId(self.0.last_insert_rowid().max(0) as u64))
    }

    fn insert_trace(&mut self, t: &TraceRow) -> Result<(), StoreError> {
        self.exec(
                "INSERT INTO traces (id, leak_sha256, verdict, report_json, report_sha256, created_at, log_index)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![t.id.as_str(), t.leak_sha256.0.as_slice(), t.verdict, t.report_json, t.report_sha256.0.as_slice(), t.created_at.0, i64_of(t.log_index)],
            )
    }

    fn max_user_number(&mut self) -> Result<u64, StoreError> {
        Ok(newest_id::<UserId>(&self.0, "users")?.map_or(0, |id| id.number()))
    }

    fn user_by_name(&mut self, name: &str) -> Result<Option<User>, StoreError> {
        user_by_name(&self.0, name)
    }

    fn user(&mut self, id: &UserId) -> Result<Option<User>, StoreError> {
        user(&self.0, id)
    }

    fn insert_user(&mut self, u: &User) -> Result<(), StoreError> {
        self.exec(
            &format!("INSERT INTO users ({USER_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
            params![
                u.id.as_str(),
                u.name,
                u.role.as_str(),
                u.password_hash,
                flag(u.disabled),
                u.created_at.0,
                i64_of(u.log_index)
            ],
        )
    }

    fn update_user(&mut self, u: &User) -> Result<(), StoreError> {
        self.exec(
            "UPDATE users SET role = ?1, password_hash = ?2, disabled = ?3 WHERE id = ?4",
            params![
                u.role.as_str(),
                u.password_hash,
                flag(u.disabled),
                u.id.as_str()
            ],
        )
    }

    fn token(&mut self, id: &TokenId) -> Result<Option<ApiToken>, StoreError> {
        query_one(
            &self.0,
            &format!("SELECT {TOKEN_COLS} FROM tokens WHERE id = ?1"),
            [id.as_str()],
            rows::token,
        )
    }

    fn insert_token(&mut self, t: &ApiToken) -> Result<(), StoreError> {
        self.exec(
            &format!("INSERT INTO tokens ({TOKEN_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
            params![
                t.id.as_str(),
                t.user_id.as_str(),
                t.secret_sha256.0.as_slice(),
                t.created_at.0,
                t.expires_at.map(|e| e.0),
                flag(t.revoked),
                i64_of(t.log_index)
            ],
        )
    }

    fn revoke_token(&mut self, id: &TokenId) -> Result<(), StoreError> {
        self.exec("UPDATE tokens SET revoked = 1 WHERE id = ?1", [id.as_str()])
    }

    fn insert_job(&mut self, j: &Job) -> Result<(), StoreError> {
        self.exec(
                &format!("INSERT INTO jobs ({JOB_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"),
                params![j.id.as_str(), j.kind, j.input, j.status.as_str(), j.progress, j.result, j.error, j.attempts, j.lease, j.lease_expires.map(|t| t.0), j.created_at.0, j.updated_at.0],
            )
    }

    fn job_for_update(&mut self, id: &JobId) -> Result<Option<Job>, StoreError> {
        // The write transaction already holds SQLite's one write lock.
        job(&self.0, id)
    }

    fn set_job_outcome(
        &mut self,
        id: &JobId,
        outcome: &JobOutcome,
        time: UnixMillis,
    ) -> Result<(), StoreError> {
        let (status, result, error) = match outcome {
            JobOutcome::Succeeded(r) => (JobStatus::Succeeded, Some(r.as_str()), None),
            JobOutcome::Failed(e) => (JobStatus::Failed, None, Some(e.as_str())),
        };
        self.exec(
                "UPDATE jobs SET status = ?1, result = ?2, error = ?3, progress = 1.0, lease = NULL, lease_expires = NULL, updated_at = ?4 WHERE id = ?5",
                params![status.as_str(), result, error, time.0, id.as_str()],
            )
    }

    fn import_issuance(&mut self, i: &Issuance) -> Result<(), StoreError> {
        self.exec(
                "INSERT INTO issuances (id, recording_id, recipient_id, payload, codeword_commitment, format, copy_sha256, issued_at, log_index)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![i64_of(i.id.0), i.recording_id.as_str(), i.recipient_id.as_str(), i.payload.0.as_slice(), i.codeword_commitment.0.as_slice(), i.format, i.copy_sha256.0.as_slice(), i.issued_at.0, i64_of(i.log_index)],
            )
    }

    fn legacy_pending(&mut self) -> Result<bool, StoreError> {
        legacy_pending(&self.0)
    }

    fn all_records(&mut self) -> Result<(Vec<Recording>, Vec<Recipient>), StoreError> {
        Ok((recordings(&self.0)?, recipients(&self.0)?))
    }

    fn set_fingerprint(&mut self, id: &RecordingId, bytes: &[u8]) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO fingerprints (recording_id, bytes) VALUES (?1, ?2)
                 ON CONFLICT (recording_id) DO UPDATE SET bytes = excluded.bytes",
            params![id.as_str(), bytes],
        )
    }

    fn finish_legacy_upgrade(&mut self) -> Result<(), StoreError> {
        self.0
            .execute_batch(
                "DELETE FROM fingerprint_index; DELETE FROM meta WHERE key = 'legacy_upgrade_pending';",
            )
            .map_err(db_err)
    }
}

fn users(conn: &Connection) -> Result<Vec<User>, StoreError> {
    query(
        conn,
        &format!("SELECT {USER_COLS} FROM users ORDER BY created_at, log_index"),
        [],
        rows::user,
    )
}

fn user(conn: &Connection, id: &UserId) -> Result<Option<User>, StoreError> {
    query_one(
        conn,
        &format!("SELECT {USER_COLS} FROM users WHERE id = ?1"),
        [id.as_str()],
        rows::user,
    )
}

fn user_by_name(conn: &Connection, name: &str) -> Result<Option<User>, StoreError> {
    query_one(
        conn,
        &format!("SELECT {USER_COLS} FROM users WHERE name = ?1"),
        [name],
        rows::user,
    )
}

fn transcript(conn: &Connection, id: &RecordingId) -> Result<Option<Transcript>, StoreError> {
    query_one(
        conn,
        &format!("SELECT {TRANSCRIPT_COLS} FROM transcripts WHERE recording_id = ?1"),
        [id.as_str()],
        rows::transcript,
    )
}

fn transcripts(conn: &Connection) -> Result<Vec<Transcript>, StoreError> {
    query(
        conn,
        &format!("SELECT {TRANSCRIPT_COLS} FROM transcripts ORDER BY recording_id"),
        [],
        rows::transcript,
    )
}

fn tokens(conn: &Connection) -> Result<Vec<ApiToken>, StoreError> {
    query(
        conn,
        &format!("SELECT {TOKEN_COLS} FROM tokens ORDER BY created_at, log_index"),
        [],
        rows::token,
    )
}

/// The id of the newest row of `table` (by its unique, indexed log_index). Numbered ids
/// are assigned in log order, so it holds the largest number: O(log n), where a MAX over a
/// cast of every id would scan the table for each row added.
fn newest_id<T: std::str::FromStr>(
    conn: &Connection,
    table: &'static str,
) -> Result<Option<T>, StoreError>
where
    T::Err: std::fmt::Display,
{
    let id: Option<String> = conn
        .query_row(
            &format!("SELECT id FROM {table} ORDER BY log_index DESC LIMIT 1"),
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(db_err)?;
    id.map(|id| {
        id.parse()
            .map_err(|e| StoreError::corrupt(table, &id, "id", e))
    })
    .transpose()
}

fn flag(b: bool) -> i64 {
    i64::from(b)
}

fn job(conn: &Connection, id: &JobId) -> Result<Option<Job>, StoreError> {
    query_one(
        conn,
        &format!("SELECT {JOB_COLS} FROM jobs WHERE id = ?1"),
        [id.as_str()],
        rows::job,
    )
}

fn legacy_pending(conn: &Connection) -> Result<bool, StoreError> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM meta WHERE key = 'legacy_upgrade_pending')",
        [],
        |r| r.get(0),
    )
    .map_err(db_err)
}

impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    fn append(
        &self,
        time: UnixMillis,
        drafts: Vec<Draft>,
        signer: &NoteSigner,
    ) -> Result<Vec<Stored>, StoreError> {
        let mut conn = self.conn();
        let started = Instant::now();
        // IMMEDIATE takes SQLite's write lock now (waiting up to the busy timeout), so the
        // frontier read below is the one this transaction extends: one sequencer at a time.
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| busy_or(e, started))?;
        let mut tx = Tx(tx);
        let stored = sequence(&mut tx, time, drafts, signer)?;
        tx.0.commit().map_err(|e| busy_or(e, started))?;
        Ok(stored)
    }

    fn recordings(&self) -> Result<Vec<Recording>, StoreError> {
        recordings(&self.conn())
    }

    fn recording(&self, id: &RecordingId) -> Result<Option<Recording>, StoreError> {
        recording(&self.conn(), id)
    }

    fn recording_by_content(&self, sha: &Sha256) -> Result<Option<Recording>, StoreError> {
        recording_by_content(&self.conn(), sha)
    }

    fn fingerprint(&self, id: &RecordingId) -> Result<Option<Vec<u8>>, StoreError> {
        fingerprint(&self.conn(), id)
    }

    fn fingerprints(&self) -> Result<Vec<(RecordingId, Vec<u8>)>, StoreError> {
        fingerprints(&self.conn())
    }

    fn transcripts(&self) -> Result<Vec<Transcript>, StoreError> {
        transcripts(&self.conn())
    }

    fn transcript(&self, id: &RecordingId) -> Result<Option<Transcript>, StoreError> {
        transcript(&self.conn(), id)
    }

    fn recipients(&self) -> Result<Vec<Recipient>, StoreError> {
        recipients(&self.conn())
    }

    fn recipient(&self, id: &RecipientId) -> Result<Option<Recipient>, StoreError> {
        recipient(&self.conn(), id)
    }

    fn recipient_by_name(&self, name: &str) -> Result<Option<Recipient>, StoreError> {
        recipient_by_name(&self.conn(), name)
    }

    fn issuances(&self) -> Result<Vec<Issuance>, StoreError> {
        query(
            &self.conn(),
            &format!("SELECT {ISSUANCE_COLS} FROM issuances ORDER BY id"),
            [],
            rows::issuance,
        )
    }

    fn issuances_of(&self, rec: &RecordingId) -> Result<Vec<Issuance>, StoreError> {
        query(
            &self.conn(),
            &format!("SELECT {ISSUANCE_COLS} FROM issuances WHERE recording_id = ?1 ORDER BY id"),
            [rec.as_str()],
            rows::issuance,
        )
    }

    fn issuance(
        &self,
        rec: &RecordingId,
        who: &RecipientId,
        format: &str,
    ) -> Result<Option<Issuance>, StoreError> {
        issuance(&self.conn(), rec, who, format)
    }

    fn issuances_by_payload(&self, payload: &PayloadBytes) -> Result<Vec<Issuance>, StoreError> {
        query(
            &self.conn(),
            &format!("SELECT {ISSUANCE_COLS} FROM issuances WHERE payload = ?1 ORDER BY id"),
            [payload.0.as_slice()],
            rows::issuance,
        )
    }

    fn traces(&self) -> Result<Vec<TraceRow>, StoreError> {
        query(
            &self.conn(),
            &format!("SELECT {TRACE_COLS} FROM traces ORDER BY created_at, log_index"),
            [],
            rows::trace,
        )
    }

    fn trace(&self, id: &TraceId) -> Result<Option<TraceRow>, StoreError> {
        query_one(
            &self.conn(),
            &format!("SELECT {TRACE_COLS} FROM traces WHERE id = ?1"),
            [id.as_str()],
            rows::trace,
        )
    }

    fn log_size(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn()
            .query_row("SELECT COUNT(*) FROM log", [], |r| r.get(0))
            .map_err(db_err)?;
        Ok(n.max(0) as u64)
    }

    fn log_rows(&self, from: u64, limit: u64) -> Result<Vec<LogRow>, StoreError> {
        log_rows(&self.conn(), from, limit)
    }

    fn checkpoints(&self) -> Result<Vec<(u64, String)>, StoreError> {
        checkpoints(&self.conn())
    }

    fn latest_checkpoint(&self) -> Result<Option<(u64, String)>, StoreError> {
        let conn = self.conn();
        let row: Option<(i64, String)> = conn
            .query_row(
                "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(db_err)?;
        Ok(row.map(|(s, n)| (s.max(0) as u64, n)))
    }

    fn frontier(&self) -> Result<Frontier, StoreError> {
        frontier_of(&self.conn())
    }

    fn users(&self) -> Result<Vec<User>, StoreError> {
        users(&self.conn())
    }

    fn user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        user(&self.conn(), id)
    }

    fn user_by_name(&self, name: &str) -> Result<Option<User>, StoreError> {
        user_by_name(&self.conn(), name)
    }

    fn tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        tokens(&self.conn())
    }

    fn token_by_secret(&self, secret_sha256: &Sha256) -> Result<Option<ApiToken>, StoreError> {
        query_one(
            &self.conn(),
            &format!("SELECT {TOKEN_COLS} FROM tokens WHERE secret_sha256 = ?1"),
            [secret_sha256.0.as_slice()],
            rows::token,
        )
    }

    fn create_session(&self, s: &Session) -> Result<(), StoreError> {
        self.conn()
            .execute(
                &format!("INSERT INTO sessions ({SESSION_COLS}) VALUES (?1, ?2, ?3, ?4, ?5)"),
                params![
                    s.secret_sha256.0.as_slice(),
                    s.user_id.as_str(),
                    s.csrf_token,
                    s.created_at.0,
                    s.expires_at.0
                ],
            )
            .map_err(db_err)?;
        Ok(())
    }

    fn session(
        &self,
        secret_sha256: &Sha256,
        now: UnixMillis,
    ) -> Result<Option<Session>, StoreError> {
        query_one(
            &self.conn(),
            &format!(
                "SELECT {SESSION_COLS} FROM sessions WHERE secret_sha256 = ?1 AND expires_at > ?2"
            ),
            params![secret_sha256.0.as_slice(), now.0],
            rows::session,
        )
    }

    fn delete_session(&self, secret_sha256: &Sha256) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "DELETE FROM sessions WHERE secret_sha256 = ?1",
                [secret_sha256.0.as_slice()],
            )
            .map_err(db_err)?;
        Ok(())
    }

    fn delete_expired_sessions(&self, now: UnixMillis) -> Result<u64, StoreError> {
        let n = self
            .conn()
            .execute("DELETE FROM sessions WHERE expires_at <= ?1", [now.0])
            .map_err(db_err)?;
        Ok(n as u64)
    }

    fn job(&self, id: &JobId) -> Result<Option<Job>, StoreError> {
        job(&self.conn(), id)
    }

    fn claim_job(
        &self,
        worker: &str,
        now: UnixMillis,
        lease_ms: u64,
    ) -> Result<Option<Lease>, StoreError> {
        let mut conn = self.conn();
        let started = Instant::now();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| busy_or(e, started))?;
        let found = query_one(
            &tx,
            &format!(
                "SELECT {JOB_COLS} FROM jobs
                 WHERE status = 'queued' OR (status = 'running' AND lease_expires < ?1)
                 ORDER BY created_at, id LIMIT 1"
            ),
            [now.0],
            rows::job,
        )?;
        let Some(mut job) = found else {
            return Ok(None);
        };
        job.attempts += 1;
        let token = format!("{worker}/{}", job.attempts);
        let expires = UnixMillis(now.0.saturating_add(i64_of(lease_ms)));
        tx.execute(
            "UPDATE jobs SET status = 'running', attempts = ?1, lease = ?2, lease_expires = ?3, updated_at = ?4 WHERE id = ?5",
            params![job.attempts, token, expires.0, now.0, job.id.as_str()],
        )
        .map_err(db_err)?;
        tx.commit().map_err(|e| busy_or(e, started))?;
        job.status = JobStatus::Running;
        job.lease = Some(token.clone());
        job.lease_expires = Some(expires);
        job.updated_at = now;
        Ok(Some(Lease { job, token }))
    }

    fn heartbeat_job(
        &self,
        lease: &Lease,
        now: UnixMillis,
        lease_ms: u64,
        progress: f64,
    ) -> Result<bool, StoreError> {
        let expires = now.0.saturating_add(i64_of(lease_ms));
        let n = self
            .conn()
            .execute(
                "UPDATE jobs SET lease_expires = ?1, progress = ?2, updated_at = ?3
                 WHERE id = ?4 AND status = 'running' AND lease = ?5",
                params![
                    expires,
                    progress.clamp(0.0, 1.0),
                    now.0,
                    lease.job.id.as_str(),
                    lease.token
                ],
            )
            .map_err(db_err)?;
        Ok(n == 1)
    }

    fn finish_job(
        &self,
        lease: &Lease,
        time: UnixMillis,
        outcome: &JobOutcome,
        drafts: Vec<Draft>,
        signer: &NoteSigner,
    ) -> Result<Option<Vec<Stored>>, StoreError> {
        let mut conn = self.conn();
        let started = Instant::now();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| busy_or(e, started))?;
        let mut tx = Tx(tx);
        let stored = finish(&mut tx, lease, time, outcome, drafts, signer)?;
        if stored.is_some() {
            tx.0.commit().map_err(|e| busy_or(e, started))?;
        }
        Ok(stored)
    }

    fn legacy_upgrade(&self) -> Result<Option<LegacyUpgrade>, StoreError> {
        let conn = self.conn();
        if !legacy_pending(&conn)? {
            return Ok(None);
        }
        let blob: Option<Vec<u8>> = conn
            .query_row(
                "SELECT bytes FROM fingerprint_index WHERE id = 1",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(db_err)?;
        Ok(Some(LegacyUpgrade {
            fingerprint_index: blob,
        }))
    }

    fn export(&self) -> Result<Dump, StoreError> {
        let conn = self.conn();
        // One read transaction, so the dump is one consistent snapshot.
        let tx = conn.unchecked_transaction().map_err(db_err)?;
        let size: i64 = tx
            .query_row("SELECT COUNT(*) FROM log", [], |r| r.get(0))
            .map_err(db_err)?;
        let fps = fingerprints(&tx)?;
        let recordings = recordings(&tx)?
            .into_iter()
            .map(|r| {
                let fp = fps
                    .iter()
                    .find(|(id, _)| *id == r.id)
                    .map(|(_, b)| b.clone())
                    .unwrap_or_default();
                (r, fp)
            })
            .collect();
        let dump = Dump {
            log: log_rows(&tx, 0, size.max(0) as u64)?,
            checkpoints: checkpoints(&tx)?,
            recordings,
            recipients: recipients(&tx)?,
            issuances: query(
                &tx,
                &format!("SELECT {ISSUANCE_COLS} FROM issuances ORDER BY id"),
                [],
                rows::issuance,
            )?,
            traces: query(
                &tx,
                &format!("SELECT {TRACE_COLS} FROM traces ORDER BY created_at, log_index"),
                [],
                rows::trace,
            )?,
            users: users(&tx)?,
            tokens: tokens(&tx)?,
            transcripts: transcripts(&tx)?,
        };
        drop(tx);
        Ok(dump)
    }

    fn import(&self, dump: &Dump) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let started = Instant::now();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| busy_or(e, started))?;
        let entries: i64 = tx
            .query_row("SELECT COUNT(*) FROM log", [], |r| r.get(0))
            .map_err(db_err)?;
        let rows: i64 = tx
            .query_row(
                "SELECT (SELECT COUNT(*) FROM recipients) + (SELECT COUNT(*) FROM recordings)",
                [],
                |r| r.get(0),
            )
            .map_err(db_err)?;
        if entries > 0 || rows > 0 {
            return Err(StoreError::NotEmpty {
                entries: entries.max(0) as u64,
            });
        }
        let mut t = Tx(tx);
        load_dump(&mut t, dump)?;
        t.0.commit().map_err(|e| busy_or(e, started))
    }
}
