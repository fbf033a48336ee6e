//! Innocents: full vault traces of leaks that no tested recipient made, and, on the soft
//! symbols those real traces observed, re-scoring against freshly drawn innocent
//! codewords (an innocent's codeword is independent of the leak, so a fresh draw from
//! the recording's biases is exactly an innocent's).

use std::time::Instant;

use anyhow::Result;
use tracemark_dsp::AudioBuffer;
use tracemark_tardos::{
    AccusationConfig, Biases, Codeword, Observations, accuse_any, default_score_functions, sim,
};
use tracemark_vault::{DEFAULT_BOUND, TraceReport};
use tracemark_watermark::detect_informed_segments;

use crate::lab::{self, Channel, IssuedVault};
use crate::rng::Rng;
use crate::targets::judge;

/// Kinds of innocent leak.
pub const KINDS: [&str; 4] = [
    "unmarked clip of the original",
    "copy issued by another vault",
    "other recording",
    "colluders' leak, other recipients",
];

/// Uncorrected significance levels at which the observed rate is compared.
pub const ALPHAS: [f64; 5] = [1e-1, 1e-2, 1e-3, 1e-4, 1e-5];

/// Counts for one kind of innocent leak.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    pub traces: usize,
    /// Traces whose recording was identified (so recipients were scored).
    pub identified: usize,
    pub innocent_tests: usize,
    pub accused: usize,
    /// Traces in which at least one innocent was accused.
    pub traces_with_accusation: usize,
    pub min_corrected_p: f64,
    /// Uncorrected p-value bounds at or below each of [`ALPHAS`].
    pub bound_below: [usize; 5],
    /// Uncorrected saddle-point estimates at or below each of [`ALPHAS`].
    pub estimate_below: [usize; 5],
    pub seconds: f64,
}

impl Tally {
    fn new() -> Self {
        Self {
            min_corrected_p: 1.0,
            ..Self::default()
        }
    }
}

/// The soft symbols one real trace observed, kept for re-scoring.
struct Observed {
    kind: usize,
    soft: Observations,
}

/// The results of both levels.
pub struct Innocents {
    pub full: Vec<Tally>,
    pub simulated: Vec<Tally>,
    /// Observations re-extracted, and how many reproduced the vault's own top score.
    pub observations: usize,
    pub replica_checked: usize,
    pub replica_matched: usize,
    pub sim_innocents_per_trace: usize,
}

/// Sources of innocent leaks.
pub struct Sources<'a> {
    pub original: &'a AudioBuffer,
    pub others: &'a [AudioBuffer],
    /// Copies of vault A's recipients already rendered (colluder material).
    pub a_guilty: &'a [usize],
}

/// Plan for the innocents run.
#[derive(Debug, Clone)]
pub struct Plan {
    pub full_traces: usize,
    pub budget_s: f64,
    pub observations: usize,
    pub sim_traces: usize,
    pub sim_innocents: usize,
}

const CHANNELS: [Channel; 4] = [
    Channel::Flac,
    Channel::Mp3(64),
    Channel::Opus(16),
    Channel::PhoneMp3(32),
];

/// Runs both levels.
pub fn run(
    a: &mut IssuedVault,
    b: &mut IssuedVault,
    src: &Sources<'_>,
    plan: &Plan,
    rng: &mut Rng,
) -> Result<Innocents> {
    let secret = a.secret()?;
    let biases = a.biases(&secret)?;
    let key = secret.watermark_key();
    let mut full: Vec<Tally> = KINDS.iter().map(|_| Tally::new()).collect();
    let mut observed: Vec<Observed> = Vec::new();
    let (mut checked, mut matched) = (0, 0);
    let b_pool: Vec<usize> = rng.distinct(4.min(b.names.len()), b.names.len());
    let start = Instant::now();
    for t in 0..plan.full_traces {
        if start.elapsed().as_secs_f64() > plan.budget_s {
            break;
        }
        let kind = t % KINDS.len();
        let len = rng.uniform(10.0, 60.0).min(src.original.duration_s() - 0.5);
        let channel = CHANNELS[rng.below(CHANNELS.len())];
        let (audio, guilty): (AudioBuffer, Vec<String>) = match kind {
            0 => (src.original.clone(), Vec::new()),
            1 => (b.copy(b_pool[rng.below(b_pool.len())])?, Vec::new()),
            2 => (src.others[rng.below(src.others.len())].clone(), Vec::new()),
            _ => {
                let k = 1 + rng.below(2.min(src.a_guilty.len()));
                let who: Vec<usize> = rng
                    .distinct(k, src.a_guilty.len())
                    .into_iter()
                    .map(|i| src.a_guilty[i])
                    .collect();
                let copies = who.iter().map(|&i| a.copy(i)).collect::<Result<Vec<_>>>()?;
                let names = who.iter().map(|&i| a.names[i].clone()).collect();
                (lab::average(&copies)?, names)
            }
        };
        let len = len.min(audio.duration_s() - 0.5);
        let off = rng.uniform(0.0, audio.duration_s() - len);
        let leak = channel.leak(&lab::clip(&audio, off, len))?;
        let t0 = Instant::now();
        let report = a.trace(&leak)?;
        full[kind].seconds += t0.elapsed().as_secs_f64();
        tally_report(&mut full[kind], &report, &guilty);
        if observed.len() < plan.observations && report.slots_observed > 0 {
            let soft = extract(&leak.audio, src.original, &key, &report, biases.len())?;
            if let Some(top) = report.standings.first() {
                checked += 1;
                // Each recipient keeps the score function with the smaller bound, whatever
                // the number of tests, so scoring the top codeword alone picks the same one.
                let word = [a.codeword(&secret, &biases, top.id.as_str())];
                let config = AccusationConfig::new(DEFAULT_BOUND)?;
                let functions = default_score_functions(&soft);
                let v = accuse_any(&soft, &biases, &functions, &word, &config)?;
                let mine = v.scores.first().map_or(f64::NAN, |s| s.score);
                matched += usize::from((mine - top.score).abs() <= 1e-6 * top.score.abs().max(1.0));
            }
            observed.push(Observed { kind, soft });
        }
    }
    let simulated = rescore(&observed, plan, &biases)?;
    Ok(Innocents {
        full,
        simulated,
        observations: observed.len(),
        replica_checked: checked,
        replica_matched: matched,
        sim_innocents_per_trace: plan.sim_innocents,
    })
}

fn tally_report(t: &mut Tally, report: &TraceReport, guilty: &[String]) {
    t.traces += 1;
    if report.standings.is_empty() {
        return;
    }
    t.identified += 1;
    let g: Vec<&str> = guilty.iter().map(String::as_str).collect();
    let j = judge(report, &g);
    t.innocent_tests += j.innocents_tested;
    t.accused += j.innocents_accused;
    t.traces_with_accusation += usize::from(j.innocents_accused > 0);
    t.min_corrected_p = t.min_corrected_p.min(j.best_innocent_p);
    for s in report
        .standings
        .iter()
        .filter(|s| !g.contains(&s.name.as_str()))
    {
        for (k, &alpha) in ALPHAS.iter().enumerate() {
            t.bound_below[k] += usize::from(s.p_value <= alpha);
        }
    }
}

/// The soft symbols over the report's genuine stretches, as the vault reads them.
fn extract(
    leak: &AudioBuffer,
    original: &AudioBuffer,
    key: &tracemark_watermark::WatermarkKey,
    report: &TraceReport,
    slots: usize,
) -> Result<Observations> {
    let genuine: Vec<(f64, f64)> = report
        .segments
        .iter()
        .filter(|s| s.genuine)
        .map(|s| (s.leak_start_s, s.leak_end_s))
        .collect();
    let (mut soft, mut cells) = (vec![0.0f32; slots], vec![0u32; slots]);
    if let Ok(d) = detect_informed_segments(leak, original, key, &genuine) {
        for s in d.symbols.iter().filter(|s| s.slot < slots) {
            soft[s.slot] = s.z;
            cells[s.slot] = s.cells;
        }
    }
    Ok(Observations::try_new(soft, cells)?)
}

/// Scoring level: each simulated trace takes one real observation (in turn) and scores
/// `sim_innocents` fresh innocent codewords against it, accusing exactly as the vault
/// does (both score functions, Chernoff bound x recipients x 2, below 1e-6).
fn rescore(observed: &[Observed], plan: &Plan, biases: &Biases) -> Result<Vec<Tally>> {
    let mut out: Vec<Tally> = KINDS.iter().map(|_| Tally::new()).collect();
    if observed.is_empty() {
        return Ok(out);
    }
    let config = AccusationConfig::new(DEFAULT_BOUND)?.with_recordings_tested(1);
    for t in 0..plan.sim_traces {
        let o = &observed[t % observed.len()];
        let tally = &mut out[o.kind];
        let t0 = Instant::now();
        let words: Vec<Codeword> = (0..plan.sim_innocents)
            .map(|j| {
                let n = (t * plan.sim_innocents + j) as u64;
                Codeword::draw(&sim::seed("tracebench/innocent", n), biases)
            })
            .collect();
        let functions = default_score_functions(&o.soft);
        let verdict = accuse_any(&o.soft, biases, &functions, &words, &config)?;
        tally.traces += 1;
        tally.identified += 1;
        tally.innocent_tests += words.len();
        tally.accused += verdict.accused.len();
        tally.traces_with_accusation += usize::from(!verdict.accused.is_empty());
        for s in &verdict.scores {
            tally.min_corrected_p = tally.min_corrected_p.min(s.corrected);
            for (k, &alpha) in ALPHAS.iter().enumerate() {
                tally.bound_below[k] += usize::from(s.tail.bound() <= alpha);
                tally.estimate_below[k] +=
                    usize::from(s.tail.estimate().is_some_and(|e| e <= alpha));
            }
        }
        tally.seconds += t0.elapsed().as_secs_f64();
    }
    Ok(out)
}
