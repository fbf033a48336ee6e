//! Exporting evidence bundles (the format and the offline verifier are in
//! `tracemark-evidence`, which links no database).

use serde_json::Value;
use tracemark_evidence::{Bundle, BundleEntry, MAX_HTML_BYTES, encode, verify_evidence};
use tracemark_ledger::{Checkpoint, Hash, Ident, LogEntry, UnixMillis};

use crate::VaultError;
use crate::vault::Vault;

impl Vault {
    /// Exports the evidence bundle of trace `trace_id` (format in `tracemark_evidence::bundle`),
    /// with the HTML report if given (it must be UTF-8), and logs the export.
    ///
    /// Order matters: the bundle is built against the latest signed checkpoint, which
    /// covers every entry it lists, *before* the `EvidenceExported` entry (holding the
    /// bundle's SHA-256) is appended with the next checkpoint. The bundle therefore
    /// cannot prove its own export entry; that entry, and so the bundle's exact bytes,
    /// can be proven later against any newer checkpoint. The bundle is verified with
    /// [`verify_evidence`] before the export is logged, so a logged export always names
    /// a bundle that verifies.
    pub fn export_evidence(
        &self,
        trace_id: &str,
        report_html: Option<&[u8]>,
    ) -> Result<Vec<u8>, VaultError> {
        let invalid = |reason: String| VaultError::Invalid {
            what: "evidence bundle",
            reason,
        };
        let trace = self.trace_row(trace_id)?;
        let report_html = match report_html {
            Some(h) if h.len() > MAX_HTML_BYTES => {
                return Err(invalid(format!(
                    "the HTML report is {} bytes, more than {MAX_HTML_BYTES}",
                    h.len()
                )));
            }
            Some(h) => {
                let text = std::str::from_utf8(h)
                    .map_err(|e| invalid(format!("the HTML report is not UTF-8: {e}")))?;
                Some((text.to_string(), Hash::sha256(h).0))
            }
            None => None,
        };
        let report: Value = serde_json::from_str(&trace.report_json)
            .map_err(|e| invalid(format!("stored report of {trace_id} is not JSON: {e}")))?;
        let mut indices = vec![trace.log_index];
        if let Some(rec_id) = report.pointer("/recording/id").and_then(Value::as_str) {
            indices.push(self.recording(rec_id)?.log_index);
            let accused: Vec<&str> = report
                .get("accused")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.get("recipient_id")?.as_str())
                        .collect()
                })
                .unwrap_or_default();
            indices.extend(
                self.issuances_of(rec_id)?
                    .iter()
                    .filter(|i| accused.contains(&i.recipient_id.as_str()))
                    .map(|i| i.log_index),
            );
        }
        indices.sort_unstable();
        indices.dedup();

        let key = self.verifier_key();
        let note = self
            .latest_checkpoint()?
            .ok_or_else(|| invalid("the log has no signed checkpoint".into()))?;
        let checkpoint = Checkpoint::open(note.as_bytes(), &key)?;
        let log = self.log_entries()?;
        let tree = tracemark_ledger::MerkleTree::from_leaf_hashes(
            log.iter().map(|(_, e)| tracemark_ledger::leaf_hash(e)),
        );
        let mut entries = Vec::with_capacity(indices.len());
        for index in indices {
            let Some((_, entry)) = log.get(index as usize).filter(|(i, _)| *i == index) else {
                return Err(invalid(format!("log entry {index} is missing")));
            };
            let proof = tree.inclusion_proof(index, checkpoint.size())?;
            entries.push(BundleEntry {
                index,
                entry: entry.clone(),
                proof: proof.to_bytes(),
            });
        }
        let bundle = encode(&Bundle {
            trace_id: trace.id.to_string(),
            leak_sha256: trace.leak_sha256.0,
            report_json: trace.report_json.clone(),
            report_html,
            verifier_key: key.to_string(),
            checkpoint: note,
            entries,
        });
        verify_evidence(&bundle, Some(&key.to_string()))
            .map_err(|e| invalid(format!("the exported bundle does not verify: {e}")))?;
        let entry = LogEntry::EvidenceExported {
            time: UnixMillis(self.now().0),
            trace: Ident::try_new(trace.id.to_string())?,
            bundle_sha256: Hash::sha256(&bundle),
        };
        self.append(vec![tracemark_store::Draft::Event(entry)])?;
        Ok(bundle)
    }
}
