//! Issue 15's index figures: ingest cost as the vault grows to N recordings, and how long
//! identifying a 10 s MP3 clip takes among them, against the same in a vault of one.
//!
//! `cargo run --release -p tracemark-storebench --example index_scale -- [N] [SECONDS]`
//! (defaults 200 and 60).
//!
//! The recordings are synthetic (random melodies of harmonic notes and pauses, a different
//! seed each, 16 kHz) except one, the corpus call, which the clip is cut from: the corpus
//! holds nowhere near 200 minutes of distinct speech, and slices of one speaker's
//! recording would overlap in content. Each is 60 s unless told otherwise.

mod common;

use std::time::Instant;

use common::{melody, vault, wav};
use tracemark_media::{EncodeOptions, Format, encode_bytes};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(200);
    let seconds: f64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(60.0);
    let call = tracemark_testkit::corpus_or_excerpt("call-en-8k.flac", seconds, (0.0, 60.0));
    let call_wav = wav(&call);
    let rate = call.rate().hz() as usize;
    let clip = encode_bytes(
        &call.slice(20 * rate, 30 * rate),
        Format::Mp3,
        &EncodeOptions {
            bitrate_kbps: Some(64),
        },
    )
    .expect("mp3");
    let target = n * 3 / 4;

    // Baseline: the clip identified in a vault holding its recording alone.
    let one = tempfile::tempdir().expect("tmp");
    let v1 = vault(one.path());
    let rec1 = v1.ingest(&call_wav, "call.wav", "Call").expect("ingest");
    let baseline = median(
        (0..5)
            .map(|_| {
                let t0 = Instant::now();
                let r = v1.trace(&clip, "clip.mp3", 1e-6).expect("trace");
                assert_eq!(r.recording.map(|r| r.id), Some(rec1.id.clone()));
                t0.elapsed().as_secs_f64()
            })
            .collect(),
    );

    let dir = tempfile::tempdir().expect("tmp");
    let v = vault(dir.path());
    let mut ingest_s = Vec::with_capacity(n);
    let mut target_id = None;
    for k in 0..n {
        let bytes = if k == target {
            call_wav.clone()
        } else {
            wav(&melody(k as u64 + 1, seconds, 16_000))
        };
        let t0 = Instant::now();
        let r = v
            .ingest(&bytes, "r.wav", &format!("Recording {k}"))
            .expect("ingest");
        ingest_s.push(t0.elapsed().as_secs_f64());
        if k == target {
            target_id = Some(r.id);
        }
    }
    let first: f64 = ingest_s[..10.min(n)].iter().sum::<f64>() / 10f64.min(n as f64);
    let last: f64 = ingest_s[n.saturating_sub(10)..].iter().sum::<f64>() / 10f64.min(n as f64);

    // A fresh process's first trace builds the index; later ones reuse it.
    let reopened = tracemark_backends::Location::embedded(dir.path())
        .open()
        .expect("open");
    let t0 = Instant::now();
    let r = reopened.trace(&clip, "clip.mp3", 1e-6).expect("trace");
    let cold = t0.elapsed().as_secs_f64();
    assert_eq!(r.recording.map(|r| r.id), target_id.clone(), "identified");
    let warm = median(
        (0..5)
            .map(|_| {
                let t0 = Instant::now();
                let r = reopened.trace(&clip, "clip.mp3", 1e-6).expect("trace");
                assert_eq!(r.recording.map(|r| r.id), target_id.clone());
                t0.elapsed().as_secs_f64()
            })
            .collect(),
    );
    let index = reopened.fingerprint_index().expect("index");
    println!("| figure | value |");
    println!("|---|---|");
    println!(
        "| recordings | {n} x {seconds:.0} s ({:.1} h) |",
        n as f64 * seconds / 3600.0
    );
    println!("| ingest, first 10 (mean) | {:.0} ms |", first * 1e3);
    println!("| ingest, last 10 (mean) | {:.0} ms |", last * 1e3);
    println!("| ingest, last 10 / first 10 | {:.2} |", last / first);
    println!(
        "| ingest 1 / ingest {n} | {:.0} ms / {:.0} ms |",
        ingest_s[0] * 1e3,
        ingest_s[n - 1] * 1e3
    );
    println!(
        "| trace of a 10 s MP3 64k clip, vault of 1 (baseline, median of 5) | {:.0} ms |",
        baseline * 1e3
    );
    println!(
        "| the same among {n}, first trace of a process (builds the index) | {:.0} ms ({:.2} x) |",
        cold * 1e3,
        cold / baseline
    );
    println!(
        "| the same among {n}, later traces (index reused, median of 5) | {:.0} ms ({:.2} x) |",
        warm * 1e3,
        warm / baseline
    );
    println!("| recordings in the index | {} |", index.len());
}
