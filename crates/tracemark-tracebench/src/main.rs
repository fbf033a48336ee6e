//! `tracemark-tracebench`: measures issue 4's tracing targets through the real vault.
//! Every trial issues, leaks and traces real files: copies are embedded by
//! `Vault::issue`, leaks go through real codecs, and `Vault::trace` does the
//! identification, authenticity map, informed extraction and accusation.
//!
//! ```text
//! cargo run --release -p tracemark-tracebench            # full run, < 30 min
//! cargo run --release -p tracemark-tracebench -- --quick # a few minutes
//! ```
//!
//! The report (Markdown) goes to stdout, and to `--out FILE` when given.

mod innocents;
mod lab;
mod phone;
mod report;
mod rng;
mod targets;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Parser;

use crate::lab::{Channel, IssuedVault};
use crate::rng::Rng;

#[derive(Parser, Debug, Clone)]
#[command(
    name = "tracemark-tracebench",
    version,
    about = "Benchmark of the leak-tracing targets"
)]
struct Cli {
    /// Fewer copies and trials (a few minutes).
    #[arg(long)]
    quick: bool,
    /// Corpus directory [default: ../shared/corpus beside the workspace].
    #[arg(long)]
    corpus: Option<PathBuf>,
    /// Write the Markdown report here too.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Seconds of call-en-8k.flac used as the recording.
    #[arg(long, default_value_t = 120.0)]
    seconds: f64,
    /// Copies issued in the single-leaker vault [default: 1000, --quick: 200].
    #[arg(long)]
    recipients: Option<usize>,
    /// Copies issued in the collusion vault [default: 100, --quick: 40].
    #[arg(long)]
    colluder_recipients: Option<usize>,
    /// Trials per target scenario [default: 10, --quick: 2].
    #[arg(long)]
    trials: Option<usize>,
    /// Full innocent traces at most [default: 1000, --quick: 40].
    #[arg(long)]
    innocent_traces: Option<usize>,
    /// Wall-time budget for the full innocent traces, seconds [default: 240, --quick: 60].
    #[arg(long)]
    innocent_budget_s: Option<f64>,
    /// Real observations kept for re-scoring [default: 100, --quick: 20].
    #[arg(long)]
    observations: Option<usize>,
    /// Simulated traces at the scoring level [default: 10000, --quick: 500].
    #[arg(long)]
    sim_traces: Option<usize>,
    /// Fresh innocent codewords per simulated trace (the Bonferroni factor is this
    /// number, so fewer codewords make accusation easier, never harder).
    #[arg(long, default_value_t = 100)]
    sim_innocents: usize,
    /// Repetitions of the speed measurement [default: 5, --quick: 2].
    #[arg(long)]
    speed_reps: Option<usize>,
    /// Seed of the trial choices.
    #[arg(long, default_value_t = 4)]
    seed: u64,
    /// Run issue 14's phone-channel targets instead (100 copies; trials per channel from
    /// `--trials`, default 3, `--quick` 1).
    #[arg(long)]
    phone: bool,
    /// With `--phone`: only the channels whose label contains one of these.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
}

/// Resolved run parameters.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) seconds: f64,
    pub(crate) recipients: usize,
    pub(crate) colluder_recipients: usize,
    pub(crate) trials: usize,
    pub(crate) plan: innocents::Plan,
    pub(crate) speed_reps: usize,
    pub(crate) seed: u64,
}

impl Cli {
    fn config(&self) -> Config {
        let q = self.quick;
        let pick =
            |v: Option<usize>, full: usize, quick: usize| v.unwrap_or(if q { quick } else { full });
        Config {
            seconds: self.seconds,
            recipients: pick(self.recipients, 1000, 200),
            colluder_recipients: pick(self.colluder_recipients, 100, 40),
            trials: pick(self.trials, 10, 2),
            plan: innocents::Plan {
                full_traces: pick(self.innocent_traces, 1000, 40),
                budget_s: self
                    .innocent_budget_s
                    .unwrap_or(if q { 60.0 } else { 240.0 }),
                observations: pick(self.observations, 100, 20),
                sim_traces: pick(self.sim_traces, 10_000, 500),
                sim_innocents: self.sim_innocents,
            },
            speed_reps: pick(self.speed_reps, 5, 2),
            seed: self.seed,
        }
    }
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let corpus = cli
        .corpus
        .clone()
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    let started = Instant::now();
    let text = if cli.phone {
        let config = phone::PhoneConfig {
            recipients: cli.recipients.unwrap_or(100),
            trials: cli.trials.unwrap_or(if cli.quick { 1 } else { 3 }),
            seed: cli.seed,
            only: cli.only.clone(),
        };
        let results = phone::run(&corpus, &config)?;
        phone::markdown(&config, &results, started.elapsed().as_secs_f64())
    } else {
        let config = cli.config();
        let results = run(&corpus, &config)?;
        report::markdown(&config, &results, started.elapsed().as_secs_f64())
    };
    print!("{text}");
    if let Some(out) = &cli.out {
        std::fs::write(out, &text).with_context(|| format!("writing {}", out.display()))?;
    }
    Ok(())
}

/// Everything measured.
pub(crate) struct Results {
    pub(crate) issue_a_s: f64,
    pub(crate) issue_b_s: f64,
    pub(crate) setup_s: f64,
    pub(crate) single: Vec<targets::Row>,
    pub(crate) collusion: Vec<targets::Row>,
    pub(crate) edges: Vec<targets::EdgeTrial>,
    pub(crate) speed: targets::Speed,
    pub(crate) innocents: innocents::Innocents,
}

fn progress(what: &str, t: &Instant) {
    eprintln!("[{:7.1} s] {what}", t.elapsed().as_secs_f64());
}

/// Runs every target.
pub(crate) fn run(corpus: &Path, c: &Config) -> Result<Results> {
    let t = Instant::now();
    let mut rng = Rng::new(c.seed);
    let call = lab::corpus_mono(corpus, "call-en-8k.flac", 8_000)?;
    let original = lab::clip(&call, 0.0, c.seconds);
    let mut others = vec![lab::corpus_mono(corpus, "librivox-en-16k.flac", 8_000)?];
    for f in ["music-8k-morning-coffee.flac", "arctic-a0007-16k.flac"] {
        others.push(lab::corpus_mono(corpus, f, 8_000)?);
    }
    let mut a = IssuedVault::create(&original, "a", c.recipients)?;
    progress(&format!("vault A: {} copies issued", c.recipients), &t);
    let mut b = IssuedVault::create(&original, "b", c.colluder_recipients)?;
    progress(
        &format!("vault B: {} copies issued", c.colluder_recipients),
        &t,
    );
    let setup_s = t.elapsed().as_secs_f64();

    let scenarios = [
        (10.0, Channel::Mp3(64)),
        (30.0, Channel::Opus(12)),
        (30.0, Channel::PhoneMp3(32)),
    ];
    let single = targets::single_leakers(&mut a, &scenarios, c.trials, &mut rng)?;
    progress("single leakers", &t);
    let collusion = targets::collusion(&mut b, c.trials, &mut rng)?;
    progress("collusion", &t);
    let leakers = a.cached();
    let lengths: &[f64] = if c.trials >= 10 {
        &[3.0, 5.0, 8.0]
    } else {
        &[3.0, 5.0]
    };
    let positions: &[f64] = if c.trials >= 10 {
        &[6.0, 13.0, 21.0, 29.0]
    } else {
        &[9.0, 21.0]
    };
    let edges = targets::authenticity(&mut a, &leakers, &others[0], lengths, positions, &mut rng)?;
    progress("authenticity", &t);
    let speed = targets::speed(&mut a, leakers[0], c.speed_reps, &mut rng)?;
    progress("speed", &t);
    let src = innocents::Sources {
        original: &original,
        others: &others,
        a_guilty: &leakers,
    };
    let innocents = innocents::run(&mut a, &mut b, &src, &c.plan, &mut rng)?;
    progress("innocents", &t);
    Ok(Results {
        issue_a_s: a.issue_s_per_copy,
        issue_b_s: b.issue_s_per_copy,
        setup_s,
        single,
        collusion,
        edges,
        speed,
        innocents,
    })
}
