//! The Markdown report.

use std::fmt::Write;

use crate::innocents::{ALPHAS, KINDS, Tally};
use crate::targets::{EdgeTrial, Row, median};
use crate::{Config, Results};

/// The whole report.
pub fn markdown(c: &Config, r: &Results, total_s: f64) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Recording: call-en-8k.flac, first {:.0} s, 8 kHz mono. Vault A issued {} WAV copies \
         ({:.3} s per copy: embed + encode + logged transaction), vault B {} copies \
         ({:.3} s per copy); setup {:.0} s. Bound 1e-6 (Bonferroni over recipients x 2 score \
         functions x recordings). Seed {}. Total {:.0} s.\n",
        c.seconds,
        c.recipients,
        r.issue_a_s,
        c.colluder_recipients,
        r.issue_b_s,
        r.setup_s,
        c.seed,
        total_s
    );
    s.push_str("## Guilty named (real traces through `Vault::trace`)\n\n");
    s.push_str(
        "| scenario | named | innocents accused / tested | median best guilty corrected p | worst best guilty p | mean trace s |\n|---|---|---|---|---|---|\n",
    );
    for row in r.single.iter().chain(&r.collusion) {
        rows(&mut s, row);
    }
    edges(&mut s, &r.edges);
    speed(&mut s, r);
    innocents(&mut s, r);
    s
}

fn rows(s: &mut String, row: &Row) {
    let ps = row.guilty_ps();
    let (acc, tested) = row.trials.iter().fold((0, 0), |(a, t), j| {
        (a + j.innocents_accused, t + j.innocents_tested)
    });
    let _ = writeln!(
        s,
        "| {} | {}/{} | {acc} / {tested} | {:.1e} | {:.1e} | {:.2} |",
        row.scenario,
        row.named(),
        row.trials.len(),
        median(&ps),
        ps.last().copied().unwrap_or(f64::NAN),
        row.seconds / row.trials.len().max(1) as f64
    );
}

fn edges(s: &mut String, trials: &[EdgeTrial]) {
    s.push_str("\n## Authenticity map (leaker's copy, then MP3 64k)\n\n");
    s.push_str("| edit | length | trials | shown | both edges within 1 s | median edge error s | max edge error s | leaker still named |\n|---|---|---|---|---|---|---|---|\n");
    let mut keys: Vec<(&str, f64)> = trials.iter().map(|t| (t.kind, t.len_s)).collect();
    keys.dedup();
    keys.sort_by(|a, b| a.0.cmp(b.0).then(a.1.total_cmp(&b.1)));
    keys.dedup();
    for (kind, len) in keys {
        let sel: Vec<&EdgeTrial> = trials
            .iter()
            .filter(|t| t.kind == kind && t.len_s == len)
            .collect();
        let mut errs: Vec<f64> = sel
            .iter()
            .filter(|t| t.shown)
            .map(|t| t.edge_error_s)
            .collect();
        errs.sort_by(f64::total_cmp);
        let label = if kind == "insert" {
            "foreign stretch inserted (unmatched?)"
        } else {
            "stretch cut (missing?)"
        };
        let _ = writeln!(
            s,
            "| {label} | {len:.0} s | {} | {} | {} | {:.2} | {:.2} | {} |",
            sel.len(),
            sel.iter().filter(|t| t.shown).count(),
            sel.iter().filter(|t| t.edge_error_s <= 1.0).count(),
            median(&errs),
            errs.last().copied().unwrap_or(f64::NAN),
            sel.iter().filter(|t| t.leaker_named).count(),
        );
    }
    let _ = writeln!(
        s,
        "\nPositions (s into the leak for inserts, into the leaked stretch for cuts): {:?}",
        {
            let mut p: Vec<f64> = trials.iter().map(|t| t.at_s).collect();
            p.sort_by(f64::total_cmp);
            p.dedup();
            p
        }
    );
}

fn speed(s: &mut String, r: &Results) {
    let sp = &r.speed;
    let (t, d) = (median(&sp.trace_s), median(&sp.decode_s));
    s.push_str("\n## Speed (one thread)\n\n");
    s.push_str("| measurement | median s | min s | max s |\n|---|---|---|---|\n");
    for (name, v) in [
        (
            format!(
                "`Vault::trace` of a {:.0} s MP3 64k clip, {} issued copies",
                sp.clip_s, sp.recipients
            ),
            &sp.trace_s,
        ),
        ("baseline: decoding that MP3 clip".to_string(), &sp.decode_s),
    ] {
        let _ = writeln!(
            s,
            "| {name} | {:.3} | {:.3} | {:.3} |",
            median(v),
            v.first().copied().unwrap_or(f64::NAN),
            v.last().copied().unwrap_or(f64::NAN)
        );
    }
    let _ = writeln!(
        s,
        "\nTrace / decode = {:.0}x ({} repetitions).",
        t / d,
        sp.trace_s.len()
    );
}

fn innocents(s: &mut String, r: &Results) {
    let inn = &r.innocents;
    s.push_str("\n## Innocents\n\n### Full traces (`Vault::trace` in vault A)\n\n");
    table(s, &inn.full, false);
    let _ = writeln!(
        s,
        "\n### Scoring level ({} fresh innocent codewords per simulated trace, on the soft symbols of {} real traces above)\n\nReplica check: the bench's re-extraction reproduced the vault's own top score in {}/{} traces.\n",
        inn.sim_innocents_per_trace, inn.observations, inn.replica_matched, inn.replica_checked
    );
    table(s, &inn.simulated, true);
    let all: Vec<&Tally> = inn.full.iter().chain(&inn.simulated).collect();
    let traces: usize = all.iter().map(|t| t.traces).sum();
    let with: usize = all.iter().map(|t| t.traces_with_accusation).sum();
    let tests: usize = all.iter().map(|t| t.innocent_tests).sum();
    let _ = writeln!(
        s,
        "\nTogether: {traces} traces, {tests} innocent tests, {with} traces with an innocent accused \
         (95 % upper limit on the per-trace rate: {:.1e}; the design bound is 1e-6 per trace).",
        upper95(with, traces)
    );
    s.push_str("\nUncorrected p-values of innocents at or below alpha (rate; each recipient keeps the smaller of its two score functions' p-values, so the bound must keep it <= 2 alpha, and the corrected p-value carries that factor 2):\n\n| level | innocent tests |");
    for a in ALPHAS {
        let _ = write!(s, " alpha {a:.0e} |");
    }
    s.push_str("\n|---|---|---|---|---|---|---|\n");
    for (label, tallies, est) in [
        ("full traces, bound", &inn.full, false),
        ("scoring level, bound", &inn.simulated, false),
        ("scoring level, estimate", &inn.simulated, true),
    ] {
        let n: usize = tallies.iter().map(|t| t.innocent_tests).sum();
        let _ = write!(s, "| {label} | {n} |");
        for k in 0..ALPHAS.len() {
            let c: usize = tallies
                .iter()
                .map(|t| {
                    if est {
                        t.estimate_below[k]
                    } else {
                        t.bound_below[k]
                    }
                })
                .sum();
            let _ = write!(s, " {:.2e} |", c as f64 / n.max(1) as f64);
        }
        s.push('\n');
    }
}

fn table(s: &mut String, tallies: &[Tally], sim: bool) {
    s.push_str("| kind | traces | recording identified | innocent tests | innocents accused | traces with an accusation | smallest innocent corrected p | s |\n|---|---|---|---|---|---|---|---|\n");
    for (kind, t) in KINDS.iter().zip(tallies) {
        if sim && t.traces == 0 {
            continue;
        }
        let _ = writeln!(
            s,
            "| {kind} | {} | {} | {} | {} | {} | {:.1e} | {:.0} |",
            t.traces,
            t.identified,
            t.innocent_tests,
            t.accused,
            t.traces_with_accusation,
            t.min_corrected_p,
            t.seconds
        );
    }
}

/// One-sided 95 % upper confidence limit of a binomial rate (exact for 0 events: the
/// "rule of three"; otherwise the normal approximation with continuity, conservative
/// enough for a report line).
fn upper95(k: usize, n: usize) -> f64 {
    if n == 0 {
        return 1.0;
    }
    let (k, n) = (k as f64, n as f64);
    if k == 0.0 {
        return 1.0 - 0.05f64.powf(1.0 / n);
    }
    let p = (k + 0.5) / n;
    (p + 1.645 * (p * (1.0 - p) / n).sqrt()).min(1.0)
}
