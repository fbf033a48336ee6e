//! Stored index parser: never panics; whatever parses re-serialises to the same bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tracemark_fingerprint::Index;

fuzz_target!(|data: &[u8]| {
    if let Ok(index) = Index::from_bytes(data) {
        assert_eq!(index.to_bytes(), data, "non-canonical index accepted");
    }
});
