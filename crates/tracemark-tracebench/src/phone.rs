//! Issue 14's targets: what a leaked *call* goes through (speech codecs at low rates,
//! rooms, re-recording, pitch, speed and tempo changes, the mid-rate phone codecs on short
//! clips, a phone chain), traced through the real vault with 100 issued copies, on speech
//! the other benches do not use (the second half of the corpus call). For every channel the
//! same stretch of the unmarked original goes through the same channel and must accuse
//! nobody.
//!
//! Codecs are the real tools (`tracemark-codec-attacks`: sox for GSM and AMR, opusenc,
//! speexenc, c2enc, LAME); speed, tempo and pitch are sox's own effects (`speed`, `tempo`,
//! `pitch`), as a user would run them; rooms are `tracemark-attacks`' simulated room and
//! speaker-to-microphone path.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use tracemark_attacks::{AmrNbMode, Attack, AttackContext, Codec};
use tracemark_codec_attacks::ToolBackend;
use tracemark_dsp::AudioBuffer;
use tracemark_media::{EncodeOptions, Format, encode_bytes};
use tracemark_vault::{FindingKind, TraceReport};

use crate::lab::{self, IssuedVault, Leak};
use crate::rng::Rng;
use crate::targets::{Judged, judge};

/// One step of a channel.
#[derive(Debug, Clone)]
enum Step {
    /// An attack of `tracemark-attacks` (codecs through the real tools).
    Attack(Attack),
    /// A sox effect chain, e.g. `["tempo", "1.08"]`.
    Sox(&'static [&'static str]),
}

/// A channel and the clip length it is traced from.
#[derive(Debug, Clone)]
pub struct Channel {
    label: &'static str,
    clip_s: f64,
    steps: Vec<Step>,
}

fn codec(c: Codec) -> Step {
    Step::Attack(Attack::Codec(c))
}

/// Issue 14's target list, in its order.
pub fn channels() -> Vec<Channel> {
    let ch = |label, clip_s, steps| Channel {
        label,
        clip_s,
        steps,
    };
    vec![
        ch(
            "Opus 6k (SILK)",
            30.0,
            vec![codec(Codec::OpusSilk { kbps: 6 })],
        ),
        ch(
            "Opus 8k (SILK)",
            30.0,
            vec![codec(Codec::OpusSilk { kbps: 8 })],
        ),
        ch(
            "AMR-NB 4.75",
            30.0,
            vec![codec(Codec::AmrNb(AmrNbMode::Mr475))],
        ),
        ch(
            "codec2 3200",
            30.0,
            vec![codec(Codec::Codec2 { bps: 3200 })],
        ),
        ch(
            "Speex NB q4",
            30.0,
            vec![codec(Codec::SpeexNb { quality: 4 })],
        ),
        ch(
            "room reverb (RT60 500 ms)",
            30.0,
            vec![Step::Attack(Attack::Reverb { rt60_ms: 500.0 })],
        ),
        ch(
            "speaker to microphone",
            30.0,
            vec![Step::Attack(Attack::ReRecording)],
        ),
        ch(
            "pitch +1 semitone (sox)",
            30.0,
            vec![Step::Sox(&["pitch", "100"])],
        ),
        ch(
            "pitch -1 semitone (sox)",
            30.0,
            vec![Step::Sox(&["pitch", "-100"])],
        ),
        ch(
            "speed +10 % (sox)",
            30.0,
            vec![Step::Sox(&["speed", "1.10"])],
        ),
        ch(
            "speed -10 % (sox)",
            30.0,
            vec![Step::Sox(&["speed", "0.90"])],
        ),
        ch(
            "tempo +8 % (sox)",
            30.0,
            vec![Step::Sox(&["tempo", "1.08"])],
        ),
        ch(
            "tempo -8 % (sox)",
            30.0,
            vec![Step::Sox(&["tempo", "0.92"])],
        ),
        ch("GSM 06.10", 10.0, vec![codec(Codec::Gsm)]),
        ch(
            "AMR-NB 12.2",
            10.0,
            vec![codec(Codec::AmrNb(AmrNbMode::Mr122))],
        ),
        ch("Opus 12k", 10.0, vec![codec(Codec::Opus { kbps: 12 })]),
        ch(
            "band-pass + AMR-NB 7.95 + MP3 32k",
            20.0,
            vec![
                Step::Attack(Attack::BandPass {
                    low_hz: 300.0,
                    high_hz: 3_400.0,
                }),
                codec(Codec::AmrNb(AmrNbMode::Mr795)),
                codec(Codec::Mp3 { kbps: 32 }),
            ],
        ),
    ]
}

impl Channel {
    /// Sends `audio` through the channel; the result is leaked as FLAC.
    fn leak(&self, audio: &AudioBuffer, seed: u64, backend: &ToolBackend) -> Result<Leak> {
        let mut audio = audio.clone();
        for (i, step) in self.steps.iter().enumerate() {
            audio = match step {
                Step::Attack(a) => {
                    let ctx =
                        AttackContext::new(seed.wrapping_add(i as u64)).with_codec_backend(backend);
                    a.apply(&audio, &ctx)
                        .with_context(|| format!("{}: {}", self.label, a.name()))?
                }
                Step::Sox(effect) => sox(&audio, effect)?,
            };
        }
        let bytes = encode_bytes(&audio, Format::Flac, &EncodeOptions::default())?;
        let audio = lab::decode(&bytes, "flac")?;
        Ok(Leak {
            bytes,
            file_name: "leak.flac".into(),
            audio,
        })
    }
}

/// Runs `sox in.wav out.wav EFFECT...` (32-bit float WAV both ways).
fn sox(audio: &AudioBuffer, effect: &[&str]) -> Result<AudioBuffer> {
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("in.wav");
    let output = dir.path().join("out.wav");
    std::fs::write(
        &input,
        encode_bytes(audio, Format::Wav, &EncodeOptions::default())?,
    )?;
    let status = Command::new("sox")
        .arg(&input)
        .args(["-e", "floating-point", "-b", "32"])
        .arg(&output)
        .args(effect)
        .status()
        .context("running sox (is it installed? .ci/install-tools.sh)")?;
    if !status.success() {
        bail!("sox {effect:?} failed: {status}");
    }
    lab::decode(&std::fs::read(&output)?, "wav")
}

/// One traced leak.
#[derive(Debug, Clone)]
pub struct Trial {
    pub judged: Judged,
    pub finding: FindingKind,
    /// Corrected p-value of the watermark's presence test (1 when none was run).
    pub presence_p: f64,
    pub seconds: f64,
}

impl Trial {
    fn of(report: &TraceReport, guilty: &[&str], seconds: f64) -> Self {
        Self {
            judged: judge(report, guilty),
            finding: report.finding(),
            presence_p: report.watermark_p_value.unwrap_or(1.0),
            seconds,
        }
    }
}

/// A channel's trials: the leaker's copy, and the unmarked original, through it.
#[derive(Debug, Clone)]
pub struct PhoneRow {
    pub label: &'static str,
    pub clip_s: f64,
    pub guilty: Vec<Trial>,
    pub original: Vec<Trial>,
}

/// Everything the phone bench measured.
pub struct PhoneResults {
    pub recipients: usize,
    pub recording_s: f64,
    pub issue_s_per_copy: f64,
    pub rows: Vec<PhoneRow>,
}

/// Resolved parameters of a phone run.
#[derive(Debug, Clone)]
pub struct PhoneConfig {
    pub recipients: usize,
    pub trials: usize,
    pub seed: u64,
    /// Only channels whose label contains one of these (all when empty).
    pub only: Vec<String>,
}

/// Runs every channel of [`channels`] (or those `only` selects).
pub fn run(corpus: &Path, c: &PhoneConfig) -> Result<PhoneResults> {
    let t = Instant::now();
    let call = lab::corpus_mono(corpus, "call-en-8k.flac", 8_000)?;
    // The second half of the call: the robustness bench reads its first 60 s and the
    // tracing bench its first 120 s.
    let original = lab::clip(&call, 120.0, 120.0);
    let mut vault = IssuedVault::create(&original, "p", c.recipients)?;
    eprintln!(
        "[{:7.1} s] phone vault: {} copies issued",
        t.elapsed().as_secs_f64(),
        c.recipients
    );
    let backend = ToolBackend::new();
    let mut rng = Rng::new(c.seed);
    let selected: Vec<Channel> = channels()
        .into_iter()
        .filter(|ch| c.only.is_empty() || c.only.iter().any(|o| ch.label.contains(o.as_str())))
        .collect();
    let mut rows = Vec::new();
    for (ci, channel) in selected.iter().enumerate() {
        let mut row = PhoneRow {
            label: channel.label,
            clip_s: channel.clip_s,
            guilty: Vec::new(),
            original: Vec::new(),
        };
        for leaker in rng.distinct(c.trials, c.recipients) {
            let copy = vault.copy(leaker)?;
            let name = vault.names[leaker].clone();
            let start = rng.uniform(0.0, copy.duration_s() - channel.clip_s - 0.5);
            let seed = c.seed ^ ((ci as u64) << 32) ^ leaker as u64;
            let leak = channel.leak(&lab::clip(&copy, start, channel.clip_s), seed, &backend)?;
            let started = Instant::now();
            let report = vault.trace(&leak)?;
            eprintln!(
                "    {} from {start:.1} s: {} by {}, speed {:?}, {} segment(s), {} slots, presence p {:?}",
                channel.label,
                report.finding().as_str(),
                report.identified_by,
                report.speed,
                report.segments.len(),
                report.slots_observed,
                report.watermark_p_value
            );
            row.guilty.push(Trial::of(
                &report,
                &[&name],
                started.elapsed().as_secs_f64(),
            ));
            let unmarked =
                channel.leak(&lab::clip(&original, start, channel.clip_s), seed, &backend)?;
            let started = Instant::now();
            let report = vault.trace(&unmarked)?;
            row.original
                .push(Trial::of(&report, &[], started.elapsed().as_secs_f64()));
        }
        eprintln!(
            "[{:7.1} s] {}: {}/{} named",
            t.elapsed().as_secs_f64(),
            channel.label,
            row.guilty
                .iter()
                .filter(|g| g.judged.guilty_named > 0 && g.judged.innocents_accused == 0)
                .count(),
            row.guilty.len()
        );
        rows.push(row);
    }
    Ok(PhoneResults {
        recipients: c.recipients,
        recording_s: original.duration_s(),
        issue_s_per_copy: vault.issue_s_per_copy,
        rows,
    })
}

fn findings(trials: &[Trial]) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for t in trials {
        let name = t.finding.as_str();
        match counts.iter_mut().find(|(n, _)| *n == name) {
            Some((_, k)) => *k += 1,
            None => counts.push((name, 1)),
        }
    }
    counts
        .iter()
        .map(|(n, k)| format!("{n} {k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The Markdown report.
pub fn markdown(c: &PhoneConfig, r: &PhoneResults, total_s: f64) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Recording: call-en-8k.flac, 120-240 s ({:.0} s), 8 kHz mono; {} WAV copies issued \
         ({:.3} s per copy). Bound 1e-6. {} trials per channel, seed {}. Total {:.0} s.\n",
        r.recording_s, r.recipients, r.issue_s_per_copy, c.trials, c.seed, total_s
    );
    s.push_str(
        "| channel | clip | named alone | innocents accused / scored | findings | median guilty corrected p | presence p (median) | unmarked original: findings, innocents accused | mean trace s |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for row in &r.rows {
        let named = row
            .guilty
            .iter()
            .filter(|g| g.judged.guilty_named > 0 && g.judged.innocents_accused == 0)
            .count();
        let (acc, tested) = row.guilty.iter().fold((0, 0), |(a, t), g| {
            (
                a + g.judged.innocents_accused,
                t + g.judged.innocents_tested,
            )
        });
        let mut ps: Vec<f64> = row.guilty.iter().map(|g| g.judged.best_guilty_p).collect();
        ps.sort_by(f64::total_cmp);
        let mut pres: Vec<f64> = row.guilty.iter().map(|g| g.presence_p).collect();
        pres.sort_by(f64::total_cmp);
        let orig_acc: usize = row
            .original
            .iter()
            .map(|g| g.judged.innocents_accused)
            .sum();
        let secs: f64 =
            row.guilty.iter().map(|g| g.seconds).sum::<f64>() / row.guilty.len().max(1) as f64;
        let _ = writeln!(
            s,
            "| {} | {:.0} s | {named}/{} | {acc} / {tested} | {} | {:.1e} | {:.1e} | {}; {orig_acc} | {secs:.2} |",
            row.label,
            row.clip_s,
            row.guilty.len(),
            findings(&row.guilty),
            crate::targets::median(&ps),
            crate::targets::median(&pres),
            findings(&row.original),
        );
    }
    s
}
