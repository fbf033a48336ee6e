//! Feeds arbitrary bytes to `decode_bytes` under small caps: it must return, never panic,
//! never allocate without bound.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracemark_media::{Limits, decode_bytes};

fuzz_target!(|data: &[u8]| {
    // 1 MiB of input and 30 s of audio: small enough that a cap violation shows up as an
    // out-of-memory report from libFuzzer (-rss_limit_mb) rather than passing silently.
    let limits = Limits {
        max_bytes: 1 << 20,
        max_duration_s: 30.0,
    };
    // Alternate the hint so both the hinted and the pure-content probe paths are exercised.
    let hint = match data.first().map(|b| b % 5) {
        Some(0) => Some("wav"),
        Some(1) => Some("flac"),
        Some(2) => Some("mp3"),
        Some(3) => Some("opus"),
        _ => None,
    };
    let _ = decode_bytes(data, hint, &limits);
});
