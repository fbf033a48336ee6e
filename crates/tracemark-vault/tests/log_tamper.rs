//! `verify_log` catches every edit, deletion, insertion and reordering made directly in
//! the database behind the log's back.

mod common;

use std::path::{Path, PathBuf};

use tracemark_vault::VaultError;

fn demo_audio() -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/call-en-8k-excerpt.flac");
    std::fs::read(path).expect("the committed demo recording")
}

fn fixed_clock() -> i64 {
    1_764_000_000_000
}

/// A vault with three recipients and one recording.
fn populated(dir: &Path) {
    let v = common::init_with_clock(dir, fixed_clock).expect("init");
    for name in ["Alice", "Bob", "Carol"] {
        v.add_recipient(name, None).expect("recipient");
    }
    v.ingest(&demo_audio(), "call.flac", "Demo call")
        .expect("ingest");
    let report = v.verify_log().expect("a fresh vault verifies");
    // Three recipient statements, the ingest and the recording's statement.
    assert_eq!(report.entries, 5);
    assert_eq!(report.records, 4);
}

fn tampered(
    base: &Path,
    work: &Path,
    name: &str,
    sql: &str,
) -> Result<tracemark_vault::LogReport, VaultError> {
    let dir: PathBuf = work.join(name);
    tracemark_testkit::copy_dir(base, &dir);
    let conn = rusqlite::Connection::open(dir.join("vault.db")).expect("open db");
    conn.execute_batch(sql).expect("tamper");
    drop(conn);
    common::open(&dir).expect("open").verify_log()
}

#[test]
fn every_kind_of_tampering_is_caught() {
    let base = tempfile::tempdir().expect("tmp");
    populated(base.path());
    let work = tempfile::tempdir().expect("tmp");
    let cases = [
        (
            "edit-recipient",
            "UPDATE recipients SET name = 'Mallory' WHERE id = 'r-2';",
        ),
        (
            "edit-email",
            "UPDATE recipients SET email = 'x@y.z' WHERE id = 'r-1';",
        ),
        (
            "edit-recording-hash",
            "UPDATE recordings SET sha256 = zeroblob(32);",
        ),
        (
            "delete-recipient",
            "DELETE FROM recipients WHERE id = 'r-1';",
        ),
        ("delete-last-entry", "DELETE FROM log WHERE idx = 4;"),
        ("delete-middle-entry", "DELETE FROM log WHERE idx = 1;"),
        (
            "edit-entry",
            "UPDATE log SET entry = (SELECT entry FROM log WHERE idx = 0), leaf_hash = (SELECT leaf_hash FROM log WHERE idx = 0) WHERE idx = 1;",
        ),
        (
            "reorder-entries",
            "UPDATE log SET idx = 100 WHERE idx = 1; UPDATE log SET idx = 1 WHERE idx = 2; UPDATE log SET idx = 2 WHERE idx = 100;",
        ),
        (
            "insert-entry",
            "INSERT INTO log (idx, entry, leaf_hash) SELECT 5, entry, leaf_hash FROM log WHERE idx = 0;",
        ),
        (
            "insert-recipient",
            "INSERT INTO recipients (id, name, email, created_at, log_index) VALUES ('r-9', 'Eve', NULL, 0, 3);",
        ),
        (
            "insert-unlogged-recipient",
            "INSERT INTO recipients (id, name, email, created_at, log_index) VALUES ('r-9', 'Eve', NULL, 0, 99);",
        ),
        ("drop-checkpoints", "DELETE FROM checkpoints;"),
    ];
    for (name, sql) in cases {
        match tampered(base.path(), work.path(), name, sql) {
            Err(VaultError::LogBroken(b)) => {
                eprintln!("{name}: caught at entry {}: {}", b.index, b.reason)
            }
            Err(other) => eprintln!("{name}: caught: {other}"),
            Ok(report) => panic!("{name}: tampering not caught: {report:?}"),
        }
    }
}

#[test]
fn an_untouched_vault_verifies_after_reopening() {
    let dir = tempfile::tempdir().expect("tmp");
    populated(dir.path());
    let v = common::open(dir.path()).expect("reopen");
    assert_eq!(v.verify_log().expect("verifies").entries, 5);
    assert!(v.latest_checkpoint().expect("checkpoint").is_some());
}

#[test]
fn ingest_is_idempotent_and_originals_round_trip() {
    let dir = tempfile::tempdir().expect("tmp");
    let v = common::init(dir.path()).expect("init");
    let bytes = demo_audio();
    let a = v.ingest(&bytes, "call.flac", "Demo").expect("ingest");
    let b = v.ingest(&bytes, "call.flac", "Demo again").expect("ingest");
    assert_eq!(a, b);
    assert_eq!(v.original_bytes(&a).expect("original"), bytes);
    assert!((a.duration_s - 60.0).abs() < 0.01);
    // The original is not stored in clear.
    let sealed = std::fs::read(
        dir.path()
            .join("originals")
            .join(format!("{}.sealed", a.id)),
    )
    .expect("blob");
    assert!(!sealed.windows(4).any(|w| w == b"fLaC"));
}

#[test]
fn bad_input_gets_clear_errors() {
    let dir = tempfile::tempdir().expect("tmp");
    let v = common::init(dir.path()).expect("init");
    assert!(matches!(
        v.ingest(b"not audio at all", "x.wav", "t"),
        Err(VaultError::Media(_))
    ));
    assert!(matches!(
        v.add_recipient("", None),
        Err(VaultError::Invalid { .. })
    ));
    v.add_recipient("Alice", None).expect("alice");
    assert!(matches!(
        v.add_recipient("Alice", None),
        Err(VaultError::Duplicate { .. })
    ));
    assert!(matches!(
        common::init(dir.path()),
        Err(VaultError::AlreadyExists { .. })
    ));
    assert!(matches!(
        common::open(&dir.path().join("nothing")),
        Err(VaultError::NotAVault { .. })
    ));
    v.verify_log().expect("failed operations logged nothing");
}

#[test]
fn a_copy_rendered_again_that_is_not_the_logged_one_is_refused() {
    // Issuing again renders the copy again and returns the issuance the log holds: if the
    // two differ (here the row's hash is edited; in life another release could mark or
    // encode differently), the file must not be handed out as the issued copy.
    let dir = tempfile::tempdir().expect("tmp");
    populated(dir.path());
    let v = common::open(dir.path()).expect("open");
    let rec = v.recordings().expect("recordings").remove(0);
    let flac = tracemark_vault::Delivery::parse("flac").expect("flac");
    let first = v
        .issue(rec.id.as_str(), &["Alice".to_string()], flac, |_, _| {})
        .expect("issue");
    let again = v
        .issue(rec.id.as_str(), &["Alice".to_string()], flac, |_, _| {})
        .expect("the same copy again");
    assert!(again[0].reissued && again[0].bytes == first[0].bytes);
    drop(v);
    let conn = rusqlite::Connection::open(dir.path().join("vault.db")).expect("open db");
    conn.execute_batch("UPDATE issuances SET copy_sha256 = zeroblob(32);")
        .expect("edit");
    drop(conn);
    let v = common::open(dir.path()).expect("open");
    match v.issue(rec.id.as_str(), &["Alice".to_string()], flac, |_, _| {}) {
        Err(e @ VaultError::CopyDiffers { .. }) => {
            let text = e.to_string();
            assert!(
                text.contains("\"Alice\"") && text.contains(&"0".repeat(64)),
                "{text}"
            );
        }
        other => panic!("expected CopyDiffers, got {other:?}"),
    }
}

#[test]
fn an_original_that_no_longer_decodes_is_the_vaults_fault_by_name() {
    // The vault's limits lowered below a stored recording's length: issuing it fails on
    // the stored original (not as if the request's audio were bad), naming the recording.
    let dir = tempfile::tempdir().expect("tmp");
    populated(dir.path());
    let mut v = common::open(dir.path()).expect("open");
    let rec = v.recordings().expect("recordings").remove(0);
    v.set_limits(tracemark_media::Limits {
        max_bytes: 1 << 30,
        max_duration_s: 10.0,
    });
    let flac = tracemark_vault::Delivery::parse("flac").expect("flac");
    match v.issue(rec.id.as_str(), &["Alice".to_string()], flac, |_, _| {}) {
        Err(e @ VaultError::StoredMedia { .. }) => {
            assert!(e.to_string().contains(rec.id.as_str()), "{e}");
        }
        other => panic!("expected StoredMedia, got {other:?}"),
    }
}
