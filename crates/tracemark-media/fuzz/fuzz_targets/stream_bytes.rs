//! Feeds arbitrary bytes held in memory, with a format hint chosen by the first byte, to
//! `open_stream_bytes` under small caps: it must never panic, every block must be well
//! shaped (one plane per channel, all of one length, finite samples), and it must decode
//! what `decode_bytes` decodes from the same bytes and hint, to the same samples, or fail
//! where it fails (a differential check of the in-memory streaming reader, which the vault
//! marks copies and ingests through, against the whole-file one).
#![no_main]

#[path = "harness.rs"]
#[allow(dead_code, reason = "this target shares the caps, not the call")]
mod harness;
#[path = "stream_check.rs"]
mod stream_check;

use libfuzzer_sys::fuzz_target;
use tracemark_media::{decode_bytes, open_stream_bytes};

/// Hints the vault passes (a stored recording's format, an upload's extension), and none.
const HINTS: [Option<&str>; 10] = [
    None,
    Some("wav"),
    Some("flac"),
    Some("mp3"),
    Some("opus"),
    Some("ogg"),
    Some("amr"),
    Some("3gp"),
    Some("webm"),
    Some("m4a"),
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, file)) = data.split_first() else {
        return;
    };
    let hint = HINTS[usize::from(pick) % HINTS.len()];
    stream_check::stream_matches_whole(
        decode_bytes(file, hint, &harness::LIMITS),
        open_stream_bytes(file.to_vec(), hint, &harness::LIMITS),
    );
});
