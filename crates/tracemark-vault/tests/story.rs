//! The golden story: ingest a real call, issue copies to eight recipients, leak them in
//! three ways, trace each leak.

mod common;

use std::path::Path;

use tracemark_dsp::AudioBuffer;
use tracemark_media::{EncodeOptions, Format, Limits, decode_bytes, encode_bytes};
use tracemark_vault::Delivery;

const NAMES: [&str; 8] = [
    "Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi",
];

fn decode(bytes: &[u8], ext: &str) -> AudioBuffer {
    decode_bytes(bytes, Some(ext), &Limits::default()).expect("decode")
}

fn encode(audio: &AudioBuffer, format: Format, kbps: Option<u32>) -> Vec<u8> {
    encode_bytes(audio, format, &EncodeOptions { bitrate_kbps: kbps }).expect("encode")
}

#[test]
fn three_leaks_are_traced_to_their_sources() {
    let dir = tempfile::tempdir().expect("tmp");
    let vault = common::init(dir.path()).expect("init");
    for n in NAMES {
        vault.add_recipient(n, None).expect("recipient");
    }
    let audio = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/call-en-8k-excerpt.flac"),
    )
    .expect("asset");
    let rec = vault
        .ingest(&audio, "call.flac", "Envoy call")
        .expect("ingest");
    let names: Vec<String> = NAMES.iter().map(|s| s.to_string()).collect();
    let copies = vault
        .issue(
            rec.id.as_str(),
            &names,
            Delivery::of(Format::Flac),
            |_, _| {},
        )
        .expect("issue");
    assert_eq!(copies.len(), 8);
    // Issuing again returns the same copies and logs nothing new.
    let again = vault
        .issue(
            rec.id.as_str(),
            &names[..1],
            Delivery::of(Format::Flac),
            |_, _| {},
        )
        .expect("reissue");
    assert!(again[0].reissued && again[0].bytes == copies[0].bytes);

    let copy = |i: usize| decode(&copies[i].bytes, "flac");
    let rate = copy(0).rate().hz() as usize;

    // 1. Bob's copy, MP3 64 kbit/s, cut to 20 s.
    let bob = copy(1);
    let cut = bob.slice(12 * rate, 32 * rate);
    let leak1 = encode(&cut, Format::Mp3, Some(64));
    let r1 = vault.trace(&leak1, "leak1.mp3", 1e-6).expect("trace 1");
    eprintln!("leak 1: {}\n{:#}", r1.verdict(), r1.to_json()["recipients"]);
    assert_eq!(
        r1.accused().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        vec!["Bob"]
    );

    // 2. Carol's and Dave's copies averaged, then Opus 16 kbit/s.
    let (c, d) = (copy(2), copy(3));
    let avg: Vec<f32> = c.channels()[0]
        .iter()
        .zip(&d.channels()[0])
        .map(|(a, b)| 0.5 * (a + b))
        .collect();
    let avg = AudioBuffer::mono(c.rate(), avg).expect("buffer");
    let leak2 = encode(&avg, Format::Opus, Some(16));
    let r2 = vault.trace(&leak2, "leak2.opus", 1e-6).expect("trace 2");
    eprintln!("leak 2: {}\n{:#}", r2.verdict(), r2.to_json()["recipients"]);
    let accused2: Vec<&str> = r2.accused().map(|s| s.name.as_str()).collect();
    assert!(!accused2.is_empty(), "no colluder accused");
    assert!(
        accused2.iter().all(|n| *n == "Carol" || *n == "Dave"),
        "innocent accused: {accused2:?}"
    );

    // 3. Erin's copy with 6 s of foreign speech spliced in at 20 s.
    let erin = copy(4);
    let foreign_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/librivox-en-16k.flac");
    let foreign: Vec<f32> = if foreign_path.exists() {
        let f = tracemark_media::decode_file(&foreign_path, &Limits::default()).expect("foreign");
        tracemark_dsp::resample(&f.downmix()[..6 * 16_000], 16_000, rate as u32).expect("resample")
    } else {
        (0..6 * rate)
            .map(|i| ((i as f32) * 0.37).sin() * 0.1)
            .collect()
    };
    let mut spliced = erin.channels()[0][..20 * rate].to_vec();
    spliced.extend_from_slice(&foreign);
    spliced.extend_from_slice(&erin.channels()[0][20 * rate..]);
    let leak3 = encode(
        &AudioBuffer::mono(erin.rate(), spliced).expect("buffer"),
        Format::Flac,
        None,
    );
    let r3 = vault.trace(&leak3, "leak3.flac", 1e-6).expect("trace 3");
    eprintln!("leak 3: {}\n{:#}", r3.verdict(), r3.to_json()["segments"]);
    assert_eq!(
        r3.accused().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        vec!["Erin"]
    );
    let unmatched: Vec<_> = r3.segments.iter().filter(|s| !s.genuine).collect();
    assert!(
        unmatched
            .iter()
            .any(|s| (s.leak_start_s - 20.0).abs() < 1.0 && (s.leak_end_s - 26.0).abs() < 1.0),
        "foreign stretch not found: {:?}",
        r3.segments
    );

    // 4. The unmarked original accuses nobody.
    let r4 = vault.trace(&audio, "original.flac", 1e-6).expect("trace 4");
    assert_eq!(r4.accused().count(), 0, "{}", r4.verdict());

    // Everything is in the log, and the log verifies.
    let report = vault.verify_log().expect("log verifies");
    // 8 recipients, the ingest and its statement, 8 copies, 4 traces.
    assert_eq!(report.entries, 8 + 2 + 8 + 4);
}
