//! The matrix: one marked copy per (recording, seed), then one cell per (recording, attack,
//! seed) detected in both modes.

use std::time::Instant;

use anyhow::{Context, Result};
use rand::Rng as _;
use rayon::prelude::*;
use serde::Serialize;
use tracemark_attacks::rng::stream;
use tracemark_attacks::{Attack, AttackContext, AttackError};
use tracemark_codec_attacks::ToolBackend;
use tracemark_dsp::AudioBuffer;
use tracemark_watermark::{
    EmbedParams, Message, Payload, WatermarkKey, detect_blind_searching_speed, detect_informed,
    embed,
};

use crate::corpus::Recording;

/// A random key and payload for `seed`, and a second payload for the "other recipient" of
/// the editing attacks.
pub fn secrets(seed: u64) -> (WatermarkKey, Payload, Payload) {
    let mut rng = stream(seed, "tracemark-bench/secrets");
    let mut key = [0u8; 32];
    rng.fill_bytes(&mut key);
    let (mut p, mut q) = ([0u8; 8], [0u8; 8]);
    rng.fill_bytes(&mut p);
    rng.fill_bytes(&mut q);
    (
        WatermarkKey::from_bytes(key),
        Payload::from_bytes(p),
        Payload::from_bytes(q),
    )
}

/// One recording marked for one seed, with a second recipient's copy.
pub struct Subject {
    pub file: usize,
    pub seed: u64,
    pub key: WatermarkKey,
    pub payload: Payload,
    pub other_payload: Payload,
    pub marked: AudioBuffer,
    pub other_copy: AudioBuffer,
}

pub fn mark(audio: &AudioBuffer, key: &WatermarkKey, payload: Payload) -> Result<AudioBuffer> {
    let message = Message {
        payload,
        symbols: None,
    };
    Ok(embed(audio, key, &message, &EmbedParams::default())?)
}

/// Marks every recording for every seed (in parallel).
pub fn prepare(files: &[Recording], seeds: u64) -> Result<Vec<Subject>> {
    let jobs: Vec<(usize, u64)> = (0..files.len())
        .flat_map(|f| (0..seeds).map(move |s| (f, s)))
        .collect();
    jobs.into_par_iter()
        .map(|(file, seed)| {
            let (key, payload, other_payload) = secrets(seed);
            let audio = &files[file].audio;
            let marked = mark(audio, &key, payload)
                .with_context(|| format!("embedding into {}", files[file].name))?;
            let other_copy = mark(audio, &key, other_payload)?;
            Ok(Subject {
                file,
                seed,
                key,
                payload,
                other_payload,
                marked,
                other_copy,
            })
        })
        .collect()
}

/// Detection mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Blind,
    Informed,
}

impl Mode {
    pub const ALL: [Mode; 2] = [Mode::Blind, Mode::Informed];

    pub fn label(self) -> &'static str {
        match self {
            Mode::Blind => "blind",
            Mode::Informed => "informed",
        }
    }
}

/// Whether a cell ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Attack and detection ran.
    Ok,
    /// The attack could not run here (tool missing, input too short): not counted.
    Skipped,
    /// The attack or the detector returned an error: counted as not recovered.
    Error,
}

/// One (recording, attack, seed, mode) result.
#[derive(Debug, Clone, Serialize)]
pub struct CellResult {
    pub file: String,
    pub attack: String,
    pub seed: u64,
    pub mode: Mode,
    pub status: Status,
    pub note: Option<String>,
    /// Length of the attacked clip.
    pub clip_s: f64,
    pub detected: bool,
    /// The decoded payload equals the true one.
    pub payload_exact: bool,
    /// The decoded payload equals the other recipient's (splice, average).
    pub payload_other: bool,
    /// Bit errors of the decoded payload against the true one (when one was decoded).
    pub bit_errors: Option<u32>,
    pub p_value: Option<f64>,
    /// Wall time of the attack and of this detection.
    pub attack_s: f64,
    pub detect_s: f64,
}

impl CellResult {
    fn empty(file: &str, attack: &str, seed: u64, mode: Mode, status: Status) -> Self {
        Self {
            file: file.into(),
            attack: attack.into(),
            seed,
            mode,
            status,
            note: None,
            clip_s: 0.0,
            detected: false,
            payload_exact: false,
            payload_other: false,
            bit_errors: None,
            p_value: None,
            attack_s: 0.0,
            detect_s: 0.0,
        }
    }
}

pub fn bit_errors(a: Payload, b: Payload) -> u32 {
    a.bytes()
        .iter()
        .zip(b.bytes())
        .map(|(x, y)| (x ^ y).count_ones())
        .sum()
}

/// A named sequence of attacks applied in order (most are a single attack).
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub steps: Vec<Attack>,
}

impl Scenario {
    /// The marked file as it is: the reference row.
    pub fn none() -> Self {
        Self {
            name: "none".into(),
            steps: Vec::new(),
        }
    }

    pub fn single(attack: Attack) -> Self {
        Self {
            name: attack.name(),
            steps: vec![attack],
        }
    }

    pub fn chain(steps: Vec<Attack>) -> Self {
        let name = steps.iter().map(Attack::name).collect::<Vec<_>>().join(">");
        Self { name, steps }
    }

    /// Applies every step in order, each with its own seed.
    pub fn apply(
        &self,
        input: &AudioBuffer,
        seed: u64,
        other: &AudioBuffer,
        backend: &ToolBackend,
    ) -> Result<AudioBuffer, AttackError> {
        let mut audio = input.clone();
        for (i, step) in self.steps.iter().enumerate() {
            let ctx = AttackContext::new(seed.wrapping_add(i as u64))
                .with_other(other)
                .with_codec_backend(backend);
            audio = step.apply(&audio, &ctx)?;
        }
        Ok(audio)
    }

    /// True when a step combines the input with another recipient's copy.
    fn uses_other_copy(&self) -> bool {
        self.steps
            .iter()
            .any(|a| matches!(a, Attack::Splice | Attack::Average))
    }
}

/// Everything a cell needs besides the attack.
pub struct CellInput<'a> {
    pub subject: &'a Subject,
    pub recording: &'a Recording,
    /// An unmarked recording of other material (babble source, inserted foreign segment).
    pub foreign: &'a AudioBuffer,
}

/// Runs one attack on one marked copy and detects in both modes.
pub fn run_cell(input: &CellInput<'_>, scenario: &Scenario, index: usize) -> Vec<CellResult> {
    let s = input.subject;
    let name = scenario.name.clone();
    let file = input.recording.name.as_str();
    let backend = ToolBackend::new();
    let other = if scenario.uses_other_copy() {
        &s.other_copy
    } else {
        input.foreign
    };
    let attack_seed =
        s.seed.wrapping_mul(1_000_003) ^ ((s.file as u64) << 32) ^ (index as u64) << 8;
    let t = Instant::now();
    let attacked = match scenario.apply(&s.marked, attack_seed, other, &backend) {
        Ok(a) => a,
        Err(e) => {
            let status = if e.is_skippable() {
                Status::Skipped
            } else {
                Status::Error
            };
            return Mode::ALL
                .iter()
                .map(|&m| CellResult {
                    note: Some(e.to_string()),
                    ..CellResult::empty(file, &name, s.seed, m, status)
                })
                .collect();
        }
    };
    let attack_s = t.elapsed().as_secs_f64();
    Mode::ALL
        .iter()
        .map(|&mode| {
            let mut cell = CellResult {
                clip_s: attacked.duration_s(),
                attack_s,
                ..CellResult::empty(file, &name, s.seed, mode, Status::Ok)
            };
            let t = Instant::now();
            let found = match mode {
                // What `tracemark detect` runs without the original: the clip as it is,
                // then speed and tempo changes of up to +-5 %.
                Mode::Blind => detect_blind_searching_speed(&attacked, &s.key)
                    .map(|d| (d.detected, d.p_value, d.payload)),
                Mode::Informed => detect_informed(&attacked, &input.recording.audio, &s.key)
                    .map(|d| (d.detected, d.p_value, d.payload)),
            };
            cell.detect_s = t.elapsed().as_secs_f64();
            match found {
                Ok((detected, p_value, payload)) => {
                    cell.detected = detected;
                    cell.p_value = Some(p_value);
                    cell.payload_exact = payload == Some(s.payload);
                    cell.payload_other = payload == Some(s.other_payload);
                    cell.bit_errors = payload.map(|p| bit_errors(p, s.payload));
                }
                Err(e) => {
                    cell.status = Status::Error;
                    cell.note = Some(e.to_string());
                }
            }
            cell
        })
        .collect()
}

/// Runs the whole matrix in parallel; results in a stable order.
pub fn run_matrix(
    files: &[Recording],
    subjects: &[Subject],
    attacks: &[Scenario],
) -> Vec<CellResult> {
    let jobs: Vec<(usize, usize)> = (0..subjects.len())
        .flat_map(|s| (0..attacks.len()).map(move |a| (s, a)))
        .collect();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let total = jobs.len();
    let mut out: Vec<(usize, usize, Vec<CellResult>)> = jobs
        .into_par_iter()
        .map(|(si, ai)| {
            let subject = &subjects[si];
            let foreign = &files[(subject.file + 1) % files.len()].audio;
            let input = CellInput {
                subject,
                recording: &files[subject.file],
                foreign,
            };
            let cells = run_cell(&input, &attacks[ai], ai);
            let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            if n.is_multiple_of(25) || n == total {
                eprintln!("  matrix: {n}/{total} cells");
            }
            (ai, si, cells)
        })
        .collect();
    out.sort_by_key(|(ai, si, _)| (*ai, *si));
    out.into_iter().flat_map(|(_, _, c)| c).collect()
}
