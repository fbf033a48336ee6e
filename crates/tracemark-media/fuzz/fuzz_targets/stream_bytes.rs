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
    let whole = decode_bytes(file, hint, &harness::LIMITS);
    let streamed = open_stream_bytes(file.to_vec(), hint, &harness::LIMITS).and_then(|mut s| {
        let mut planes = vec![Vec::new(); s.channel_count()];
        while let Some(block) = s.next_block()? {
            assert_eq!(block.len(), planes.len(), "a block's planes are its channels");
            let frames = block.first().map_or(0, Vec::len);
            for (plane, samples) in planes.iter_mut().zip(block) {
                assert_eq!(samples.len(), frames, "every plane of a block is one length");
                assert!(samples.iter().all(|x| x.is_finite()), "a non-finite sample");
                plane.extend_from_slice(samples);
            }
        }
        Ok(planes)
    });
    for e in [whole.as_ref().err(), streamed.as_ref().err()].into_iter().flatten() {
        assert!(!e.to_string().contains("panicked"), "{e}");
    }
    assert_eq!(
        whole.is_ok(),
        streamed.is_ok(),
        "{:?} against {:?}",
        whole.as_ref().err(),
        streamed.as_ref().err()
    );
    if let (Ok(whole), Ok(streamed)) = (&whole, &streamed) {
        assert_eq!(whole.channels(), &streamed[..]);
    }
});
