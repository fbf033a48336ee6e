//! Evidence bundles: a traced leak exports a bundle that verifies offline with the public
//! key alone, and any changed bit, a wrong key or a truncation makes verification fail
//! with a message naming the failing part.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use tracemark_evidence::{EvidenceError, verify_evidence};
use tracemark_ledger::LogEntry;
use tracemark_media::{EncodeOptions, Format, Limits, decode_bytes, encode_bytes};
use tracemark_vault::{Delivery, Vault};

fn sha256(bytes: &[u8]) -> [u8; 32] {
    tracemark_vault::Sha256::digest(bytes).0
}

const NAMES: [&str; 4] = ["Alice", "Bob", "Carol", "Dave"];
const HTML: &str = "<!doctype html><title>Trace t-1</title><p>Bob’s copy — p ≤ 1e-6</p>\n";

/// A vault with one recording issued to four recipients, and Bob's copy leaked as a
/// 20 s MP3 and traced. Returns the vault and the trace id.
fn traced_leak(dir: &Path) -> (Vault, String) {
    let vault = common::init(dir).expect("init");
    for n in NAMES {
        vault.add_recipient(n, None).expect("recipient");
    }
    let audio = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/call-en-8k-excerpt.flac"),
    )
    .expect("asset");
    let rec = vault.ingest(&audio, "call.flac", "Call").expect("ingest");
    let names: Vec<String> = NAMES.iter().map(|s| s.to_string()).collect();
    let delivery = Delivery::of(Format::Flac);
    let copies = vault
        .issue(rec.id.as_str(), &names, delivery, |_, _| {})
        .expect("issue");
    let bob = decode_bytes(&copies[1].bytes, Some("flac"), &Limits::default()).expect("decode");
    let rate = bob.rate().hz() as usize;
    let cut = bob.slice(10 * rate, 30 * rate);
    let leak = encode_bytes(
        &cut,
        Format::Mp3,
        &EncodeOptions {
            bitrate_kbps: Some(64),
        },
    )
    .expect("mp3");
    let report = vault.trace(&leak, "leak.mp3", 1e-6).expect("trace");
    let accused: Vec<&str> = report.accused().map(|s| s.name.as_str()).collect();
    assert_eq!(accused, vec!["Bob"], "{}", report.verdict());
    (vault, report.id.to_string())
}

fn variant(e: &EvidenceError) -> &'static str {
    match e {
        EvidenceError::LimitExceeded { .. } => "LimitExceeded",
        EvidenceError::Malformed { .. } => "Malformed",
        EvidenceError::NotCanonical { .. } => "NotCanonical",
        EvidenceError::UnknownVersion { .. } => "UnknownVersion",
        EvidenceError::BadKey { .. } => "BadKey",
        EvidenceError::UntrustedKey { .. } => "UntrustedKey",
        EvidenceError::Checkpoint(_) => "Checkpoint",
        EvidenceError::Entry { .. } => "Entry",
        EvidenceError::Mismatch { .. } => "Mismatch",
        _ => "other",
    }
}

#[test]
fn exported_bundle_verifies_offline_and_every_flipped_bit_is_caught() {
    let dir = tempfile::tempdir().expect("tmp");
    let (vault, trace_id) = traced_leak(dir.path());
    let key = vault.verifier_key().to_string();
    let size_before = vault.verify_log().expect("log").entries;
    let bundle = vault
        .export_evidence(&trace_id, Some(HTML.as_bytes()))
        .expect("export");
    if let Some(out) = std::env::var_os("TRACEMARK_EVIDENCE_SAMPLE") {
        std::fs::write(out, &bundle).expect("write sample bundle");
    }

    // The export is logged after the checkpoint the bundle proves against.
    let log = vault.verify_log().expect("log verifies after export");
    assert_eq!(log.entries, size_before + 1);
    let entries = vault.log_entries().expect("entries");
    let last = LogEntry::decode(&entries.last().expect("an entry").1).expect("decode");
    match last {
        LogEntry::EvidenceExported {
            trace,
            bundle_sha256,
            ..
        } => {
            assert_eq!(trace.as_str(), trace_id);
            assert_eq!(bundle_sha256.0, sha256(&bundle));
        }
        other => panic!("last entry is {other:?}"),
    }

    // Offline: no vault, the embedded key or the trusted one.
    drop(vault);
    let summary = verify_evidence(&bundle, None).expect("bundle verifies");
    assert_eq!(
        verify_evidence(&bundle, Some(&key)).expect("trusted"),
        summary
    );
    assert_eq!(summary.trace_id, trace_id);
    assert_eq!(summary.accused, vec!["r-2".to_string()]);
    assert!(summary.recording.is_some());
    assert_eq!(summary.checkpoint_size, size_before);
    assert_eq!(summary.entries_verified, 3, "trace, ingest, Bob's issuance");
    assert!(summary.html_included);

    // Every byte position, one bit each (the bit index rotates with the position), plus
    // all eight bits of every byte outside the long report strings.
    let text = String::from_utf8(bundle.clone()).expect("utf-8");
    let report_span = |key: &str| {
        let start = text.find(&format!("\"{key}\": \"")).expect("field");
        let end = start + text[start..].find("\",\n").expect("end");
        start + key.len() + 5..end
    };
    let (json_span, html_span) = (report_span("report_json"), report_span("report_html"));
    let mut variants: BTreeMap<&str, usize> = BTreeMap::new();
    let mut flips = 0usize;
    for pos in 0..bundle.len() {
        let all_bits = !json_span.contains(&pos) && !html_span.contains(&pos);
        let bits: Vec<u8> = if all_bits {
            (0..8).collect()
        } else {
            vec![(pos % 8) as u8]
        };
        for bit in bits {
            let mut bad = bundle.clone();
            bad[pos] ^= 1 << bit;
            let err = verify_evidence(&bad, None).expect_err(&format!(
                "bit {bit} of byte {pos} flipped and still verified"
            ));
            assert!(err.to_string().starts_with("evidence"), "{err}");
            *variants.entry(variant(&err)).or_default() += 1;
            flips += 1;
        }
    }
    eprintln!(
        "bundle {} bytes: {flips} single-bit flips, all rejected: {variants:?}",
        bundle.len()
    );
    assert!(flips >= bundle.len());

    // Truncation, extension, wrong key, wrong kind of key.
    for cut in [0, 1, bundle.len() / 2, bundle.len() - 1] {
        assert!(verify_evidence(&bundle[..cut], None).is_err());
    }
    let mut longer = bundle.clone();
    longer.push(b'\n');
    assert!(matches!(
        verify_evidence(&longer, None),
        Err(EvidenceError::NotCanonical { .. })
    ));
    let other = tempfile::tempdir().expect("tmp");
    let other_key = common::init(other.path())
        .expect("other vault")
        .verifier_key()
        .to_string();
    let err = verify_evidence(&bundle, Some(&other_key)).expect_err("wrong key accepted");
    assert!(matches!(err, EvidenceError::UntrustedKey { .. }), "{err}");
    assert!(matches!(
        verify_evidence(&bundle, Some("not a key")),
        Err(EvidenceError::BadKey { .. })
    ));
}

#[test]
fn bundle_without_html_or_accused_verifies_and_lists_only_what_the_report_needs() {
    let dir = tempfile::tempdir().expect("tmp");
    let vault = common::init(dir.path()).expect("init");
    vault.add_recipient("Alice", None).expect("recipient");
    let audio = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/call-en-8k-excerpt.flac"),
    )
    .expect("asset");
    let clip = {
        let a = decode_bytes(&audio, Some("flac"), &Limits::default()).expect("decode");
        let rate = a.rate().hz() as usize;
        encode_bytes(
            &a.slice(0, 15 * rate),
            Format::Flac,
            &EncodeOptions::default(),
        )
        .expect("flac")
    };
    vault.ingest(&clip, "clip.flac", "Clip").expect("ingest");
    // The unmarked original: identified, nobody accused.
    let report = vault.trace(&clip, "clip.flac", 1e-6).expect("trace");
    assert_eq!(report.accused().count(), 0);
    let bundle = vault
        .export_evidence(report.id.as_str(), None)
        .expect("export");
    let summary = verify_evidence(&bundle, None).expect("verifies");
    assert!(summary.accused.is_empty() && !summary.html_included);
    assert_eq!(summary.entries_verified, 2, "trace and ingest");
    assert!(
        vault.export_evidence("t-99", None).is_err(),
        "unknown trace exported"
    );
    vault.verify_log().expect("log verifies");
}
