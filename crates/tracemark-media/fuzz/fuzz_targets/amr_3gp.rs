//! 3GP/MP4 boxes and sample tables (the AMR-in-3GP path): the input after a 3GP `ftyp`, so
//! every run reaches the box walker before symphonia's MP4 reader gets the rest.
#![no_main]

#[path = "harness.rs"]
mod harness;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut file = b"\0\0\0\x14ftyp3gp4\0\0\0\0isom".to_vec();
    file.extend_from_slice(data);
    harness::decode(&file, None);
});
