//! Measures each codec's delay and bit rate on corpus audio: the numbers behind
//! `delay_frames` and the crate's documentation.
//!
//! `cargo run --release -p tracemark-codec-attacks --example measure_delay [corpus-dir]`
//! (default: the shared corpus, `$TRACEMARK_CORPUS` or `../shared/corpus`)
#![allow(clippy::unwrap_used, clippy::print_stdout)] // a measuring script: failures should be loud

use tracemark_attacks::{AmrNbMode, Codec};
use tracemark_codec_attacks::{ToolBackend, tool_available};
use tracemark_dsp::AudioBuffer;

fn load(path: &std::path::Path, seconds: f64) -> AudioBuffer {
    tracemark_testkit::read_flac(path, seconds).unwrap()
}

/// Lag (output behind input, in frames) maximising normalised cross-correlation.
fn lag(a: &[f32], b: &[f32], max_lag: isize) -> (isize, f64) {
    let n = a.len().min(b.len()) as isize;
    let mut best = (0, f64::MIN);
    for lag in -max_lag..=max_lag {
        let (mut dot, mut ea, mut eb) = (0.0f64, 0.0f64, 0.0f64);
        for i in max_lag..n - max_lag {
            let x = f64::from(a[i as usize]);
            let y = f64::from(b[(i + lag) as usize]);
            dot += x * y;
            ea += x * x;
            eb += y * y;
        }
        let c = dot / (ea * eb).sqrt().max(1e-30);
        if c > best.1 {
            best = (lag, c);
        }
    }
    best
}

/// |x| smoothed over 40 samples: phase-blind, for parametric codecs such as codec2.
fn envelope(x: &[f32]) -> Vec<f32> {
    let mut acc = 0.0f32;
    x.iter()
        .enumerate()
        .map(|(i, v)| {
            acc += v.abs() - if i >= 40 { x[i - 40].abs() } else { 0.0 };
            acc / 40.0
        })
        .collect()
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .map_or_else(tracemark_testkit::corpus_dir, Into::into);
    let dir = dir.as_path();
    let music = load(&dir.join("music-44k-elvish-theme.flac"), 20.0);
    let speech16 = load(&dir.join("librivox-en-16k.flac"), 20.0);
    let speech8 = load(&dir.join("call-en-8k.flac"), 20.0);
    let raw = ToolBackend::without_delay_compensation();
    let aligned = ToolBackend::new();
    let cases: Vec<(Codec, &AudioBuffer, &str)> = vec![
        (Codec::Mp3 { kbps: 128 }, &music, "music 44.1k"),
        (Codec::Mp3 { kbps: 64 }, &music, "music 44.1k"),
        (Codec::Mp3 { kbps: 32 }, &music, "music 44.1k"),
        (Codec::Mp3 { kbps: 16 }, &music, "music 44.1k"),
        (Codec::Mp3 { kbps: 64 }, &speech8, "speech 8k"),
        (Codec::Mp3 { kbps: 32 }, &speech16, "speech 16k"),
        (Codec::Mp3 { kbps: 16 }, &speech16, "speech 16k"),
        (Codec::Aac { kbps: 64 }, &music, "music 44.1k"),
        (Codec::Aac { kbps: 32 }, &music, "music 44.1k"),
        (Codec::Vorbis { quality: 0 }, &music, "music 44.1k"),
        (Codec::Opus { kbps: 32 }, &music, "music 44.1k"),
        (Codec::Opus { kbps: 16 }, &music, "music 44.1k"),
        (Codec::Opus { kbps: 12 }, &speech16, "speech 16k"),
        (Codec::Opus { kbps: 8 }, &speech16, "speech 16k"),
        (Codec::OpusSilk { kbps: 6 }, &speech16, "speech 16k"),
        (Codec::Gsm, &speech8, "speech 8k"),
        (Codec::AmrNb(AmrNbMode::Mr122), &speech8, "speech 8k"),
        (Codec::AmrNb(AmrNbMode::Mr475), &speech8, "speech 8k"),
        (Codec::SpeexNb { quality: 8 }, &speech8, "speech 8k"),
        (Codec::Codec2 { bps: 3200 }, &speech8, "speech 8k"),
    ];
    println!(
        "| codec | input | decoded rate | raw lag (input frames) | corr | lag after compensation | envelope lag after | kbit/s |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (codec, input, label) in cases {
        if !tool_available(codec) {
            println!("| {} | {label} | tool missing | | | | | |", codec.name());
            continue;
        }
        let mono = input.downmix();
        let r = raw.round_trip(codec, input).unwrap();
        let (l, c) = lag(&mono, &r.audio.downmix(), 400);
        let a = aligned.round_trip(codec, input).unwrap();
        let (la, _) = lag(&mono, &a.audio.downmix(), 400);
        let (le, _) = lag(&envelope(&mono), &envelope(&a.audio.downmix()), 400);
        println!(
            "| {} | {label} | {} | {l} | {c:.3} | {la} | {le} | {:.1} |",
            codec.name(),
            r.decoded_rate.hz(),
            a.bitrate_kbps()
        );
    }
}
