//! How tracing's scoring grows with the number of issued copies (issue 15, item 6): draw
//! N codewords of a recording with L slots (over every slot, as issuing does, and over the
//! 250 slots a 20 s leak covers, as tracing does) and score them all against the leak with
//! the exact bound; the leaker must be the one accused.
//!
//! `cargo run --release -p tracemark-tardos --example scoring_scale`
//!
//! L = 750 is a 60 s recording, L = 45,000 one hour (80 ms slots). The symbol amplitude is
//! 1.0 noise deviations per slot (simulated detector output, as in `tardos_sim`).

use std::time::Instant;

use tracemark_tardos::{
    AccusationConfig, Biases, Codeword, Cutoff, Observations, accuse_any, default_score_functions,
};

fn seed(i: u64) -> [u8; 32] {
    let mut s = [7u8; 32];
    s[..8].copy_from_slice(&i.to_le_bytes());
    s
}

fn main() {
    println!(
        "| issued copies | slots | draw all codewords, every slot | on the 250 observed slots only | score and accuse | accused |"
    );
    println!("|---|---|---|---|---|---|");
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
    for &(n, slots) in &[
        (10_000usize, 750usize),
        (100_000, 750),
        (1_000_000, 750),
        (10_000, 45_000),
        (100_000, 45_000),
    ] {
        let biases = Biases::draw(&seed(u64::MAX), slots, Cutoff::default()).expect("biases");
        let t0 = Instant::now();
        let codewords: Vec<Codeword> = (0..n as u64)
            .map(|i| Codeword::draw(&seed(i), &biases))
            .collect();
        let draw = t0.elapsed().as_secs_f64();
        let (mut soft, mut cells) = (vec![0f32; slots], vec![0u32; slots]);
        let from = slots / 3;
        for i in from..from + 250 {
            let x = if codewords[0].symbol(i).unwrap_or(false) {
                1.0
            } else {
                -1.0
            };
            soft[i] = (x + gauss()) as f32;
            cells[i] = 1;
        }
        let observed: Vec<usize> = (from..from + 250).collect();
        let t0 = Instant::now();
        let partial: Vec<Codeword> = (0..n as u64)
            .map(|i| Codeword::draw_slots(&seed(i), &biases, &observed))
            .collect();
        let draw_observed = t0.elapsed().as_secs_f64();
        let obs = Observations::try_new(soft, cells).expect("observations");
        let functions = default_score_functions(&obs);
        let config = AccusationConfig::new(1e-6).expect("config");
        let t0 = Instant::now();
        let verdict = accuse_any(&obs, &biases, &functions, &partial, &config).expect("accuse");
        let score = t0.elapsed().as_secs_f64();
        let accused: Vec<usize> = verdict.accused.iter().map(|a| a.index).collect();
        println!(
            "| {n} | {slots} | {:.2} s | {:.2} s | {:.2} s | {accused:?} |",
            draw, draw_observed, score
        );
    }
}
