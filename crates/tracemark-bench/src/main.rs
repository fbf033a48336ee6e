//! `tracemark-bench`: the measuring stick of issue 3. One command runs the attack matrix
//! (recording x attack x detection mode x seed) on ../shared/corpus, measures the marked
//! files' quality, the false-positive count and the engine's speed, and writes
//! docs/benchmarks/robustness.{md,json,svg}.
//!
//! ```text
//! cargo run --release -p tracemark-bench -- robustness           # full matrix, < 30 min
//! cargo run --release -p tracemark-bench -- robustness --quick   # ten attacks, < 3 min
//! ```

mod audiowmark;
mod cells;
mod corpus;
mod falsepos;
mod quality;
mod report;
mod speed;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use rayon::prelude::*;
use tracemark_attacks::{Attack, Codec, quick_suite, standard_suite};

use crate::cells::Scenario;
use crate::corpus::Recording;

#[derive(Parser)]
#[command(
    name = "tracemark-bench",
    version,
    about = "Benchmarks of the tracemark watermark"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Robustness against the attack suite, quality, false positives and speed.
    Robustness(RobustnessArgs),
}

#[derive(Args, Debug, Clone)]
struct RobustnessArgs {
    /// The ten-attack subset, one seed, 50 false-positive trials (under 3 minutes).
    #[arg(long)]
    quick: bool,
    /// Seeds; each gives a random key and payload [default: 3, --quick: 1].
    #[arg(long)]
    seeds: Option<u64>,
    /// Corpus directory [default: ../shared/corpus beside the workspace].
    #[arg(long)]
    corpus: Option<PathBuf>,
    /// Output directory [default: docs/benchmarks in the workspace].
    #[arg(long)]
    out: Option<PathBuf>,
    /// False-positive trials, 10 s clips each [default: 1000, --quick: 50].
    #[arg(long)]
    fp_trials: Option<usize>,
    /// Worker threads for the matrix (speed is always measured on one thread).
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Only the scenarios with these names (repeatable), e.g. `--attack mp3-64k`.
    #[arg(long = "attack")]
    attacks: Vec<String>,
    /// Corpus files to use instead of the default three (repeatable).
    #[arg(long = "file")]
    files: Vec<String>,
    /// Skip the speed measurement.
    #[arg(long)]
    no_speed: bool,
    /// Skip ViSQOL (the slowest quality metric).
    #[arg(long)]
    no_visqol: bool,
}

fn workspace_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// The issue 2 targets that combine an attack with a short clip: "payload exact from any
/// 5 s clip after Opus 12 kbps / +-5 % speed / +-5 % tempo / white noise at 10 dB".
fn target_chains() -> Vec<Scenario> {
    let crop5 = Attack::Crop { seconds: 5.0 };
    [
        Attack::Codec(Codec::Opus { kbps: 12 }),
        Attack::Speed { percent: 5.0 },
        Attack::Speed { percent: -5.0 },
        Attack::Tempo { percent: 5.0 },
        Attack::Tempo { percent: -5.0 },
        Attack::WhiteNoise { snr_db: 10.0 },
    ]
    .into_iter()
    .map(|a| Scenario::chain(vec![a, crop5]))
    .collect()
}

fn scenarios(args: &RobustnessArgs) -> Result<Vec<Scenario>> {
    let suite = if args.quick {
        quick_suite()
    } else {
        standard_suite()
    };
    let mut all: Vec<Scenario> = std::iter::once(Scenario::none())
        .chain(suite.into_iter().map(Scenario::single))
        .collect();
    if !args.quick {
        all.extend(target_chains());
    }
    if !args.attacks.is_empty() {
        let mut known: Vec<Scenario> = std::iter::once(Scenario::none())
            .chain(standard_suite().into_iter().map(Scenario::single))
            .collect();
        known.extend(target_chains());
        if let Some(unknown) = args
            .attacks
            .iter()
            .find(|n| !known.iter().any(|s| &s.name == *n))
        {
            let names: Vec<&str> = known.iter().map(|s| s.name.as_str()).collect();
            bail!("unknown attack {unknown}; known: {}", names.join(", "));
        }
        all = known
            .into_iter()
            .filter(|s| args.attacks.contains(&s.name))
            .collect();
    }
    Ok(all)
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

fn command_output(cmd: &str, args: &[&str], dir: &Path) -> String {
    Command::new(cmd)
        .args(args)
        .current_dir(dir)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// The commit, and whether the measured crates differed from it when the run started.
fn git_state(root: &Path) -> String {
    let commit = command_output("git", &["rev-parse", "--short", "HEAD"], root);
    let mut args = vec!["status", "--porcelain", "--"];
    args.extend(MEASURED_CRATES);
    let dirty = command_output("git", &args, root);
    if dirty.is_empty() {
        format!("{commit} (measured crates unmodified)")
    } else {
        format!(
            "{commit} with uncommitted changes in: {}",
            dirty.replace('\n', ", ")
        )
    }
}

/// The crates whose behaviour the benchmark measures.
const MEASURED_CRATES: [&str; 5] = [
    "crates/tracemark-watermark",
    "crates/tracemark-coding",
    "crates/tracemark-dsp",
    "crates/tracemark-attacks",
    "crates/tracemark-codec-attacks",
];

fn robustness(args: RobustnessArgs) -> Result<()> {
    let started = Instant::now();
    let root = workspace_root();
    let corpus_dir = args
        .corpus
        .clone()
        .unwrap_or_else(|| root.join("../shared/corpus"));
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| root.join("docs/benchmarks"));
    let git_commit = git_state(&root);
    let seeds = args.seeds.unwrap_or(if args.quick { 1 } else { 3 });
    let fp_trials = args.fp_trials.unwrap_or(if args.quick { 50 } else { 1000 });
    let speed_reps = if args.quick { 3 } else { 5 };
    let names: Vec<String> = if args.files.is_empty() {
        corpus::DEFAULT_FILES
            .iter()
            .map(|s| s.to_string())
            .collect()
    } else {
        args.files.clone()
    };
    let scenarios = scenarios(&args)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.max(1))
        .build()
        .context("building the worker pool")?;

    eprintln!(
        "loading {} recordings from {}",
        names.len(),
        corpus_dir.display()
    );
    let files = corpus::load(&corpus_dir, &names)?;

    // Speed first, on this thread, while no worker is busy.
    let speed = if args.no_speed {
        None
    } else {
        eprintln!("speed: {speed_reps} repetitions on one thread");
        let source = files
            .iter()
            .find(|f| f.kind == corpus::Kind::Speech)
            .unwrap_or(&files[0]);
        Some(speed::measure(&source.name, &source.audio, speed_reps)?)
    };

    eprintln!("embedding: {} recordings x {seeds} seeds", files.len());
    let subjects = pool.install(|| cells::prepare(&files, seeds))?;

    eprintln!("quality");
    let quality = pool.install(|| {
        subjects
            .par_iter()
            .map(|s| {
                let rec: &Recording = &files[s.file];
                quality::measure(
                    &rec.name,
                    rec.kind,
                    s.seed,
                    &rec.audio,
                    &s.marked,
                    !args.no_visqol,
                )
            })
            .collect::<Vec<_>>()
    });

    eprintln!(
        "matrix: {} recordings x {} scenarios x {seeds} seeds x 2 modes",
        files.len(),
        scenarios.len()
    );
    let cells = pool.install(|| cells::run_matrix(&files, &subjects, &scenarios));

    eprintln!("false positives: {fp_trials} trials");
    let fp_sources: Vec<falsepos::FpSource<'_>> = subjects
        .iter()
        .filter(|s| s.seed == 0)
        .map(|s| falsepos::FpSource {
            recording: &files[s.file],
            marked: &s.marked,
        })
        .collect();
    let false_positives = pool.install(|| falsepos::run(&fp_sources, fp_trials));

    let (audiowmark_note, audiowmark_cells) = match audiowmark::binary() {
        Some(bin) => {
            eprintln!("audiowmark: {}", bin.display());
            let cells = pool.install(|| audiowmark::run_matrix(&bin, &files, &scenarios, seeds));
            (
                format!(
                    "audiowmark: {} ({}), blind, 128-bit payload and --short 16",
                    bin.display(),
                    command_output(&bin.to_string_lossy(), &["--version"], &root)
                ),
                cells,
            )
        }
        None => (
            "audiowmark: not installed, column omitted".to_string(),
            Vec::new(),
        ),
    };

    let attack_names: Vec<String> = scenarios.iter().map(|s| s.name.clone()).collect();
    let summary = report::summarise(&attack_names, &cells);
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let report = report::Report {
        command: format!(
            "cargo run --release -p tracemark-bench -- {}",
            argv.join(" ")
        ),
        date_utc: command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"], &root),
        git_commit,
        machine: report::Machine {
            nproc: std::thread::available_parallelism().map_or(1, usize::from),
            cpu_model: cpu_model(),
            threads_used: args.threads.max(1),
        },
        config: report::Config {
            quick: args.quick,
            seeds,
            fp_trials,
            attacks: attack_names,
            visqol: !args.no_visqol,
            speed_repetitions: speed_reps,
        },
        files: files.iter().map(Recording::info).collect(),
        elapsed_s: started.elapsed().as_secs_f64(),
        audiowmark: audiowmark_note,
        stoi: "not computed (no pure-Rust STOI; the PyPI pystoi route is not wired in)".into(),
        summary,
        quality,
        speed,
        false_positives,
        audiowmark_cells,
        cells,
    };
    report::write(&report, &out_dir)?;
    eprintln!(
        "wrote {}/robustness.{{md,json,svg}} in {:.0} s",
        out_dir.display(),
        report.elapsed_s
    );
    Ok(())
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Cmd::Robustness(args) => robustness(args),
    }
}
