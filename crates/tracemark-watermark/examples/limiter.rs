//! How often the peak limiter engages on the corpus, and by how much.
//!
//! `cargo run --release -p tracemark-watermark --example limiter -- [CORPUS_DIR]`
//! (each copy's digest to standard error, to compare two builds' copies)

use std::path::{Path, PathBuf};

use tracemark_dsp::{AudioBuffer, SampleRate, resample};
use tracemark_media::{Limits, decode_file};
use tracemark_watermark::{EmbedParams, Message, Payload, WatermarkKey, embed_reporting};

/// (file, rate to resample to first, peak to scale to first), as in `examples/quality.rs`.
const FILES: [(&str, Option<u32>, Option<f32>); 9] = [
    ("call-en-8k.flac", None, None),
    ("librivox-en-16k.flac", None, None),
    ("arctic-a0007-16k.flac", None, None),
    ("arctic-a0009-16k.flac", None, None),
    ("music-8k-morning-coffee.flac", None, None),
    ("music-44k-elvish-theme.flac", None, None),
    ("music-44k-elvish-theme.flac", Some(48_000), None),
    ("music-44k-elvish-theme.flac", Some(48_000), Some(0.993)),
    (
        "music-44k-elvish-theme.flac",
        Some(48_000),
        Some(32_767.0 / 32_768.0),
    ),
];

/// Copies per file, each under its own key and codeword.
const COPIES: u8 = 10;

fn main() {
    let dir: PathBuf = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    let payload = Payload::from_hex("0123456789abcdef").expect("hex");
    println!(
        "| file | rate | ceiling | overshoot frames in {COPIES} copies | per copy-minute | frames attenuated | min gain | mark energy kept (worst copy) |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (name, to, scale_to) in FILES {
        let mut audio = decode_file(&dir.join(name), &Limits::default()).expect("decode");
        if let Some(hz) = to {
            let chans = audio
                .channels()
                .iter()
                .map(|c| resample(c, audio.rate().hz(), hz).expect("resample"))
                .collect();
            audio = AudioBuffer::try_new(SampleRate::try_new(hz).expect("rate"), chans)
                .expect("buffer");
        }
        if let Some(target) = scale_to {
            let peak = audio
                .channels()
                .iter()
                .flatten()
                .fold(0.0f32, |m, x| m.max(x.abs()));
            let gain = target / peak;
            let chans = audio
                .channels()
                .iter()
                .map(|c| c.iter().map(|x| (x * gain).clamp(-1.0, target)).collect())
                .collect();
            audio = AudioBuffer::try_new(audio.rate(), chans).expect("buffer");
        }
        let label = format!(
            "{name}{}",
            scale_to.map_or(String::new(), |p| format!(" scaled to {p:.4}"))
        );
        row(&label, &audio, payload);
    }
    // Not a recording: uniform white noise, a host at its own peak everywhere (the worst
    // case for a limiter bound to the original's peak).
    let mut s = 1u32;
    let noise: Vec<f32> = (0..48_000 * 60)
        .map(|_| {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            ((s >> 8) as f32 / 16_777_216.0 - 0.5) * 0.5
        })
        .collect();
    let rate = SampleRate::try_new(48_000).expect("rate");
    let uniform = AudioBuffer::mono(rate, noise).expect("buffer");
    row("synthetic uniform noise +-0.25, 60 s", &uniform, payload);
}

/// One table row: `COPIES` copies of `audio`, each under its own key and codeword, summed.
fn row(label: &str, audio: &AudioBuffer, payload: Payload) {
    let (mut over, mut att, mut min_gain, mut kept) = (0usize, 0usize, 1.0f32, 1.0f64);
    let mut ceiling = 0.0;
    for copy in 0..COPIES {
        let key = WatermarkKey::from_bytes([copy + 1; 32]);
        let symbols: Vec<bool> = (0..997u32)
            .map(|i| (i * 7 + 3 + u32::from(copy)) % 5 < 2)
            .collect();
        let (marked, report) = embed_reporting(
            audio,
            &key,
            &Message {
                payload,
                symbols: Some(&symbols),
            },
            &EmbedParams::default(),
        )
        .expect("embed");
        // Each copy's samples, digested (FNV-1a over their bits) to standard error: two
        // builds whose copies should be the same can be compared with `diff`.
        let digest = marked
            .channels()
            .iter()
            .flatten()
            .fold(0xcbf2_9ce4_8422_2325u64, |h, x| {
                (h ^ u64::from(x.to_bits())).wrapping_mul(0x0100_0000_01b3)
            });
        eprintln!("{label} copy {copy}: {digest:016x}");
        let l = report.limiter;
        ceiling = l.ceiling;
        over += l.overshoot_frames;
        att += l.attenuated_frames;
        min_gain = min_gain.min(l.min_gain);
        kept = kept.min(l.energy_kept);
    }
    let copies = f64::from(COPIES);
    println!(
        "| {label} | {} | {ceiling:.4} | {over} | {:.2} | {:.4} % | {min_gain:.3} | {kept:.6} |",
        audio.rate().hz(),
        over as f64 / copies / (audio.duration_s() / 60.0),
        100.0 * att as f64 / copies / audio.frames() as f64,
    );
}
