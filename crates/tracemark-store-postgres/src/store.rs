//! [`PostgresStore`]: the [`Store`] trait on one PostgreSQL database.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use postgres::error::SqlState;
use postgres::types::ToSql;
use std::collections::HashMap;

use postgres::{Client, GenericClient, IsolationLevel, NoTls, Row, Statement, Transaction};
use tracemark_ledger::{Frontier, NoteSigner};
use tracemark_store::{
    AppendTx, Draft, Dump, JobOutcome, Lease, LogRow, NewIssuance, Store, StoreError, Stored,
    finish, load_dump, sequence,
};
use tracemark_types::{
    ApiToken, Issuance, IssuanceId, Job, JobId, JobStatus, PayloadBytes, Recipient, RecipientId,
    Recording, RecordingId, Session, Sha256, TokenId, TraceId, TraceRow, Transcript, UnixMillis,
    User, UserId,
};

use crate::rows::{
    self, Cells, ISSUANCE_COLS, JOB_COLS, RECIPIENT_COLS, RECORDING_COLS, SESSION_COLS, TOKEN_COLS,
    TRACE_COLS, TRANSCRIPT_COLS, USER_COLS,
};
use crate::schema::{self, SEQUENCER_LOCK_KEY};

/// How long a writer waits for another writer's lock before giving up, by default
/// (PostgreSQL's `lock_timeout`, set on every connection).
pub const BUSY_TIMEOUT_MS: u64 = 60_000;

const BACKEND: &str = "postgres";

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

pub(crate) fn db_err(e: postgres::Error) -> StoreError {
    StoreError::backend(BACKEND, e)
}

fn busy_or(e: postgres::Error, started: Instant) -> StoreError {
    if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) {
        StoreError::Busy {
            backend: BACKEND,
            waited_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        }
    } else {
        db_err(e)
    }
}

/// A stored value for a BIGINT column.
fn int(v: u64, what: &'static str) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::Invalid {
        what,
        reason: format!("{v} does not fit in a BIGINT"),
    })
}

/// PostgreSQL's TEXT cannot hold U+0000; refused up front with a clear message (the
/// statement would fail anyway). Names, titles and e-mails are checked for control
/// characters before they get here; a recording's format and a report are not.
fn no_nul(what: &'static str, s: &str) -> Result<(), StoreError> {
    if s.contains('\0') {
        return Err(StoreError::Invalid {
            what,
            reason: "holds a NUL character, which PostgreSQL text cannot store".into(),
        });
    }
    Ok(())
}

/// A query bound (offset, limit): past `i64::MAX` means "all".
fn bound(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A vault database on a PostgreSQL server. One connection, behind a mutex; open one store
/// per thread or process for parallel work (writers serialise on the sequencer lock).
pub struct PostgresStore {
    config: postgres::Config,
    busy_timeout: Duration,
    conn: Mutex<Conn>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("dbname", &self.config.get_dbname())
            .field("busy_timeout", &self.busy_timeout)
            .finish_non_exhaustive()
    }
}

/// A connection and the statements prepared on it: each query is parsed by the server once
/// per connection instead of once per call, which halves the round trips of every query
/// after the first (the `postgres` crate prepares a `&str` query anew each time).
struct Conn {
    client: Client,
    statements: HashMap<String, Statement>,
}

impl Conn {
    fn new(client: Client) -> Self {
        Self {
            client,
            statements: HashMap::new(),
        }
    }

    fn cached(&mut self) -> Cached<'_, Client> {
        Cached {
            client: &mut self.client,
            statements: &mut self.statements,
        }
    }
}

/// A client or transaction with its connection's statement cache.
struct Cached<'a, C> {
    client: &'a mut C,
    statements: &'a mut HashMap<String, Statement>,
}

impl<C: GenericClient> Cached<'_, C> {
    fn statement(&mut self, sql: &str) -> Result<Statement, postgres::Error> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql)?;
        self.statements.insert(sql.to_string(), s.clone());
        Ok(s)
    }

    fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, postgres::Error> {
        let s = self.statement(sql)?;
        self.client.query(&s, params)
    }

    fn query_opt(&mut self, sql: &str, params: Params<'_>) -> Result<Option<Row>, postgres::Error> {
        let s = self.statement(sql)?;
        self.client.query_opt(&s, params)
    }

    fn query_one(&mut self, sql: &str, params: Params<'_>) -> Result<Row, postgres::Error> {
        let s = self.statement(sql)?;
        self.client.query_one(&s, params)
    }

    fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<u64, postgres::Error> {
        let s = self.statement(sql)?;
        self.client.execute(&s, params)
    }
}

/// Session settings every connection gets (again after a reconnect).
fn set_up_session(client: &mut Client, busy_timeout: Duration) -> Result<(), StoreError> {
    let ms = busy_timeout.as_millis().max(1);
    // lock_timeout bounds the wait for the sequencer lock (and any row lock).
    client
        .batch_execute(&format!("SET lock_timeout = {ms}"))
        .map_err(db_err)
}

impl PostgresStore {
    /// Connects (without TLS: for a server on this machine or a trusted network) to the
    /// database that `url` names, in URL (`postgresql://user@host:port/db`) or key-value
    /// (`host=... dbname=...`) form, and applies the migrations it lacks.
    ///
    /// The database must use the UTF8 encoding (text is stored as given).
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        let config: postgres::Config = url.parse().map_err(|e| StoreError::Invalid {
            what: "PostgreSQL URL",
            reason: format!("{e}"),
        })?;
        let mut client = config.connect(NoTls).map_err(db_err)?;
        let encoding: String = client
            .query_one("SELECT current_setting('server_encoding')", &[])
            .and_then(|r| r.try_get(0))
            .map_err(db_err)?;
        if encoding != "UTF8" {
            return Err(StoreError::Invalid {
                what: "database encoding",
                reason: format!(
                    "the database uses {encoding}; tracemark needs a database created with ENCODING 'UTF8'"
                ),
            });
        }
        let busy_timeout = Duration::from_millis(BUSY_TIMEOUT_MS);
        set_up_session(&mut client, busy_timeout)?;
        schema::migrate(&mut client)?;
        Ok(Self {
            config,
            busy_timeout,
            conn: Mutex::new(Conn::new(client)),
        })
    }

    /// Waits up to `timeout` (instead of [`BUSY_TIMEOUT_MS`]) for another writer's lock
    /// before an append or import fails with [`StoreError::Busy`].
    pub fn with_busy_timeout(self, timeout: Duration) -> Result<Self, StoreError> {
        let mut me = self;
        me.busy_timeout = timeout;
        let mut conn = me.conn()?;
        set_up_session(&mut conn.client, timeout)?;
        drop(conn);
        Ok(me)
    }

    fn conn(&self) -> Result<MutexGuard<'_, Conn>, StoreError> {
        // A panic while holding the lock leaves the database consistent (an open
        // transaction rolls back when dropped), so a poisoned mutex is still safe to use.
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        if conn.client.is_closed() {
            // The server closed the connection (restart, idle timeout): every operation is
            // its own transaction, so starting over on a new connection is safe.
            let mut fresh = self.config.connect(NoTls).map_err(db_err)?;
            set_up_session(&mut fresh, self.busy_timeout)?;
            *conn = Conn::new(fresh);
        }
        Ok(conn)
    }

    /// A write transaction holding the sequencer lock. READ COMMITTED whatever the server's
    /// default: every statement after the lock then sees what the previous holder committed
    /// (under REPEATABLE READ the snapshot would predate the wait for the lock).
    fn locked<'c>(conn: &'c mut Client, started: Instant) -> Result<Transaction<'c>, StoreError> {
        let mut tx = conn
            .build_transaction()
            .isolation_level(IsolationLevel::ReadCommitted)
            .start()
            .map_err(db_err)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SEQUENCER_LOCK_KEY])
            .map_err(|e| busy_or(e, started))?;
        Ok(tx)
    }
}

/// Runs a query and converts every row.
fn query<T>(
    conn: &mut Cached<'_, impl GenericClient>,
    sql: &str,
    params: Params<'_>,
    convert: impl Fn(&Row) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    conn.query(sql, params)
        .map_err(db_err)?
        .iter()
        .map(convert)
        .collect()
}

/// Runs a query expected to give at most one row.
fn query_opt<T>(
    conn: &mut Cached<'_, impl GenericClient>,
    sql: &str,
    params: Params<'_>,
    convert: impl Fn(&Row) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    conn.query_opt(sql, params)
        .map_err(db_err)?
        .as_ref()
        .map(convert)
        .transpose()
}

/// A `COUNT(*)`.
fn count(
    conn: &mut Cached<'_, impl GenericClient>,
    table: &'static str,
) -> Result<u64, StoreError> {
    let row = conn
        .query_one(&format!("SELECT COUNT(*) FROM {table}"), &[])
        .map_err(db_err)?;
    Cells::new(&row, table).count(0, "count")
}

/// The id of the newest row of `table` (by its unique, indexed log_index). Numbered ids
/// are assigned in log order, so it holds the largest number: O(log n), where a MAX over a
/// cast of every id would scan the table for each row added.
fn newest_id<T: std::str::FromStr>(
    conn: &mut Cached<'_, impl GenericClient>,
    table: &'static str,
) -> Result<Option<T>, StoreError>
where
    T::Err: std::fmt::Display,
{
    let row = conn
        .query_opt(
            &format!("SELECT id FROM {table} ORDER BY log_index DESC LIMIT 1"),
            &[],
        )
        .map_err(db_err)?;
    row.map(|row| Cells::new(&row, table).parse(0, "id"))
        .transpose()
}

fn users(conn: &mut Cached<'_, impl GenericClient>) -> Result<Vec<User>, StoreError> {
    query(
        conn,
        &format!("SELECT {USER_COLS} FROM users ORDER BY created_at, log_index"),
        &[],
        rows::user,
    )
}

fn user(
    conn: &mut Cached<'_, impl GenericClient>,
    id: &UserId,
) -> Result<Option<User>, StoreError> {
    query_opt(
        conn,
        &format!("SELECT {USER_COLS} FROM users WHERE id = $1"),
        &[&id.as_str()],
        rows::user,
    )
}

fn user_by_name(
    conn: &mut Cached<'_, impl GenericClient>,
    name: &str,
) -> Result<Option<User>, StoreError> {
    query_opt(
        conn,
        &format!("SELECT {USER_COLS} FROM users WHERE name = $1"),
        &[&name],
        rows::user,
    )
}

fn transcript(
    conn: &mut Cached<'_, impl GenericClient>,
    id: &RecordingId,
) -> Result<Option<Transcript>, StoreError> {
    query_opt(
        conn,
        &format!("SELECT {TRANSCRIPT_COLS} FROM transcripts WHERE recording_id = $1"),
        &[&id.as_str()],
        rows::transcript,
    )
}

fn transcripts(conn: &mut Cached<'_, impl GenericClient>) -> Result<Vec<Transcript>, StoreError> {
    query(
        conn,
        &format!("SELECT {TRANSCRIPT_COLS} FROM transcripts ORDER BY recording_id"),
        &[],
        rows::transcript,
    )
}

fn tokens(conn: &mut Cached<'_, impl GenericClient>) -> Result<Vec<ApiToken>, StoreError> {
    query(
        conn,
        &format!("SELECT {TOKEN_COLS} FROM tokens ORDER BY created_at, log_index"),
        &[],
        rows::token,
    )
}

fn frontier_of(conn: &mut Cached<'_, impl GenericClient>) -> Result<Frontier, StoreError> {
    let bytes = query_opt(
        conn,
        "SELECT id, frontier FROM log_state WHERE id = 1",
        &[],
        |row| Cells::new(row, "log_state").get::<Vec<u8>>(1, "frontier"),
    )?;
    match bytes {
        None => Ok(Frontier::new()),
        Some(b) => {
            Frontier::from_bytes(&b).map_err(|e| StoreError::corrupt("log_state", 1, "frontier", e))
        }
    }
}

fn recipient_by_name(
    conn: &mut Cached<'_, impl GenericClient>,
    name: &str,
) -> Result<Option<Recipient>, StoreError> {
    query_opt(
        conn,
        &format!("SELECT {RECIPIENT_COLS} FROM recipients WHERE name = $1"),
        &[&name],
        rows::recipient,
    )
}

fn recipient(
    conn: &mut Cached<'_, impl GenericClient>,
    id: &RecipientId,
) -> Result<Option<Recipient>, StoreError> {
    query_opt(
        conn,
        &format!("SELECT {RECIPIENT_COLS} FROM recipients WHERE id = $1"),
        &[&id.as_str()],
        rows::recipient,
    )
}

fn recording(
    conn: &mut Cached<'_, impl GenericClient>,
    id: &RecordingId,
) -> Result<Option<Recording>, StoreError> {
    query_opt(
        conn,
        &format!("SELECT {RECORDING_COLS} FROM recordings WHERE id = $1"),
        &[&id.as_str()],
        rows::recording,
    )
}

fn recording_by_content(
    conn: &mut Cached<'_, impl GenericClient>,
    sha: &Sha256,
) -> Result<Option<Recording>, StoreError> {
    query_opt(
        conn,
        &format!("SELECT {RECORDING_COLS} FROM recordings WHERE sha256 = $1"),
        &[&sha.0.as_slice()],
        rows::recording,
    )
}

fn fingerprint(
    conn: &mut Cached<'_, impl GenericClient>,
    id: &RecordingId,
) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(query_opt(
        conn,
        "SELECT recording_id, bytes FROM fingerprints WHERE recording_id = $1",
        &[&id.as_str()],
        rows::fingerprint,
    )?
    .map(|(_, bytes)| bytes))
}

fn fingerprints(
    conn: &mut Cached<'_, impl GenericClient>,
) -> Result<Vec<(RecordingId, Vec<u8>)>, StoreError> {
    // Byte order, as SQLite sorts text, whatever the database's collation.
    query(
        conn,
        r#"SELECT recording_id, bytes FROM fingerprints ORDER BY recording_id COLLATE "C""#,
        &[],
        rows::fingerprint,
    )
}

fn issuance(
    conn: &mut Cached<'_, impl GenericClient>,
    rec: &RecordingId,
    who: &RecipientId,
    format: &str,
) -> Result<Option<Issuance>, StoreError> {
    query_opt(
        conn,
        &format!(
            "SELECT {ISSUANCE_COLS} FROM issuances WHERE recording_id = $1 AND recipient_id = $2 AND format = $3"
        ),
        &[&rec.as_str(), &who.as_str(), &format],
        rows::issuance,
    )
}

fn issuances(conn: &mut Cached<'_, impl GenericClient>) -> Result<Vec<Issuance>, StoreError> {
    query(
        conn,
        &format!("SELECT {ISSUANCE_COLS} FROM issuances ORDER BY id"),
        &[],
        rows::issuance,
    )
}

fn recordings(conn: &mut Cached<'_, impl GenericClient>) -> Result<Vec<Recording>, StoreError> {
    query(
        conn,
        &format!("SELECT {RECORDING_COLS} FROM recordings ORDER BY ingested_at, log_index"),
        &[],
        rows::recording,
    )
}

fn recipients(conn: &mut Cached<'_, impl GenericClient>) -> Result<Vec<Recipient>, StoreError> {
    query(
        conn,
        &format!("SELECT {RECIPIENT_COLS} FROM recipients ORDER BY created_at, log_index"),
        &[],
        rows::recipient,
    )
}

fn traces(conn: &mut Cached<'_, impl GenericClient>) -> Result<Vec<TraceRow>, StoreError> {
    query(
        conn,
        &format!("SELECT {TRACE_COLS} FROM traces ORDER BY created_at, log_index"),
        &[],
        rows::trace,
    )
}

fn log_rows(
    conn: &mut Cached<'_, impl GenericClient>,
    from: u64,
    limit: u64,
) -> Result<Vec<LogRow>, StoreError> {
    query(
        conn,
        "SELECT idx, entry, leaf_hash FROM log WHERE idx >= $1 ORDER BY idx LIMIT $2",
        &[&bound(from), &bound(limit)],
        rows::log_row,
    )
}

fn checkpoints(
    conn: &mut Cached<'_, impl GenericClient>,
) -> Result<Vec<(u64, String)>, StoreError> {
    query(
        conn,
        "SELECT size, note FROM checkpoints ORDER BY size",
        &[],
        rows::checkpoint,
    )
}

/// The write transaction handed to [`sequence`].
struct Tx<'c> {
    tx: Transaction<'c>,
    statements: &'c mut HashMap<String, Statement>,
}

impl<'c> Tx<'c> {
    fn new(tx: Transaction<'c>, statements: &'c mut HashMap<String, Statement>) -> Self {
        Self { tx, statements }
    }

    fn db(&mut self) -> Cached<'_, Transaction<'c>> {
        Cached {
            client: &mut self.tx,
            statements: self.statements,
        }
    }

    fn exec(&mut self, sql: &str, params: Params<'_>) -> Result<(), StoreError> {
        self.db().execute(sql, params).map_err(db_err)?;
        Ok(())
    }

    fn insert_issuance_row(
        &mut self,
        id: Option<IssuanceId>,
        i: &NewIssuance,
        issued_at: UnixMillis,
        log_index: u64,
    ) -> Result<IssuanceId, StoreError> {
        let id = id.map(|id| int(id.0, "issuance id")).transpose()?;
        let row = self
            .db()
            .query_one(
                "INSERT INTO issuances (id, recording_id, recipient_id, payload, codeword_commitment, format, copy_sha256, issued_at, log_index)
                 VALUES (COALESCE($1, nextval(pg_get_serial_sequence('issuances', 'id'))), $2, $3, $4, $5, $6, $7, $8, $9)
                 RETURNING id",
                &[
                    &id,
                    &i.recording_id.as_str(),
                    &i.recipient_id.as_str(),
                    &i.payload.0.as_slice(),
                    &i.codeword_commitment.0.as_slice(),
                    &i.format,
                    &i.copy_sha256.0.as_slice(),
                    &issued_at.0,
                    &int(log_index, "log index")?,
                ],
            )
            .map_err(db_err)?;
        Ok(IssuanceId(Cells::new(&row, "issuances").count(0, "id")?))
    }
}

impl AppendTx for Tx<'_> {
    fn frontier(&mut self) -> Result<Frontier, StoreError> {
        frontier_of(&mut self.db())
    }

    fn set_frontier(&mut self, frontier: &Frontier) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO log_state (id, frontier) VALUES (1, $1)
             ON CONFLICT (id) DO UPDATE SET frontier = excluded.frontier",
            &[&frontier.to_bytes()],
        )
    }

    fn insert_log(&mut self, index: u64, entry: &[u8], leaf: &[u8]) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO log (idx, entry, leaf_hash) VALUES ($1, $2, $3)",
            &[&int(index, "log index")?, &entry, &leaf],
        )
    }

    fn max_user_number(&mut self) -> Result<u64, StoreError> {
        Ok(newest_id::<UserId>(&mut self.db(), "users")?.map_or(0, |id| id.number()))
    }

    fn user_by_name(&mut self, name: &str) -> Result<Option<User>, StoreError> {
        user_by_name(&mut self.db(), name)
    }

    fn user(&mut self, id: &UserId) -> Result<Option<User>, StoreError> {
        user(&mut self.db(), id)
    }

    fn insert_user(&mut self, u: &User) -> Result<(), StoreError> {
        self.exec(
            &format!("INSERT INTO users ({USER_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"),
            &[
                &u.id.as_str(),
                &u.name,
                &u.role.as_str(),
                &u.password_hash,
                &u.disabled,
                &u.created_at.0,
                &int(u.log_index, "log index")?,
            ],
        )
    }

    fn update_user(&mut self, u: &User) -> Result<(), StoreError> {
        self.exec(
            "UPDATE users SET role = $1, password_hash = $2, disabled = $3 WHERE id = $4",
            &[
                &u.role.as_str(),
                &u.password_hash,
                &u.disabled,
                &u.id.as_str(),
            ],
        )
    }

    fn token(&mut self, id: &TokenId) -> Result<Option<ApiToken>, StoreError> {
        query_opt(
            &mut self.db(),
            &format!("SELECT {TOKEN_COLS} FROM tokens WHERE id = $1"),
            &[&id.as_str()],
            rows::token,
        )
    }

    fn insert_token(&mut self, t: &ApiToken) -> Result<(), StoreError> {
        self.exec(
            &format!("INSERT INTO tokens ({TOKEN_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"),
            &[
                &t.id.as_str(),
                &t.user_id.as_str(),
                &t.secret_sha256.0.as_slice(),
                &t.created_at.0,
                &t.expires_at.map(|e| e.0),
                &t.revoked,
                &int(t.log_index, "log index")?,
            ],
        )
    }

    fn revoke_token(&mut self, id: &TokenId) -> Result<(), StoreError> {
        self.exec(
            "UPDATE tokens SET revoked = TRUE WHERE id = $1",
            &[&id.as_str()],
        )
    }

    fn insert_job(&mut self, j: &Job) -> Result<(), StoreError> {
        self.exec(
            &format!("INSERT INTO jobs ({JOB_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"),
            &[
                &j.id.as_str(),
                &j.kind,
                &j.input,
                &j.status.as_str(),
                &j.progress,
                &j.result,
                &j.error,
                &i64::from(j.attempts),
                &j.lease,
                &j.lease_expires.map(|t| t.0),
                &j.created_at.0,
                &j.updated_at.0,
            ],
        )
    }

    fn job_for_update(&mut self, id: &JobId) -> Result<Option<Job>, StoreError> {
        query_opt(
            &mut self.db(),
            &format!("SELECT {JOB_COLS} FROM jobs WHERE id = $1 FOR UPDATE"),
            &[&id.as_str()],
            rows::job,
        )
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
            "UPDATE jobs SET status = $1, result = $2, error = $3, progress = 1.0, lease = NULL, lease_expires = NULL, updated_at = $4 WHERE id = $5",
            &[&status.as_str(), &result, &error, &time.0, &id.as_str()],
        )
    }

    fn import_issuance(&mut self, i: &Issuance) -> Result<(), StoreError> {
        let new = NewIssuance {
            recording_id: i.recording_id.clone(),
            recipient_id: i.recipient_id.clone(),
            payload: i.payload,
            codeword_commitment: i.codeword_commitment,
            format: i.format.clone(),
            copy_sha256: i.copy_sha256,
        };
        self.insert_issuance_row(Some(i.id), &new, i.issued_at, i.log_index)?;
        Ok(())
    }

    fn insert_checkpoint(&mut self, size: u64, note: &str) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO checkpoints (size, note) VALUES ($1, $2)",
            &[&int(size, "checkpoint size")?, &note],
        )
    }

    fn max_recipient_number(&mut self) -> Result<u64, StoreError> {
        Ok(newest_id::<RecipientId>(&mut self.db(), "recipients")?.map_or(0, |id| id.number()))
    }

    fn recipient_by_name(&mut self, name: &str) -> Result<Option<Recipient>, StoreError> {
        recipient_by_name(&mut self.db(), name)
    }

    fn recipient(&mut self, id: &RecipientId) -> Result<Option<Recipient>, StoreError> {
        recipient(&mut self.db(), id)
    }

    fn insert_recipient(&mut self, r: &Recipient) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO recipients (id, name, email, created_at, log_index) VALUES ($1, $2, $3, $4, $5)",
            &[
                &r.id.as_str(),
                &r.name,
                &r.email,
                &r.created_at.0,
                &int(r.log_index, "log index")?,
            ],
        )
    }

    fn set_recipient_email(
        &mut self,
        id: &RecipientId,
        email: Option<&str>,
    ) -> Result<(), StoreError> {
        self.exec(
            "UPDATE recipients SET email = $1 WHERE id = $2",
            &[&email, &id.as_str()],
        )
    }

    fn recording_by_content(&mut self, sha: &Sha256) -> Result<Option<Recording>, StoreError> {
        recording_by_content(&mut self.db(), sha)
    }

    fn recording(&mut self, id: &RecordingId) -> Result<Option<Recording>, StoreError> {
        recording(&mut self.db(), id)
    }

    fn fingerprint(&mut self, id: &RecordingId) -> Result<Option<Vec<u8>>, StoreError> {
        fingerprint(&mut self.db(), id)
    }

    fn insert_recording(&mut self, r: &Recording, fp: &[u8]) -> Result<(), StoreError> {
        no_nul("recording format", &r.format)?;
        self.exec(
            "INSERT INTO recordings (id, title, sha256, duration_s, sample_rate, channels, format, ingested_at, log_index)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                &r.id.as_str(),
                &r.title,
                &r.sha256.0.as_slice(),
                &r.duration_s,
                &i64::from(r.sample_rate),
                &i64::from(r.channels),
                &r.format,
                &r.ingested_at.0,
                &int(r.log_index, "log index")?,
            ],
        )?;
        self.set_fingerprint(&r.id, fp)
    }

    fn transcript(&mut self, id: &RecordingId) -> Result<Option<Transcript>, StoreError> {
        transcript(&mut self.db(), id)
    }

    fn insert_transcript(&mut self, t: &Transcript) -> Result<(), StoreError> {
        self.exec(
            &format!(
                "INSERT INTO transcripts ({TRANSCRIPT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
            ),
            &[
                &t.recording_id.as_str(),
                &t.sha256.0.as_slice(),
                &i64::from(t.words),
                &i64::from(t.sites),
                &i64::from(t.rules_version),
                &t.attached_at.0,
                &int(t.log_index, "log index")?,
            ],
        )
    }

    fn set_recording_title(&mut self, id: &RecordingId, title: &str) -> Result<(), StoreError> {
        self.exec(
            "UPDATE recordings SET title = $1 WHERE id = $2",
            &[&title, &id.as_str()],
        )
    }

    fn issuance(
        &mut self,
        rec: &RecordingId,
        who: &RecipientId,
        format: &str,
    ) -> Result<Option<Issuance>, StoreError> {
        issuance(&mut self.db(), rec, who, format)
    }

    fn insert_issuance(
        &mut self,
        i: &NewIssuance,
        issued_at: UnixMillis,
        log_index: u64,
    ) -> Result<IssuanceId, StoreError> {
        self.insert_issuance_row(None, i, issued_at, log_index)
    }

    fn insert_trace(&mut self, t: &TraceRow) -> Result<(), StoreError> {
        no_nul("trace report", &t.report_json)?;
        self.exec(
            "INSERT INTO traces (id, leak_sha256, verdict, report_json, report_sha256, created_at, log_index)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &t.id.as_str(),
                &t.leak_sha256.0.as_slice(),
                &t.verdict,
                &t.report_json,
                &t.report_sha256.0.as_slice(),
                &t.created_at.0,
                &int(t.log_index, "log index")?,
            ],
        )
    }

    // PostgreSQL vaults have no older releases: the legacy-upgrade hooks keep their
    // defaults, except this one, which storing a recording uses.
    fn set_fingerprint(&mut self, id: &RecordingId, bytes: &[u8]) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO fingerprints (recording_id, bytes) VALUES ($1, $2)
             ON CONFLICT (recording_id) DO UPDATE SET bytes = excluded.bytes",
            &[&id.as_str(), &bytes],
        )
    }
}

impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    fn append(
        &self,
        time: UnixMillis,
        drafts: Vec<Draft>,
        signer: &NoteSigner,
    ) -> Result<Vec<Stored>, StoreError> {
        let mut conn = self.conn()?;
        let started = Instant::now();
        let Conn { client, statements } = &mut *conn;
        let mut tx = Tx::new(Self::locked(client, started)?, statements);
        let stored = sequence(&mut tx, time, drafts, signer)?;
        tx.tx.commit().map_err(|e| busy_or(e, started))?;
        Ok(stored)
    }

    fn recordings(&self) -> Result<Vec<Recording>, StoreError> {
        recordings(&mut self.conn()?.cached())
    }

    fn recording(&self, id: &RecordingId) -> Result<Option<Recording>, StoreError> {
        recording(&mut self.conn()?.cached(), id)
    }

    fn recording_by_content(&self, sha: &Sha256) -> Result<Option<Recording>, StoreError> {
        recording_by_content(&mut self.conn()?.cached(), sha)
    }

    fn fingerprint(&self, id: &RecordingId) -> Result<Option<Vec<u8>>, StoreError> {
        fingerprint(&mut self.conn()?.cached(), id)
    }

    fn fingerprints(&self) -> Result<Vec<(RecordingId, Vec<u8>)>, StoreError> {
        fingerprints(&mut self.conn()?.cached())
    }

    fn transcripts(&self) -> Result<Vec<Transcript>, StoreError> {
        transcripts(&mut self.conn()?.cached())
    }

    fn transcript(&self, id: &RecordingId) -> Result<Option<Transcript>, StoreError> {
        transcript(&mut self.conn()?.cached(), id)
    }

    fn recipients(&self) -> Result<Vec<Recipient>, StoreError> {
        recipients(&mut self.conn()?.cached())
    }

    fn recipient(&self, id: &RecipientId) -> Result<Option<Recipient>, StoreError> {
        recipient(&mut self.conn()?.cached(), id)
    }

    fn recipient_by_name(&self, name: &str) -> Result<Option<Recipient>, StoreError> {
        recipient_by_name(&mut self.conn()?.cached(), name)
    }

    fn issuances(&self) -> Result<Vec<Issuance>, StoreError> {
        issuances(&mut self.conn()?.cached())
    }

    fn issuances_of(&self, rec: &RecordingId) -> Result<Vec<Issuance>, StoreError> {
        query(
            &mut self.conn()?.cached(),
            &format!("SELECT {ISSUANCE_COLS} FROM issuances WHERE recording_id = $1 ORDER BY id"),
            &[&rec.as_str()],
            rows::issuance,
        )
    }

    fn issuance(
        &self,
        rec: &RecordingId,
        who: &RecipientId,
        format: &str,
    ) -> Result<Option<Issuance>, StoreError> {
        issuance(&mut self.conn()?.cached(), rec, who, format)
    }

    fn issuances_by_payload(&self, payload: &PayloadBytes) -> Result<Vec<Issuance>, StoreError> {
        query(
            &mut self.conn()?.cached(),
            &format!("SELECT {ISSUANCE_COLS} FROM issuances WHERE payload = $1 ORDER BY id"),
            &[&payload.0.as_slice()],
            rows::issuance,
        )
    }

    fn traces(&self) -> Result<Vec<TraceRow>, StoreError> {
        traces(&mut self.conn()?.cached())
    }

    fn trace(&self, id: &TraceId) -> Result<Option<TraceRow>, StoreError> {
        query_opt(
            &mut self.conn()?.cached(),
            &format!("SELECT {TRACE_COLS} FROM traces WHERE id = $1"),
            &[&id.as_str()],
            rows::trace,
        )
    }

    fn log_size(&self) -> Result<u64, StoreError> {
        count(&mut self.conn()?.cached(), "log")
    }

    fn log_rows(&self, from: u64, limit: u64) -> Result<Vec<LogRow>, StoreError> {
        log_rows(&mut self.conn()?.cached(), from, limit)
    }

    fn checkpoints(&self) -> Result<Vec<(u64, String)>, StoreError> {
        checkpoints(&mut self.conn()?.cached())
    }

    fn latest_checkpoint(&self) -> Result<Option<(u64, String)>, StoreError> {
        query_opt(
            &mut self.conn()?.cached(),
            "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1",
            &[],
            rows::checkpoint,
        )
    }

    fn frontier(&self) -> Result<Frontier, StoreError> {
        frontier_of(&mut self.conn()?.cached())
    }

    fn users(&self) -> Result<Vec<User>, StoreError> {
        users(&mut self.conn()?.cached())
    }

    fn user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        user(&mut self.conn()?.cached(), id)
    }

    fn user_by_name(&self, name: &str) -> Result<Option<User>, StoreError> {
        user_by_name(&mut self.conn()?.cached(), name)
    }

    fn tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        tokens(&mut self.conn()?.cached())
    }

    fn token_by_secret(&self, secret_sha256: &Sha256) -> Result<Option<ApiToken>, StoreError> {
        query_opt(
            &mut self.conn()?.cached(),
            &format!("SELECT {TOKEN_COLS} FROM tokens WHERE secret_sha256 = $1"),
            &[&secret_sha256.0.as_slice()],
            rows::token,
        )
    }

    fn create_session(&self, s: &Session) -> Result<(), StoreError> {
        self.conn()?
            .cached()
            .execute(
                &format!("INSERT INTO sessions ({SESSION_COLS}) VALUES ($1, $2, $3, $4, $5)"),
                &[
                    &s.secret_sha256.0.as_slice(),
                    &s.user_id.as_str(),
                    &s.csrf_token,
                    &s.created_at.0,
                    &s.expires_at.0,
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
        query_opt(
            &mut self.conn()?.cached(),
            &format!(
                "SELECT {SESSION_COLS} FROM sessions WHERE secret_sha256 = $1 AND expires_at > $2"
            ),
            &[&secret_sha256.0.as_slice(), &now.0],
            rows::session,
        )
    }

    fn delete_session(&self, secret_sha256: &Sha256) -> Result<(), StoreError> {
        self.conn()?
            .cached()
            .execute(
                "DELETE FROM sessions WHERE secret_sha256 = $1",
                &[&secret_sha256.0.as_slice()],
            )
            .map_err(db_err)?;
        Ok(())
    }

    fn delete_expired_sessions(&self, now: UnixMillis) -> Result<u64, StoreError> {
        self.conn()?
            .cached()
            .execute("DELETE FROM sessions WHERE expires_at <= $1", &[&now.0])
            .map_err(db_err)
    }

    fn job(&self, id: &JobId) -> Result<Option<Job>, StoreError> {
        query_opt(
            &mut self.conn()?.cached(),
            &format!("SELECT {JOB_COLS} FROM jobs WHERE id = $1"),
            &[&id.as_str()],
            rows::job,
        )
    }

    fn claim_job(
        &self,
        worker: &str,
        now: UnixMillis,
        lease_ms: u64,
    ) -> Result<Option<Lease>, StoreError> {
        let expires = now.0.saturating_add(bound(lease_ms));
        // One statement: the oldest claimable job, skipping rows another claimer has
        // locked, so concurrent workers each get a different job and never wait.
        let claimed = query_opt(
            &mut self.conn()?.cached(),
            &format!(
                "UPDATE jobs SET status = 'running', attempts = attempts + 1,
                        lease = $1 || '/' || (attempts + 1), lease_expires = $2, updated_at = $3
                 WHERE id = (
                     SELECT id FROM jobs
                     WHERE status = 'queued' OR (status = 'running' AND lease_expires < $3)
                     ORDER BY created_at, id
                     LIMIT 1
                     FOR UPDATE SKIP LOCKED)
                 RETURNING {JOB_COLS}"
            ),
            &[&worker, &expires, &now.0],
            rows::job,
        )?;
        Ok(claimed.map(|job| {
            let token = job.lease.clone().unwrap_or_default();
            Lease { job, token }
        }))
    }

    fn heartbeat_job(
        &self,
        lease: &Lease,
        now: UnixMillis,
        lease_ms: u64,
        progress: f64,
    ) -> Result<bool, StoreError> {
        let expires = now.0.saturating_add(bound(lease_ms));
        let n = self
            .conn()?
            .cached()
            .execute(
                "UPDATE jobs SET lease_expires = $1, progress = $2, updated_at = $3
                 WHERE id = $4 AND status = 'running' AND lease = $5",
                &[
                    &expires,
                    &progress.clamp(0.0, 1.0),
                    &now.0,
                    &lease.job.id.as_str(),
                    &lease.token,
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
        let mut conn = self.conn()?;
        let started = Instant::now();
        let Conn { client, statements } = &mut *conn;
        let mut tx = Tx::new(Self::locked(client, started)?, statements);
        let stored = finish(&mut tx, lease, time, outcome, drafts, signer)?;
        if stored.is_some() {
            tx.tx.commit().map_err(|e| busy_or(e, started))?;
        }
        Ok(stored)
    }

    fn export(&self) -> Result<Dump, StoreError> {
        let mut conn = self.conn()?;
        let Conn { client, statements } = &mut *conn;
        // One snapshot for every table, so the dump is consistent while writers go on.
        let tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(db_err)?;
        let mut t = Tx::new(tx, statements);
        let mut fps = fingerprints(&mut t.db())?;
        let recordings = recordings(&mut t.db())?
            .into_iter()
            .map(|r| {
                let fp = fps
                    .iter()
                    .position(|(id, _)| *id == r.id)
                    .map(|at| fps.swap_remove(at).1)
                    .unwrap_or_default();
                (r, fp)
            })
            .collect();
        let dump = Dump {
            log: log_rows(&mut t.db(), 0, u64::MAX)?,
            checkpoints: checkpoints(&mut t.db())?,
            recordings,
            recipients: recipients(&mut t.db())?,
            issuances: issuances(&mut t.db())?,
            traces: traces(&mut t.db())?,
            users: users(&mut t.db())?,
            tokens: tokens(&mut t.db())?,
            transcripts: transcripts(&mut t.db())?,
        };
        t.tx.commit().map_err(db_err)?;
        Ok(dump)
    }

    fn import(&self, dump: &Dump) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        let started = Instant::now();
        let Conn { client, statements } = &mut *conn;
        let mut t = Tx::new(Self::locked(client, started)?, statements);
        let entries = count(&mut t.db(), "log")?;
        let mut rows = 0;
        for table in [
            "checkpoints",
            "recordings",
            "recipients",
            "issuances",
            "traces",
        ] {
            rows += count(&mut t.db(), table)?;
        }
        if entries > 0 || rows > 0 {
            return Err(StoreError::NotEmpty { entries });
        }
        load_dump(&mut t, dump)?;
        // Ids given explicitly do not advance the identity sequence: later issuances go on
        // after the largest imported id (or start at 1).
        t.db()
            .execute(
            "SELECT setval(pg_get_serial_sequence('issuances', 'id'), GREATEST(MAX(id), 1), MAX(id) IS NOT NULL)
             FROM issuances",
            &[],
        )
        .map_err(db_err)?;
        t.tx.commit().map_err(|e| busy_or(e, started))
    }
}
