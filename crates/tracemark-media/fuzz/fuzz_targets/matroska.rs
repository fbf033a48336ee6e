//! Matroska/WebM (the Opus path through symphonia's demuxer and opus-pure, Vorbis, AAC):
//! raw input after an EBML magic, so the prober hands it to the Matroska reader.
#![no_main]

#[path = "harness.rs"]
mod harness;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut file = vec![0x1a, 0x45, 0xdf, 0xa3];
    file.extend_from_slice(data);
    harness::decode(&file, Some("webm"));
});
