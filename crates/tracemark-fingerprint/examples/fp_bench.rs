//! Fingerprint benchmark on the shared corpus: fingerprinting speed, index size per hour,
//! query time for a 60 s clip, and authenticity-map edge errors.
//!
//! `cargo run --release -p tracemark-fingerprint --example fp_bench`
#![allow(clippy::unwrap_used)] // a benchmark: a panic is a failed run

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use tracemark_fingerprint::{Index, MapOptions, SegmentStatus, authenticity_map, fingerprint};

fn main() {
    let (Some(call), Some(libri), Some(music)) = (
        common::corpus_8k("call-en-8k.flac"),
        common::corpus_8k("librivox-en-16k.flac"),
        common::corpus_8k("music-8k-morning-coffee.flac"),
    ) else {
        println!("corpus absent: nothing measured");
        return;
    };
    let secs = |x: &[f32]| x.len() as f64 / 8_000.0;

    println!("## Fingerprinting\n");
    let mut index = Index::new();
    let mut audio_s = 0.0;
    let mut fp_time = 0.0;
    for (id, x) in [(1, &call), (2, &libri), (3, &music)] {
        let t = Instant::now();
        let fp = fingerprint(x).unwrap();
        fp_time += t.elapsed().as_secs_f64();
        audio_s += secs(x);
        index.add(id, fp).unwrap();
    }
    let bytes = index.to_bytes();
    let hours = audio_s / 3600.0;
    println!("| audio | fingerprint time | speed | stored bytes per hour | hashes per hour |");
    println!("|---|---|---|---|---|");
    println!(
        "| {audio_s:.1} s | {:.3} s | {:.0}x real time | {:.0} kB | {:.0} |\n",
        fp_time,
        audio_s / fp_time,
        bytes.len() as f64 / hours / 1e3,
        index.hash_count() as f64 / hours
    );

    let t = Instant::now();
    let reloaded = Index::from_bytes(&bytes).unwrap();
    println!(
        "Reload (parse + rebuild hash table) of the {:.0} kB index: {:.1} ms\n",
        bytes.len() as f64 / 1e3,
        t.elapsed().as_secs_f64() * 1e3
    );

    println!("## Query of a 60 s clip against the corpus index (3 recordings)\n");
    println!(
        "| clip | fingerprint + query | best | offset | speed | window hashes | false-match p |"
    );
    println!("|---|---|---|---|---|---|---|");
    let clip = common::cut(&call, 90.0, 150.0);
    let cases: Vec<(&str, Vec<f32>)> = vec![
        ("call 90-150 s", clip.clone()),
        ("same, noise 20 dB", common::add_noise(&clip, 20.0, 1)),
        (
            "same, speed +10 %",
            tracemark_dsp::stretch(&clip, 1.0 / 1.1).unwrap(),
        ),
        (
            "same, speed -10 %",
            tracemark_dsp::stretch(&clip, 1.0 / 0.9).unwrap(),
        ),
        ("unrelated (libri+music, not indexed)", {
            let mut u = common::cut(&libri, 0.0, 24.0);
            u.extend(common::cut(&music, 0.0, 36.0));
            u
        }),
    ];
    let mut solo = Index::new();
    solo.add(1, fingerprint(&call).unwrap()).unwrap();
    for (name, x) in &cases {
        let idx = if name.starts_with("unrelated") {
            &solo
        } else {
            &reloaded
        };
        let runs = 5;
        let t = Instant::now();
        let mut best = None;
        for _ in 0..runs {
            best = idx.query(&fingerprint(x).unwrap()).into_iter().next();
        }
        let ms = t.elapsed().as_secs_f64() * 1e3 / runs as f64;
        match best {
            Some(b) => println!(
                "| {name} | {ms:.0} ms | {} ({}) | {:.3} s | {:.4} | {} | {:.1e} |",
                b.recording_id,
                if b.is_match() { "match" } else { "no match" },
                b.offset_s,
                b.speed,
                b.window_hashes,
                b.false_match_p
            ),
            None => println!("| {name} | {ms:.0} ms | none | | | | |"),
        }
    }

    println!("\n## Authenticity map edge errors\n");
    println!("Insert: 5 s of read speech spliced into call audio (edges at 8 s and 13 s of the");
    println!("unstretched leak). Cut: 4 s removed from the call (original 180-184 s).\n");
    println!("| leak | unmatched edges (s) | error (s) | missing (s) | error (s) |");
    println!("|---|---|---|---|---|");
    let original = fingerprint(&call).unwrap();
    let mut insert = common::cut(&call, 30.0, 38.0);
    insert.extend(common::cut(&libri, 2.0, 7.0));
    insert.extend(common::cut(&call, 38.0, 48.0));
    let mut cut = common::cut(&call, 170.0, 180.0);
    cut.extend(common::cut(&call, 184.0, 194.0));
    let variants: [(&str, f64, bool); 4] = [
        ("clean", 1.0, false),
        ("noise 20 dB", 1.0, true),
        ("speed +5 %", 1.05, false),
        ("speed -8 % + noise 20 dB", 0.92, true),
    ];
    for (name, speed, noisy) in variants {
        let degrade = |x: &[f32]| {
            let y = if noisy {
                common::add_noise(x, 20.0, 7)
            } else {
                x.to_vec()
            };
            tracemark_dsp::stretch(&y, 1.0 / speed).unwrap()
        };
        let map = authenticity_map(
            &original,
            &fingerprint(&degrade(&insert)).unwrap(),
            &MapOptions::default(),
        );
        let un: Vec<(f64, f64)> = map
            .segments
            .iter()
            .filter(|s| s.status == SegmentStatus::Unmatched)
            .map(|s| (s.leak_start_s, s.leak_end_s))
            .collect();
        let ins_err = match un.as_slice() {
            [(a, b)] => format!(
                "{:.2} / {:.2}",
                (a - 8.0 / speed).abs(),
                (b - 13.0 / speed).abs()
            ),
            _ => "wrong count".to_owned(),
        };
        let map_cut = authenticity_map(
            &original,
            &fingerprint(&degrade(&cut)).unwrap(),
            &MapOptions::default(),
        );
        let (miss, cut_err) = match map_cut.missing.as_slice() {
            [m] => (
                format!("{:.2}-{:.2}", m.original_start_s, m.original_end_s),
                format!(
                    "{:.2} / {:.2}",
                    (m.original_start_s - 180.0).abs(),
                    (m.original_end_s - 184.0).abs()
                ),
            ),
            other => (format!("{} stretches", other.len()), "-".to_owned()),
        };
        let edges = un
            .iter()
            .map(|(a, b)| format!("{a:.2}-{b:.2}"))
            .collect::<Vec<_>>()
            .join(", ");
        println!("| {name} | {edges} | {ins_err} | {miss} | {cut_err} |");
    }
}
