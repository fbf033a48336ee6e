//! `log verify`: recompute the log from its stored entries and check every signed
//! checkpoint and the stored tree edge against it (the offline checker of
//! `tracemark-evidence`), then check that every record in the database matches the entries
//! that state it, column by column, and that every logged event still has its record.
//!
//! What covers what (see `tracemark_store::records`): recordings by their
//! `RecordingIngested` entry and their latest `RecordStated` (title, hash, duration, rate,
//! channels, format, time, fingerprint); recipients by their latest `RecordStated` (name,
//! e-mail, time); issuances by `CopyIssued` field by field, and the blind payload by
//! re-deriving it from the vault secret; traces by `TraceRecorded`, the report by its hash.

use std::collections::{HashMap, HashSet};

use tracemark_evidence::LogChecker;
use tracemark_ledger::LogEntry;
use tracemark_store::StoreError;
use tracemark_store::records::{
    self, RECIPIENTS, RECORDINGS, TOKENS, TRANSCRIPTS, USERS, differing_columns,
    recipient_statement, recording_statement, token_statement, transcript_statement,
    user_statement,
};
use tracemark_types::{PayloadBytes, Sha256, UnixMillis};

use crate::VaultError;
use crate::vault::Vault;

/// What `verify_log` checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogReport {
    /// Log entries recomputed.
    pub entries: u64,
    /// Signed checkpoints checked.
    pub checkpoints: usize,
    /// Database records matched to their entries.
    pub records: usize,
}

/// Log rows read per page.
const PAGE: u64 = 10_000;

fn record_broken(
    table: &'static str,
    row: impl std::fmt::Display,
    columns: Vec<String>,
    what: impl Into<String>,
    index: u64,
) -> VaultError {
    VaultError::RecordBroken {
        table,
        row: row.to_string(),
        columns,
        what: what.into(),
        index,
    }
}

const EDITED: &str = "differs from the log (edited behind the log's back)";

impl Vault {
    /// Verifies the log and the records (see the module docs). The error names the first
    /// broken entry, or the table, row and column of the first record that differs.
    pub fn verify_log(&self) -> Result<LogReport, VaultError> {
        let mut checker = LogChecker::new();
        let size = self.store.log_size()?;
        let mut from = 0;
        while from < size {
            let page = self.store.log_rows(from, PAGE)?;
            if page.is_empty() {
                break;
            }
            for row in &page {
                checker.push(row.index, &row.entry, &row.leaf_hash)?;
            }
            from = page.last().map_or(size, |r| r.index + 1);
        }
        let checkpoints = self.store.checkpoints()?;
        let frontier = self.store.frontier()?;
        let log = checker.finish(&checkpoints, &self.verifier_key(), Some(&frontier))?;
        let entries = &log.entries;

        // The latest statement of each (table, row).
        let mut stated: HashMap<(String, String), usize> = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            if let LogEntry::RecordStated { table, row, .. } = e {
                stated.insert((table.as_str().to_string(), row.as_str().to_string()), i);
            }
        }
        let mut claimed: HashSet<u64> = HashSet::new();
        let mut claim =
            |table: &'static str, row: &str, index: u64| -> Result<&LogEntry, VaultError> {
                let entry = entries.get(index as usize).ok_or_else(|| {
                    record_broken(
                        table,
                        row,
                        vec!["log_index".into()],
                        "points past the end of the log",
                        index,
                    )
                })?;
                if !claimed.insert(index) {
                    return Err(record_broken(
                        table,
                        row,
                        vec!["log_index".into()],
                        "claims a log entry another record claims",
                        index,
                    ));
                }
                Ok(entry)
            };
        let check =
            |table: &'static str, row: &str, derived: &LogEntry, stored: &LogEntry, index: u64| {
                let mut cols = differing_columns(derived, stored);
                if cols == ["kind"] {
                    // The row points at an entry of another kind: its log_index was changed.
                    cols = vec!["log_index".to_string()];
                }
                if cols.is_empty() {
                    Ok(())
                } else {
                    Err(record_broken(table, row, cols, EDITED, index))
                }
            };
        let latest =
            |table: &str, row: &str| stated.get(&(table.to_string(), row.to_string())).copied();
        let mut records = 0usize;

        let fingerprints: HashMap<_, _> = self.store.fingerprints()?.into_iter().collect();
        let recordings = self.store.recordings()?;
        for r in &recordings {
            let id = r.id.as_str();
            let created = claim(RECORDINGS, id, r.log_index)?;
            check(
                RECORDINGS,
                id,
                &records::recording_entry(r)?,
                created,
                r.log_index,
            )?;
            let Some(at) = latest(RECORDINGS, id) else {
                return Err(record_broken(
                    RECORDINGS,
                    id,
                    vec![],
                    "has no statement of its columns in the log",
                    r.log_index,
                ));
            };
            let fp = fingerprints
                .get(&r.id)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let derived = recording_statement(r, fp, UnixMillis(entries[at].time().0))?;
            check(RECORDINGS, id, &derived, &entries[at], at as u64)?;
            records += 1;
        }
        // Recipients, users and tokens: created by a statement of their own row (a
        // recipient of an older vault: by its `RecipientAdded`), then stated anew at each
        // change; the latest statement must match every column.
        let mut stated_record = |table: &'static str,
                                 id: &str,
                                 log_index: u64,
                                 created_at: i64,
                                 derive: &dyn Fn(UnixMillis) -> Result<LogEntry, StoreError>,
                                 legacy: Option<LogEntry>|
         -> Result<(), VaultError> {
            let created = claim(table, id, log_index)?;
            let (same_kind, same_row) = match created {
                LogEntry::RecordStated { table: t, row, .. } if t.as_str() == table => {
                    (true, row.as_str() == id)
                }
                LogEntry::RecipientAdded { recipient, .. } if table == RECIPIENTS => {
                    (true, recipient.as_str() == id)
                }
                _ => (false, false),
            };
            let col = match (same_kind, same_row) {
                (true, true) if created.time().0 == created_at => None,
                (true, true) => Some("created_at"),
                (true, false) => Some("id"),
                _ => Some("log_index"),
            };
            if let Some(col) = col {
                return Err(record_broken(
                    table,
                    id,
                    vec![col.into()],
                    EDITED,
                    log_index,
                ));
            }
            match (latest(table, id), legacy) {
                (Some(at), _) => {
                    let derived = derive(UnixMillis(entries[at].time().0))?;
                    check(table, id, &derived, &entries[at], at as u64)
                }
                (None, Some(legacy)) => check(table, id, &legacy, created, log_index),
                (None, None) => Err(record_broken(
                    table,
                    id,
                    vec![],
                    "has no statement of its columns in the log",
                    log_index,
                )),
            }
        };
        let recipients = self.store.recipients()?;
        for r in &recipients {
            let legacy = records::legacy_recipient_entry(r)?;
            stated_record(
                RECIPIENTS,
                r.id.as_str(),
                r.log_index,
                r.created_at.0,
                &|time| recipient_statement(r, time),
                Some(legacy),
            )?;
        }
        let users = self.store.users()?;
        for u in &users {
            stated_record(
                USERS,
                u.id.as_str(),
                u.log_index,
                u.created_at.0,
                &|time| user_statement(u, time),
                None,
            )?;
        }
        let tokens = self.store.tokens()?;
        for t in &tokens {
            stated_record(
                TOKENS,
                t.id.as_str(),
                t.log_index,
                t.created_at.0,
                &|time| token_statement(t, time),
                None,
            )?;
        }
        let transcripts = self.store.transcripts()?;
        for t in &transcripts {
            stated_record(
                TRANSCRIPTS,
                t.recording_id.as_str(),
                t.log_index,
                t.attached_at.0,
                &|time| transcript_statement(t, time),
                None,
            )?;
        }
        records += recipients.len() + users.len() + tokens.len() + transcripts.len();
        let recordings_by_id: HashMap<_, _> = recordings.iter().map(|r| (&r.id, r)).collect();
        let mut shared_payloads = HashMap::new();
        for i in self.store.issuances()? {
            let row = i.id.to_string();
            let stored = claim("issuances", &row, i.log_index)?;
            check(
                "issuances",
                &row,
                &records::issuance_entry(&i)?,
                stored,
                i.log_index,
            )?;
            let Some(rec) = recordings_by_id.get(&i.recording_id) else {
                return Err(record_broken(
                    "issuances",
                    &row,
                    vec!["recording_id".into()],
                    "names no stored recording",
                    i.log_index,
                ));
            };
            // The recording's own payload (drawn once per recording), or the recipient's
            // from when payloads were drawn per copy.
            let shared = *shared_payloads
                .entry(i.recording_id.clone())
                .or_insert_with(|| PayloadBytes(self.recording_payload(rec).bytes()));
            if i.payload != shared && i.payload.0 != self.copy_payload(rec, &i.recipient_id).bytes()
            {
                return Err(record_broken(
                    "issuances",
                    &row,
                    vec!["payload".into()],
                    "is not the payload the vault key gives this copy (edited behind the log's back)",
                    i.log_index,
                ));
            }
            records += 1;
        }
        for t in self.store.traces()? {
            let id = t.id.as_str();
            let stored = claim("traces", id, t.log_index)?;
            check(
                "traces",
                id,
                &records::trace_entry(&t)?,
                stored,
                t.log_index,
            )?;
            if Sha256::digest(t.report_json.as_bytes()) != t.report_sha256 {
                return Err(record_broken(
                    "traces",
                    id,
                    vec!["report_json".into()],
                    EDITED,
                    t.log_index,
                ));
            }
            records += 1;
        }

        // Every event entry must still have its record.
        let mut rows_present: HashSet<(String, String)> = HashSet::new();
        for r in &recordings {
            rows_present.insert((RECORDINGS.into(), r.id.to_string()));
        }
        for r in &recipients {
            rows_present.insert((RECIPIENTS.into(), r.id.to_string()));
        }
        for u in &users {
            rows_present.insert((USERS.into(), u.id.to_string()));
        }
        for t in &tokens {
            rows_present.insert((TOKENS.into(), t.id.to_string()));
        }
        for t in &transcripts {
            rows_present.insert((TRANSCRIPTS.into(), t.recording_id.to_string()));
        }
        for (index, entry) in entries.iter().enumerate() {
            let index = index as u64;
            let missing = match entry {
                LogEntry::RecordingIngested { .. }
                | LogEntry::RecipientAdded { .. }
                | LogEntry::CopyIssued { .. }
                | LogEntry::TraceRecorded { .. } => !claimed.contains(&index),
                LogEntry::RecordStated { table, row, .. } => {
                    !rows_present.contains(&(table.as_str().to_string(), row.as_str().to_string()))
                }
                _ => false,
            };
            if missing {
                return Err(VaultError::LogBroken(tracemark_evidence::LogBroken {
                    index,
                    reason: "logged event has no record any more (a row was deleted)".into(),
                }));
            }
        }
        Ok(LogReport {
            entries: size,
            checkpoints: log.checkpoints,
            records,
        })
    }
}
