//! AMR storage files (RFC 4867 §5): the input after an AMR-NB or AMR-WB magic, chosen by the
//! first byte, so every run reaches the record reader and the decoder.
#![no_main]

#[path = "harness.rs"]
mod harness;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let mut file = if which & 1 == 0 {
        b"#!AMR\n".to_vec()
    } else {
        b"#!AMR-WB\n".to_vec()
    };
    file.extend_from_slice(rest);
    harness::decode(&file, None);
});
