//! Signed checkpoint: parse, verify against a fixed key, and parse bodies directly.
#![no_main]
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use tracemark_ledger::{Checkpoint, KeyName, NoteSigner, VerifierKey};

/// Derived once: key derivation would otherwise dominate each run.
static KEY: LazyLock<Option<VerifierKey>> = LazyLock::new(|| {
    let name = KeyName::try_new("tracemark.fuzz/log").ok()?;
    Some(NoteSigner::from_seed(name, &[5; 32]).verifier_key())
});

fuzz_target!(|data: &[u8]| {
    if let Some(key) = KEY.as_ref() {
        let _ = Checkpoint::open(data, key);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(cp) = Checkpoint::parse_text(text) {
            assert_eq!(cp.to_text(), text, "non-canonical checkpoint accepted");
        }
    }
});
