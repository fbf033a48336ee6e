//! A vault made by the release before the storage traits (d429cb6, schema 2: one
//! fingerprint blob, recipients committed by one record hash, no column statements) opens,
//! upgrades in place once, verifies, traces its issued copy as before, and from then on
//! catches edits that the old release could not.

mod common;

use std::path::Path;

use tracemark_backends::Location;

fn data(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

#[test]
fn a_vault_of_the_previous_release_upgrades_in_place_and_traces_as_before() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("vault");
    tracemark_testkit::copy_dir(&data("legacy-vault"), &dir);
    let here = Location::embedded(&dir);

    let vault = here.open().expect("the legacy vault opens");
    let report = vault.verify_log().expect("and verifies after the upgrade");
    // 3 recipients, 1 ingest, 2 copies and 1 trace were logged by the old release; the
    // upgrade states the columns of the 1 recording and the 3 recipients.
    assert_eq!(report.entries, 7 + 4);
    assert_eq!(report.records, 3 + 1 + 2 + 1);
    drop(vault);
    assert_eq!(
        here.open()
            .expect("reopens")
            .verify_log()
            .expect("verifies")
            .entries,
        11,
        "the upgrade runs once"
    );

    let vault = here.open().expect("open");
    let names: Vec<String> = vault
        .recipients()
        .expect("list")
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(names, ["Envoy office", "Aide office", "Interpreter"]);
    let leak = std::fs::read(data("legacy-vault-leak-aide.flac")).expect("leak");
    let trace = vault.trace(&leak, "leak.flac", 1e-6).expect("trace");
    let accused: Vec<&str> = trace.accused().map(|s| s.name.as_str()).collect();
    assert_eq!(accused, ["Aide office"], "{}", trace.verdict());
    assert_eq!(trace.identified_by, "fingerprint");
    let rec = trace.recording.as_ref().expect("recording").id.clone();

    // Renaming is an event; an edit behind the log's back is now caught and named.
    vault.retitle(&rec, "Legacy call, renamed").expect("rename");
    vault.verify_log().expect("a logged rename verifies");
    drop(vault);
    rusqlite::Connection::open(dir.join("vault.db"))
        .expect("db")
        .execute("UPDATE recordings SET title = 'Forged title'", [])
        .expect("tamper");
    let err = here.open().expect("open").verify_log().expect_err("caught");
    assert!(
        err.to_string().contains("recordings row") && err.to_string().contains("column title"),
        "{err}"
    );
}
