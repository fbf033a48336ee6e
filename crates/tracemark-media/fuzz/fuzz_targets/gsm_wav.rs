//! GSM 06.10 WAV: a valid RIFF/fmt (0x0031) header, then the input as `fact` count and data
//! chunk, so every run reaches the frame decoder.
#![no_main]

#[path = "harness.rs"]
mod harness;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (fact, audio) = data.split_at(data.len().min(4));
    let mut wav = b"RIFF\0\0\0\0WAVEfmt \x14\0\0\0\x31\0\x01\0\x40\x1f\0\0\x59\x06\0\0".to_vec();
    wav.extend_from_slice(b"\x41\0\0\0\x02\0\x40\x01fact\x04\0\0\0");
    wav.extend_from_slice(fact);
    wav.resize(56, 0);
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&(audio.len() as u32).to_le_bytes());
    wav.extend_from_slice(audio);
    harness::decode(&wav, None);
});
