//! Development probe for issue 14 item 3: informed detection after sox's own `speed`,
//! `tempo` and `pitch` effects (and any other sox effect chain).
//!
//! `cargo run --release -p tracemark-watermark --example timescale -- FILE START_S LEN_S EFFECT [ARGS...]`
//! e.g. `... call.flac 120 30 pitch 100`. Marks FILE with a fixed key, cuts LEN_S seconds
//! from START_S, runs `sox` with the effect on the marked and on the unmarked clip, and
//! prints what informed detection (against the whole unmarked FILE) and blind detection
//! find in each.

use std::process::Command;

use tracemark_dsp::AudioBuffer;
use tracemark_media::{EncodeOptions, Format, Limits, decode_bytes, decode_file, encode_bytes};
use tracemark_watermark::{
    EmbedParams, Message, Payload, WatermarkKey, detect_blind_searching_speed, detect_informed,
    embed,
};

fn sox(audio: &AudioBuffer, effect: &[String]) -> AudioBuffer {
    let dir = tempfile::tempdir().expect("tempdir");
    let (input, output) = (dir.path().join("in.wav"), dir.path().join("out.wav"));
    let wav = encode_bytes(audio, Format::Wav, &EncodeOptions::default()).expect("wav");
    std::fs::write(&input, wav).expect("write");
    let status = Command::new("sox")
        .arg(&input)
        .args(["-e", "floating-point", "-b", "32"])
        .arg(&output)
        .args(effect)
        .status()
        .expect("sox");
    assert!(status.success(), "sox {effect:?}");
    decode_bytes(
        &std::fs::read(&output).expect("read"),
        Some("wav"),
        &Limits::default(),
    )
    .expect("decode")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let audio = decode_file(std::path::Path::new(&args[1]), &Limits::default()).expect("decode");
    let start: f64 = args[2].parse().expect("start");
    let len: f64 = args[3].parse().expect("len");
    let effect = &args[4..];
    let key = WatermarkKey::from_bytes([9; 32]);
    let message = Message {
        payload: Payload::from_hex("0123456789abcdef").expect("hex"),
        symbols: None,
    };
    let marked = embed(&audio, &key, &message, &EmbedParams::default()).expect("embed");
    let r = f64::from(audio.rate().hz());
    let (a, b) = ((start * r) as usize, ((start + len) * r) as usize);
    for (what, source) in [("marked", &marked), ("unmarked", &audio)] {
        let piece = source.slice(a, b.min(source.frames()));
        // `attack:reverb-MS` and `attack:rerecord` use the project's own room models.
        let clip = match effect.first().map(String::as_str) {
            Some("attack:rerecord") => tracemark_attacks::Attack::ReRecording
                .apply(&piece, &tracemark_attacks::AttackContext::new(7))
                .expect("attack"),
            Some(a) if a.starts_with("attack:reverb-") => tracemark_attacks::Attack::Reverb {
                rt60_ms: a["attack:reverb-".len()..].parse().expect("rt60"),
            }
            .apply(&piece, &tracemark_attacks::AttackContext::new(7))
            .expect("attack"),
            _ => sox(&piece, effect),
        };
        let t = std::time::Instant::now();
        let d = detect_informed(&clip, &audio, &key).expect("informed");
        println!(
            "{what}: {:.2} s, z {:.2} p {:.1e} payload {} | scale {:.4} {:?} freq {:.4} offset {:.3} (true {start}) score {:.2} room {:?}",
            t.elapsed().as_secs_f64(),
            d.z,
            d.p_value,
            d.payload.is_some(),
            d.alignment.scale,
            d.alignment.kind,
            d.alignment.freq_scale,
            d.alignment.offset_s,
            d.alignment.score,
            d.room_tail,
        );
        let t = std::time::Instant::now();
        let b = detect_blind_searching_speed(&clip, &key).expect("blind");
        println!(
            "  blind: {:.2} s ({:.0}x real time), z {:.2} p {:.1e} payload {} speed {:.4} {:?}",
            t.elapsed().as_secs_f64(),
            clip.duration_s() / t.elapsed().as_secs_f64(),
            b.z,
            b.p_value,
            b.payload == Some(message.payload),
            b.speed,
            b.scale_kind,
        );
    }
}
