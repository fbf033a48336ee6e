//! One tiny trial of every target, end to end through the binary.

use std::path::Path;
use std::process::Command;

#[test]
fn a_tiny_run_measures_every_target_and_writes_its_report() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    if !corpus.join("call-en-8k.flac").exists() {
        eprintln!("corpus missing; skipped");
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("tracing.md");
    let status = Command::new(env!("CARGO_BIN_EXE_tracemark-tracebench"))
        .args([
            "--seconds",
            "62",
            "--recipients",
            "3",
            "--colluder-recipients",
            "3",
            "--trials",
            "1",
            "--innocent-traces",
            "4",
            "--observations",
            "2",
            "--sim-traces",
            "4",
            "--sim-innocents",
            "10",
            "--speed-reps",
            "1",
        ])
        .arg("--out")
        .arg(&out)
        .status()
        .expect("run the bench");
    assert!(status.success());
    let text = std::fs::read_to_string(&out).expect("report");
    for heading in [
        "## Guilty named",
        "## Authenticity map",
        "## Speed",
        "## Innocents",
    ] {
        assert!(text.contains(heading), "{heading} missing:\n{text}");
    }
}
