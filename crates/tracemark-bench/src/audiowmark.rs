//! audiowmark side by side: when an `audiowmark` binary is on PATH, the same attacks run on
//! its marked copies (128-bit payload, and `--short 16`), read back with `audiowmark get`.
//! Blind only: audiowmark has no informed mode.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use rand::RngExt;
use rayon::prelude::*;
use serde::Serialize;
use tracemark_attacks::Attack;
use tracemark_attacks::rng::stream;
use tracemark_codec_attacks::{ToolBackend, find_on_path};
use tracemark_dsp::AudioBuffer;
use tracemark_media::{EncodeOptions, Format, Limits, decode_file, encode_file};

use crate::cells::Scenario;
use crate::corpus::Recording;

/// The two payload sizes compared.
pub const VARIANTS: [(&str, Option<u32>, usize); 2] =
    [("128-bit", None, 32), ("short-16", Some(16), 4)];

pub fn binary() -> Option<PathBuf> {
    find_on_path("audiowmark")
}

#[derive(Debug, Clone, Serialize)]
pub struct AwCell {
    pub file: String,
    pub attack: String,
    pub seed: u64,
    pub variant: String,
    pub status: String,
    pub recovered: bool,
}

fn run(bin: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new(bin)
        .args(args)
        .output()
        .with_context(|| format!("running audiowmark {args:?}"))?;
    if !out.status.success() {
        bail!(
            "audiowmark {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn short_args(short: Option<u32>) -> Vec<String> {
    short.map_or_else(Vec::new, |b| vec!["--short".into(), b.to_string()])
}

fn mark(
    bin: &Path,
    dir: &Path,
    audio: &AudioBuffer,
    short: Option<u32>,
    hex: &str,
) -> Result<AudioBuffer> {
    let input = dir.join("in.wav");
    let output = dir.join("out.wav");
    encode_file(audio, &input, Format::Wav, &EncodeOptions::default())?;
    // audiowmark add [options] <input_wav> <watermarked_wav> <message_hex>
    let mut args = vec!["add".to_string()];
    args.extend(short_args(short));
    args.extend([path_str(&input)?, path_str(&output)?, hex.into()]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    run(bin, &refs)?;
    Ok(decode_file(&output, &Limits::default())?)
}

fn get(bin: &Path, dir: &Path, audio: &AudioBuffer, short: Option<u32>, hex: &str) -> Result<bool> {
    let path = dir.join("attacked.wav");
    encode_file(audio, &path, Format::Wav, &EncodeOptions::default())?;
    let mut args = vec!["get".to_string()];
    args.extend(short_args(short));
    args.push(path_str(&path)?);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(bin, &refs)?;
    // Lines: "pattern  0:00 <hex> <sync score> <error> <block kind>".
    Ok(out
        .lines()
        .filter(|l| l.starts_with("pattern"))
        .any(|l| l.split_whitespace().nth(2) == Some(hex)))
}

fn path_str(p: &Path) -> Result<String> {
    p.to_str()
        .map(str::to_owned)
        .context("non-UTF-8 temporary path")
}

/// Runs every attack on audiowmark's marked copies of every recording, for every seed.
pub fn run_matrix(
    bin: &Path,
    files: &[Recording],
    attacks: &[Scenario],
    seeds: u64,
) -> Vec<AwCell> {
    let jobs: Vec<(usize, u64, usize)> = (0..files.len())
        .flat_map(|f| (0..seeds).flat_map(move |s| (0..VARIANTS.len()).map(move |v| (f, s, v))))
        .collect();
    jobs.into_par_iter()
        .flat_map_iter(|(f, seed, v)| run_job(bin, files, attacks, f, seed, v))
        .collect()
}

fn run_job(
    bin: &Path,
    files: &[Recording],
    attacks: &[Scenario],
    f: usize,
    seed: u64,
    v: usize,
) -> Vec<AwCell> {
    let (variant, short, digits) = VARIANTS[v];
    let rec = &files[f];
    let mut rng = stream(seed, "tracemark-bench/audiowmark");
    let hex: String = (0..digits)
        // A draw from 0..16 is a digit of radix 16, so `from_digit` never falls back.
        .map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0'))
        .collect();
    let cell = |attack: &Scenario, status: String, recovered: bool| AwCell {
        file: rec.name.clone(),
        attack: attack.name.clone(),
        seed,
        variant: variant.into(),
        status,
        recovered,
    };
    // A second recipient's copy for the splice and averaging attacks.
    let other_hex: String = hex.chars().rev().collect();
    let prepared = (|| -> Result<_> {
        let dir = tempfile::Builder::new().prefix("tracemark-aw-").tempdir()?;
        let m = mark(bin, dir.path(), &rec.audio, short, &hex)?;
        let m2 = mark(bin, dir.path(), &rec.audio, short, &other_hex)?;
        Ok((dir, m, m2))
    })();
    let (dir, m, m2) = match prepared {
        Ok(p) => p,
        Err(e) => {
            return attacks
                .iter()
                .map(|a| cell(a, format!("error: {e}"), false))
                .collect();
        }
    };
    let backend = ToolBackend::new();
    attacks
        .iter()
        .enumerate()
        .map(|(i, attack)| {
            let edits = attack
                .steps
                .iter()
                .any(|a| matches!(a, Attack::Splice | Attack::Average));
            let other = if edits {
                &m2
            } else {
                &files[(f + 1) % files.len()].audio
            };
            let attack_seed = seed.wrapping_mul(1_000_003) ^ (i as u64) << 8;
            match attack.apply(&m, attack_seed, other, &backend) {
                Ok(a) => match get(bin, dir.path(), &a, short, &hex) {
                    Ok(r) => cell(attack, "ok".into(), r),
                    Err(e) => cell(attack, format!("error: {e}"), false),
                },
                Err(e) if e.is_skippable() => cell(attack, format!("skipped: {e}"), false),
                Err(e) => cell(attack, format!("error: {e}"), false),
            }
        })
        .collect()
}
