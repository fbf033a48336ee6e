//! Development probe: symbol-layer quality after a lossy codec.
//! `cargo run --release -p tracemark-watermark --example symbols -- FILE [kbps] [strength] [opus|mp3]`

use tracemark_media::{EncodeOptions, Format, Limits, decode_bytes, decode_file, encode_bytes};
use tracemark_watermark::{
    EmbedParams, Message, Payload, WatermarkKey, detect_informed, embed, symbol_count,
};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let audio = decode_file(std::path::Path::new(&args[1]), &Limits::default()).expect("decode");
    let kbps: u32 = args.get(2).map(|s| s.parse().expect("kbps")).unwrap_or(16);
    let strength: f32 = args.get(3).map(|s| s.parse().expect("f")).unwrap_or(0.05);
    let (format, ext) = match args.get(4).map(String::as_str) {
        Some("mp3") => (Format::Mp3, "mp3"),
        _ => (Format::Opus, "opus"),
    };
    let key = WatermarkKey::from_bytes([9; 32]);
    let n = symbol_count(audio.frames(), audio.rate().hz()).expect("count");
    let symbols: Vec<bool> = (0..n)
        .map(|i| ((i * 2_654_435_761usize) >> 7) & 1 == 1)
        .collect();
    let payload = Payload::from_hex("0123456789abcdef").expect("hex");
    let marked = embed(
        &audio,
        &key,
        &Message {
            payload,
            symbols: Some(&symbols),
        },
        &EmbedParams { strength },
    )
    .expect("embed");
    let mut avg = marked.clone();
    // A second copy with the opposite symbols, averaged: the collusion case.
    let flipped: Vec<bool> = symbols.iter().map(|b| !b).collect();
    let other = embed(
        &audio,
        &key,
        &Message {
            payload,
            symbols: Some(&flipped),
        },
        &EmbedParams { strength },
    )
    .expect("embed");
    let ch: Vec<Vec<f32>> = marked
        .channels()
        .iter()
        .zip(other.channels())
        .map(|(a, b)| a.iter().zip(b).map(|(x, y)| 0.5 * (x + y)).collect())
        .collect();
    avg = tracemark_dsp::AudioBuffer::try_new(avg.rate(), ch).expect("buf");
    for (name, clip) in [("single", &marked), ("averaged-opposite", &avg)] {
        let bytes = encode_bytes(
            clip,
            format,
            &EncodeOptions {
                bitrate_kbps: Some(kbps),
            },
        )
        .expect("encode");
        let leak = decode_bytes(&bytes, Some(ext), &Limits::default()).expect("decode");
        let d = detect_informed(&leak, &audio, &key).expect("detect");
        let obs: Vec<_> = d.symbols.iter().filter(|s| s.cells > 0).collect();
        let mean: f64 = obs
            .iter()
            .map(|s| f64::from(s.z) * if symbols[s.slot] { 1.0 } else { -1.0 })
            .sum::<f64>()
            / obs.len().max(1) as f64;
        let right = obs
            .iter()
            .filter(|s| (s.z > 0.0) == symbols[s.slot])
            .count();
        println!(
            "{name} {ext} {kbps}k: payload {:?} z {:.1} observed {} mean signed z {mean:.2}, sign right {:.1} %",
            d.payload.is_some(),
            d.z,
            obs.len(),
            100.0 * right as f64 / obs.len().max(1) as f64
        );
    }
}
