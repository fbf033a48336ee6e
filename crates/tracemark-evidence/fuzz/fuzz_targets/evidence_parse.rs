//! Evidence bundle parser and verifier: never panics, never accepts what it cannot prove.
//! Seed it with a real bundle for depth:
//! `TRACEMARK_EVIDENCE_SAMPLE=crates/tracemark-evidence/fuzz/corpus/evidence_parse/seed cargo test -p tracemark-vault --test evidence`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(summary) = tracemark_evidence::verify_evidence(data, None) {
        // Only a bundle signed by a vault key can verify; the seed is one. Whatever
        // verifies must verify again under its own key as the trusted one.
        assert!(tracemark_evidence::verify_evidence(data, Some(&summary.verifier_key)).is_ok());
    }
});
