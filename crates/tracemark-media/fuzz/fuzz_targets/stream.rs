//! Feeds arbitrary bytes, as a file, to `open_stream` under small caps: it must never panic,
//! and it must decode what `decode_file` decodes, to the same samples (a differential check
//! of the streaming reader against the whole-file one).
#![no_main]

#[path = "harness.rs"]
#[allow(dead_code, reason = "this target shares the caps, not the call")]
mod harness;

use libfuzzer_sys::fuzz_target;
use tracemark_media::{decode_file, open_stream};

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("tracemark-fuzz-stream-{}", std::process::id()));
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let whole = decode_file(&path, &harness::LIMITS);
    let streamed = open_stream(&path, &harness::LIMITS).and_then(|mut stream| {
        let mut planes = vec![Vec::new(); stream.channel_count()];
        while let Some(block) = stream.next_block()? {
            for (plane, samples) in planes.iter_mut().zip(block) {
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
