//! The vault re-issues a copy by calling `embed` again and logs the SHA-256 of the encoded
//! copy, so `embed` must give the same samples, bit for bit, forever: these digests were
//! computed with the code before the streaming embedder existed (commit e83653c) and pin
//! the batch path; `streaming_embedder_matches_embed_bit_for_bit` pins the streaming one
//! to it.

use sha2::{Digest, Sha256};
use tracemark_dsp::{AudioBuffer, SampleRate, resample};
use tracemark_testkit::{corpus_or_excerpt, excerpt};
use tracemark_watermark::{
    EmbedParams, Embedder, Message, Payload, Survey, WatermarkKey, embed, embed_reporting,
    symbol_count,
};

/// SHA-256 over every channel's samples, as little-endian `f32` bits, channel after channel.
fn digest(audio: &AudioBuffer) -> String {
    let mut h = Sha256::new();
    for ch in audio.channels() {
        for x in ch {
            h.update(x.to_bits().to_le_bytes());
        }
    }
    hex::encode(h.finalize())
}

/// The committed excerpt (real telephone speech), seconds 5..35, at `rate`, on `channels`
/// channels (the second one 0.6 times the first and reversed, so the channels differ), made
/// `gain` times louder (loud enough, the limiter engages).
pub fn host(rate: u32, channels: usize, gain: f32) -> AudioBuffer {
    let call = excerpt();
    let span = call.slice(5 * 8_000, 35 * 8_000).downmix();
    let mono: Vec<f32> = resample(&span, 8_000, rate)
        .expect("resample")
        .iter()
        .map(|x| x * gain)
        .collect();
    let mut chans = vec![mono.clone()];
    if channels == 2 {
        chans.push(mono.iter().rev().map(|x| x * 0.6).collect());
    }
    AudioBuffer::try_new(SampleRate::try_new(rate).expect("rate"), chans).expect("buffer")
}

/// A codeword of `n` symbols drawn from a fixed xorshift.
pub fn codeword(n: usize) -> Vec<bool> {
    let mut s = 0x2545_f491_u32;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            s & 1 == 1
        })
        .collect()
}

fn marked(audio: &AudioBuffer, with_symbols: bool) -> AudioBuffer {
    let key = WatermarkKey::from_bytes([7; 32]);
    let payload = Payload::from_hex("0123456789abcdef").expect("payload");
    let symbols = codeword(symbol_count(audio.frames(), audio.rate().hz()).expect("rate"));
    let message = Message {
        payload,
        symbols: with_symbols.then_some(&symbols[..]),
    };
    embed(audio, &key, &message, &EmbedParams::default()).expect("embed")
}

#[test]
fn embed_output_is_bit_identical_to_before_the_streaming_embedder() {
    let cases: [(u32, usize, f32, bool, &str); 5] = [
        (
            8_000,
            1,
            1.0,
            false,
            "17c2be01f84394778e2008846ac3c6e0a418d8542aff108f7b9e566ea3cc0e74",
        ),
        (
            44_100,
            1,
            1.0,
            false,
            "c04414bf59a805f1a765aa1b50e382b89809aa4eb41203246ebd588bbb4ae883",
        ),
        (
            44_100,
            1,
            1.0,
            true,
            "8e19410f47f5f48a6ea6c9d0fc6bda80f54bf3f703a1b4d8355a74e51c59e17f",
        ),
        (
            48_000,
            2,
            1.0,
            true,
            "d5c2f44d95a8d67715d4671d7b66482092ad5ad810f99bb18d3b862391fdfbda",
        ),
        (
            44_100,
            1,
            4.0,
            true,
            "0851bb13ce1d5f0453a42c50b02551dbe30acd28fcf1fc657d6ecc7cc61eed52",
        ),
    ];
    let mut wrong = Vec::new();
    for (rate, channels, gain, with_symbols, want) in cases {
        let got = digest(&marked(&host(rate, channels, gain), with_symbols));
        if got != want {
            wrong.push(format!(
                "{rate} Hz, {channels} channel(s), gain {gain}, symbols {with_symbols}: {got}"
            ));
        }
    }
    assert!(wrong.is_empty(), "changed output:\n{}", wrong.join("\n"));
}

/// `audio` cut into blocks of the sizes in `blocks` (cycled), each as one slice per channel.
fn cut<'a>(audio: &'a AudioBuffer, blocks: &[usize]) -> Vec<Vec<&'a [f32]>> {
    let (mut at, mut i, mut out) = (0, 0, Vec::new());
    while at < audio.frames() {
        let end = (at + blocks[i % blocks.len()]).min(audio.frames());
        out.push(audio.channels().iter().map(|c| &c[at..end]).collect());
        (at, i) = (end, i + 1);
    }
    out
}

/// Runs both streaming passes over `audio`, cut into blocks of the sizes in `blocks`
/// (cycled), and returns the marked copy and the limiter's report.
fn streamed(
    audio: &AudioBuffer,
    key: &WatermarkKey,
    message: &Message<'_>,
    blocks: &[usize],
) -> (Vec<Vec<f32>>, tracemark_watermark::EmbedReport) {
    let pieces = cut(audio, blocks);
    let mut survey = Survey::new(audio.rate(), audio.channel_count()).expect("survey");
    for piece in &pieces {
        survey.push(piece).expect("survey push");
    }
    let survey = survey.finish().expect("survey finish");
    let mut embedder =
        Embedder::new(survey, key, message, &EmbedParams::default()).expect("embedder");
    let mut out = vec![Vec::new(); audio.channel_count()];
    for piece in &pieces {
        embedder.push(piece, &mut out).expect("embed push");
    }
    let report = embedder.finish(&mut out).expect("embed finish");
    (out, report)
}

#[test]
fn streaming_embedder_matches_embed_bit_for_bit() {
    let key = WatermarkKey::from_bytes([7; 32]);
    let payload = Payload::from_hex("0123456789abcdef").expect("payload");
    // Real read speech at its own 16 kHz, and the committed call at 8 and 44.1 kHz, once
    // four times louder (the limiter fades the mark around the peaks), and at 48 kHz stereo.
    let speech = corpus_or_excerpt("librivox-en-16k.flac", 24.0, (10.0, 34.0));
    let cases = [
        speech,
        host(8_000, 1, 1.0),
        host(44_100, 1, 1.0),
        host(44_100, 1, 4.0),
        host(48_000, 2, 1.0),
    ];
    let mut limited = false;
    for audio in &cases {
        let symbols = codeword(symbol_count(audio.frames(), audio.rate().hz()).expect("rate"));
        for with_symbols in [false, true] {
            let message = Message {
                payload,
                symbols: with_symbols.then_some(&symbols[..]),
            };
            let (whole, report) =
                embed_reporting(audio, &key, &message, &EmbedParams::default()).expect("embed");
            limited |= report.limiter.attenuated_frames > 0;
            for blocks in [&[4_096][..], &[1, 777, 20_000, 3], &[1 << 20]] {
                let (out, streamed_report) = streamed(audio, &key, &message, blocks);
                let what = format!(
                    "{} Hz, {} channel(s), symbols {with_symbols}, blocks {blocks:?}",
                    audio.rate().hz(),
                    audio.channel_count()
                );
                assert_eq!(out.len(), whole.channels().len(), "{what}");
                for (a, b) in out.iter().zip(whole.channels()) {
                    assert_eq!(a.len(), b.len(), "{what}");
                    let first = a
                        .iter()
                        .zip(b)
                        .position(|(x, y)| x.to_bits() != y.to_bits());
                    assert_eq!(first, None, "{what}: first differing sample");
                }
                let (a, b) = (streamed_report.limiter, report.limiter);
                assert_eq!(
                    (
                        a.ceiling,
                        a.overshoot_frames,
                        a.attenuated_frames,
                        a.min_gain
                    ),
                    (
                        b.ceiling,
                        b.overshoot_frames,
                        b.attenuated_frames,
                        b.min_gain
                    ),
                    "{what}"
                );
                if audio.channel_count() == 1 {
                    assert_eq!(a.energy_kept, b.energy_kept, "{what}");
                }
            }
        }
    }
    assert!(limited, "some case must make the limiter fade the mark");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    /// The streamed levels are the whole signal's, bit for bit, for any split: signals from
    /// empty to shorter than one frame to several seconds, loud and quiet stretches (the
    /// loud reference is a percentile, the floor a mean over the loud frames).
    #[test]
    fn metered_pieces_give_the_whole_signals_levels(
        len in 0usize..40_000,
        seed in 0u64..1_000,
        cuts in proptest::collection::vec(0usize..40_000, 0..12),
    ) {
        let x: Vec<f32> = (0..len)
            .map(|i| {
                let loud = ((i as u64 / 3_000 + seed) % 3) as f32 * 0.3;
                let t = i as f32 + seed as f32;
                loud * ((t * 0.037).sin() + 0.3 * (t * 0.61).sin())
            })
            .collect();
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (len + 1)).collect();
        cuts.sort_unstable();
        let mut meter = tracemark_watermark::LevelMeter::new();
        let mut at = 0;
        for c in cuts.into_iter().chain([len]) {
            meter.push(&x[at..c]);
            at = c;
        }
        let whole = tracemark_watermark::ReferenceLevels::measure(&x);
        let streamed = meter.finish();
        proptest::prop_assert_eq!(streamed.to_bytes(), whole.to_bytes());
    }
}
