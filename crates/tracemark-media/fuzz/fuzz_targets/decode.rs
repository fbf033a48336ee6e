//! Feeds arbitrary bytes to `decode_bytes` under small caps: it must return, never panic,
//! never allocate without bound.
#![no_main]

#[path = "harness.rs"]
mod harness;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Alternate the hint so both the hinted and the pure-content probe paths are exercised.
    let hint = match data.first().map(|b| b % 5) {
        Some(0) => Some("wav"),
        Some(1) => Some("flac"),
        Some(2) => Some("mp3"),
        Some(3) => Some("opus"),
        _ => None,
    };
    harness::decode(data, hint);
});
