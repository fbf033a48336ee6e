//! Shared by every target: the caps and the one call under test.

use tracemark_media::{Limits, decode_bytes};

/// 1 MiB of input and 30 s of audio: small enough that a cap violation shows up as an
/// out-of-memory report from libFuzzer (-rss_limit_mb) rather than passing silently.
pub const LIMITS: Limits = Limits {
    max_bytes: 1 << 20,
    max_duration_s: 30.0,
};

/// Decodes `data`; any result is fine, a panic or unbounded allocation is the bug. An error
/// that says a dependency panicked (caught by the crate's guard) is a bug too.
pub fn decode(data: &[u8], hint: Option<&str>) {
    if let Err(e) = decode_bytes(data, hint, &LIMITS) {
        assert!(!e.to_string().contains("panicked"), "{e}");
    }
}
