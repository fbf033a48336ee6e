//! A stored blob is untrusted (whoever can write the blob store can write anything): it
//! either opens to what was sealed or is refused as tampered, never panics and never
//! allocates past its own length. Inputs whose first byte is odd are tried behind the
//! chunked layout's magic, so the fuzzer spends its time in the header and chunk
//! arithmetic rather than finding the 8 bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tracemark_vault::{Secret, VaultError};

/// `crate::sealed::MAGIC`, version 1 of the chunked layout.
const MAGIC: &[u8] = b"tmSTRM\x01\x00";

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let blob = if mode & 1 == 1 {
        [MAGIC, rest].concat()
    } else {
        rest.to_vec()
    };
    let secret = Secret::from_bytes([7; 32]);
    // Nothing here was sealed under this key, so nothing may open: a forgery would be
    // a Poly1305 forgery.
    match secret.open(blob, b"fuzz", "fuzzed blob") {
        Err(VaultError::Tampered { what }) => assert_eq!(what, "fuzzed blob"),
        Err(e) => panic!("a fuzzed blob refused as something other than tampered: {e}"),
        Ok(plain) => panic!("a fuzzed blob opened ({} bytes)", plain.len()),
    }
});
