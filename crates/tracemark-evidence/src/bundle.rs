//! Evidence bundles: one file that lets a third party check a trace offline, with the
//! vault's public key alone.
//!
//! # Format (version 1)
//!
//! A bundle is one UTF-8 JSON document, pretty-printed in exactly the layout
//! [`encode`] writes (two-space indent, fields in this order, `\n` at the end):
//!
//! ```text
//! {
//!   "format": "tracemark-evidence",
//!   "version": 1,
//!   "trace_id": "t-1",
//!   "leak_sha256": "<64 lower-case hex>",
//!   "report_json": "<the trace report JSON, byte for byte as stored and logged>",
//!   "report_html": "<HTML report>" | null,
//!   "report_html_sha256": "<64 hex>" | null,
//!   "verifier_key": "<C2SP signed-note verifier key: name+id+base64>",
//!   "checkpoint": "<C2SP tlog-checkpoint as a signed note>",
//!   "entries": [
//!     { "index": 7, "entry": "<hex of the canonical LogEntry>", "inclusion_proof": "<hex of the binary InclusionProof>" },
//!     ...
//!   ]
//! }
//! ```
//!
//! Why JSON and not tar: every part is text or a few hundred bytes of binary, a reader can
//! open the file and see the claim, and `serde_json` is already a dependency. What tar
//! would give (raw binary members) is not needed: binary parts are small and hex-encoded.
//! To make *any* changed byte detectable, the verifier accepts only the canonical
//! encoding: it re-encodes what it parsed and requires the same bytes, so whitespace,
//! key order, escapes and number spellings cannot vary; every value is then checked by a
//! signature, an inclusion proof or a hash.
//!
//! Entries are listed in increasing log index: the trace's `TraceRecorded`, the
//! recording's `RecordingIngested` (when the trace identified one), and every `CopyIssued`
//! of that recording to an accused recipient. Each has an RFC 9162 inclusion proof
//! against the one checkpoint in the bundle.
//!
//! What binds what: the checkpoint is signed by the key; entries are bound to the
//! checkpoint by their proofs; the leak hash and the report JSON are bound to the
//! `TraceRecorded` entry (its `leak_sha256` and `report_sha256`). The HTML report is a
//! rendering of the JSON and is bound only by the hash next to it, which catches
//! corruption but not a replacement of both: the JSON is the authenticated statement.
//! The bundle as a whole is bound later, by the `EvidenceExported` entry that records its
//! SHA-256 (written by the vault when it exports the bundle).

use serde_json::Value;
use tracemark_ledger::{
    Checkpoint, Hash, InclusionProof, LedgerError, LogEntry, MAX_ENTRY_BYTES, MAX_PROOF_BYTES,
    VerifierKey, leaf_hash,
};

fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Hash::sha256(bytes).0
}

/// The `format` field of every bundle.
pub const EVIDENCE_FORMAT: &str = "tracemark-evidence";
/// The bundle version this build writes and reads.
pub const EVIDENCE_VERSION: u64 = 1;
/// Cap on a whole bundle: room for the HTML cap below, JSON escaping and the rest.
pub const MAX_BUNDLE_BYTES: usize = 48 * 1024 * 1024;
/// Cap on the HTML report (self-contained, figures inline).
pub const MAX_HTML_BYTES: usize = 16 * 1024 * 1024;
/// Cap on the report JSON: ~200 bytes per recipient standing, so ~40,000 recipients.
pub const MAX_REPORT_JSON_BYTES: usize = 8 * 1024 * 1024;
/// Cap on listed entries: trace, ingest and the accused's issuances in every format.
pub const MAX_BUNDLE_ENTRIES: usize = 4096;

/// Why a bundle failed verification; the message names the part that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvidenceError {
    /// The bundle or one of its parts is larger than this build accepts.
    #[error("evidence {what} is {actual} bytes or items, more than the limit of {limit}")]
    LimitExceeded {
        /// Which part.
        what: &'static str,
        /// Its size.
        actual: usize,
        /// The cap.
        limit: usize,
    },
    /// A part does not parse.
    #[error("evidence {part} is malformed: {reason}")]
    Malformed {
        /// Which part (`bundle`, `entries[2].entry`...).
        part: String,
        /// What was wrong.
        reason: String,
    },
    /// The bundle parses but is not in its one canonical encoding (bytes were changed).
    #[error("evidence bundle is not canonically encoded: first difference at byte {offset}")]
    NotCanonical {
        /// First byte that differs from the canonical re-encoding.
        offset: usize,
    },
    /// A bundle of another format or version.
    #[error(
        "evidence bundle is not a {EVIDENCE_FORMAT} bundle of version {EVIDENCE_VERSION}: {found}"
    )]
    UnknownVersion {
        /// What was found.
        found: String,
    },
    /// The verifier key in the bundle, or the trusted one, is not a valid key.
    #[error("evidence verifier key ({which}) is malformed: {source}")]
    BadKey {
        /// `embedded` or `trusted`.
        which: &'static str,
        /// The cause.
        source: LedgerError,
    },
    /// The bundle's key is not the trusted key.
    #[error("evidence bundle is signed by {embedded}, not by the trusted key {trusted}")]
    UntrustedKey {
        /// Key in the bundle.
        embedded: String,
        /// Key the caller trusts.
        trusted: String,
    },
    /// The checkpoint does not parse or its signature does not verify.
    #[error("evidence checkpoint fails: {0}")]
    Checkpoint(LedgerError),
    /// An entry does not decode, or its inclusion proof does not verify.
    #[error("evidence entries[{position}] (log index {index}): {what}: {source}")]
    Entry {
        /// Position in the bundle's list.
        position: usize,
        /// Its log index.
        index: u64,
        /// `entry` or `inclusion proof`.
        what: &'static str,
        /// The cause.
        source: LedgerError,
    },
    /// Verified parts contradict each other, or a required entry is missing.
    #[error("evidence {part} does not match: {reason}")]
    Mismatch {
        /// Which part.
        part: String,
        /// What disagrees.
        reason: String,
    },
}

/// What a verified bundle establishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceSummary {
    /// The trace.
    pub trace_id: String,
    /// SHA-256 of the leaked file.
    pub leak_sha256: [u8; 32],
    /// The recording the leak was identified as, if any.
    pub recording: Option<String>,
    /// Accused recipient ids, as in the report.
    pub accused: Vec<String>,
    /// Size of the signed checkpoint the entries are proven against.
    pub checkpoint_size: u64,
    /// Log entries whose inclusion was verified.
    pub entries_verified: usize,
    /// Whether an HTML report was included (and its hash checked).
    pub html_included: bool,
    /// The key that signed the checkpoint (C2SP verifier key).
    pub verifier_key: String,
}

/// One listed log entry with its proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleEntry {
    /// Its log index.
    pub index: u64,
    /// The canonical entry bytes.
    pub entry: Vec<u8>,
    /// The binary RFC 9162 inclusion proof against the bundle's checkpoint.
    pub proof: Vec<u8>,
}

/// A bundle's parts (parsed, not yet verified; or about to be encoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// The trace.
    pub trace_id: String,
    /// SHA-256 of the leaked file.
    pub leak_sha256: [u8; 32],
    /// The trace report JSON, byte for byte as logged.
    pub report_json: String,
    /// The HTML report and its SHA-256.
    pub report_html: Option<(String, [u8; 32])>,
    /// The C2SP verifier key.
    pub verifier_key: String,
    /// The signed checkpoint the proofs are against.
    pub checkpoint: String,
    /// The listed entries, in increasing index.
    pub entries: Vec<BundleEntry>,
}

fn json_str(s: &str) -> String {
    Value::from(s).to_string()
}

/// The one canonical encoding of a bundle (see the module docs).
pub fn encode(b: &Bundle) -> Vec<u8> {
    let (html, html_sha) = match &b.report_html {
        Some((h, sha)) => (json_str(h), json_str(&hex(sha))),
        None => ("null".to_string(), "null".to_string()),
    };
    let mut o = String::from("{\n");
    for (key, value) in [
        ("format", json_str(EVIDENCE_FORMAT)),
        ("version", EVIDENCE_VERSION.to_string()),
        ("trace_id", json_str(&b.trace_id)),
        ("leak_sha256", json_str(&hex(&b.leak_sha256))),
        ("report_json", json_str(&b.report_json)),
        ("report_html", html),
        ("report_html_sha256", html_sha),
        ("verifier_key", json_str(&b.verifier_key)),
        ("checkpoint", json_str(&b.checkpoint)),
    ] {
        o.push_str(&format!("  \"{key}\": {value},\n"));
    }
    o.push_str("  \"entries\": [");
    for (i, e) in b.entries.iter().enumerate() {
        o.push_str(if i == 0 { "\n" } else { ",\n" });
        o.push_str(&format!(
            "    {{ \"index\": {}, \"entry\": \"{}\", \"inclusion_proof\": \"{}\" }}",
            e.index,
            hex(&e.entry),
            hex(&e.proof)
        ));
    }
    o.push_str(if b.entries.is_empty() {
        "]\n}\n"
    } else {
        "\n  ]\n}\n"
    });
    o.into_bytes()
}

fn malformed(part: impl Into<String>, reason: impl Into<String>) -> EvidenceError {
    EvidenceError::Malformed {
        part: part.into(),
        reason: reason.into(),
    }
}

fn mismatch(part: impl Into<String>, reason: impl Into<String>) -> EvidenceError {
    EvidenceError::Mismatch {
        part: part.into(),
        reason: reason.into(),
    }
}

/// Strict lower-case hex, at most `max` decoded bytes.
fn unhex(part: &str, s: &str, max: usize) -> Result<Vec<u8>, EvidenceError> {
    if s.len() > 2 * max {
        return Err(malformed(part, format!("longer than {max} bytes")));
    }
    if !s.len().is_multiple_of(2) {
        return Err(malformed(part, "odd number of hex digits"));
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    s.as_bytes()
        .chunks_exact(2)
        .map(|p| Some(digit(p[0])? << 4 | digit(p[1])?))
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(|| malformed(part, "not lower-case hex"))
}

fn unhex32(part: &str, s: &str) -> Result<[u8; 32], EvidenceError> {
    unhex(part, s, 32)?
        .try_into()
        .map_err(|_| malformed(part, "a SHA-256 is 64 hex digits"))
}

fn string<'a>(
    obj: &'a serde_json::Map<String, Value>,
    key: &str,
) -> Result<&'a str, EvidenceError> {
    obj.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| malformed(key, "missing or not a string"))
}

/// Parses a bundle: size caps, the JSON shape, then the canonical-encoding check.
fn parse(bytes: &[u8]) -> Result<Bundle, EvidenceError> {
    if bytes.len() > MAX_BUNDLE_BYTES {
        return Err(EvidenceError::LimitExceeded {
            what: "bundle",
            actual: bytes.len(),
            limit: MAX_BUNDLE_BYTES,
        });
    }
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| malformed("bundle", e.to_string()))?;
    let obj = value
        .as_object()
        .ok_or_else(|| malformed("bundle", "not a JSON object"))?;
    if obj.get("format").and_then(Value::as_str) != Some(EVIDENCE_FORMAT)
        || obj.get("version").and_then(Value::as_u64) != Some(EVIDENCE_VERSION)
    {
        return Err(EvidenceError::UnknownVersion {
            found: format!(
                "format {}, version {}",
                obj.get("format").unwrap_or(&Value::Null),
                obj.get("version").unwrap_or(&Value::Null)
            ),
        });
    }
    let report_json = string(obj, "report_json")?.to_string();
    if report_json.len() > MAX_REPORT_JSON_BYTES {
        return Err(EvidenceError::LimitExceeded {
            what: "report_json",
            actual: report_json.len(),
            limit: MAX_REPORT_JSON_BYTES,
        });
    }
    let report_html = match (obj.get("report_html"), obj.get("report_html_sha256")) {
        (Some(Value::Null), Some(Value::Null)) => None,
        (Some(Value::String(h)), Some(Value::String(sha))) => {
            if h.len() > MAX_HTML_BYTES {
                return Err(EvidenceError::LimitExceeded {
                    what: "report_html",
                    actual: h.len(),
                    limit: MAX_HTML_BYTES,
                });
            }
            Some((h.clone(), unhex32("report_html_sha256", sha)?))
        }
        _ => {
            return Err(malformed(
                "report_html",
                "report_html and report_html_sha256 must both be strings or both null",
            ));
        }
    };
    let list = obj
        .get("entries")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed("entries", "missing or not an array"))?;
    if list.len() > MAX_BUNDLE_ENTRIES {
        return Err(EvidenceError::LimitExceeded {
            what: "entries",
            actual: list.len(),
            limit: MAX_BUNDLE_ENTRIES,
        });
    }
    let mut entries = Vec::with_capacity(list.len());
    for (i, e) in list.iter().enumerate() {
        let part = format!("entries[{i}]");
        let e = e
            .as_object()
            .ok_or_else(|| malformed(&part, "not an object"))?;
        entries.push(BundleEntry {
            index: e
                .get("index")
                .and_then(Value::as_u64)
                .ok_or_else(|| malformed(&part, "index missing or not an unsigned integer"))?,
            entry: unhex(
                &format!("{part}.entry"),
                string(e, "entry")?,
                MAX_ENTRY_BYTES,
            )?,
            proof: unhex(
                &format!("{part}.inclusion_proof"),
                string(e, "inclusion_proof")?,
                MAX_PROOF_BYTES,
            )?,
        });
    }
    let bundle = Bundle {
        trace_id: string(obj, "trace_id")?.to_string(),
        leak_sha256: unhex32("leak_sha256", string(obj, "leak_sha256")?)?,
        report_json,
        report_html,
        verifier_key: string(obj, "verifier_key")?.to_string(),
        checkpoint: string(obj, "checkpoint")?.to_string(),
        entries,
    };
    // Anything the fields above do not explain (extra keys, whitespace, escapes, order,
    // number spellings) makes the re-encoding differ.
    let canonical = encode(&bundle);
    if canonical != bytes {
        let offset = canonical
            .iter()
            .zip(bytes)
            .position(|(a, b)| a != b)
            .unwrap_or(canonical.len().min(bytes.len()));
        return Err(EvidenceError::NotCanonical { offset });
    }
    Ok(bundle)
}

/// Verifies an evidence bundle offline: no vault needed.
///
/// Checks, in order: size caps and the canonical encoding; the verifier key (which must
/// equal `trusted_key` when one is given, in C2SP verifier-key form); the checkpoint's
/// signature by that key; each entry's decoding and its inclusion proof with
/// [`Checkpoint::verify_inclusion`]; that the trace entry commits to the leak hash and
/// the report JSON; the HTML's hash; that the report's recording has its ingest entry and
/// each accused recipient a `CopyIssued` entry for that recording; that nothing else is
/// listed. The error names the first part that failed.
pub fn verify_evidence(
    bundle: &[u8],
    trusted_key: Option<&str>,
) -> Result<EvidenceSummary, EvidenceError> {
    let b = parse(bundle)?;
    let key = VerifierKey::parse(&b.verifier_key).map_err(|source| EvidenceError::BadKey {
        which: "embedded",
        source,
    })?;
    if let Some(trusted) = trusted_key {
        let trusted_key =
            VerifierKey::parse(trusted.trim()).map_err(|source| EvidenceError::BadKey {
                which: "trusted",
                source,
            })?;
        if trusted_key != key {
            return Err(EvidenceError::UntrustedKey {
                embedded: b.verifier_key.clone(),
                trusted: trusted.trim().to_string(),
            });
        }
    }
    let checkpoint =
        Checkpoint::open(b.checkpoint.as_bytes(), &key).map_err(EvidenceError::Checkpoint)?;

    let mut entries = Vec::with_capacity(b.entries.len());
    for (position, e) in b.entries.iter().enumerate() {
        let fail = |what, source| EvidenceError::Entry {
            position,
            index: e.index,
            what,
            source,
        };
        if position > 0 && e.index <= b.entries[position - 1].index {
            return Err(malformed(
                format!("entries[{position}]"),
                "entries must be listed once each, in increasing log index",
            ));
        }
        let entry = LogEntry::decode(&e.entry).map_err(|s| fail("entry", s))?;
        let proof = InclusionProof::from_bytes(&e.proof).map_err(|s| fail("inclusion proof", s))?;
        if proof.leaf_index() != e.index {
            return Err(fail(
                "inclusion proof",
                LedgerError::InvalidField {
                    field: "leaf index",
                    reason: "the proof is for another log index",
                },
            ));
        }
        checkpoint
            .verify_inclusion(&leaf_hash(&e.entry), &proof)
            .map_err(|s| fail("inclusion proof", s))?;
        entries.push(entry);
    }
    check_claims(&b, &entries).map(|(recording, accused)| EvidenceSummary {
        trace_id: b.trace_id.clone(),
        leak_sha256: b.leak_sha256,
        recording,
        accused,
        checkpoint_size: checkpoint.size(),
        entries_verified: entries.len(),
        html_included: b.report_html.is_some(),
        verifier_key: b.verifier_key.clone(),
    })
}

/// The report's claims against the proven entries: returns (recording, accused).
fn check_claims(
    b: &Bundle,
    entries: &[LogEntry],
) -> Result<(Option<String>, Vec<String>), EvidenceError> {
    let mut used = vec![false; entries.len()];
    let trace = entries.iter().position(
        |e| matches!(e, LogEntry::TraceRecorded { trace, .. } if trace.as_str() == b.trace_id),
    );
    let Some(t) = trace else {
        return Err(mismatch(
            "entries",
            format!("no TraceRecorded entry for trace {:?}", b.trace_id),
        ));
    };
    used[t] = true;
    if let LogEntry::TraceRecorded {
        leak_sha256,
        report_sha256,
        ..
    } = &entries[t]
    {
        if leak_sha256.0 != b.leak_sha256 {
            return Err(mismatch(
                "leak_sha256",
                "differs from the trace's log entry",
            ));
        }
        if report_sha256.0 != sha256(b.report_json.as_bytes()) {
            return Err(mismatch(
                "report_json",
                "its SHA-256 differs from the report hash in the trace's log entry",
            ));
        }
    }
    if let Some((html, sha)) = &b.report_html
        && sha256(html.as_bytes()) != *sha
    {
        return Err(mismatch(
            "report_html",
            "its SHA-256 differs from report_html_sha256",
        ));
    }

    let report: Value = serde_json::from_str(&b.report_json)
        .map_err(|e| malformed("report_json", e.to_string()))?;
    let field = |path: &str| report.pointer(path).and_then(Value::as_str);
    if field("/trace_id") != Some(b.trace_id.as_str()) {
        return Err(mismatch("report_json", "its trace_id is not the bundle's"));
    }
    if field("/leak/sha256") != Some(hex(&b.leak_sha256).as_str()) {
        return Err(mismatch(
            "report_json",
            "its leak.sha256 is not the bundle's",
        ));
    }
    let recording = match report.get("recording") {
        Some(Value::Null) => None,
        Some(r) => {
            let (Some(id), Some(sha)) = (
                r.get("id").and_then(Value::as_str),
                r.get("sha256").and_then(Value::as_str),
            ) else {
                return Err(malformed("report_json", "recording without id and sha256"));
            };
            let i = entries.iter().position(|e| {
                matches!(e,
                LogEntry::RecordingIngested { recording, content_sha256, .. }
                    if recording.as_str() == id && hex(&content_sha256.0) == sha)
            });
            let i = i.ok_or_else(|| {
                mismatch(
                    "entries",
                    format!("no RecordingIngested entry for {id} with the report's hash"),
                )
            })?;
            used[i] = true;
            Some(id.to_string())
        }
        None => return Err(malformed("report_json", "no recording field")),
    };
    let accused_list = report
        .get("accused")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed("report_json", "no accused list"))?;
    let mut accused = Vec::with_capacity(accused_list.len());
    for a in accused_list {
        let id = a
            .get("recipient_id")
            .and_then(Value::as_str)
            .ok_or_else(|| malformed("report_json", "accused entry without recipient_id"))?;
        let Some(rec) = recording.as_deref() else {
            return Err(mismatch("report_json", "accuses without a recording"));
        };
        let mut found = false;
        for (i, e) in entries.iter().enumerate() {
            if matches!(e, LogEntry::CopyIssued { recording, recipient, .. }
                if recording.as_str() == rec && recipient.as_str() == id)
            {
                used[i] = true;
                found = true;
            }
        }
        if !found {
            return Err(mismatch(
                "entries",
                format!("accused recipient {id} has no CopyIssued entry for {rec}"),
            ));
        }
        accused.push(id.to_string());
    }
    if let Some(i) = used.iter().position(|u| !u) {
        return Err(mismatch(
            format!("entries[{i}]"),
            "an entry the report does not call for is listed",
        ));
    }
    Ok((recording, accused))
}
