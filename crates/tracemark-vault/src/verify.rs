//! `log verify`: recompute the log from its stored entries, check every signed checkpoint
//! against it, and check that every record in the database is in the log and matches it,
//! and that every logged event still has its record.

use std::collections::HashMap;

use tracemark_ledger::{Checkpoint, LogEntry, MerkleTree};

use crate::VaultError;
use crate::db;
use crate::vault::{Vault, issuance_entry, recipient_entry, recording_entry, trace_entry};

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

fn broken(index: u64, reason: impl Into<String>) -> VaultError {
    VaultError::LogBroken {
        index,
        reason: reason.into(),
    }
}

impl Vault {
    /// Verifies the log and the records (see the module docs). The error names the first
    /// broken entry.
    pub fn verify_log(&self) -> Result<LogReport, VaultError> {
        let rows = db::log_rows(&self.conn)?;
        let mut tree = MerkleTree::new();
        let mut entries: Vec<Vec<u8>> = Vec::with_capacity(rows.len());
        for (expected, (idx, encoded, stored_leaf)) in rows.iter().enumerate() {
            let expected = expected as u64;
            if *idx < 0 || *idx as u64 != expected {
                return Err(broken(
                    expected,
                    format!(
                        "entry numbered {idx} where {expected} was expected (a row was deleted or inserted)"
                    ),
                ));
            }
            LogEntry::decode(encoded)
                .map_err(|e| broken(expected, format!("entry does not decode: {e}")))?;
            let leaf = tracemark_ledger::leaf_hash(encoded);
            if leaf.as_bytes().as_slice() != stored_leaf.as_slice() {
                return Err(broken(
                    expected,
                    "stored leaf hash does not match the entry",
                ));
            }
            tree.push_leaf_hash(leaf);
            entries.push(encoded.clone());
        }
        let size = tree.size();

        // Every signed checkpoint must sign this tree's root at its size.
        let key = self.verifier_key();
        let checkpoints = db::checkpoints(&self.conn)?;
        for (stored_size, note) in &checkpoints {
            let cp = Checkpoint::open(note.as_bytes(), &key).map_err(|e| {
                broken(
                    *stored_size,
                    format!("checkpoint of size {stored_size} fails its signature: {e}"),
                )
            })?;
            if cp.size() != *stored_size || cp.size() > size {
                return Err(broken(
                    cp.size().min(size),
                    format!(
                        "checkpoint of size {} but the log holds {size} entries (entries were deleted)",
                        cp.size()
                    ),
                ));
            }
            if tree.root_at(cp.size())? != *cp.root() {
                return Err(broken(
                    cp.size().saturating_sub(1),
                    format!(
                        "the log no longer matches the checkpoint of size {} (history rewritten)",
                        cp.size()
                    ),
                ));
            }
        }
        match checkpoints.last() {
            Some((last, _)) if *last == size => {}
            Some((last, _)) => {
                return Err(broken(
                    *last,
                    format!(
                        "{} entries after the last signed checkpoint (appended behind the log's back)",
                        size - last
                    ),
                ));
            }
            None if size > 0 => return Err(broken(0, "no signed checkpoint")),
            None => {}
        }

        // Every record must match the entry it points to, and every event entry must
        // still have its record.
        let mut claimed: HashMap<u64, &'static str> = HashMap::new();
        let mut check = |index: u64,
                         kind: &'static str,
                         entry: LogEntry|
         -> Result<(), VaultError> {
            let stored = entries.get(index as usize).ok_or_else(|| {
                broken(
                    index,
                    format!("{kind} record points past the end of the log"),
                )
            })?;
            if *stored != entry.encode() {
                return Err(broken(
                    index,
                    format!(
                        "{kind} record differs from its log entry (edited behind the log's back)"
                    ),
                ));
            }
            if claimed.insert(index, kind).is_some() {
                return Err(broken(index, "two records claim the same log entry"));
            }
            Ok(())
        };
        for r in db::recordings(&self.conn)? {
            check(r.log_index, "recording", recording_entry(&r)?)?;
        }
        for r in db::recipients(&self.conn)? {
            check(r.log_index, "recipient", recipient_entry(&r)?)?;
        }
        for i in db::issuances(&self.conn)? {
            check(i.log_index, "issuance", issuance_entry(&i)?)?;
        }
        for t in db::traces(&self.conn)? {
            check(t.log_index, "trace", trace_entry(&t)?)?;
        }
        for (index, encoded) in entries.iter().enumerate() {
            let entry =
                LogEntry::decode(encoded).map_err(|e| broken(index as u64, e.to_string()))?;
            let needs_record = matches!(
                entry,
                LogEntry::RecordingIngested { .. }
                    | LogEntry::RecipientAdded { .. }
                    | LogEntry::CopyIssued { .. }
                    | LogEntry::TraceRecorded { .. }
            );
            if needs_record && !claimed.contains_key(&(index as u64)) {
                return Err(broken(
                    index as u64,
                    "logged event has no record any more (a row was deleted)",
                ));
            }
        }
        Ok(LogReport {
            entries: size,
            checkpoints: checkpoints.len(),
            records: claimed.len(),
        })
    }
}
