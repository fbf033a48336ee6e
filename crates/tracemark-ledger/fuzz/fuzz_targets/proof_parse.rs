//! Proof parsers (binary and text): accepted input re-encodes identically and can be
//! verified without panicking.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tracemark_ledger::{ConsistencyProof, InclusionProof, empty_root};

fuzz_target!(|data: &[u8]| {
    let root = empty_root();
    if let Ok(p) = InclusionProof::from_bytes(data) {
        assert_eq!(p.to_bytes(), data);
        let _ = p.verify(&root, &root);
    }
    if let Ok(p) = ConsistencyProof::from_bytes(data) {
        assert_eq!(p.to_bytes(), data);
        let _ = p.verify(&root, &root);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(p) = InclusionProof::from_text(text) {
            assert_eq!(p.to_text(), text);
            let _ = p.verify(&root, &root);
        }
        if let Ok(p) = ConsistencyProof::from_text(text) {
            assert_eq!(p.to_text(), text);
            let _ = p.verify(&root, &root);
        }
    }
});
