//! Feeds arbitrary bytes, as a file, to `open_stream` under small caps: it must never panic,
//! and it must decode what `decode_file` decodes, to the same samples (a differential check
//! of the streaming reader against the whole-file one).
#![no_main]

#[path = "harness.rs"]
#[allow(dead_code, reason = "this target shares the caps, not the call")]
mod harness;
#[path = "stream_check.rs"]
mod stream_check;

use libfuzzer_sys::fuzz_target;
use tracemark_media::{decode_file, open_stream};

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("tracemark-fuzz-stream-{}", std::process::id()));
    if std::fs::write(&path, data).is_err() {
        return;
    }
    stream_check::stream_matches_whole(
        decode_file(&path, &harness::LIMITS),
        open_stream(&path, &harness::LIMITS),
    );
});
