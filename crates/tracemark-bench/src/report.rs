//! The report: summaries, and the Markdown, JSON and SVG files written from them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::audiowmark::AwCell;
use crate::cells::{CellResult, Mode, Status};
use crate::corpus::{Kind, RecordingInfo};
use crate::falsepos::FalsePositives;
use crate::quality::Quality;
use crate::speed::Speed;

/// Recovery of one scenario in one mode, over the corpus and seeds.
#[derive(Debug, Clone, Serialize)]
pub struct AttackSummary {
    pub attack: String,
    pub mode: Mode,
    /// Cells that ran (errors included, skips excluded).
    pub cells: usize,
    pub skipped: usize,
    pub recovered: usize,
    pub detected: usize,
    pub recovery_rate: Option<f64>,
    pub mean_bit_errors: Option<f64>,
    pub median_p_value: Option<f64>,
    pub notes: Vec<String>,
    /// (file, cells, recovered).
    pub per_file: Vec<(String, usize, usize)>,
}

pub fn summarise(attacks: &[String], cells: &[CellResult]) -> Vec<AttackSummary> {
    let mut out = Vec::new();
    for attack in attacks {
        for mode in Mode::ALL {
            let mine: Vec<&CellResult> = cells
                .iter()
                .filter(|c| &c.attack == attack && c.mode == mode)
                .collect();
            let ran: Vec<&&CellResult> = mine
                .iter()
                .filter(|c| c.status != Status::Skipped)
                .collect();
            let recovered = ran.iter().filter(|c| c.payload_exact).count();
            let bits: Vec<f64> = ran
                .iter()
                .filter_map(|c| c.bit_errors.map(f64::from))
                .collect();
            let mut ps: Vec<f64> = ran.iter().filter_map(|c| c.p_value).collect();
            ps.sort_by(f64::total_cmp);
            let mut notes: Vec<String> = mine.iter().filter_map(|c| c.note.clone()).collect();
            notes.sort();
            notes.dedup();
            let mut per_file: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
            for c in &ran {
                let e = per_file.entry(c.file.as_str()).or_default();
                e.0 += 1;
                e.1 += usize::from(c.payload_exact);
            }
            out.push(AttackSummary {
                attack: attack.clone(),
                mode,
                cells: ran.len(),
                skipped: mine.len() - ran.len(),
                recovered,
                detected: ran.iter().filter(|c| c.detected).count(),
                recovery_rate: (!ran.is_empty()).then(|| recovered as f64 / ran.len() as f64),
                mean_bit_errors: (!bits.is_empty())
                    .then(|| bits.iter().sum::<f64>() / bits.len() as f64),
                median_p_value: ps.get(ps.len() / 2).copied(),
                notes,
                per_file: per_file
                    .into_iter()
                    .map(|(f, (n, r))| (f.to_string(), n, r))
                    .collect(),
            });
        }
    }
    out
}

#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub nproc: usize,
    pub cpu_model: String,
    pub threads_used: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Config {
    pub quick: bool,
    pub seeds: u64,
    pub fp_trials: usize,
    pub attacks: Vec<String>,
    pub visqol: bool,
    pub speed_repetitions: usize,
}

/// Everything one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub command: String,
    pub date_utc: String,
    pub git_commit: String,
    pub machine: Machine,
    pub config: Config,
    pub files: Vec<RecordingInfo>,
    pub elapsed_s: f64,
    pub audiowmark: String,
    pub stoi: String,
    pub summary: Vec<AttackSummary>,
    pub quality: Vec<Quality>,
    pub speed: Option<Speed>,
    pub false_positives: FalsePositives,
    pub audiowmark_cells: Vec<AwCell>,
    pub cells: Vec<CellResult>,
}

/// Writes `robustness.md`, `robustness.json` and `robustness.svg` into `dir`.
pub fn write(report: &Report, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let write = |name: &str, text: String| {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
    };
    write(
        "robustness.json",
        serde_json::to_string_pretty(report)? + "\n",
    )?;
    write("robustness.md", markdown(report))?;
    write("robustness.svg", svg(report))?;
    Ok(())
}

fn find<'a>(report: &'a Report, attack: &str, mode: Mode) -> Option<&'a AttackSummary> {
    report
        .summary
        .iter()
        .find(|s| s.attack == attack && s.mode == mode)
}

fn attacks(report: &Report) -> Vec<&str> {
    report.config.attacks.iter().map(String::as_str).collect()
}

fn rate_cell(s: Option<&AttackSummary>) -> String {
    match s {
        Some(s) if s.cells > 0 => format!(
            "{:.0}% ({}/{})",
            100.0 * s.recovered as f64 / s.cells as f64,
            s.recovered,
            s.cells
        ),
        Some(s) if s.skipped > 0 => "skipped".into(),
        _ => "-".into(),
    }
}

fn p_cell(p: Option<f64>) -> String {
    p.map_or("-".into(), |p| {
        if p <= 0.0 {
            "0".into()
        } else if p >= 0.01 {
            format!("{p:.2}")
        } else {
            format!("{p:.0e}")
        }
    })
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or("-".into(), |v| format!("{v:.digits$}"))
}

fn mean(v: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let got: Vec<f64> = v.flatten().collect();
    (!got.is_empty()).then(|| got.iter().sum::<f64>() / got.len() as f64)
}

fn markdown(r: &Report) -> String {
    let mut m = String::new();
    let _ = writeln!(
        m,
        "# Robustness, quality and speed of the tracemark watermark\n"
    );
    let _ = writeln!(
        m,
        "Generated by `tracemark-bench` (crates/tracemark-bench); do not edit by hand: rerun \
         the command.\n"
    );
    let _ = writeln!(m, "- Command: `{}`", r.command);
    let _ = writeln!(m, "- Date: {}; commit {}", r.date_utc, r.git_commit);
    let _ = writeln!(
        m,
        "- Machine: {} ({} cores, `nproc`), {} worker threads for the matrix; shared with other \
         developers' builds while it ran",
        r.machine.cpu_model, r.machine.nproc, r.machine.threads_used
    );
    let _ = writeln!(
        m,
        "- Run: {} seed(s) (each a random 256-bit key and 64-bit payload), {} scenarios, {} \
         false-positive trials; wall time {:.0} s",
        r.config.seeds,
        r.config.attacks.len(),
        r.config.fp_trials,
        r.elapsed_s
    );
    let _ = writeln!(m, "- Corpus (../shared/corpus, each cut to at most 60 s):");
    for f in &r.files {
        let _ = writeln!(
            m,
            "  - {} ({:?}, {} Hz, {} ch, {:.1} s)",
            f.name, f.kind, f.rate_hz, f.channels, f.seconds_used
        );
    }
    let _ = writeln!(m, "- {}", r.audiowmark);
    let _ = writeln!(m, "- STOI: {}\n", r.stoi);

    let _ = writeln!(m, "## Recovery per attack and mode\n");
    let _ = writeln!(
        m,
        "A cell is one (recording, attack, seed); *exact* means the decoded 64-bit payload \
         equals the embedded one. Blind detection gets only the attacked clip (read as it is, \
         then with speed and tempo changes of up to +-5 % searched, as `tracemark detect` \
         does); informed detection also gets the unmarked original. Skipped cells (a tool missing, a clip too \
         short for the attack) are not counted. Mean bit errors are over cells that decoded \
         a payload (a CRC-checked payload is exact or absent, so this is normally 0).\n"
    );
    let _ = writeln!(
        m,
        "| attack | blind exact | blind detected | blind median p | informed exact | informed detected | informed median p | notes |"
    );
    let _ = writeln!(m, "|---|---|---|---|---|---|---|---|");
    for a in attacks(r) {
        let (b, i) = (find(r, a, Mode::Blind), find(r, a, Mode::Informed));
        let det = |s: Option<&AttackSummary>| {
            s.map_or("-".into(), |s| format!("{}/{}", s.detected, s.cells))
        };
        let mut notes: Vec<String> = b
            .iter()
            .chain(i.iter())
            .flat_map(|s| s.notes.clone())
            .collect();
        notes.sort();
        notes.dedup();
        let _ = writeln!(
            m,
            "| {a} | {} | {} | {} | {} | {} | {} | {} |",
            rate_cell(b),
            det(b),
            p_cell(b.and_then(|s| s.median_p_value)),
            rate_cell(i),
            det(i),
            p_cell(i.and_then(|s| s.median_p_value)),
            notes.join("; ").replace('|', "/")
        );
    }

    let files: Vec<&str> = r.files.iter().map(|f| f.name.as_str()).collect();
    let _ = writeln!(m, "\n## Per recording (exact payloads, blind / informed)\n");
    let _ = writeln!(m, "| attack | {} |", files.join(" | "));
    let _ = writeln!(m, "|---|{}", "---|".repeat(files.len()));
    for a in attacks(r) {
        let per = |mode: Mode, f: &str| {
            find(r, a, mode)
                .and_then(|s| s.per_file.iter().find(|p| p.0 == f))
                .map_or("-".to_string(), |p| format!("{}/{}", p.2, p.1))
        };
        let row: Vec<String> = files
            .iter()
            .map(|f| format!("{} / {}", per(Mode::Blind, f), per(Mode::Informed, f)))
            .collect();
        let _ = writeln!(m, "| {a} | {} |", row.join(" | "));
    }

    survival(&mut m, r);
    targets(&mut m, r);
    quality(&mut m, r);
    speed(&mut m, r);
    false_positives(&mut m, r);
    if !r.audiowmark_cells.is_empty() {
        audiowmark(&mut m, r);
    }
    m
}

fn survival(m: &mut String, r: &Report) {
    let _ = writeln!(m, "\n## What survives\n");
    for mode in Mode::ALL {
        let mut all = Vec::new();
        let mut some = Vec::new();
        let mut none = Vec::new();
        for a in attacks(r) {
            match find(r, a, mode) {
                Some(s) if s.cells > 0 && s.recovered == s.cells => all.push(a),
                Some(s) if s.cells > 0 && s.recovered > 0 => {
                    some.push(format!("{a} ({}/{})", s.recovered, s.cells));
                }
                Some(s) if s.cells > 0 => none.push(a),
                _ => {}
            }
        }
        let _ = writeln!(m, "**{}**", mode.label());
        let _ = writeln!(m, "- every cell exact: {}", list(&all));
        let _ = writeln!(m, "- some cells exact: {}", list(&some));
        let _ = writeln!(m, "- no cell exact: {}\n", list(&none));
    }
}

/// The blind targets assume "full 60 s of speech"; shorter speech is reported beside them.
const FULL_SPEECH_S: f64 = 59.5;

/// Recovery of `attack` in `mode` over the speech recordings whose length passes `keep`:
/// (cells, recovered).
fn speech_rate(
    r: &Report,
    attack: &str,
    mode: Mode,
    keep: impl Fn(f64) -> bool,
) -> Option<(usize, usize)> {
    let speech: Vec<&str> = r
        .files
        .iter()
        .filter(|f| f.kind == Kind::Speech && keep(f.seconds_used))
        .map(|f| f.name.as_str())
        .collect();
    let s = find(r, attack, mode)?;
    let (n, k) = s
        .per_file
        .iter()
        .filter(|p| speech.contains(&p.0.as_str()))
        .fold((0, 0), |(n, k), p| (n + p.1, k + p.2));
    (n > 0).then_some((n, k))
}

/// The measured targets of issue 2, each with its figure and a verdict.
fn targets(m: &mut String, r: &Report) {
    let _ = writeln!(
        m,
        "## Targets of issue 2
"
    );
    let names = |full: bool| {
        let list: Vec<String> = r
            .files
            .iter()
            .filter(|f| f.kind == Kind::Speech && (f.seconds_used >= FULL_SPEECH_S) == full)
            .map(|f| format!("{} {:.1} s", f.name, f.seconds_used))
            .collect();
        if list.is_empty() {
            "none".to_string()
        } else {
            list.join(", ")
        }
    };
    let _ = writeln!(
        m,
        "Measured on the speech recordings of this run. The blind targets assume 60 s of \
         speech, so their verdict counts only speech that long ({}); shorter speech ({}) is \
         shown in brackets. The informed targets count every speech recording.\n",
        names(true),
        names(false)
    );
    let _ = writeln!(m, "| target | measured | met |");
    let _ = writeln!(m, "|---|---|---|");
    let verdict = |ok: Option<bool>| match ok {
        Some(true) => "yes",
        Some(false) => "**no**",
        None => "not measured",
    };
    let speech_q: Vec<&Quality> = r
        .quality
        .iter()
        .filter(|q| q.kind == Kind::Speech)
        .collect();
    let min = |f: &dyn Fn(&Quality) -> Option<f64>| {
        speech_q
            .iter()
            .filter_map(|q| f(q))
            .fold(None, |a: Option<f64>, v| Some(a.map_or(v, |a| a.min(v))))
    };
    let snr = min(&|q| Some(q.snr_db));
    let wb = min(&|q| q.pesq_wb);
    let _ = writeln!(
        m,
        "| SNR >= 30 dB on speech | lowest {} dB | {} |",
        opt(snr, 1),
        verdict(snr.map(|v| v >= 30.0))
    );
    let _ = writeln!(
        m,
        "| PESQ WB >= 4.4 on speech | lowest {} | {} |",
        opt(wb, 3),
        verdict(wb.map(|v| v >= 4.4))
    );
    let rows: [(&str, Mode, &str); 11] = [
        ("blind, MP3 64 kbps", Mode::Blind, "mp3-64k"),
        ("blind, Opus 16 kbps", Mode::Blind, "opus-16k"),
        ("blind, 8 kHz and back", Mode::Blind, "resample-8k"),
        (
            "blind, band-pass 300-3400 Hz",
            Mode::Blind,
            "bandpass-300-3400Hz",
        ),
        ("blind, white noise 20 dB", Mode::Blind, "noise-20dB"),
        ("blind, any 10 s crop", Mode::Blind, "crop-10s"),
        (
            "informed, 5 s clip after Opus 12 kbps",
            Mode::Informed,
            "opus-12k>crop-5s",
        ),
        (
            "informed, 5 s clip after speed +5 %",
            Mode::Informed,
            "speed+5%>crop-5s",
        ),
        (
            "informed, 5 s clip after speed -5 %",
            Mode::Informed,
            "speed-5%>crop-5s",
        ),
        (
            "informed, 5 s clip after tempo +5 %",
            Mode::Informed,
            "tempo+5%>crop-5s",
        ),
        (
            "informed, 5 s clip after noise 10 dB",
            Mode::Informed,
            "noise-10dB>crop-5s",
        ),
    ];
    let extra = [(
        "informed, 5 s clip after tempo -5 %",
        Mode::Informed,
        "tempo-5%>crop-5s",
    )];
    for (label, mode, attack) in rows.iter().chain(extra.iter()) {
        let (got, measured) = if *mode == Mode::Blind {
            // The verdict counts speech of the length the target assumes; shorter speech
            // is shown beside it, not hidden.
            let full = speech_rate(r, attack, *mode, |s| s >= FULL_SPEECH_S);
            let short = speech_rate(r, attack, *mode, |s| s < FULL_SPEECH_S);
            let text = format!(
                "{}{}",
                full.map_or("-".into(), |(n, k)| format!("{k}/{n} cells of 60 s speech")),
                short.map_or(String::new(), |(n, k)| format!(
                    " (shorter speech: {k}/{n})"
                ))
            );
            (full, text)
        } else {
            let all = speech_rate(r, attack, *mode, |_| true);
            let text = all.map_or("-".into(), |(n, k)| format!("{k}/{n} speech cells"));
            (all, text)
        };
        let _ = writeln!(
            m,
            "| {label}: payload exact | {measured} | {} |",
            verdict(got.map(|(n, k)| n == k))
        );
    }
    let fp = &r.false_positives;
    let clips = fp.unmarked.clips + fp.wrong_key.clips;
    let dets = fp.unmarked.blind_detections
        + fp.unmarked.informed_detections
        + fp.wrong_key.blind_detections
        + fp.wrong_key.informed_detections;
    let _ = writeln!(
        m,
        "| 0 detections over >= 1000 unmarked or wrong-key clips | {dets} over {clips} clips (x2 modes) | {} |",
        verdict(Some(dets == 0 && clips >= 1000))
    );
    if let Some(sp) = &r.speed {
        for (name, want) in [
            ("embed", 1500.0),
            ("blind detect", 150.0),
            ("informed detect", 300.0),
        ] {
            if let Some(st) = sp.steps.iter().find(|s| s.name == name) {
                let _ = writeln!(
                    m,
                    "| {name} >= {want:.0}x real time (60 s, 44.1 kHz, one core) | {:.0}x (median) | {} |",
                    st.x_real_time,
                    verdict(Some(st.x_real_time >= want))
                );
            }
        }
    }
    let _ = writeln!(m);
}

fn list<T: AsRef<str>>(v: &[T]) -> String {
    if v.is_empty() {
        "none".into()
    } else {
        v.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(", ")
    }
}

fn quality(m: &mut String, r: &Report) {
    let _ = writeln!(m, "## Quality of the marked file against the original\n");
    let _ = writeln!(
        m,
        "Mean over seeds. SNR over all samples; segmental SNR over 20 ms frames within 40 dB \
         of the loudest, each clamped to -10..35 dB. PESQ NB is P.862 at 8 kHz mapped to \
         MOS-LQO (P.862.1), PESQ WB is P.862.2 at 16 kHz (the `pesq` crate; speech only). \
         ViSQOL v3 MOS-LQO from `audio_samples_qoe` (speech mode for speech, audio mode for \
         music).\n"
    );
    let _ = writeln!(
        m,
        "| recording | SNR dB | segSNR dB | PESQ NB (raw) | PESQ NB MOS-LQO | PESQ WB | ViSQOL | notes |"
    );
    let _ = writeln!(m, "|---|---|---|---|---|---|---|---|");
    for f in &r.files {
        let qs: Vec<&Quality> = r.quality.iter().filter(|q| q.file == f.name).collect();
        if qs.is_empty() {
            continue;
        }
        let mut notes: Vec<String> = qs.iter().flat_map(|q| q.notes.clone()).collect();
        notes.sort();
        notes.dedup();
        let _ = writeln!(
            m,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            f.name,
            opt(mean(qs.iter().map(|q| Some(q.snr_db))), 1),
            opt(mean(qs.iter().map(|q| Some(q.seg_snr_db))), 1),
            opt(mean(qs.iter().map(|q| q.pesq_nb_raw)), 3),
            opt(mean(qs.iter().map(|q| q.pesq_nb_mos_lqo)), 3),
            opt(mean(qs.iter().map(|q| q.pesq_wb)), 3),
            opt(mean(qs.iter().map(|q| q.visqol)), 3),
            notes.join("; ")
        );
    }
    let _ = writeln!(m);
}

fn speed(m: &mut String, r: &Report) {
    let _ = writeln!(m, "## Speed\n");
    let Some(s) = &r.speed else {
        let _ = writeln!(m, "Not measured in this run.\n");
        return;
    };
    let _ = writeln!(
        m,
        "{:.0} s of audio ({}); median of {} runs; {}.\n",
        s.audio_s, s.source, s.repetitions, s.note
    );
    let _ = writeln!(
        m,
        "| step | median s | min s | x real time | time / FFT resample |"
    );
    let _ = writeln!(m, "|---|---|---|---|---|");
    for st in &s.steps {
        let _ = writeln!(
            m,
            "| {} | {:.4} | {:.4} | {:.0}x | {:.2} |",
            st.name, st.median_s, st.min_s, st.x_real_time, st.vs_resample
        );
    }
    let _ = writeln!(m);
}

fn false_positives(m: &mut String, r: &Report) {
    let fp = &r.false_positives;
    let _ = writeln!(m, "## False positives\n");
    let _ = writeln!(m, "{}.\n", fp.method);
    let _ = writeln!(
        m,
        "| clips | count | blind detections | informed detections | payloads decoded | smallest blind p | smallest informed p | errors |"
    );
    let _ = writeln!(m, "|---|---|---|---|---|---|---|---|");
    for (label, c) in [
        ("unmarked", &fp.unmarked),
        ("marked, wrong key", &fp.wrong_key),
    ] {
        let _ = writeln!(
            m,
            "| {label} | {} | {} | {} | {} | {} | {} | {} |",
            c.clips,
            c.blind_detections,
            c.informed_detections,
            c.payloads_decoded,
            p_cell(c.min_p_blind),
            p_cell(c.min_p_informed),
            c.errors
        );
    }
    let _ = writeln!(m);
}

fn audiowmark(m: &mut String, r: &Report) {
    let _ = writeln!(m, "## audiowmark, blind (same attacks)\n");
    let _ = writeln!(m, "| attack | 128-bit | short-16 |");
    let _ = writeln!(m, "|---|---|---|");
    for a in attacks(r) {
        let cell = |v: &str| {
            let ran: Vec<&AwCell> = r
                .audiowmark_cells
                .iter()
                .filter(|c| c.attack == a && c.variant == v && !c.status.starts_with("skipped"))
                .collect();
            let ok = ran.iter().filter(|c| c.recovered).count();
            if ran.is_empty() {
                "skipped".to_string()
            } else {
                format!(
                    "{:.0}% ({ok}/{})",
                    100.0 * ok as f64 / ran.len() as f64,
                    ran.len()
                )
            }
        };
        let _ = writeln!(m, "| {a} | {} | {} |", cell("128-bit"), cell("short-16"));
    }
    let _ = writeln!(m);
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A horizontal grouped bar chart: recovery rate per attack, blind and informed.
fn svg(r: &Report) -> String {
    const ROW: f64 = 26.0;
    const LEFT: f64 = 230.0;
    const WIDTH: f64 = 480.0;
    const TOP: f64 = 60.0;
    let names = attacks(r);
    let height = TOP + ROW * names.len() as f64 + 50.0;
    let total = LEFT + WIDTH + 40.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="{height}" viewBox="0 0 {total} {height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="22" font-size="15" font-weight="bold">tracemark: payload recovered exactly, per attack</text>"#,
        10
    );
    let _ = writeln!(
        s,
        r##"<rect x="{LEFT}" y="32" width="12" height="12" fill="#3b6fb6"/><text x="{}" y="43">blind</text><rect x="{}" y="32" width="12" height="12" fill="#e08a2c"/><text x="{}" y="43">informed</text>"##,
        LEFT + 16.0,
        LEFT + 70.0,
        LEFT + 86.0
    );
    for pct in [0, 25, 50, 75, 100] {
        let x = LEFT + WIDTH * f64::from(pct) / 100.0;
        let _ = writeln!(
            s,
            r##"<line x1="{x}" y1="{TOP}" x2="{x}" y2="{}" stroke="#ccc"/><text x="{x}" y="{}" text-anchor="middle">{pct}%</text>"##,
            TOP + ROW * names.len() as f64,
            TOP + ROW * names.len() as f64 + 16.0
        );
    }
    for (i, a) in names.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            LEFT - 6.0,
            y + ROW * 0.62,
            esc(a)
        );
        for (k, (mode, colour)) in [(Mode::Blind, "#3b6fb6"), (Mode::Informed, "#e08a2c")]
            .into_iter()
            .enumerate()
        {
            let rate = find(r, a, mode).and_then(|s| s.recovery_rate);
            let by = y + 3.0 + k as f64 * 10.0;
            match rate {
                Some(v) => {
                    let _ = writeln!(
                        s,
                        r#"<rect x="{LEFT}" y="{by}" width="{:.1}" height="9" fill="{colour}"><title>{} {}: {:.0}%</title></rect>"#,
                        (WIDTH * v).max(1.0),
                        esc(a),
                        mode.label(),
                        100.0 * v
                    );
                }
                None => {
                    let _ = writeln!(
                        s,
                        r##"<text x="{}" y="{}" font-size="9" fill="#888">skipped</text>"##,
                        LEFT + 4.0,
                        by + 8.0
                    );
                }
            }
        }
    }
    let _ = writeln!(
        s,
        r#"<text x="10" y="{}" font-size="10">{} seed(s) x {} recordings; {}</text>"#,
        height - 12.0,
        r.config.seeds,
        r.files.len(),
        esc(&r.date_utc)
    );
    s.push_str("</svg>\n");
    s
}
