//! Issue 15's figures for wide distributions: importing N recipients, issuing a recording
//! to all of them without rendering a copy, rendering one copy, tracing a 20 s MP3 64k
//! clip of it against all N, and `log verify`, each with its peak memory; the same steps
//! at a small baseline (N / 100) in the same process first, so the ratios say how each
//! step scales.
//!
//! `cargo run --release -p tracemark-storebench --example recipients_scale -- [N]`
//! (default 100,000), on the embedded default (SQLite, local blobs), the corpus call.
//!
//! Peak memory is the process's resident high-water mark (`VmHWM`), reset before each
//! step by writing 5 to `/proc/self/clear_refs` (Linux 4.0+), so each figure is that
//! step's own peak.

mod common;

use common::{Step, reset_peak, step, vault};
use tracemark_media::{EncodeOptions, Format, encode_bytes};
use tracemark_vault::{DEFAULT_BOUND, Delivery};

/// One run at `n` recipients: the steps' times and peaks.
fn run(n: usize, call: &[u8]) -> Vec<Step> {
    let dir = tempfile::tempdir().expect("tmp");
    let v = vault(dir.path());
    let mut steps = Vec::new();
    let rows: Vec<(String, Option<String>)> = (0..n)
        .map(|i| (format!("Post {i:06}"), Some(format!("post{i}@example.org"))))
        .collect();
    step(&mut steps, "import recipients (one transaction)", || {
        v.add_recipients_with_email(&rows).expect("import")
    });
    let rec = v.ingest(call, "call.flac", "Call").expect("ingest");
    let done = step(&mut steps, "issue --all --no-copies", || {
        v.assign_codewords(rec.id.as_str(), None, |_, _| {})
            .expect("assign")
    });
    assert_eq!(done.assigned, n);
    let leaker = format!("Post {:06}", n / 3);
    let mut copy = Vec::new();
    step(&mut steps, "render one copy (flac)", || {
        v.render(
            rec.id.as_str(),
            std::slice::from_ref(&leaker),
            Delivery::parse("flac").expect("flac"),
            |_, _, c| {
                copy = c.bytes;
                Ok(())
            },
        )
        .expect("render")
    });
    // The leak: 20 s of the copy from 10 s in, as MP3 64k.
    let audio =
        tracemark_media::decode_bytes(&copy, Some("flac"), &Default::default()).expect("decode");
    let rate = audio.rate().hz() as usize;
    let clip = encode_bytes(
        &audio.slice(10 * rate, 30 * rate),
        Format::Mp3,
        &EncodeOptions {
            bitrate_kbps: Some(64),
        },
    )
    .expect("mp3");
    let report = step(&mut steps, "trace a 20 s MP3 64k clip", || {
        v.trace(&clip, "leak.mp3", DEFAULT_BOUND).expect("trace")
    });
    let accused: Vec<&str> = report.accused().map(|s| s.name.as_str()).collect();
    assert_eq!(accused, vec![leaker.as_str()], "{}", report.verdict());
    eprintln!(
        "  n = {n}: accused {leaker} at p <= {:.1e} among {} scored",
        report.standings[0].corrected_p_value, report.recipients_scored
    );
    step(&mut steps, "log verify", || v.verify_log().expect("verify"));
    steps
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("N, a count"))
        .unwrap_or(100_000);
    let call = std::fs::read(tracemark_testkit::excerpt_path()).expect("the corpus call");
    if !reset_peak() {
        eprintln!("note: /proc/self/clear_refs is not writable; peaks are cumulative");
    }
    let base_n = (n / 100).max(10);
    eprintln!("baseline: {base_n} recipients");
    let base = run(base_n, &call);
    eprintln!("run: {n} recipients");
    let big = run(n, &call);
    println!("| step | {base_n} recipients | {n} recipients | ratio | peak RSS at {n} |");
    println!("|---|---|---|---|---|");
    for (b, s) in base.iter().zip(&big) {
        println!(
            "| {} | {:.3} s | {:.3} s | {:.1}x | {:.0} MB |",
            s.name,
            b.seconds,
            s.seconds,
            s.seconds / b.seconds,
            s.peak_mb
        );
    }
}
