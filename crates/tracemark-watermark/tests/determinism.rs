//! The vault re-issues a copy by calling `embed` again and logs the SHA-256 of the encoded
//! copy, so `embed` must give the same samples, bit for bit, forever: these digests were
//! computed with the code before the streaming embedder existed (commit e83653c) and pin
//! the batch path; `streaming_embedder_matches_embed_bit_for_bit` pins the streaming one
//! to it.

use sha2::{Digest, Sha256};
use tracemark_dsp::{AudioBuffer, SampleRate, resample};
use tracemark_testkit::excerpt;
use tracemark_watermark::{EmbedParams, Message, Payload, WatermarkKey, embed, symbol_count};

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
