//! Quality and peaks of marked copies of the corpus: SNR, PESQ-WB (speech), the peak of the
//! original and of the marked copy, and how many samples of the copy's 16-bit integer WAV
//! sit at full scale. Uses only `embed`, so the same file measures any version of the
//! engine (the notebook's before/after figures come from running it on both).
//!
//! `cargo run --release -p tracemark-watermark --example quality -- [CORPUS_DIR]`

use std::path::{Path, PathBuf};

use tracemark_dsp::{AudioBuffer, resample};
use tracemark_media::{Limits, WavSample, decode_bytes, decode_file, encode_wav};
use tracemark_watermark::{EmbedParams, Message, Payload, WatermarkKey, detect_informed, embed};

/// (file, kind, rate to resample to first, peak to scale to first): the corpus's loudest file
/// peaks at 0.984, so the 48 kHz music copy of issue 14 (an original peaking at 0.993) is
/// stood in for by the orchestral file at 48 kHz scaled to that peak, and to 16-bit full
/// scale (32767/32768), as a loudness-maximised master would be.
const FILES: [(&str, &str, Option<u32>, Option<f32>); 9] = [
    ("call-en-8k.flac", "speech", None, None),
    ("librivox-en-16k.flac", "speech", None, None),
    ("arctic-a0007-16k.flac", "speech", None, None),
    ("arctic-a0009-16k.flac", "speech", None, None),
    ("music-8k-morning-coffee.flac", "music", None, None),
    ("music-44k-elvish-theme.flac", "music", None, None),
    ("music-44k-elvish-theme.flac", "music", Some(48_000), None),
    (
        "music-44k-elvish-theme.flac",
        "music",
        Some(48_000),
        Some(0.993),
    ),
    (
        "music-44k-elvish-theme.flac",
        "music",
        Some(48_000),
        Some(32_767.0 / 32_768.0),
    ),
];

/// Copies measured per file, each under its own key and codeword.
const COPIES: u8 = 10;

fn snr_db(a: &AudioBuffer, b: &AudioBuffer) -> f64 {
    let (mut s, mut e) = (0.0f64, 0.0f64);
    for (x, y) in a.channels().iter().zip(b.channels()) {
        for (p, q) in x.iter().zip(y) {
            s += f64::from(*p).powi(2);
            e += f64::from(p - q).powi(2);
        }
    }
    10.0 * (s / e.max(1e-30)).log10()
}

fn peak(a: &AudioBuffer) -> f32 {
    a.channels()
        .iter()
        .flatten()
        .fold(0.0f32, |m, x| m.max(x.abs()))
}

/// PESQ-WB (ITU-T P.862.2) MOS-LQO at 16 kHz, mono.
fn pesq_wb(a: &AudioBuffer, b: &AudioBuffer) -> Option<f32> {
    let pcm = |x: &AudioBuffer| -> Option<Vec<i16>> {
        let mono = resample(&x.downmix(), x.rate().hz(), 16_000).ok()?;
        Some(
            mono.iter()
                .map(|&s| (s * 32_767.0).round().clamp(-32_768.0, 32_767.0) as i16)
                .collect(),
        )
    };
    pesq::pesq_wb(&pcm(a)?, &pcm(b)?).ok()
}

/// Samples of the 16-bit integer WAV of `a` at -32768 or 32767.
fn full_scale_16(a: &AudioBuffer) -> usize {
    let wav = encode_wav(a, WavSample::Int16).expect("encode");
    let back = decode_bytes(&wav, Some("wav"), &Limits::default()).expect("decode");
    back.channels()
        .iter()
        .flatten()
        .filter(|&&x| x <= -1.0 || x >= 32_767.0 / 32_768.0)
        .count()
}

fn main() {
    let dir: PathBuf = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    let payload = Payload::from_hex("0123456789abcdef").expect("hex");
    println!(
        "| file | rate | kind | peak orig | peak marked (max of {COPIES}) | 16-bit samples at full scale (orig / worst copy) | min SNR dB | min PESQ-WB | informed z | payload |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for (name, kind, to, scale_to) in FILES {
        let mut audio = decode_file(&dir.join(name), &Limits::default()).expect("decode");
        if let Some(hz) = to {
            let rate = tracemark_dsp::SampleRate::try_new(hz).expect("rate");
            let chans = audio
                .channels()
                .iter()
                .map(|c| resample(c, audio.rate().hz(), hz).expect("resample"))
                .collect();
            audio = AudioBuffer::try_new(rate, chans).expect("buffer");
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
        // Ten copies, as ten recipients would get (a key and codeword each): the peaks and
        // full-scale counts are the worst over them, SNR and PESQ-WB the lowest, detection
        // that of the first.
        let (mut peak_marked, mut fs_marked, mut snr, mut pesq) = (0.0f32, 0, f64::MAX, f32::MAX);
        let mut first = None;
        for copy in 0..COPIES {
            let key = WatermarkKey::from_bytes([copy + 1; 32]);
            let symbols: Vec<bool> = (0..997u32)
                .map(|i| (i * 7 + 3 + u32::from(copy)) % 5 < 2)
                .collect();
            let marked = embed(
                &audio,
                &key,
                &Message {
                    payload,
                    symbols: Some(&symbols),
                },
                &EmbedParams::default(),
            )
            .expect("embed");
            peak_marked = peak_marked.max(peak(&marked));
            fs_marked = fs_marked.max(full_scale_16(&marked));
            snr = snr.min(snr_db(&audio, &marked));
            if kind == "speech" {
                pesq = pesq.min(pesq_wb(&audio, &marked).expect("PESQ-WB"));
            }
            if copy == 0 {
                first = Some(detect_informed(&marked, &audio, &key).expect("informed"));
            }
        }
        let informed = first.expect("one copy at least");
        println!(
            "| {name}{} | {} | {kind} | {:.4} | {:.4} | {} / {} | {:.2} | {} | {:.1} | {} |",
            scale_to.map_or(String::new(), |p| format!(" scaled to {p:.4}")),
            audio.rate().hz(),
            peak(&audio),
            peak_marked,
            full_scale_16(&audio),
            fs_marked,
            snr,
            if kind == "speech" {
                format!("{pesq:.3}")
            } else {
                "-".into()
            },
            informed.z,
            if informed.payload == Some(payload) {
                "ok"
            } else {
                "MISSED"
            },
        );
    }
}
