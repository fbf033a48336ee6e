//! The issue-4 targets that name the guilty: single leakers, colluders, authenticity maps
//! and trace speed. Each trial is a real `Vault::trace` of a real leaked file.

use std::time::Instant;

use anyhow::Result;
use tracemark_dsp::AudioBuffer;
use tracemark_vault::TraceReport;

use crate::lab::{self, Channel, IssuedVault, Leak};
use crate::rng::Rng;

/// What one traced leak showed about its makers and everybody else.
#[derive(Debug, Clone)]
pub struct Judged {
    /// Guilty recipients accused.
    pub guilty_named: usize,
    /// Smallest corrected p-value among the guilty (1 when not scored).
    pub best_guilty_p: f64,
    /// Innocent recipients scored.
    pub innocents_tested: usize,
    /// Innocent recipients accused.
    pub innocents_accused: usize,
    /// Smallest corrected p-value among the innocents.
    pub best_innocent_p: f64,
}

/// Sorts a trace's standings into guilty and innocent.
pub fn judge(report: &TraceReport, guilty: &[&str]) -> Judged {
    let mut j = Judged {
        guilty_named: 0,
        best_guilty_p: 1.0,
        innocents_tested: 0,
        innocents_accused: 0,
        best_innocent_p: 1.0,
    };
    for s in &report.standings {
        if guilty.contains(&s.name.as_str()) {
            j.guilty_named += usize::from(s.accused);
            j.best_guilty_p = j.best_guilty_p.min(s.corrected_p_value);
        } else {
            j.innocents_tested += 1;
            j.innocents_accused += usize::from(s.accused);
            j.best_innocent_p = j.best_innocent_p.min(s.corrected_p_value);
        }
    }
    j
}

/// One table row: a scenario over several trials.
#[derive(Debug, Clone)]
pub struct Row {
    pub scenario: String,
    pub trials: Vec<Judged>,
    pub seconds: f64,
}

impl Row {
    fn new(scenario: String) -> Self {
        Self {
            scenario,
            trials: Vec::new(),
            seconds: 0.0,
        }
    }

    /// Trials where at least one guilty recipient was accused.
    pub fn named(&self) -> usize {
        self.trials.iter().filter(|j| j.guilty_named > 0).count()
    }

    /// Best guilty corrected p-values, sorted.
    pub fn guilty_ps(&self) -> Vec<f64> {
        let mut v: Vec<f64> = self.trials.iter().map(|j| j.best_guilty_p).collect();
        v.sort_by(f64::total_cmp);
        v
    }
}

/// The median of a sorted slice (NaN when empty).
pub fn median(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]),
    }
}

/// A clip length that fits the recording.
fn fit(len_s: f64, audio: &AudioBuffer) -> f64 {
    len_s.min(audio.duration_s() - 0.5)
}

/// Single leakers: `trials` distinct recipients, each leaking one clip per scenario.
pub fn single_leakers(
    a: &mut IssuedVault,
    scenarios: &[(f64, Channel)],
    trials: usize,
    rng: &mut Rng,
) -> Result<Vec<Row>> {
    let mut rows: Vec<Row> = scenarios
        .iter()
        .map(|(len, ch)| {
            Row::new(format!(
                "1 leaker / {}, {len:.0} s clip, {}",
                a.names.len(),
                ch.label()
            ))
        })
        .collect();
    for leaker in rng.distinct(trials, a.names.len()) {
        let copy = a.copy(leaker)?;
        let name = a.names[leaker].clone();
        for (row, &(len, channel)) in rows.iter_mut().zip(scenarios) {
            let len = fit(len, &copy);
            let start = rng.uniform(0.0, copy.duration_s() - len);
            let leak = channel.leak(&lab::clip(&copy, start, len))?;
            let t = Instant::now();
            let report = a.trace(&leak)?;
            row.seconds += t.elapsed().as_secs_f64();
            row.trials.push(judge(&report, &[&name]));
        }
    }
    Ok(rows)
}

/// Collusion: two copies averaged then MP3 64k (60 s clip), and three copies
/// interleaved in 5 s segments over the whole 120 s (lossless, and MP3 64k).
pub fn collusion(b: &mut IssuedVault, trials: usize, rng: &mut Rng) -> Result<Vec<Row>> {
    let n = b.names.len();
    let mut avg = Row::new(format!("2 averaging / {n}, 60 s clip, MP3 64k"));
    let mut inter = Row::new(format!("3 interleaving 5 s / {n}, whole 120 s, FLAC"));
    let mut inter_mp3 = Row::new(format!("3 interleaving 5 s / {n}, whole 120 s, MP3 64k"));
    for _ in 0..trials {
        let who = rng.distinct(2, n);
        let copies = who.iter().map(|&i| b.copy(i)).collect::<Result<Vec<_>>>()?;
        let mixed = lab::average(&copies)?;
        let len = fit(60.0, &mixed);
        let start = rng.uniform(0.0, mixed.duration_s() - len);
        let leak = Channel::Mp3(64).leak(&lab::clip(&mixed, start, len))?;
        let names: Vec<String> = who.iter().map(|&i| b.names[i].clone()).collect();
        trace_into(b, &leak, &names, &mut avg)?;

        let who = rng.distinct(3, n);
        let copies = who.iter().map(|&i| b.copy(i)).collect::<Result<Vec<_>>>()?;
        let mixed = lab::interleave(&copies, 5.0)?;
        let names: Vec<String> = who.iter().map(|&i| b.names[i].clone()).collect();
        trace_into(b, &Channel::Flac.leak(&mixed)?, &names, &mut inter)?;
        trace_into(b, &Channel::Mp3(64).leak(&mixed)?, &names, &mut inter_mp3)?;
    }
    Ok(vec![avg, inter, inter_mp3])
}

fn trace_into(v: &mut IssuedVault, leak: &Leak, guilty: &[String], row: &mut Row) -> Result<()> {
    let t = Instant::now();
    let report = v.trace(leak)?;
    row.seconds += t.elapsed().as_secs_f64();
    let g: Vec<&str> = guilty.iter().map(String::as_str).collect();
    row.trials.push(judge(&report, &g));
    Ok(())
}

/// One authenticity trial.
#[derive(Debug, Clone)]
pub struct EdgeTrial {
    /// `insert` or `cut`.
    pub kind: &'static str,
    /// Length of the inserted or cut stretch, seconds.
    pub len_s: f64,
    /// Where, in leak seconds (insert) or original seconds (cut).
    pub at_s: f64,
    /// Whether an unmatched (insert) or missing (cut) stretch overlaps the truth.
    pub shown: bool,
    /// Largest edge error of the best-overlapping stretch, seconds.
    pub edge_error_s: f64,
    /// Whether the leaker was still accused.
    pub leaker_named: bool,
}

/// The stretch of `found` that overlaps `truth` most, and its larger edge error.
fn best_overlap(found: &[(f64, f64)], truth: (f64, f64)) -> Option<f64> {
    found
        .iter()
        .map(|&(a, b)| ((b.min(truth.1) - a.max(truth.0)), (a, b)))
        .filter(|(o, _)| *o > 0.0)
        .max_by(|x, y| x.0.total_cmp(&y.0))
        .map(|(_, (a, b))| (a - truth.0).abs().max((b - truth.1).abs()))
}

/// Foreign stretches inserted into, and stretches cut from, leakers' copies, then MP3 64k.
pub fn authenticity(
    a: &mut IssuedVault,
    leakers: &[usize],
    foreign: &AudioBuffer,
    lengths: &[f64],
    positions: &[f64],
    rng: &mut Rng,
) -> Result<Vec<EdgeTrial>> {
    let mut out = Vec::new();
    let rate = f64::from(foreign.rate().hz());
    let mut turn = 0usize;
    for &len in lengths {
        for &at in positions {
            let leaker = leakers[turn % leakers.len().max(1)];
            turn += 1;
            let copy = a.copy(leaker)?;
            let name = a.names[leaker].clone();
            // Insert: a 40 s stretch of the copy with `len` s of foreign speech at `at`.
            let base_len = fit(40.0, &copy);
            let s = rng.uniform(0.0, copy.duration_s() - base_len);
            let base = lab::clip(&copy, s, base_len).downmix();
            let cut_at = ((at * rate) as usize).min(base.len());
            let f0 = rng.uniform(0.0, (foreign.duration_s() - len).max(0.0));
            let mut spliced = base[..cut_at].to_vec();
            spliced.extend(lab::clip(foreign, f0, len).downmix());
            spliced.extend_from_slice(&base[cut_at..]);
            let leak = Channel::Mp3(64).leak(&lab::mono(copy.rate(), spliced)?)?;
            let report = a.trace(&leak)?;
            let unmatched: Vec<(f64, f64)> = report
                .segments
                .iter()
                .filter(|g| !g.genuine)
                .map(|g| (g.leak_start_s, g.leak_end_s))
                .collect();
            let edge = best_overlap(&unmatched, (at, at + len));
            out.push(EdgeTrial {
                kind: "insert",
                len_s: len,
                at_s: at,
                shown: edge.is_some(),
                edge_error_s: edge.unwrap_or(f64::INFINITY),
                leaker_named: judge(&report, &[&name]).guilty_named > 0,
            });
            // Cut: a 50 s stretch of the copy with `len` s removed at `at`.
            let base_len = fit(50.0, &copy);
            let s = rng.uniform(0.0, copy.duration_s() - base_len);
            let base = lab::clip(&copy, s, base_len).downmix();
            let a0 = ((at * rate) as usize).min(base.len());
            let a1 = (((at + len) * rate) as usize).min(base.len());
            let mut kept = base[..a0].to_vec();
            kept.extend_from_slice(&base[a1..]);
            let leak = Channel::Mp3(64).leak(&lab::mono(copy.rate(), kept)?)?;
            let report = a.trace(&leak)?;
            let edge = best_overlap(&report.missing, (s + at, s + at + len));
            out.push(EdgeTrial {
                kind: "cut",
                len_s: len,
                at_s: at,
                shown: edge.is_some(),
                edge_error_s: edge.unwrap_or(f64::INFINITY),
                leaker_named: judge(&report, &[&name]).guilty_named > 0,
            });
        }
    }
    Ok(out)
}

/// Speed of a trace of a 60 s MP3 64k clip, and of decoding that clip.
#[derive(Debug, Clone)]
pub struct Speed {
    pub clip_s: f64,
    pub recipients: usize,
    pub trace_s: Vec<f64>,
    pub decode_s: Vec<f64>,
}

/// Times `reps` traces and decodes of one 60 s leak.
pub fn speed(a: &mut IssuedVault, leaker: usize, reps: usize, rng: &mut Rng) -> Result<Speed> {
    let copy = a.copy(leaker)?;
    let len = fit(60.0, &copy);
    let start = rng.uniform(0.0, copy.duration_s() - len);
    let leak = Channel::Mp3(64).leak(&lab::clip(&copy, start, len))?;
    let mut sp = Speed {
        clip_s: len,
        recipients: a.names.len(),
        trace_s: Vec::new(),
        decode_s: Vec::new(),
    };
    for _ in 0..reps.max(1) {
        let t = Instant::now();
        let decoded = lab::decode(&leak.bytes, "mp3")?;
        sp.decode_s.push(t.elapsed().as_secs_f64());
        std::hint::black_box(decoded);
        let t = Instant::now();
        let report = a.trace(&leak)?;
        sp.trace_s.push(t.elapsed().as_secs_f64());
        std::hint::black_box(report);
    }
    sp.trace_s.sort_by(f64::total_cmp);
    sp.decode_s.sort_by(f64::total_cmp);
    Ok(sp)
}
