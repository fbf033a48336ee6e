//! The log checker: recompute the tree from the stored entries and check every signed
//! checkpoint against it.

use tracemark_ledger::{Checkpoint, Frontier, LogEntry, MerkleTree, VerifierKey, leaf_hash};

/// The first broken entry, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("log verification failed at entry {index}: {reason}")]
pub struct LogBroken {
    /// First broken entry.
    pub index: u64,
    /// What is wrong.
    pub reason: String,
}

fn broken(index: u64, reason: impl Into<String>) -> LogBroken {
    LogBroken {
        index,
        reason: reason.into(),
    }
}

/// Feeds stored log rows in index order (a page at a time is fine), then checks the
/// checkpoints with [`LogChecker::finish`].
#[derive(Debug, Default)]
pub struct LogChecker {
    tree: MerkleTree,
    entries: Vec<LogEntry>,
}

/// A log that checked: its tree and decoded entries.
#[derive(Debug)]
pub struct CheckedLog {
    /// The recomputed tree.
    pub tree: MerkleTree,
    /// Every entry, decoded, by index.
    pub entries: Vec<LogEntry>,
    /// Checkpoints checked.
    pub checkpoints: usize,
}

impl LogChecker {
    /// An empty checker.
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks the next row: its index, that it decodes and its stored leaf hash.
    pub fn push(&mut self, index: u64, entry: &[u8], stored_leaf: &[u8]) -> Result<(), LogBroken> {
        let expected = self.tree.size();
        if index != expected {
            return Err(broken(
                expected,
                format!(
                    "entry numbered {index} where {expected} was expected (a row was deleted or inserted)"
                ),
            ));
        }
        let decoded = LogEntry::decode(entry)
            .map_err(|e| broken(expected, format!("entry does not decode: {e}")))?;
        let leaf = leaf_hash(entry);
        if leaf.as_bytes().as_slice() != stored_leaf {
            return Err(broken(
                expected,
                "stored leaf hash does not match the entry",
            ));
        }
        self.tree.push_leaf_hash(leaf);
        self.entries.push(decoded);
        Ok(())
    }

    /// Checks that every signed checkpoint `(size, note)` verifies under `key` and signs
    /// this tree's root at its size, that the last one covers the whole log, and (when the
    /// store keeps one) that the stored frontier is this tree's right edge.
    pub fn finish(
        self,
        checkpoints: &[(u64, String)],
        key: &VerifierKey,
        stored_frontier: Option<&Frontier>,
    ) -> Result<CheckedLog, LogBroken> {
        let size = self.tree.size();
        for (stored_size, note) in checkpoints {
            let cp = Checkpoint::open(note.as_bytes(), key).map_err(|e| {
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
            let root = self
                .tree
                .root_at(cp.size())
                .map_err(|e| broken(cp.size(), e.to_string()))?;
            if root != *cp.root() {
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
                        size.saturating_sub(*last)
                    ),
                ));
            }
            None if size > 0 => return Err(broken(0, "no signed checkpoint")),
            None => {}
        }
        if let Some(f) = stored_frontier
            && (f.size() != size || f.root() != self.tree.root())
        {
            return Err(broken(
                size,
                "the stored tree edge (log_state.frontier) is not the log's: the next append would sign a wrong tree",
            ));
        }
        Ok(CheckedLog {
            tree: self.tree,
            entries: self.entries,
            checkpoints: checkpoints.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracemark_ledger::{Hash, Ident, KeyName, NoteSigner, UnixMillis};

    fn entry(i: u8) -> Vec<u8> {
        LogEntry::EvidenceExported {
            time: UnixMillis(i64::from(i)),
            trace: Ident::try_new("t-1").expect("ident"),
            bundle_sha256: Hash([i; 32]),
        }
        .encode()
    }

    fn signed(tree: &MerkleTree, signer: &NoteSigner) -> (u64, String) {
        let cp = Checkpoint::new(
            signer.verifier_key().name().clone(),
            tree.size(),
            tree.root(),
        )
        .sign(signer)
        .expect("sign");
        (tree.size(), cp)
    }

    #[test]
    fn a_log_with_its_checkpoints_checks_and_any_gap_or_edit_is_named() {
        let signer = NoteSigner::from_seed(KeyName::try_new("t/log").expect("name"), &[1; 32]);
        let key = signer.verifier_key();
        let rows: Vec<Vec<u8>> = (0..5).map(entry).collect();
        let mut tree = MerkleTree::new();
        let mut cps = Vec::new();
        for r in &rows {
            tree.append(r);
            cps.push(signed(&tree, &signer));
        }
        let check = |rows: &[(u64, Vec<u8>)], cps: &[(u64, String)]| {
            let mut c = LogChecker::new();
            for (i, r) in rows {
                c.push(*i, r, leaf_hash(r).as_bytes())?;
            }
            c.finish(cps, &key, Some(&Frontier::from(&tree)))
        };
        let indexed: Vec<(u64, Vec<u8>)> = rows
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, r)| (i as u64, r))
            .collect();
        assert_eq!(check(&indexed, &cps).expect("checks").entries.len(), 5);
        let mut gap = indexed.clone();
        gap.remove(2);
        assert_eq!(check(&gap, &cps).expect_err("gap").index, 2);
        let mut edited = indexed.clone();
        edited[1].1 = entry(9);
        assert!(check(&edited, &cps).is_err());
        assert!(
            check(&indexed[..4], &cps[..4]).is_err(),
            "frontier of 5 over a log of 4"
        );
        assert!(
            check(&indexed, &cps[..3]).is_err(),
            "entries after the last checkpoint"
        );
    }
}
