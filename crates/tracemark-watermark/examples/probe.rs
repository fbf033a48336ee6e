//! Development probe: embed into an audio file (any format tracemark-media decodes), report
//! SNR and blind detection.
//! `cargo run --release -p tracemark-watermark --example probe -- FILE.wav [strength] [crop_s]`

use tracemark_dsp::AudioBuffer;
use tracemark_watermark::{
    EmbedParams, Message, Payload, WatermarkKey, detect_blind, detect_informed, embed,
};

fn read(path: &str) -> AudioBuffer {
    tracemark_media::decode_file(
        std::path::Path::new(path),
        &tracemark_media::Limits::default(),
    )
    .expect("decode")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let audio = read(&args[1]);
    let strength: f32 = args.get(2).map(|s| s.parse().expect("f")).unwrap_or(0.04);
    let crop: f64 = args.get(3).map(|s| s.parse().expect("f")).unwrap_or(0.0);
    let key = WatermarkKey::from_bytes([9; 32]);
    let payload = Payload::from_hex("0123456789abcdef").expect("hex");
    let t = std::time::Instant::now();
    let marked = embed(
        &audio,
        &key,
        &Message {
            payload,
            symbols: None,
        },
        &EmbedParams { strength },
    )
    .expect("embed");
    let te = t.elapsed().as_secs_f64();
    let (mut sig, mut err) = (0.0f64, 0.0f64);
    for (a, b) in audio.channels().iter().zip(marked.channels()) {
        for (x, y) in a.iter().zip(b) {
            sig += f64::from(*x) * f64::from(*x);
            err += f64::from(x - y) * f64::from(x - y);
        }
    }
    println!(
        "dur {:.1}s embed {:.0}x SNR {:.2} dB",
        audio.duration_s(),
        audio.duration_s() / te,
        10.0 * (sig / err).log10()
    );
    let test = if crop > 0.0 {
        let r = f64::from(audio.rate().hz());
        let start = (audio.frames() as f64 * 0.37) as usize;
        marked.slice(start, start + (crop * r) as usize)
    } else {
        marked.clone()
    };
    let t = std::time::Instant::now();
    let d = detect_blind(&test, &key).expect("detect");
    println!(
        "blind {:.0}x: {:?}",
        test.duration_s() / t.elapsed().as_secs_f64(),
        d
    );
    let t = std::time::Instant::now();
    let d = detect_informed(&test, &audio, &key).expect("informed");
    println!(
        "informed {:.0}x: detected {} p {:e} z {:.2} payload {:?} scale {} {:?} offset {:.3}",
        test.duration_s() / t.elapsed().as_secs_f64(),
        d.detected,
        d.p_value,
        d.z,
        d.payload,
        d.alignment.scale,
        d.alignment.kind,
        d.alignment.offset_s
    );
    let wrong = WatermarkKey::from_bytes([8; 32]);
    println!(
        "wrong key: {:?}",
        detect_blind(&test, &wrong).expect("detect")
    );
    println!(
        "unmarked: {:?}",
        detect_blind(&audio.slice(0, test.frames()), &key).expect("detect")
    );
}
