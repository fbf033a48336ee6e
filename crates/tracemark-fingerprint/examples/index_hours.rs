//! Issue 15, item 4: identifying a 10 s clip as the index grows to many recording-hours.
//!
//! `cargo run --release -p tracemark-fingerprint --example index_hours -- [HOURS...]`
//! (default 1 10 100 300).
//!
//! The index holds the corpus call (240 s of real speech, which the clip is cut from, with
//! 6 dB of white noise added) and then N hours of distractor fingerprints made of random
//! peaks at the peak picker's cap of 30 a second (hours of distinct real speech are not in
//! the corpus, and fingerprinting hundreds of hours of audio would take longer than the
//! index's own work). Random peaks spread their hashes evenly; real audio repeats some
//! (pitch contours, silence), which makes postings lists longer than these, so the query
//! figures are a lower bound on real ones and the memory figures a fair estimate (postings
//! per hour are set by the cap, not by content). The baseline is the same query in an
//! index holding the call alone, in the same process.
#![allow(clippy::unwrap_used)] // a benchmark: a panic is a failed run

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use tracemark_fingerprint::{Fingerprint, Index, Peak, fingerprint};

/// The fingerprint picker's cap (peaks.rs `PEAKS_PER_SECOND`), per second of audio.
const PEAKS_PER_SECOND: u32 = 30;
/// Ticks per second (4 ms ticks).
const TICKS_PER_SECOND: u32 = 250;

/// One hour of random peaks between 300 and 3400 Hz (the picker's band), seeded.
fn random_hour(seed: u64) -> Fingerprint {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let ticks = 3600 * TICKS_PER_SECOND;
    let n = 3600 * PEAKS_PER_SECOND;
    let peaks: Vec<Peak> = (0..n)
        .map(|_| Peak {
            tick: (next() % u64::from(ticks)) as u32,
            quarter_hz: (1200 + next() % (3100 * 4)) as u16,
        })
        .collect();
    Fingerprint::from_peaks(peaks, ticks)
}

fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn median_query(
    index: &Index,
    clip: &Fingerprint,
    query: fn(&Index, &Fingerprint) -> Vec<tracemark_fingerprint::Candidate>,
) -> (f64, bool) {
    let mut times = Vec::new();
    let mut found = true;
    for _ in 0..5 {
        let t = Instant::now();
        let best = query(index, clip).into_iter().find(|c| c.is_match());
        times.push(t.elapsed().as_secs_f64());
        found &= best.is_some_and(|c| c.recording_id == 0);
    }
    times.sort_by(f64::total_cmp);
    (times[2], found)
}

fn main() {
    let hours: Vec<u64> = {
        let a: Vec<u64> = std::env::args()
            .skip(1)
            .map(|a| a.parse().expect("HOURS"))
            .collect();
        if a.is_empty() {
            vec![1, 10, 100, 300]
        } else {
            a
        }
    };
    let Some(call) = common::corpus_8k("call-en-8k.flac") else {
        println!("corpus absent: nothing measured");
        return;
    };
    let clip_audio = common::add_noise(&common::cut(&call, 100.0, 110.0), 6.0, 11);
    let clip = fingerprint(&clip_audio).unwrap();
    let call_fp = fingerprint(&call).unwrap();

    let mut index = Index::new();
    index.add(0, call_fp).unwrap();
    // The same clip 3 % fast: no match under the identity hypothesis, so every speed
    // and tempo is searched.
    let fast = fingerprint(&tracemark_dsp::stretch(&clip_audio, 1.0 / 1.03).unwrap()).unwrap();
    let (base, found) = median_query(&index, &clip, Index::query);
    assert!(found, "the clip is identified in an index of one");
    let (base_fast, found) = median_query(&index, &fast, Index::query);
    assert!(found, "the fast clip is identified in an index of one");
    let rss0 = rss_mb();
    println!(
        "| recording-hours indexed | build | 10 s clip (median of 5) | / baseline | same clip 3 % fast (every hypothesis) | / baseline | identified (both) | resident memory |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    println!(
        "| 0.07 (the call alone: baseline) | | {:.1} ms | 1.0 | {:.1} ms | 1.0 | yes | {rss0:.0} MB |",
        base * 1e3,
        base_fast * 1e3
    );
    let mut have = 0u64;
    let mut build = 0.0;
    for &h in &hours {
        let t = Instant::now();
        while have < h {
            have += 1;
            index.add(have, random_hour(have)).unwrap();
        }
        build += t.elapsed().as_secs_f64();
        let (q, found) = median_query(&index, &clip, Index::query);
        let (qf, found_fast) = median_query(&index, &fast, Index::query);
        println!(
            "| {h} | {build:.1} s (cumulative) | {:.1} ms | {:.1} | {:.1} ms | {:.1} | {} | {:.0} MB |",
            q * 1e3,
            q / base,
            qf * 1e3,
            qf / base_fast,
            if found && found_fast { "yes" } else { "NO" },
            rss_mb()
        );
    }
}
