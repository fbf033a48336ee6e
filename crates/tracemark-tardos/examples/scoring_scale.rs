//! How tracing's scoring grows with the number of issued copies (issue 15, item 6), before
//! and after batching the draw and screening the scores, in one process: N codewords of a
//! recording with L slots, drawn on the 250 slots a 20 s leak covers (as tracing does), and
//! scored against the leak with both default score functions and the exact bound; the
//! leaker, copy 0, must be the one accused, and both paths must accuse the same, figure for
//! figure.
//!
//! `cargo run --release -p tracemark-tardos --example scoring_scale [N,L ...]`
//!
//! Without arguments: 100000,750 1000000,750 100000,45000. L = 750 is a 60 s recording,
//! L = 45,000 one hour (80 ms slots). The symbol amplitude is 1.0 noise deviations per slot
//! (simulated detector output, as in `tardos_sim`).
//!
//! - before: [`Codeword::draw_slots_streamed`] (the draw as it was) for every copy, then
//!   [`accuse_any`] (every recipient's bound).
//! - after, stage by stage: [`Codeword::draw_slots`] for every copy, then a [`Screen`]
//!   scan of them.
//! - after, as a caller would run it: [`Scan::push_seed`] (draw into the sums, no codeword
//!   made, drawing stopped early where the rest cannot matter), on one thread and then
//!   split over the machine's threads (`std::thread::scope`; rayon's `try_fold` /
//!   `try_reduce` over [`Scan`]s is the same shape); with the 10 leading recipients and
//!   with the accused alone (`top` = 0: the early rejection is bounded by the cuts only).
//!   "blocks": stream blocks drawn per copy, of those holding the observed slots.

use std::time::Instant;

use tracemark_tardos::{
    AccusationConfig, Biases, Codeword, Cutoff, Error, Observations, Scan, Screen, Shortlist,
    accuse_any, default_score_functions,
};

const TOP: usize = 10;

fn seed(i: u64) -> [u8; 32] {
    let mut s = [7u8; 32];
    s[..8].copy_from_slice(&i.to_le_bytes());
    s
}

/// Simulated detector output over slots `from..from + 250` of copy 0.
fn leak(biases: &Biases, from: usize) -> Observations {
    let slots = biases.len();
    let mut noise: u64 = 0x2545_f491_4f6c_dd1d;
    let mut gauss = move || {
        // Sum of 12 uniforms minus 6: near-normal, deterministic.
        (0..12)
            .map(|_| {
                noise ^= noise << 13;
                noise ^= noise >> 7;
                noise ^= noise << 17;
                (noise >> 11) as f64 / (1u64 << 53) as f64
            })
            .sum::<f64>()
            - 6.0
    };
    let observed: Vec<usize> = (from..from + 250).collect();
    let leaker = Codeword::draw_slots(&seed(0), biases, &observed);
    let (mut soft, mut cells) = (vec![0f32; slots], vec![0u32; slots]);
    for &i in &observed {
        let x = if leaker.symbol(i).unwrap_or(false) {
            1.0
        } else {
            -1.0
        };
        soft[i] = (x + gauss()) as f32;
        cells[i] = 1;
    }
    Observations::try_new(soft, cells).expect("finite observations")
}

/// Draws and scans recipients `range` into one scan, from their seeds.
fn scan_range(screen: &Screen, range: std::ops::Range<usize>) -> Result<Scan<'_>, Error> {
    let mut scan = screen.scan();
    for j in range {
        scan.push_seed(j, &seed(j as u64))?;
    }
    Ok(scan)
}

/// The same, split into one contiguous chunk per thread, merged.
fn scan_threads(screen: &Screen, n: usize, threads: usize) -> Result<Shortlist, Error> {
    let size = n.div_ceil(threads);
    let scans = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let range = (t * size).min(n)..((t + 1) * size).min(n);
                s.spawn(move || scan_range(screen, range))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a scan thread panicked"))
            .collect::<Result<Vec<_>, _>>()
    })?;
    scans
        .into_iter()
        .reduce(Scan::merge)
        .unwrap_or_else(|| screen.scan())
        .finish()
}

/// This thread's time on a CPU, in seconds (Linux: `/proc/thread-self/schedstat`, in
/// nanoseconds), which other processes' load does not inflate; `None` elsewhere.
fn cpu_seconds() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns * 1e-9)
}

/// Times a stage run on this thread: on-CPU time where the system reports it, wall-clock
/// time otherwise.
struct Clock {
    wall: Instant,
    cpu: Option<f64>,
}

impl Clock {
    fn start() -> Self {
        Self {
            wall: Instant::now(),
            cpu: cpu_seconds(),
        }
    }

    fn wall(&self) -> f64 {
        self.wall.elapsed().as_secs_f64()
    }

    fn seconds(&self) -> f64 {
        match (self.cpu, cpu_seconds()) {
            (Some(a), Some(b)) => b - a,
            _ => self.wall.elapsed().as_secs_f64(),
        }
    }
}

/// The 1, 5 and 15 minute load averages (Linux), to judge how much of the machine the
/// run had.
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn main() {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cases: Vec<(usize, usize)> = std::env::args()
        .skip(1)
        .filter_map(|a| {
            let (n, l) = a.split_once(',')?;
            Some((n.parse().ok()?, l.parse().ok()?))
        })
        .collect();
    let cases = if cases.is_empty() {
        vec![(100_000, 750), (1_000_000, 750), (100_000, 45_000)]
    } else {
        cases
    };
    let start = load();
    println!(
        "| issued copies | slots | draw, before | draw, after | score and accuse, before | screen, after | total, before | total, after (1 thread, top {TOP}) | total, after ({threads} threads) | total, after (1 thread, accused only) | accused |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for (n, slots) in cases {
        let biases = Biases::draw(&seed(u64::MAX), slots, Cutoff::default()).expect("biases");
        let from = slots / 3;
        let obs = leak(&biases, from);
        let observed: Vec<usize> = obs.iter_observed().map(|(i, _)| i).collect();
        let functions = default_score_functions(&obs);
        let config = AccusationConfig::new(1e-6).expect("config");

        // Before: the streamed draw, then every recipient's bound.
        let t0 = Clock::start();
        let before: Vec<Codeword> = (0..n as u64)
            .map(|i| Codeword::draw_slots_streamed(&seed(i), &biases, &observed))
            .collect();
        let draw_before = t0.seconds();
        let t0 = Clock::start();
        let verdict = accuse_any(&obs, &biases, &functions, &before, &config).expect("accuse");
        let score_before = t0.seconds();

        // After, stage by stage (for the table): the batched draw, then the screen.
        let t0 = Clock::start();
        let after: Vec<Codeword> = (0..n as u64)
            .map(|i| Codeword::draw_slots(&seed(i), &biases, &observed))
            .collect();
        let draw_after = t0.seconds();
        assert!(
            before == after,
            "the batched draw differs from the streamed one"
        );
        drop(before);
        let t0 = Clock::start();
        let screen = Screen::new(&obs, &biases, &functions, n, &config, TOP).expect("screen");
        let mut scan = screen.scan();
        for (j, w) in after.iter().enumerate() {
            scan.push(j, w).expect("same length");
        }
        let staged = scan.finish().expect("all scored");
        let score_after = t0.seconds();
        drop(after);

        // After, fused as a caller would run it: draw and push, no codeword kept.
        let t0 = Clock::start();
        let screen = Screen::new(&obs, &biases, &functions, n, &config, TOP).expect("screen");
        let scan = scan_range(&screen, 0..n).expect("scan");
        let blocks = scan.blocks_drawn() as f64 / n as f64;
        let one = scan.finish().expect("all scored");
        let (total_one, wall_one) = (t0.seconds(), t0.wall());
        // The accused alone (no leaders): only the cuts bound the early rejection.
        let t0 = Clock::start();
        let bare = Screen::new(&obs, &biases, &functions, n, &config, 0).expect("screen");
        let scan = scan_range(&bare, 0..n).expect("scan");
        let blocks_bare = scan.blocks_drawn() as f64 / n as f64;
        let accused_only = scan.finish().expect("all scored");
        let total_bare = t0.seconds();
        let t0 = Instant::now();
        let screen = Screen::new(&obs, &biases, &functions, n, &config, TOP).expect("screen");
        let many = scan_threads(&screen, n, threads).expect("scan");
        let total_many = t0.elapsed().as_secs_f64();

        assert_eq!(
            staged.accused, verdict.accused,
            "the screen's accused differ"
        );
        assert!(
            one == staged && many == staged,
            "splitting changed the shortlist"
        );
        assert_eq!(
            accused_only.accused, verdict.accused,
            "top 0 changed the accused"
        );
        let accused: Vec<usize> = many.accused.iter().map(|a| a.index).collect();
        let total_before = draw_before + score_before;
        println!(
            "| {n} | {slots} | {draw_before:.2} s | {draw_after:.2} s ({:.1}x) | {score_before:.2} s | {score_after:.3} s ({:.0}x) | {total_before:.2} s | {total_one:.2} s ({:.1}x), {blocks:.1} of {} blocks | {total_many:.2} s wall (1 thread: {wall_one:.2} s wall) | {total_bare:.2} s ({:.1}x), {blocks_bare:.1} blocks | {accused:?} |",
            draw_before / draw_after,
            score_before / score_after,
            total_before / total_one,
            screen.blocks(),
            total_before / total_bare,
        );
    }
    println!("\nload average before: {start}; after: {}", load());
    println!(
        "times: {}; the {threads}-thread column is wall-clock time",
        if cpu_seconds().is_some() {
            "this thread's time on a CPU (/proc/thread-self/schedstat)"
        } else {
            "wall-clock"
        }
    );
}
