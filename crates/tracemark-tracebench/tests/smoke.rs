//! One tiny trial of every target, end to end through the binary.

use std::path::{Path, PathBuf};
use std::process::Command;

use tracemark_media::{EncodeOptions, Format, encode_file};

/// The files the binary reads, and the span of the committed excerpt that stands in for each
/// where the shared corpus is absent (the call is the excerpt's whole minute).
const READ: [(&str, (f64, f64)); 4] = [
    ("call-en-8k.flac", (0.0, 60.0)),
    ("librivox-en-16k.flac", (20.0, 44.0)),
    ("music-8k-morning-coffee.flac", (0.0, 30.0)),
    ("arctic-a0007-16k.flac", (50.0, 54.0)),
];

/// The shared corpus, or a directory of stand-ins cut from the committed excerpt (real
/// speech; `tracemark-testkit` says so on stderr), written as FLAC where the binary looks.
fn corpus(scratch: &Path) -> PathBuf {
    let shared = tracemark_testkit::corpus_dir();
    if READ.iter().all(|(name, _)| shared.join(name).is_file()) {
        return shared;
    }
    let dir = scratch.join("corpus");
    std::fs::create_dir_all(&dir).expect("stand-in corpus dir");
    for (name, span) in READ {
        let audio = tracemark_testkit::corpus_or_excerpt(name, f64::INFINITY, span);
        encode_file(
            &audio,
            &dir.join(name),
            Format::Flac,
            &EncodeOptions::default(),
        )
        .expect("write stand-in");
    }
    dir
}

#[test]
fn a_tiny_run_measures_every_target_and_writes_its_report() {
    let dir = tempfile::tempdir().expect("tmp");
    let corpus = corpus(dir.path());
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
        .arg("--corpus")
        .arg(&corpus)
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
