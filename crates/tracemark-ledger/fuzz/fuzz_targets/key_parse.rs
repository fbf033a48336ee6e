//! Verifier and private key string parsers.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tracemark_ledger::{NoteSigner, VerifierKey};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(k) = VerifierKey::parse(s) {
        assert_eq!(k.to_string(), s, "non-canonical verifier key accepted");
    }
    let _ = NoteSigner::parse_private_key(s);
});
