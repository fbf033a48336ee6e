//! Issue-4 collusion targets on simulated detector outputs.
//!
//! Run: `cargo run --release -p tracemark-tardos --example tardos_sim [-- --trials N --traces N]`
//!
//! For each scenario and symbol amplitude `mu`, draws a fresh code per trial, simulates
//! the attack (`z = mu * mean(2x - 1) + N(0, 1)` per slot), scores every recipient with
//! both score functions and accuses at a corrected bound of 1e-6. Then scores
//! `--traces` innocent traces (unmarked, another vault's leak, a coalition that excludes
//! the tested recipients) and compares the observed rate of uncorrected bounds below
//! `alpha` with `alpha`.

use std::time::Instant;

use tracemark_tardos::{
    AccusationConfig, Biases, Codeword, Cutoff, NullModel, Observations, ScoreFunction, accuse, sim,
};

#[derive(Clone, Copy)]
enum Attack {
    Average,
    Interleave { segment: usize },
}

struct Scenario {
    name: &'static str,
    recipients: usize,
    slots: usize,
    colluders: usize,
    attack: Attack,
}

const SCENARIOS: [Scenario; 3] = [
    Scenario {
        name: "1 leaker / 1000, 125 slots (10 s)",
        recipients: 1000,
        slots: 125,
        colluders: 1,
        attack: Attack::Average,
    },
    Scenario {
        name: "2 averaging / 100, 750 slots (60 s)",
        recipients: 100,
        slots: 750,
        colluders: 2,
        attack: Attack::Average,
    },
    Scenario {
        // 5 s = 62.5 slots of 80 ms; 63 slots = 5.04 s.
        name: "3 interleaving 5 s / 100, 1500 slots (120 s)",
        recipients: 100,
        slots: 1500,
        colluders: 3,
        attack: Attack::Interleave { segment: 63 },
    },
];

const MUS: [f64; 6] = [0.5, 0.75, 1.0, 1.5, 2.0, 3.0];

fn score_functions(obs: &Observations) -> [(&'static str, ScoreFunction); 2] {
    [
        ("symmetric", ScoreFunction::SoftSymmetric),
        (
            "llr(mu^)",
            ScoreFunction::LogLikelihood {
                mu: obs.amplitude_estimate(),
            },
        ),
    ]
}

fn draw_code(label: &str, trial: u64, slots: usize, recipients: usize) -> (Biases, Vec<Codeword>) {
    let biases = Biases::draw(&sim::seed(label, trial), slots, Cutoff::default())
        .expect("benchmark lengths are far below MAX_SLOTS");
    let copies = (0..recipients as u64)
        .map(|j| Codeword::draw(&sim::seed(&format!("{label}/{trial}"), j), &biases))
        .collect();
    (biases, copies)
}

fn attack(copies: &[&Codeword], attack: Attack, mu: f64, noise: &mut sim::Noise) -> Vec<f32> {
    match attack {
        Attack::Average => sim::averaged(copies, mu, noise),
        Attack::Interleave { segment } => sim::interleaved(copies, segment, mu, noise),
    }
}

#[derive(Default, Clone, Copy)]
struct Tally {
    caught: usize,
    innocents_accused: usize,
    ln_best: f64,
}

fn run_scenarios(trials: u64) {
    let config = AccusationConfig::default();
    println!(
        "## Collusion scenarios ({trials} trials each, corrected bound 1e-6, cutoff t = 1/900)\n"
    );
    println!("| scenario | mu | score | caught | innocents accused | median best corrected p |");
    println!("|---|---|---|---|---|---|");
    for scn in &SCENARIOS {
        for &mu in &MUS {
            let mut tallies = [Tally::default(); 2];
            let mut best: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
            for trial in 0..trials {
                let (biases, copies) = draw_code(scn.name, trial, scn.slots, scn.recipients);
                let guilty: Vec<usize> = (0..scn.colluders)
                    .map(|k| (k * 37 + 11 + trial as usize) % scn.recipients)
                    .collect();
                let coalition: Vec<&Codeword> = guilty.iter().map(|&j| &copies[j]).collect();
                let mut noise =
                    sim::Noise::new(&sim::seed(&format!("noise/{}/{mu}", scn.name), trial));
                let z = attack(&coalition, scn.attack, mu, &mut noise);
                let obs = Observations::fully_observed(z).expect("simulated values are finite");
                for (f, (_, score)) in score_functions(&obs).into_iter().enumerate() {
                    let model = NullModel::new(&obs, &biases, score).expect("lengths agree");
                    let verdict = accuse(&model, &copies, &config).expect("lengths agree");
                    let caught = verdict.accused.iter().any(|r| guilty.contains(&r.index));
                    let wrong = verdict
                        .accused
                        .iter()
                        .filter(|r| !guilty.contains(&r.index))
                        .count();
                    tallies[f].caught += usize::from(caught);
                    tallies[f].innocents_accused += wrong;
                    let ln_best = guilty
                        .iter()
                        .map(|&j| verdict.scores[j].corrected.ln())
                        .fold(f64::INFINITY, f64::min);
                    best[f].push(ln_best);
                }
            }
            for (f, name) in ["symmetric", "llr(mu^)"].iter().enumerate() {
                best[f].sort_by(f64::total_cmp);
                tallies[f].ln_best = best[f][best[f].len() / 2];
                println!(
                    "| {} | {mu} | {name} | {}/{trials} | {} | {:.1e} |",
                    scn.name,
                    tallies[f].caught,
                    tallies[f].innocents_accused,
                    tallies[f].ln_best.exp()
                );
            }
        }
    }
}

/// Innocent traces: unmarked noise, another vault's single-leaker copy, and a
/// two-member coalition of this code whose members are excluded from the tally.
fn run_innocents(traces: u64) {
    const RECIPIENTS: usize = 100;
    const SLOTS: usize = 750;
    const PER_CODE: u64 = 100;
    const ALPHAS: [f64; 5] = [1e-1, 1e-2, 1e-3, 1e-4, 1e-5];
    let config = AccusationConfig::default();
    let mut tests = [0u64; 2];
    let mut below = [[0u64; ALPHAS.len()]; 2];
    let mut est_below = [[0u64; ALPHAS.len()]; 2];
    let mut accused = [0u64; 2];
    let mut min_corrected = [1.0f64; 2];
    let mut code = draw_code("innocents", 0, SLOTS, RECIPIENTS);
    for trace in 0..traces {
        if trace % PER_CODE == 0 {
            code = draw_code("innocents", trace / PER_CODE, SLOTS, RECIPIENTS);
        }
        let (biases, copies) = &code;
        let mut noise = sim::Noise::new(&sim::seed("innocents/noise", trace));
        let (z, excluded): (Vec<f32>, Vec<usize>) = match trace % 3 {
            0 => (noise.unmarked(SLOTS), vec![]),
            1 => {
                let (_, foreign) = draw_code("other-vault", trace, SLOTS, 1);
                (sim::averaged(&[&foreign[0]], 1.5, &mut noise), vec![])
            }
            _ => {
                let pair = [
                    (trace as usize * 7) % RECIPIENTS,
                    (trace as usize * 13 + 1) % RECIPIENTS,
                ];
                let coalition = [&copies[pair[0]], &copies[pair[1]]];
                (sim::averaged(&coalition, 1.5, &mut noise), pair.to_vec())
            }
        };
        let obs = Observations::fully_observed(z).expect("simulated values are finite");
        for (f, (_, score)) in score_functions(&obs).into_iter().enumerate() {
            let model = NullModel::new(&obs, biases, score).expect("lengths agree");
            let verdict = accuse(&model, copies, &config).expect("lengths agree");
            for r in verdict
                .scores
                .iter()
                .filter(|r| !excluded.contains(&r.index))
            {
                tests[f] += 1;
                min_corrected[f] = min_corrected[f].min(r.corrected);
                for (a, &alpha) in ALPHAS.iter().enumerate() {
                    below[f][a] += u64::from(r.tail.bound() <= alpha);
                    est_below[f][a] += u64::from(r.tail.estimate().unwrap_or(1.0) <= alpha);
                }
            }
            accused[f] += verdict
                .accused
                .iter()
                .filter(|r| !excluded.contains(&r.index))
                .count() as u64;
        }
    }
    println!(
        "\n## Innocents ({traces} traces x {RECIPIENTS} recipients, {SLOTS} slots; 1/3 unmarked, 1/3 other vault at mu 1.5, 1/3 coalition of 2 at mu 1.5 excluded from the tally)\n"
    );
    println!(
        "| score | innocent tests | accused (corrected < 1e-6) | smallest corrected p | alpha | rate(bound <= alpha) | rate(estimate <= alpha) |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (f, name) in ["symmetric", "llr(mu^)"].iter().enumerate() {
        for (a, &alpha) in ALPHAS.iter().enumerate() {
            println!(
                "| {name} | {} | {} | {:.3} | {alpha:.0e} | {:.2e} | {:.2e} |",
                tests[f],
                accused[f],
                min_corrected[f],
                below[f][a] as f64 / tests[f] as f64,
                est_below[f][a] as f64 / tests[f] as f64
            );
        }
    }
}

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let trials = arg("--trials", 50);
    let traces = arg("--traces", 10_000);
    let start = Instant::now();
    run_scenarios(trials);
    let mid = Instant::now();
    run_innocents(traces);
    println!(
        "\nTime: scenarios {:.1} s, innocents {:.1} s (release, one thread).",
        (mid - start).as_secs_f64(),
        mid.elapsed().as_secs_f64()
    );
}
