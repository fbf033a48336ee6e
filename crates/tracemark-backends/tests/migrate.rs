//! `migrate` copies a whole vault to another database and the log verifies there; the
//! same leak traces to the same verdict on both.

mod common;

use common::Backends;
use tracemark_media::{EncodeOptions, Format, Limits, decode_bytes, encode_bytes};
use tracemark_vault::Delivery;

#[test]
fn a_migrated_vault_verifies_and_traces_the_same_on_every_backend() {
    let backends = Backends::new();
    let keys = tempfile::tempdir().expect("keys");
    let source = tracemark_backends::Location::embedded(keys.path());
    let vault = source.init().expect("init");
    for n in ["Alice", "Bob", "Carol"] {
        vault.add_recipient(n, None).expect("recipient");
    }
    let rec = vault
        .ingest(&common::asset(), "call.flac", "Call")
        .expect("ingest");
    let names: Vec<String> = ["Alice", "Bob", "Carol"].map(String::from).to_vec();
    let flac = Delivery::of(Format::Flac);
    let copies = vault
        .issue(rec.id.as_str(), &names, flac, |_, _| {})
        .expect("issue");
    let carol = decode_bytes(&copies[2].bytes, Some("flac"), &Limits::default()).expect("decode");
    let rate = carol.rate().hz() as usize;
    let leak = encode_bytes(
        &carol.slice(10 * rate, 40 * rate),
        Format::Mp3,
        &EncodeOptions {
            bitrate_kbps: Some(64),
        },
    )
    .expect("mp3");
    let before = vault.trace(&leak, "leak.mp3", 1e-6).expect("trace");
    vault
        .export_evidence(before.id.as_str(), None)
        .expect("evidence");
    let source_log = vault.verify_log().expect("source verifies");
    drop(vault);

    for target_db in backends.all() {
        let target = target_db.location(keys.path());
        let migrated = tracemark_backends::migrate(&source, &target).expect("migrate");
        assert_eq!(migrated.verified, source_log, "on {}", target_db.name());
        let moved = target.open().expect("open target");
        assert_eq!(
            moved.recipients().expect("r"),
            tracemark_backends::Location::embedded(keys.path())
                .open()
                .expect("o")
                .recipients()
                .expect("r")
        );
        let after = moved
            .trace(&leak, "leak.mp3", 1e-6)
            .expect("trace on target");
        assert_eq!(after.verdict(), before.verdict(), "on {}", target_db.name());
        let p = |r: &tracemark_vault::TraceReport| {
            r.standings
                .iter()
                .map(|s| (s.name.clone(), s.corrected_p_value))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            p(&after),
            p(&before),
            "same standings on {}",
            target_db.name()
        );
        assert_eq!(
            moved
                .trace_row(before.id.as_str())
                .expect("old trace")
                .report_json,
            source
                .open()
                .expect("o")
                .trace_row(before.id.as_str())
                .expect("t")
                .report_json
        );
        moved
            .verify_log()
            .expect("target verifies after a new trace");
        // A second migration into the now non-empty target is refused.
        let again = tracemark_backends::migrate(&source, &target);
        assert!(
            again.is_err(),
            "migrating into a non-empty database must fail"
        );
    }
}

#[test]
fn a_vault_directory_with_other_keys_cannot_open_the_database() {
    let backends = Backends::new();
    for db in backends.all() {
        let keys = tempfile::tempdir().expect("keys");
        let other = tempfile::tempdir().expect("other keys");
        let owner = db.location(keys.path());
        owner
            .init()
            .expect("init")
            .add_recipient("Alice", None)
            .expect("recipient");
        tracemark_vault::Vault::create_keys(other.path()).expect("keys");
        let err = db
            .location(other.path())
            .open()
            .expect_err("other keys are refused");
        assert!(
            err.to_string().contains("not signed by the keys"),
            "{} {err}",
            db.name()
        );
        // Nothing was written: the owner's log still verifies.
        owner.open().expect("owner").verify_log().expect("verifies");
    }
}
