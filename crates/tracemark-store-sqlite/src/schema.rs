//! The schema and its migrations, applied in order; `PRAGMA user_version` counts them.

use rusqlite::{Connection, params};
use tracemark_ledger::{Frontier, leaf_hash};
use tracemark_store::StoreError;

use crate::store::db_err;

/// Migrations 1 and 2 are the schema of vaults made before storage moved behind traits;
/// they stay byte for byte so that such vaults upgrade in place.
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
    r#"
CREATE TABLE fingerprints (
    recording_id  TEXT PRIMARY KEY REFERENCES recordings(id),
    bytes         BLOB NOT NULL
);
CREATE TABLE log_state (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    frontier  BLOB NOT NULL
);
CREATE TABLE meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
CREATE INDEX issuances_by_payload ON issuances (payload);
INSERT INTO meta (key, value)
    SELECT 'legacy_upgrade_pending', '1'
    WHERE EXISTS (SELECT 1 FROM recordings) OR EXISTS (SELECT 1 FROM recipients);
"#,
    // Jobs: an operational table (docs/design/storage.md); what a job does is logged when
    // it finishes.
    r#"
CREATE TABLE jobs (
    id             TEXT PRIMARY KEY,
    kind           TEXT NOT NULL,
    input          TEXT NOT NULL,
    status         TEXT NOT NULL,
    progress       REAL NOT NULL,
    result         TEXT,
    error          TEXT,
    attempts       INTEGER NOT NULL,
    lease          TEXT,
    lease_expires  INTEGER,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX jobs_by_status ON jobs (status, created_at);
"#,
    // Accounts: users and tokens are facts (stated in the log); sessions are operational.
    r#"
CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    role           TEXT NOT NULL,
    password_hash  TEXT,
    disabled       INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    log_index      INTEGER NOT NULL UNIQUE
);
CREATE TABLE tokens (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users(id),
    secret_sha256  BLOB NOT NULL UNIQUE,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER,
    revoked        INTEGER NOT NULL,
    log_index      INTEGER NOT NULL UNIQUE
);
CREATE TABLE sessions (
    secret_sha256  BLOB PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users(id),
    csrf_token     TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL
);
"#,
    // Transcripts (issue 13): facts, stated in the log; one per recording.
    r#"
CREATE TABLE transcripts (
    recording_id   TEXT PRIMARY KEY REFERENCES recordings(id),
    sha256         BLOB NOT NULL,
    words          INTEGER NOT NULL,
    sites          INTEGER NOT NULL,
    rules_version  INTEGER NOT NULL,
    attached_at    INTEGER NOT NULL,
    log_index      INTEGER NOT NULL UNIQUE
);
"#,
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Applies the migrations not yet applied, each in its own transaction.
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(db_err)?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            found: version,
            known: SCHEMA_VERSION,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(db_err)?;
        // Another process may have migrated while this one waited for the lock.
        let now: i64 = tx
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(db_err)?;
        if now > i as i64 {
            continue;
        }
        tx.execute_batch(sql).map_err(db_err)?;
        if i == 2 {
            store_frontier_of_existing_log(&tx)?;
        }
        tx.pragma_update(None, "user_version", i as i64 + 1)
            .map_err(db_err)?;
        tx.commit().map_err(db_err)?;
    }
    Ok(())
}

/// Migration 3's data step: the right edge of the tree the existing log forms.
fn store_frontier_of_existing_log(conn: &Connection) -> Result<(), StoreError> {
    let mut frontier = Frontier::new();
    let mut st = conn
        .prepare("SELECT entry FROM log ORDER BY idx")
        .map_err(db_err)?;
    let mut rows = st.query([]).map_err(db_err)?;
    while let Some(row) = rows.next().map_err(db_err)? {
        // A gap or a bad row in the old log is left for `log verify` to name; the
        // frontier covers the rows as they are.
        let entry: Vec<u8> = row.get(0).map_err(db_err)?;
        frontier.push_leaf_hash(leaf_hash(&entry));
    }
    conn.execute(
        "INSERT INTO log_state (id, frontier) VALUES (1, ?1)",
        params![frontier.to_bytes()],
    )
    .map_err(db_err)?;
    Ok(())
}
