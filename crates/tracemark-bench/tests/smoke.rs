//! Smoke test: one cell (a synthetic clip, one attack, both modes) through the real binary,
//! checking the structure of what it writes. CI does not run the full benchmark.

use std::path::Path;
use std::process::Command;

use tracemark_dsp::{AudioBuffer, SampleRate};
use tracemark_media::{EncodeOptions, Format, encode_file};

/// 20 s of speech-like noise (syllable-rate modulated), so the test needs no corpus.
fn synthetic_clip(path: &Path) {
    let rate = 8_000u32;
    let mut s = 12_345u32;
    let mut lp = 0.0f32;
    let samples: Vec<f32> = (0..rate * 20)
        .map(|i| {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let white = (s >> 8) as f32 / 16_777_216.0 - 0.5;
            lp = 0.9 * lp + 0.1 * white;
            let t = i as f32 / rate as f32;
            (white * 0.3 + lp * 2.0)
                * (0.55 + 0.45 * (2.0 * std::f32::consts::PI * 4.0 * t).sin())
                * 0.5
        })
        .collect();
    let audio =
        AudioBuffer::mono(SampleRate::try_new(rate).expect("rate"), samples).expect("buffer");
    encode_file(&audio, path, Format::Wav, &EncodeOptions::default()).expect("write clip");
}

#[test]
fn one_cell_writes_markdown_json_and_svg_with_both_modes() {
    let dir = tempfile::tempdir().expect("temp dir");
    synthetic_clip(&dir.path().join("speech-smoke.wav"));
    let out = dir.path().join("out");
    let status = Command::new(env!("CARGO_BIN_EXE_tracemark-bench"))
        .args([
            "robustness",
            "--file",
            "speech-smoke.wav",
            "--attack",
            "noise-20dB",
        ])
        .args([
            "--seeds",
            "1",
            "--fp-trials",
            "2",
            "--threads",
            "1",
            "--no-speed",
            "--no-visqol",
        ])
        .arg("--corpus")
        .arg(dir.path())
        .arg("--out")
        .arg(&out)
        .status()
        .expect("run tracemark-bench");
    assert!(status.success());

    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("robustness.json")).expect("json written"),
    )
    .expect("valid JSON");
    let cells = json["cells"].as_array().expect("cells");
    assert_eq!(cells.len(), 2, "one cell, two modes");
    let modes: Vec<&str> = cells.iter().filter_map(|c| c["mode"].as_str()).collect();
    assert_eq!(modes, ["blind", "informed"]);
    for c in cells {
        assert_eq!(c["attack"], "noise-20dB");
        assert_eq!(c["status"], "ok");
        assert!(c["payload_exact"].is_boolean() && c["detected"].is_boolean());
        assert!(c["p_value"].is_number());
    }
    assert_eq!(json["summary"].as_array().map(Vec::len), Some(2));
    assert_eq!(json["false_positives"]["trials"], 2);
    assert!(
        json["quality"][0]["snr_db"]
            .as_f64()
            .is_some_and(|v| v > 20.0)
    );
    assert!(json["quality"][0]["pesq_wb"].is_number());

    let md = std::fs::read_to_string(out.join("robustness.md")).expect("markdown written");
    for heading in [
        "## Recovery per attack and mode",
        "## Quality",
        "## False positives",
    ] {
        assert!(md.contains(heading), "{heading} missing");
    }
    assert!(md.contains("| noise-20dB |"));
    assert!(md.contains("cargo run --release -p tracemark-bench -- robustness"));
    let svg = std::fs::read_to_string(out.join("robustness.svg")).expect("svg written");
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
}
