//! Signed note parser and verifier.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tracemark_ledger::{SignedNote, VerifierKey};

const PETER: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";

fuzz_target!(|data: &[u8]| {
    if let Ok(note) = SignedNote::parse(data) {
        if let Ok(key) = VerifierKey::parse(PETER) {
            let _ = note.verify(&key);
        }
        assert!(note.text().ends_with('\n'));
    }
});
